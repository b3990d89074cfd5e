// A csm in headless Chromium (playwright-core), driven by
// tests/integration/browser_csm.sh, which seeds 300+ live CTAs (as
// browser_cockpit.sh does) and signs in the owner of the largest book with
// `role: csm`. Every expected answer comes from the API called with the same
// browser session, so it is what this csm may read. Prints one JSON line per
// check: {"name", "ok", "detail"}.
//
// Environment: BASE, EMAIL and PASSWORD (the csm), UNTIL (a date after
// today), PB_RULE (the rule with a playbook, common in their book), SHOTS (the
// screenshot directory).
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import { csvEqualsApi } from './csv.mjs';
import path from 'node:path';

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set`);
  return v;
};
const BASE = env('BASE');
const EMAIL = env('EMAIL');
const PASSWORD = env('PASSWORD');
const UNTIL = env('UNTIL');
const PB_RULE = env('PB_RULE');
const SHOTS = env('SHOTS');
fs.mkdirSync(SHOTS, { recursive: true });

function check(name, ok, detail) {
  process.stdout.write(JSON.stringify({ name, ok: !!ok, detail: ok ? undefined : detail }) + '\n');
  return !!ok;
}

async function shot(page, name) {
  try {
    await page.screenshot({ path: path.join(SHOTS, name), fullPage: true });
  } catch (e) {
    check(`screenshot ${name}`, false, String(e));
  }
}

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'], headless: true });
try {
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const page = await context.newPage();
  page.setDefaultTimeout(60000);
  const consoleErrors = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !/favicon|403/i.test(m.text() + (m.location().url || ''))) consoleErrors.push(m.text());
  });
  // The API with the browser's own session: what this csm may read.
  const api = async (p) => {
    const r = await page.request.get(BASE + p);
    if (r.status() !== 200) throw new Error(`GET ${p}: ${r.status()} ${await r.text()}`);
    return r.json();
  };
  const rowIds = () => page.$$eval('table.cockpit tbody tr.cta-row', (rows) => rows.map((r) => Number(r.id.replace('cta-', ''))));

  // ---- sign in ------------------------------------------------------------------------------
  await page.goto(BASE + '/ctas');
  await page.locator('form input[name=email]').fill(EMAIL);
  await page.locator('form input[type=password]').fill(PASSWORD);
  await page.locator('form:has(input[type=password]) button').first().click();
  await page.waitForLoadState('load');
  check('the csm signs in and lands on the cockpit', new URL(page.url()).pathname === '/ctas', page.url());
  const who = await page.locator('header .who').innerText().catch(() => '');
  check('the header names the csm', who.includes('Cass Csm'), who);
  await shot(page, 'csm-my-ctas.png');
  const myApi = await api('/api/ctas?owner=me&per_page=50');
  const myIds = await rowIds(page);
  check(`"My CTAs" shows the API's first page of the csm's own CTAs (${myApi.total} in their book), each theirs`,
    myApi.total > 0 && JSON.stringify(myIds) === JSON.stringify(myApi.ctas.map((c) => c.id)) &&
    myApi.ctas.every((c) => c.owner === EMAIL), { shown: myIds.slice(0, 5), api: myApi.ctas.slice(0, 5).map((c) => [c.id, c.owner]) });

  // ---- what the role allows ---------------------------------------------------------------------
  const nav = await page.locator('nav.nav').innerText();
  check('the navigation has no Users and no Audit link for a csm',
    (await page.locator('nav.nav a[href="/users"], nav.nav a[href="/audit"]').count()) === 0 && /My CTAs/.test(nav), nav);
  for (const p of ['/users', '/audit']) {
    const r = await page.goto(BASE + p);
    const body = await page.locator('body').innerText();
    check(`${p} answers a 403 page that says why (${r.status()})`, r.status() === 403 && /csm|admin|permission|not allowed/i.test(body) &&
      (await page.locator('nav.nav').count()) === 1, { status: r.status(), body: body.slice(0, 400) });
    if (p === '/users') await shot(page, 'csm-users-403.png');
  }
  const apiUsers = await page.request.get(BASE + '/api/users');
  check('GET /api/users is refused (403) for a csm', apiUsers.status() === 403, apiUsers.status());

  // ---- the whole team's list, filtered by priority, page by page ----------------------------------
  const team = await api('/api/ctas?owner=all&per_page=500');
  check(`the csm reads the team's ${team.total} live CTAs (at least 300; serve.csm_reads: all)`, team.total >= 300, team.total);
  const mineAll = team.ctas.filter((c) => c.owner === EMAIL);
  const others = team.ctas.filter((c) => c.owner !== EMAIL && c.status === 'open');
  const counts = {};
  for (const c of team.ctas) counts[c.priority] = (counts[c.priority] || 0) + 1;
  const prio = Object.entries(counts).sort((a, b) => b[1] - a[1])[0][0];
  const listUrl = `/ctas?owner=all&priority=${prio}&sort=value`;
  const want = await api(`/api${listUrl}&per_page=500`);
  await page.goto(BASE + listUrl);
  const seen = [];
  let pages = 0, pageProblems = [], ms = 0;
  for (;;) {
    pages++;
    const u = new URL(page.url());
    const ids = await rowIds(page);
    const q = new URLSearchParams(u.search);
    q.set('per_page', '50');
    const a = await api(`/api/ctas?${q}`);
    if (JSON.stringify(ids) !== JSON.stringify(a.ctas.map((c) => c.id)) || u.searchParams.get('priority') !== prio)
      pageProblems.push({ page: pages, url: page.url(), shown: ids.slice(0, 5), api: a.ctas.slice(0, 5).map((c) => c.id) });
    seen.push(...ids);
    if (pages === 1) await shot(page, 'csm-filtered-page1.png');
    const next = page.locator('nav.pages a[rel=next]');
    if ((await next.count()) === 0 || pages > 30) break;
    const t0 = Date.now();
    await next.click();
    await page.waitForLoadState('load');
    ms += Date.now() - t0;
  }
  check(`each page of ${listUrl} keeps the filter in the URL and shows the API's rows for it (${pages} pages)`,
    pageProblems.length === 0, pageProblems.slice(0, 3));
  check(`Next pages through all ${want.total} ${prio} CTAs in the API's order, each ${prio} ` +
    `(${pages > 1 ? Math.round(ms / (pages - 1)) : 0} ms a page)`,
  JSON.stringify(seen) === JSON.stringify(want.ctas.map((c) => c.id)) && want.total === seen.length &&
    pages === Math.max(1, Math.ceil(want.total / 50)) && want.ctas.every((c) => c.priority === prio),
  { seen: seen.length, total: want.total, pages });

  // ---- CSV of the filtered page equals the API's --------------------------------------------------
  await page.goto(BASE + listUrl);
  const href = await page.locator('a.export').getAttribute('href');
  check('the filtered page\'s Export CSV link keeps the filter', /format=csv/.test(href) && href.includes(`priority=${prio}`), href);
  const csvUrl = new URL(href, BASE);
  const res = await page.request.get(csvUrl.toString());
  const csvText = await res.text();
  const q = new URLSearchParams(csvUrl.search);
  q.delete('format');
  if (!q.has('per_page')) q.set('per_page', '50');
  const apiRows = (await api(`/api/ctas?${q}`)).ctas;
  const problems = csvEqualsApi(csvText, apiRows);
  check(`the CSV's rows equal the API's for the same filter (${apiRows.length} rows, ${csvText.length} bytes)`,
    res.status() === 200 && /text\/csv/.test(res.headers()['content-type'] || '') && apiRows.length > 0 && problems.length === 0,
    { status: res.status(), problems });

  // ---- another book's CTA: refused and unchanged --------------------------------------------------
  const theirs = others[0];
  await page.goto(`${BASE}/ctas/${theirs.id}`);
  await shot(page, 'csm-other-book-cta.png');
  const forms = await page.locator('form.act').count();
  let refused = { forms };
  if (forms > 0) {
    await page.locator('form.act.snooze input[name=until]').fill(UNTIL);
    const [resp] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST' && r.url().includes(`/ctas/${theirs.id}/snooze`)),
      page.locator('form.act.snooze button[type=submit]').click(),
    ]);
    await page.waitForLoadState('load');
    refused = { forms, status: resp.status(), body: (await page.locator('body').innerText()).slice(0, 600) };
    await shot(page, 'csm-other-book-refused.png');
  }
  const after = await api(`/api/ctas/${theirs.id}`);
  check(`a CTA of another book (${theirs.owner}) shows no action form, or its action is refused with 403 and the reason ` +
    `(${forms} forms; the snooze answered ${refused.status ?? 'nothing'})`,
    (forms === 0 || (refused.status === 403 && /As a csm you act on the CTAs of your own book/.test(refused.body))) &&
    after.status === 'open', refused);
  const direct = await page.request.post(`${BASE}/api/ctas/${theirs.id}/close`, { data: { reason: 'resolved' } });
  check('closing it through the API with the csm\'s session is refused too (403) and changes nothing',
    direct.status() === 403 && (await api(`/api/ctas/${theirs.id}`)).status === 'open', direct.status());

  // ---- their own CTA's form works -------------------------------------------------------------------
  const mine = mineAll.filter((c) => c.status === 'open');
  const pbCta = mine.find((c) => c.rule === PB_RULE);
  const rest = mine.filter((c) => c !== pbCta);
  const snoozeCta = rest[0], noteCta = rest[1] || rest[0];
  await page.goto(`${BASE}/ctas/${snoozeCta.id}`);
  await page.locator('form.act.snooze input[name=until]').fill(UNTIL);
  await page.locator('form.act.snooze input[name=note]').fill('snoozed by the csm test');
  await page.locator('form.act.snooze button[type=submit]').click();
  await page.waitForLoadState('load');
  const sn = await api(`/api/ctas/${snoozeCta.id}`);
  const snLast = sn.history.slice(-1)[0] || {};
  check('their own CTA\'s snooze form works: snoozed, in its history by the csm',
    sn.status === 'snoozed' && sn.snoozed_until === UNTIL && snLast.action === 'snooze' && snLast.actor === EMAIL,
    { status: sn.status, until: sn.snoozed_until, snLast });

  // ---- a note on their CTA ----------------------------------------------------------------------------
  const noteText = `Called the champion ${Date.now()}: renewal on track`;
  await page.goto(`${BASE}/ctas/${noteCta.id}`);
  const nf = page.locator('section.notes form.note-form');
  await nf.locator('select[name=kind]').selectOption('call');
  await nf.locator('textarea[name=text]').fill(noteText);
  await nf.locator('[type=submit]').click();
  await page.waitForLoadState('load');
  const notesHtml = await page.locator('section.notes').innerText().catch(() => '');
  check('the note form goes back to the CTA page, which shows the note by the csm',
    new URL(page.url()).pathname === `/ctas/${noteCta.id}` && notesHtml.includes(noteText) && notesHtml.includes(EMAIL),
    { url: page.url(), notesHtml: notesHtml.slice(0, 600) });
  await shot(page, 'csm-note.png');
  const notes = (await api(`/api/notes?account=${encodeURIComponent(noteCta.account_id)}`)).notes || [];
  const n = notes.find((x) => x.text === noteText);
  check('GET /api/notes has the note: kind call, by the csm, on that CTA',
    n && n.kind === 'call' && n.by === EMAIL && n.cta_id === noteCta.id, notes.slice(0, 3));

  // ---- a playbook step ----------------------------------------------------------------------------------
  if (check(`their book has an open CTA of ${PB_RULE} (the playbook's rule)`, !!pbCta, mine.length)) {
    await page.goto(`${BASE}/ctas/${pbCta.id}`);
    const card = page.locator('section.playbook');
    check('the CTA shows the playbook, 0 of 2 done', /0 of 2 done/.test(await card.innerText().catch(() => '')),
      await card.innerText().catch(() => ''));
    await card.locator('#step-call button.tick').click();
    await page.waitForLoadState('load');
    const text = await page.locator('section.playbook').innerText();
    check('ticking a step shows it done by the csm', /1 of 2 done/.test(text) && text.includes(`done by ${EMAIL}`), text);
    await shot(page, 'csm-playbook.png');
    const c = await api(`/api/ctas/${pbCta.id}`);
    const step = c.playbook.steps[0], last = c.history.slice(-1)[0];
    check('the API records the step with the csm\'s email and a time, and the history has it',
      step.id === 'call' && step.done === true && step.by === EMAIL && /^\d{4}-\d\d-\d\dT/.test(step.at) &&
      last.action === 'step_done' && last.actor === EMAIL, { step, last });
  }

  check('no errors in the browser console (CSP violations included; the 403s asked for left out)',
    consoleErrors.length === 0, consoleErrors);
} catch (e) {
  check('csm.mjs ran to the end', false, String((e && e.stack) || e));
} finally {
  await browser.close();
}
