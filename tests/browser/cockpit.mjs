// The cockpit at scale in headless Chromium (playwright-core), driven by
// tests/integration/browser_cockpit.sh, which seeds 300+ live CTAs and
// starts the server. Prints one JSON line per check: {"name", "ok", "detail"}.
//
// Environment: BASE, EMAIL, PASSWORD, TOKEN (an API token, for the expected
// answers), UNTIL (a date after today), PB_RULE (the rule with a playbook),
// OTHER (an owner to reassign to), SHOTS (the screenshot directory).
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';
import { csvEqualsApi } from './csv.mjs';

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set`);
  return v;
};
const BASE = env('BASE');
const EMAIL = env('EMAIL');
const PASSWORD = env('PASSWORD');
const TOKEN = env('TOKEN');
const UNTIL = env('UNTIL');
const PB_RULE = env('PB_RULE');
const OTHER = env('OTHER');
const SHOTS = env('SHOTS');
fs.mkdirSync(SHOTS, { recursive: true });

function check(name, ok, detail) {
  process.stdout.write(JSON.stringify({ name, ok: !!ok, detail: ok ? undefined : detail }) + '\n');
  return !!ok;
}

async function api(p) {
  const r = await fetch(BASE + p, { headers: { Authorization: `Bearer ${TOKEN}` } });
  if (r.status !== 200) throw new Error(`GET ${p}: ${r.status} ${await r.text()}`);
  return r.json();
}

async function shot(page, name) {
  try {
    await page.screenshot({ path: path.join(SHOTS, name), fullPage: true });
  } catch (e) {
    check(`screenshot ${name}`, false, String(e));
  }
}

// The CTA ids of the cockpit's rows, in order.
async function rowIds(page) {
  return page.$$eval('table.cockpit tbody tr.cta-row', (rows) => rows.map((r) => Number(r.id.replace('cta-', ''))));
}

// The API's answer for the page's own query (the page lists 50 a page).
async function apiFor(url, extra = {}) {
  const u = new URL(url);
  const q = new URLSearchParams(u.search);
  q.delete('format');
  if (!q.has('per_page')) q.set('per_page', '50');
  for (const [k, v] of Object.entries(extra)) q.set(k, v);
  return api(`/api${u.pathname}?${q}`);
}

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'], headless: true });
try {
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const page = await context.newPage();
  page.setDefaultTimeout(60000);
  const consoleErrors = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !/favicon/i.test(m.text() + (m.location().url || ''))) consoleErrors.push(m.text());
  });

  // ---- sign in ------------------------------------------------------------------------
  await page.goto(BASE + '/ctas?owner=all');
  await page.locator('form input[name=email]').fill(EMAIL);
  await page.locator('form input[type=password]').fill(PASSWORD);
  await page.locator('form:has(input[type=password]) button').first().click();
  await page.waitForLoadState('load');
  check('signing in leads to the cockpit asked for', new URL(page.url()).pathname === '/ctas', page.url());

  // ---- paging through every live CTA ------------------------------------------------------
  const all = await api('/api/ctas?owner=all&per_page=500');
  const expected = all.ctas.map((c) => c.id);
  check(`the API lists every live CTA on one page of 500 (${all.total})`, all.total >= 300 && expected.length === all.total,
    { total: all.total, n: expected.length });
  const head = await page.locator('.head .sub').innerText();
  check('the cockpit says how many live CTAs there are, with no "showing the first"',
    head.includes(`${all.total} live CTAs`) && !/showing the first/i.test(head), head);
  await shot(page, 'cockpit-page1.png');
  const seen = [];
  let pages = 0, ms = 0, maxRows = 0, rowsOk = true, rowProblem = null, risks = 0;
  for (;;) {
    pages++;
    const ids = await rowIds(page);
    maxRows = Math.max(maxRows, ids.length);
    seen.push(...ids);
    // one line a CTA: the account's name, its health and its risk visible
    const cells = await page.$$eval('table.cockpit tbody tr.cta-row', (rows) => rows.map((r) => ({
      h: r.getBoundingClientRect().height,
      name: (r.querySelector('td.name') || {}).innerText || '',
      health: (r.querySelector('td.score') || {}).innerText || '',
      risk: (r.querySelectorAll('td.num')[1] || {}).innerText || '',
      riskKnown: /\d%/.test((r.querySelectorAll('td.num')[1] || {}).innerText || ''),
    })));
    risks += cells.filter((c) => c.riskKnown).length;
    for (const c of cells) {
      if (!c.name.trim() || !c.health.trim() || !c.risk.trim() || c.h > 40) {
        rowsOk = false;
        rowProblem = c;
      }
    }
    const next = page.locator('nav.pages a[rel=next]');
    if ((await next.count()) === 0 || pages > 20) break;
    const t0 = Date.now();
    await next.click();
    await page.waitForLoadState('load');
    ms += Date.now() - t0;
  }
  check(`Next pages through every live CTA in the API's order: ${seen.length} CTAs in ${pages} pages of at most 50, ` +
    `${pages > 1 ? Math.round(ms / (pages - 1)) : 0} ms a page`,
  JSON.stringify(seen) === JSON.stringify(expected) && maxRows <= 50 && pages === Math.ceil(all.total / 50),
  { seen: seen.length, expected: expected.length, pages, maxRows, firstDiff: seen.findIndex((v, i) => v !== expected[i]) });
  check('every row is one line (at most 40 px high) with the account name, its health and its churn risk', rowsOk, rowProblem);
  check(`the rows show the model's churn risk as a percentage (${risks} of ${seen.length})`, risks > seen.length / 2, risks);
  await shot(page, 'cockpit-last-page.png');

  // ---- filters and sort through the form, kept in the URL ------------------------------------
  await page.goto(BASE + '/ctas?owner=all');
  const form = page.locator('form.cockpit-filters');
  await form.locator('select[name=priority]').selectOption('medium');
  await form.locator('select[name=rule]').selectOption(PB_RULE);
  await form.locator('select[name=sort]').selectOption('value');
  await form.locator('button[type=submit]').click();
  await page.waitForLoadState('load');
  const fu = new URL(page.url());
  check('the filter form puts priority, rule and sort in the URL',
    fu.searchParams.get('priority') === 'medium' && fu.searchParams.get('rule') === PB_RULE &&
    fu.searchParams.get('sort') === 'value' && fu.searchParams.get('owner') === 'all', page.url());
  const filtered = await apiFor(page.url());
  const fIds = await rowIds(page);
  const values = filtered.ctas.map((c) => (c.value === null ? -1 : c.value));
  check(`the filtered page shows the API's rows for the same query (${filtered.total} CTAs, ${fIds.length} shown)`,
    JSON.stringify(fIds) === JSON.stringify(filtered.ctas.map((c) => c.id)) && filtered.total > 0 &&
    filtered.ctas.every((c) => c.priority === 'medium' && c.rule === PB_RULE),
    { shown: fIds, api: filtered.ctas.map((c) => [c.id, c.priority, c.rule]) });
  check('sorted by value, highest first', values.every((v, i) => i === 0 || values[i - 1] >= v), values);
  await shot(page, 'cockpit-filtered.png');
  // the filters survive paging
  if (filtered.total > 50) {
    await page.locator('nav.pages a[rel=next]').click();
    await page.waitForLoadState('load');
    const u2 = new URL(page.url());
    check('the Next link keeps the filters', u2.searchParams.get('rule') === PB_RULE && u2.searchParams.get('page') === '2', page.url());
  }
  // segment, value range, overdue, due and age sorts through the URL
  const segment = all.ctas.find((c) => c.segment)?.segment;
  for (const q of [`segment=${encodeURIComponent(segment || 'none')}&value_min=1000&sort=due`, 'overdue=yes&sort=age',
    'type=risk&value_max=5000&sort=-value', 'priority=high,medium&overdue=no']) {
    await page.goto(`${BASE}/ctas?owner=all&${q}`);
    const a = await apiFor(page.url());
    const ids = await rowIds(page);
    const rows = a.ctas;
    let holds = true;
    if (q.startsWith('segment')) holds = rows.every((c, i) => c.segment === segment && c.value >= 1000 && (i === 0 || rows[i - 1].due_date <= c.due_date));
    if (q.startsWith('overdue=yes')) holds = rows.every((c, i) => c.overdue && (i === 0 || rows[i - 1].opened_date <= c.opened_date));
    if (q.startsWith('type')) holds = rows.every((c, i) => c.type === 'risk' && c.value <= 5000 && (i === 0 || rows[i - 1].value <= c.value));
    if (q.startsWith('priority')) holds = rows.every((c) => ['high', 'medium'].includes(c.priority) && !c.overdue);
    check(`/ctas?owner=all&${q}: the page shows the API's rows (${a.total}), each passing the filters, in order`,
      JSON.stringify(ids) === JSON.stringify(rows.map((c) => c.id)) && holds, { ids, api: rows.map((c) => c.id), holds });
  }
  const bad = await page.request.get(`${BASE}/ctas?owner=all&per_page=100000`);
  check('a page size over the bound is refused (400) with the limit named', bad.status() === 400 &&
    /per_page: must be a number from 1 to 500/.test(await bad.text()), bad.status());

  // ---- bulk snooze and reassign -----------------------------------------------------------------
  await page.goto(`${BASE}/ctas?owner=all&sort=age`);
  const live = (await apiFor(page.url())).ctas.filter((c) => c.status === 'open');
  const snooze = live.slice(0, 3).map((c) => c.id), reassign = live.slice(3, 5).map((c) => c.id);
  for (const id of snooze) await page.locator(`#cta-${id} input[type=checkbox]`).check();
  await page.locator('form#bulk input[name=until]').fill(UNTIL);
  await page.locator('form#bulk input[name=note]').fill('bulk from the browser test');
  await page.locator('form#bulk button[value=snooze]').click();
  await page.waitForLoadState('load');
  const flash = await page.locator('.flash').first().innerText().catch(() => '');
  check('the bulk snooze says what it did ("Snoozed 3 CTAs until ...")', flash.includes(`Snoozed 3 CTAs until ${UNTIL}`), flash);
  await shot(page, 'cockpit-bulk-snoozed.png');
  let allSnoozed = true;
  const snoozedDetail = [];
  for (const id of snooze) {
    const c = await api(`/api/ctas/${id}`);
    const last = c.history.slice(-1)[0] || {};
    snoozedDetail.push({ id, status: c.status, until: c.snoozed_until, last });
    allSnoozed &&= c.status === 'snoozed' && c.snoozed_until === UNTIL && last.action === 'snooze' && last.actor === EMAIL &&
      /bulk from the browser test/.test(last.note || '');
  }
  check('each ticked CTA is snoozed through the one-at-a-time action, in its history by the signed-in user',
    allSnoozed, snoozedDetail);
  for (const id of reassign) await page.locator(`#cta-${id} input[type=checkbox]`).check();
  await page.locator('form#bulk input[name=owner]').fill(OTHER);
  await page.locator('form#bulk button[value=assign]').click();
  await page.waitForLoadState('load');
  const flash2 = await page.locator('.flash').first().innerText().catch(() => '');
  let allMoved = true;
  for (const id of reassign) {
    const c = await api(`/api/ctas/${id}`);
    allMoved &&= c.owner === OTHER && c.history.slice(-1)[0].action === 'assign';
  }
  check(`the bulk reassign moves both to ${OTHER} ("${flash2}")`, allMoved && flash2.includes('Assigned 2 CTAs'), flash2);
  const forged = await page.request.post(`${BASE}/ctas/bulk`, {
    form: { action: 'snooze', until: UNTIL, id: String(live[5].id) }, maxRedirects: 0,
  });
  const after = await api(`/api/ctas/${live[5].id}`);
  check('a bulk form without the CSRF token is refused (403) and changes nothing',
    forged.status() === 403 && after.status === 'open', { status: forged.status(), cta: after.status });

  // ---- a playbook step -----------------------------------------------------------------------------
  const pb = (await api(`/api/ctas?owner=all&rule=${PB_RULE}&status=open&per_page=1`)).ctas[0];
  await page.goto(`${BASE}/ctas/${pb.id}`);
  const card = page.locator('section.playbook');
  check('the CTA shows its rule\'s playbook as a checklist of 3 steps, none done',
    (await card.locator('li.step').count()) === 3 && /0 of 3 done/.test(await card.innerText()), await card.innerText().catch(() => ''));
  await shot(page, 'cta-playbook-before.png');
  await card.locator('#step-call button.tick').click();
  await page.waitForLoadState('load');
  const text = await page.locator('section.playbook').innerText();
  check('ticking a step shows it done, by whom', /1 of 3 done/.test(text) && text.includes(`done by ${EMAIL}`), text);
  await shot(page, 'cta-playbook-after.png');
  const withPb = await api(`/api/ctas/${pb.id}`);
  const step = withPb.playbook.steps[0];
  const last = withPb.history.slice(-1)[0];
  check('the API records the step done with who and when, and the CTA\'s history has it',
    step.id === 'call' && step.done === true && step.by === EMAIL && /^\d{4}-\d\d-\d\dT/.test(step.at) &&
    last.action === 'step_done' && last.actor === EMAIL && /Call the champion/.test(last.note), { step, last });

  // ---- CSV export: what the page shows, with its filters -------------------------------------------
  await page.goto(`${BASE}/ctas?owner=all&priority=medium&sort=value`);
  const href = await page.locator('a.export').getAttribute('href');
  const csvUrl = new URL(href, BASE).toString();
  check('the cockpit has an Export CSV link with the page\'s filters', /format=csv/.test(href) && /priority=medium/.test(href), href);
  const res = await page.request.get(csvUrl);
  const csvText = await res.text();
  const apiRows = (await apiFor(csvUrl)).ctas;
  const problems = csvEqualsApi(csvText, apiRows);
  check(`the CSV's rows equal the API's for the same query (${apiRows.length} rows, ${csvText.length} bytes)`,
    res.status() === 200 && /text\/csv/.test(res.headers()['content-type']) &&
    /attachment/.test(res.headers()['content-disposition'] || '') && problems.length === 0,
    { status: res.status(), headers: res.headers(), problems });
  await page.goto(`${BASE}/accounts?sort=mrr`);
  const accHref = await page.locator('a.export').getAttribute('href');
  const accCsv = await (await page.request.get(new URL(accHref, BASE).toString())).text();
  const accRows = (await api('/api/accounts?sort=mrr')).accounts;
  const accProblems = csvEqualsApi(accCsv, accRows);
  check(`the accounts page's CSV equals GET /api/accounts (${accRows.length} rows)`, accProblems.length === 0, accProblems);

  // ---- the portfolio header ------------------------------------------------------------------------
  await page.goto(`${BASE}/accounts`);
  const portfolio = await api('/api/portfolio');
  const ptext = await page.locator('section.portfolio').innerText().catch(() => '');
  const money = (v) => '$' + Math.round(v).toLocaleString('en-US');
  check('the accounts page shows ARR by band, ARR at risk and the accounts that changed band this week',
    ptext.includes(money(portfolio.arr_by_band.red)) && ptext.includes(money(portfolio.arr_by_band.green)) &&
    ptext.includes(money(portfolio.arr_at_risk)) && /ARR at risk/.test(ptext) && /changed band this week/.test(ptext) &&
    ptext.includes(`${portfolio.changed_band_7d.worse}`), { ptext, portfolio });
  const foot = await page.locator('footer').innerText();
  check('the footer says the version', /tend \d+\.\d+\.\d+/.test(foot), foot);
  await shot(page, 'accounts-portfolio.png');

  // ---- every page: labels, not column names; money with its currency ------------------------------
  const labels = (await api('/api/labels')).labels;
  const raw = labels.map((l) => l.column).filter((c) => c.includes('_'));
  const firstAccount = (await api('/api/accounts')).accounts[0].id;
  const reports = (await api('/api/reports')).reports || [];
  const pagesToCrawl = ['/accounts', '/accounts?page=2', `/accounts/${encodeURIComponent(firstAccount)}`,
    '/ctas?owner=all', `/ctas/${pb.id}`, `/ctas/${snooze[0]}`, '/ctas?status=held', '/ctas?owner=all&status=closed',
    '/risk', '/model', '/models', '/rules', '/delivery', '/reports', '/segments',
    ...reports.slice(0, 2).map((r) => `/reports/${r.id}`)];
  const segs = await api('/api/segments').catch(() => null);
  const seg = segs && (segs.groups || segs.segments || [])[0];
  if (seg && seg.name) pagesToCrawl.push(`/segments/${encodeURIComponent(seg.name)}`);
  const rawFound = [], moneyFound = [], exportMissing = [];
  const moneyHeads = /^(MRR|ARR|Value|ARR at risk|Amount overdue|Lost ARR|ARR lost)$/i;
  for (const p of pagesToCrawl) {
    const r = await page.goto(BASE + p);
    if (r.status() !== 200) {
      rawFound.push({ page: p, status: r.status() });
      continue;
    }
    // <code> is tend.yaml or a command, shown as written on purpose: left out
    await page.evaluate(() => document.querySelectorAll('code').forEach((e) => { e.style.display = 'none'; }));
    const body = await page.locator('body').innerText();
    for (const c of raw) {
      if (new RegExp(`(^|[^A-Za-z0-9_])${c}([^A-Za-z0-9_]|$)`).test(body)) rawFound.push({ page: p, column: c });
    }
    // a number next to ARR or MRR without a currency before it
    const m = body.match(/(^|[^$€£\w.,])\d[\d,]*(\.\d+)? (ARR|MRR)\b/g);
    if (m) moneyFound.push({ page: p, text: m.slice(0, 3) });
    const cells = await page.$$eval('table', (tables) => tables.flatMap((t) => {
      const heads = [...t.querySelectorAll('thead th')].map((h) => h.innerText.trim());
      return [...t.querySelectorAll('tbody tr')].flatMap((tr) => [...tr.children].map((td, i) => [heads[i] || '', td.innerText.trim()]));
    }));
    for (const [h, v] of cells) {
      if (moneyHeads.test(h) && v && v !== '\u2014' && !/^-?([$€£]|[A-Z]{3}\s)\d/.test(v)) moneyFound.push({ page: p, column: h, value: v });
    }
    if (p === '/risk' || p.startsWith('/accounts/')) await shot(page, `crawl-${p.replace(/[^a-z]+/g, '-')}.png`);
    // a table page (a list, not one account or CTA) has an Export CSV link that answers CSV
    const listPage = !/^\/(accounts|ctas|reports)\/./.test(p) && p !== '/model';
    if (listPage && (await page.locator('table.grid tbody tr').count()) > 0) {
      const link = page.locator('a.export').first();
      if ((await link.count()) === 0) {
        exportMissing.push({ page: p, why: 'no Export CSV link' });
      } else {
        const res = await page.request.get(new URL(await link.getAttribute('href'), BASE).toString());
        const lines = (await res.text()).split('\r\n').filter((l) => l).length;
        if (res.status() !== 200 || !/text\/csv/.test(res.headers()['content-type'] || '') || lines < 2)
          exportMissing.push({ page: p, status: res.status(), lines });
      }
    }
  }
  check(`no page of ${pagesToCrawl.length} shows a raw column name where a label exists (${raw.length} names)`,
    rawFound.length === 0, rawFound.slice(0, 20));
  check('every amount of money on every page has its currency', moneyFound.length === 0, moneyFound.slice(0, 20));
  check('every table page has an Export CSV link that answers its rows as CSV', exportMissing.length === 0, exportMissing);

  check('no errors in the browser console (CSP violations included)', consoleErrors.length === 0, consoleErrors);
} catch (e) {
  check('cockpit.mjs ran to the end', false, String((e && e.stack) || e));
} finally {
  await browser.close();
}
