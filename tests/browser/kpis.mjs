// The KPI board and the monthly CS report in headless Chromium
// (playwright-core), driven by tests/integration/browser_kpis.sh. Prints one
// JSON line per check: {"name", "ok", "detail"}.
//
// Signs in, opens /kpis: a card per KPI of GET /api/kpis, in its order, each
// with its latest value and an SVG trend whose points are the weeks with a
// value; then /reports/monthly for a month, on screen and as printed (the
// print stylesheet hides the navigation). Screenshots: kpis.png,
// monthly.png, monthly-print.pdf.
//
// Environment: BASE, EMAIL, PASSWORD, TOKEN, MONTH, SHOTS.
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
const MONTH = env('MONTH');
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

const text = (s) => (s || '').replace(/\s+/g, ' ').trim();
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'], headless: true });
try {
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const page = await context.newPage();
  page.setDefaultTimeout(60000); // a deadline for a broken page, not a speed
  const consoleErrors = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !/favicon/i.test(m.text() + (m.location().url || ''))) consoleErrors.push(m.text());
  });
  await page.goto(BASE + '/kpis');
  await page.locator('form input[name=email]').fill(EMAIL);
  await page.locator('form input[type=password]').fill(PASSWORD);
  await page.locator('form:has(input[type=password]) [type=submit]').click();
  await page.waitForLoadState('load');
  check('signing in leads to the KPI board', new URL(page.url()).pathname === '/kpis', page.url());
  const board = await api('/api/kpis');
  const cards = await page.$$eval('section.kpi', (ss) => ss.map((s) => ({
    title: s.querySelector('h2').textContent,
    value: s.querySelector('.kpi-value').textContent,
    dots: s.querySelectorAll('svg.kpi-spark circle').length,
    label: (s.querySelector('svg.kpi-spark') || { getAttribute: () => '' }).getAttribute('aria-label'),
    r: (s.querySelector('.kpi-r, p.muted:last-child') || { textContent: '' }).textContent,
  })));
  check(`a card per KPI of the API (${board.kpis.length}), in its order`,
    cards.length === board.kpis.length && cards.every((c, i) => text(c.title) === board.kpis[i].title),
    { page: cards.map((c) => c.title), api: board.kpis.map((k) => k.title) });
  const problems = [];
  cards.forEach((c, i) => {
    const k = board.kpis[i];
    const known = k.weeks.filter((w) => w.value !== null).length;
    if (c.dots !== known) problems.push([k.kpi, 'dots', c.dots, known]);
    if (!c.label.includes('weekly, oldest first')) problems.push([k.kpi, 'label', c.label]);
    if (k.churn_r !== null && !c.r.includes(`r = ${k.churn_r.toFixed(2)}`)) problems.push([k.kpi, 'r', c.r, k.churn_r]);
  });
  check('each card\'s trend has a point per week with a value, and the API\'s r', problems.length === 0, problems);
  await page.screenshot({ path: path.join(SHOTS, 'kpis.png'), fullPage: true });

  await page.locator('a[href="/reports/monthly"]').click();
  await page.waitForLoadState('load');
  await page.goto(BASE + '/reports/monthly?month=' + MONTH);
  const h1 = text(await page.locator('h1').textContent());
  check('the monthly report opens for the month', h1 === `Customer success report, ${MONTH}`, h1);
  const report = await api('/api/reports/monthly?month=' + MONTH);
  const lost = text(await page.locator('tr:has(th:text("ARR lost to churn")) td').textContent());
  check('it shows the month\'s churned ARR', lost === report.retention.churned_arr.toLocaleString('en-US'), { lost, api: report.retention.churned_arr });
  check('and the KPI cards', (await page.locator('section.kpi').count()) === board.kpis.length);
  await page.screenshot({ path: path.join(SHOTS, 'monthly.png'), fullPage: true });
  await page.emulateMedia({ media: 'print' });
  const navShown = await page.locator('header.top').isVisible().catch(() => false);
  check('printed, the navigation is hidden', !navShown);
  await page.pdf({ path: path.join(SHOTS, 'monthly-print.pdf'), format: 'A4' });
  check('no console errors (no CSP violation)', consoleErrors.length === 0, consoleErrors);
} catch (e) {
  check('the browser run completed', false, String(e && e.stack || e));
  process.exitCode = 1;
} finally {
  await browser.close();
}
