// The churn-risk pages of tend serve in headless Chromium (playwright-core),
// driven by tests/integration/browser_model.sh, which prepares the data (a
// fitted model and a day of risk scores) and starts the server. Prints one
// JSON line per check: {"name", "ok", "detail"}.
//
// Every number the pages show is compared with the REST API's answer
// (/api/risk, /api/model, /api/models, /api/accounts/{id}, /api/ctas) under
// the pages' rounding rules (server/dash_model.c): a probability as a
// percentage, one decimal below 10%, whole points from there; money in whole
// dollars with a "$"; an AUC with two decimals, a Brier score with three;
// each rounded half up before printing.
//
// Environment: BASE, EMAIL, PASSWORD, TOKEN (an API token, for the expected
// answers), XSS_ID (an account named <script>alert(1)</script>), SHOTS (the
// screenshot directory: risk.png, model.png, cockpit.png and more).
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set`);
  return v;
};
const BASE = env('BASE');
const EMAIL = env('EMAIL');
const PASSWORD = env('PASSWORD');
const TOKEN = env('TOKEN');
const XSS_ID = env('XSS_ID');
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

// The pages' rounding rules (dash_percent, dash_money, put_fixed).
const DASH = '\u2014';
function pct(p) {
  if (typeof p !== 'number' || !isFinite(p) || p < 0 || p > 1) return DASH;
  const v = 100 * p;
  if (v === 0) return '0%';
  if (v < 0.05) return '<0.1%';
  if (v < 9.95) return (Math.round(v * 10) / 10).toFixed(1) + '%';
  if (v >= 99.5 && p < 1) return '>99%';
  return Math.round(v).toFixed(0) + '%';
}
function money(v) {
  if (typeof v !== 'number' || !isFinite(v)) return DASH;
  const r = Math.round(v);
  return (r < 0 ? '-$' : '$') + Math.abs(r).toLocaleString('en-US');
}
function fixed(v, d) {
  if (typeof v !== 'number' || !isFinite(v)) return DASH;
  const s = 10 ** d;
  const r = Math.round(v * s) / s;
  return (r === 0 ? 0 : r).toFixed(d);
}
const text = (s) => (s || '').replace(/\s+/g, ' ').trim();

// The rows of the risk table as the page shows them.
async function riskRows(page) {
  return page.$$eval('table.risk tbody tr', (rows) => rows.map((r) => {
    const a = r.querySelector('td.name a');
    const cell = (sel) => (r.querySelector(sel) || {}).textContent || '';
    return {
      id: a ? decodeURIComponent(new URL(a.getAttribute('href'), 'http://x/').pathname.replace(/^\/accounts\//, '')) : null,
      p: cell('td.p-churn'),
      arr: cell('td.arr'),
      atRisk: cell('td.arr-at-risk'),
      owner: cell('td.owner'),
      version: cell('td.model-version'),
      why: cell('td.why'),
    };
  }));
}

// The figures of the tiles: {label: figure}.
async function tiles(page) {
  return page.$$eval('ul.risk-summary li', (lis) => Object.fromEntries(lis.map((li) => {
    const n = li.querySelector('.n');
    const fig = n ? n.textContent : '';
    return [li.textContent.slice(fig.length).trim(), fig.trim()];
  })));
}

const dialogs = [];
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'], headless: true });
try {
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const page = await context.newPage();
  page.setDefaultTimeout(60000); // a deadline for a broken page, not a speed
  page.on('dialog', async (d) => {
    dialogs.push(d.message());
    await d.dismiss().catch(() => {});
  });
  const consoleErrors = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !/favicon/i.test(m.text() + (m.location().url || ''))) consoleErrors.push(m.text());
  });

  // ---- sign in ---------------------------------------------------------------------
  await page.goto(BASE + '/risk');
  await page.locator('form input[name=email]').fill(EMAIL);
  await page.locator('form input[type=password]').fill(PASSWORD);
  await page.locator('form:has(input[type=password]) [type=submit]').click();
  await page.waitForLoadState('load');
  check('signing in leads back to /risk', new URL(page.url()).pathname === '/risk', page.url());

  // ---- the risk ranking --------------------------------------------------------------
  const risk = await api('/api/risk?per_page=50');
  await shot(page, 'risk.png');
  const rows = await riskRows(page);
  check('the risk page lists the API\'s accounts in its order (largest ARR at risk first)',
    rows.length > 0 && JSON.stringify(rows.map((r) => r.id)) === JSON.stringify(risk.rows.map((a) => a.account_id)),
    { shown: rows.map((r) => r.id).slice(0, 10), api: risk.rows.map((a) => a.account_id).slice(0, 10) });
  const atRisk = risk.rows.map((a) => a.arr_at_risk).filter((v) => typeof v === 'number');
  check('the API ranks by ARR at risk, largest first', atRisk.every((v, i) => i === 0 || atRisk[i - 1] >= v), atRisk.slice(0, 10));
  const all = await api('/api/risk');
  const sum = all.rows.reduce((t, a) => t + (typeof a.arr_at_risk === 'number' ? a.arr_at_risk : 0), 0);
  const off = all.rows.filter((a) => typeof a.arr === 'number' &&
    Math.abs(a.arr_at_risk - a.p_churn * a.arr) > 0.0001 * a.arr + 0.01);
  check('the API\'s ARR at risk is p_churn x ARR for every account, and the total their sum',
    off.length === 0 && Math.abs(sum - all.arr_at_risk_total) < 0.01 * all.rows.length + 0.01,
    { off: off.slice(0, 3), sum, total: all.arr_at_risk_total });
  const bad = [];
  rows.forEach((r, i) => {
    const a = risk.rows[i];
    if (!a) return;
    const want = { p: pct(a.p_churn), arr: money(a.arr), atRisk: money(a.arr_at_risk), version: `v${a.model_version}` };
    for (const k of Object.keys(want)) if (text(r[k]) !== want[k]) bad.push({ row: i + 1, id: a.account_id, field: k, page: text(r[k]), api: a[k] ?? a });
    if (a.drivers && a.drivers.length && a.drivers[0].words && !text(r.why).includes(text(a.drivers[0].words)))
      bad.push({ row: i + 1, field: 'drivers', page: text(r.why), api: a.drivers[0].words });
  });
  check(`every row's churn risk, ARR, ARR at risk, model and first driver equal the API's (${rows.length} rows)`,
    bad.length === 0, bad.slice(0, 5));
  const pShown = rows.map((r) => text(r.p));
  check('probabilities are shown as percentages with sane rounding (e.g. "4.2%", "42%")',
    pShown.every((t) => /^(<0\.1%|\d\.\d%|\d{2}%|>99%|100%|0%)$/.test(t)), pShown.slice(0, 10));
  check('money is shown in whole dollars with a "$" and thousands separators',
    rows.every((r) => /^(\$\d{1,3}(,\d{3})*|\u2014)$/.test(text(r.atRisk))), rows.slice(0, 5).map((r) => r.atRisk));
  const t = await tiles(page);
  check('the header shows the total ARR at risk, the accounts scored, the model and its held-out AUC as the API',
    t['ARR at risk'] === money(risk.arr_at_risk_total) && t['accounts scored'] === String(risk.accounts_scored) &&
    t['model'] === `v${risk.model.version}` && t['held-out AUC'] === fixed(risk.model.auc_holdout, 2),
    { tiles: t, api: { total: risk.arr_at_risk_total, scored: risk.accounts_scored, model: risk.model } });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check('the risk page fits the window (no horizontal scrolling)', overflow <= 1, overflow);

  // ---- my book -----------------------------------------------------------------------
  await page.locator('a', { hasText: 'My book' }).click();
  await page.waitForLoadState('load');
  const mine = await api('/api/risk?per_page=50&owner=' + encodeURIComponent(EMAIL));
  const myRows = await riskRows(page);
  check('"My book" lists the signed-in user\'s accounts as /api/risk?owner=EMAIL does',
    myRows.length > 0 && JSON.stringify(myRows.map((r) => r.id)) === JSON.stringify(mine.rows.map((a) => a.account_id)) &&
    myRows.every((r) => text(r.owner) === EMAIL),
    { shown: myRows.map((r) => [r.id, r.owner]).slice(0, 10), api: mine.rows.map((a) => a.account_id).slice(0, 10) });
  const mt = await tiles(page);
  check('and its header totals are the book\'s', mt['ARR at risk in my book'] === money(mine.arr_at_risk_total), { tiles: mt, api: mine.arr_at_risk_total });
  await shot(page, 'risk-mine.png');

  // ---- an account ----------------------------------------------------------------------
  await page.goto(BASE + '/risk');
  await page.locator('table.risk tbody tr td.name a').first().click();
  await page.waitForLoadState('load');
  const accId = decodeURIComponent(new URL(page.url()).pathname.replace(/^\/accounts\//, ''));
  const acc = await api('/api/accounts/' + encodeURIComponent(accId));
  const accP = text(await page.locator('section.account-risk .p-churn').textContent().catch(() => ''));
  const accAr = text(await page.locator('section.account-risk .arr-at-risk').textContent().catch(() => ''));
  check('the riskiest account\'s page shows its churn risk and ARR at risk as the API',
    accId === risk.rows[0].account_id && acc.risk && accP === pct(acc.risk.p_churn) && accAr === money(acc.risk.arr_at_risk) &&
    accP === text(rows[0].p),
    { accId, page: [accP, accAr], api: acc.risk, ranking: rows[0] });
  await shot(page, 'account-risk.png');

  // ---- the model card --------------------------------------------------------------------
  await page.goto(BASE + '/model');
  await shot(page, 'model.png');
  const card = await api('/api/model');
  const dd = async (cls) => text(await page.locator(`dl.card-facts dd.${cls}`).textContent().catch(() => ''));
  const facts = { auc: await dd('auc'), health: await dd('auc-health'), brier: await dd('brier'), rows: await dd('n-rows'), churns: await dd('n-churns') };
  check('the card shows the held-out AUC, the health score\'s AUC and the Brier score as the API (2, 2 and 3 decimals)',
    facts.auc === fixed(card.auc_holdout, 2) && facts.health === fixed(card.auc_health_holdout, 2) && facts.brier.split(' ')[0] === fixed(card.brier_holdout, 3),
    { facts, api: { auc: card.auc_holdout, health: card.auc_health_holdout, brier: card.brier_holdout } });
  check('and the training rows and churns',
    facts.rows === card.n_rows.toLocaleString('en-US') && facts.churns.startsWith(card.n_churns.toLocaleString('en-US')),
    { facts, api: { rows: card.n_rows, churns: card.n_churns } });
  const verdict = text(await page.locator('.trust .verdict').textContent().catch(() => ''));
  check('the card says in words which to trust, with both AUCs', /trust|as well|chance/i.test(verdict) &&
    verdict.includes(fixed(card.auc_holdout, 2)), verdict);
  const bins = await page.locator('svg.report-chart g.bin').count();
  const diag = await page.locator('svg.report-chart .diagonal').count();
  const bars = await page.locator('svg.report-chart .ci').count();
  const withCi = card.calibration.filter((c) => typeof c.ci_low === 'number' && typeof c.ci_high === 'number').length;
  check(`the calibration plot draws a point per bin (${card.calibration.length}), the 95% intervals and the diagonal`,
    bins === card.calibration.length && bars === withCi && diag === 1, { bins, bars, diag, api: card.calibration.length });
  const calCells = await page.$$eval('table.calibration tbody tr', (rs) => rs.map((r) => [r.querySelector('td.predicted').textContent, r.querySelector('td.observed').textContent]));
  const calWant = card.calibration.map((c) => [pct(c.predicted), pct(c.observed)]);
  check('the calibration table\'s predicted and observed rates equal the API\'s', JSON.stringify(calCells) === JSON.stringify(calWant), { page: calCells, api: calWant });
  // The feature cell shows its label (core/labels.h); the model's own name is its title.
  const coefCells = await page.$$eval('table.coefficients tbody tr', (rs) => rs.map((r) => Array.from(r.querySelectorAll('td')).slice(0, 3).map((td, i) => (i === 0 ? td.getAttribute('title') : td.textContent))));
  const coefWant = card.coefficients.map((c) => [c.name, (Math.round(c.coef * 1000) > 0 ? '+' : '') + fixed(c.coef, 3), fixed(c.se, 3)]);
  check(`the coefficients table lists every coefficient with its standard error (${card.coefficients.length})`,
    JSON.stringify(coefCells) === JSON.stringify(coefWant), { page: coefCells.slice(0, 5), api: coefWant.slice(0, 5) });
  const box = await page.locator('svg.report-chart').first().boundingBox();
  check('the calibration plot is visible and of a readable size', box && box.width > 300 && box.height > 150, box);

  // ---- the history ---------------------------------------------------------------------
  await page.goto(BASE + '/models');
  const models = await api('/api/models');
  const mrows = await page.locator('table.models tbody tr').count();
  check('the models page lists every model of the API', mrows === models.models.length && mrows >= 1, { mrows, api: models.models.length });
  await shot(page, 'models.png');

  // ---- the cockpit -----------------------------------------------------------------------
  await page.goto(BASE + '/ctas');
  await shot(page, 'cockpit.png');
  const ctas = await api('/api/ctas?owner=' + encodeURIComponent(EMAIL));
  // One compact row a CTA (the cockpit's first page: 50 at most).
  const cards = await page.locator('table.cockpit tr.cta-row').count();
  check('the cockpit shows the signed-in user\'s live CTAs, as many as the API', cards === Math.min(50, ctas.ctas.length) && cards > 0,
    { cards, api: ctas.ctas.length, total: ctas.total });
  // A CTA's value (issue 16, c-plan: value and value_text), once the API has it: the
  // row shows the amount with its currency ("$24,000" of "$24,000 ARR at risk").
  const cardTexts = await page.$$eval('table.cockpit tr.cta-row', (as) => as.map((a) => a.textContent.replace(/\s+/g, ' ')));
  const valued = ctas.ctas.slice(0, 50).map((c, i) => [c, cardTexts[i]]).filter(([c]) => typeof c.value_text === 'string');
  if (valued.length)
    check(`the cockpit shows each CTA's value as the API (${valued.length} with a value)`,
      valued.every(([c, t]) => t && t.includes(text(c.value_text).split(' ')[0])), valued.slice(0, 3).map(([c, t]) => [c.value_text, t && t.slice(0, 200)]));

  // ---- hostile names and the nav --------------------------------------------------------------
  await page.goto(BASE + '/risk?per_page=500');
  const xssRow = await page.locator('table.risk tbody tr', { has: page.locator(`a[href="/accounts/${encodeURIComponent(XSS_ID)}"]`) }).count();
  const xssText = xssRow ? text(await page.locator(`a[href="/accounts/${encodeURIComponent(XSS_ID)}"]`).first().textContent()) : null;
  check('an account named <script>alert(1)</script> is ranked and shown as text',
    xssRow === 1 && xssText === '<script>alert(1)</script>', { xssRow, xssText });
  const nav = await page.$$eval('nav.nav a', (as) => as.map((a) => a.textContent));
  check('the top navigation has Risk and Model', nav.includes('Risk') && nav.includes('Model'), nav);
  check('no script ran (no dialog)', dialogs.length === 0, dialogs);
  check('no console errors (no CSP violation)', consoleErrors.length === 0, consoleErrors);
} catch (e) {
  check('the browser run completed', false, String(e && e.stack || e));
  process.exitCode = 1;
} finally {
  await browser.close();
}
