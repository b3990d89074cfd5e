// The segments pages of tend serve in headless Chromium (playwright-core),
// driven by tests/integration/browser_segments.sh, which prepares the data
// (a segment shift planted for "smb") and starts the server. Prints one JSON
// line per check: {"name", "ok", "detail"}.
//
// Environment: BASE, EMAIL, PASSWORD, TOKEN (an API token, for the expected
// answers), SEGMENT (a segment with a segment_shift CTA), SHOTS.
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
const SEGMENT = env('SEGMENT');
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

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox'],
  headless: true,
});
try {
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const page = await context.newPage();
  page.setDefaultTimeout(60000); // a deadline for a broken page, not a speed
  const consoleErrors = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !/favicon/i.test(m.text() + (m.location().url || ''))) consoleErrors.push(m.text());
  });
  page.on('dialog', async (d) => {
    consoleErrors.push('dialog: ' + d.message());
    await d.dismiss().catch(() => {});
  });

  // ---- sign in ------------------------------------------------------------------
  await page.goto(BASE + '/segments');
  check('/segments without a session leads to the login form', new URL(page.url()).pathname === '/login', page.url());
  await page.locator('form input[type=email], form input[name=email]').first().fill(EMAIL);
  await page.locator('form input[type=password]').first().fill(PASSWORD);
  await page.locator('form:has(input[type=password]) [type=submit], form:has(input[type=password]) button').first().click();
  await page.waitForLoadState('load');
  if (new URL(page.url()).pathname !== '/segments') await page.goto(BASE + '/segments');

  // ---- the list -------------------------------------------------------------------
  const view = await api('/api/segments');
  const rows = await page.$$eval('table.segments tbody tr', (trs) => trs.map((tr) => {
    const cells = [...tr.querySelectorAll('td')].map((td) => td.innerText.trim());
    return { name: cells[0], accounts: cells[2], spark: !!tr.querySelector('svg') };
  }));
  check('the segments page lists the API\'s segments in its order, with their accounts',
    JSON.stringify(rows.map((r) => [r.name, Number(r.accounts)])) ===
      JSON.stringify(view.groups.map((g) => [g.name, g.accounts])), { rows, api: view.groups });
  check('each segment has an SVG sparkline of its health', rows.length > 0 && rows.every((r) => r.spark), rows);
  const nav = await page.locator('nav a[aria-current]').innerText().catch(() => '');
  check('the navigation marks Segments', /segments/i.test(nav), nav);
  await shot(page, 'segments.png');

  // By plan, through the link.
  await page.locator('a[href="/segments?by=plan"]').click();
  await page.waitForLoadState('load');
  const plans = (await api('/api/segments?by=plan')).groups.map((g) => g.name);
  const planRows = await page.$$eval('table.segments tbody tr td:first-child', (tds) => tds.map((t) => t.innerText.trim()));
  check('"by plan" lists the plans', JSON.stringify(planRows) === JSON.stringify(plans), { planRows, plans });

  // ---- one segment ------------------------------------------------------------------
  await page.goto(BASE + '/segments');
  await page.locator(`table.segments a[href="/segments/${encodeURIComponent(SEGMENT)}"]`).click();
  await page.waitForLoadState('load');
  check(`clicking ${SEGMENT} opens its page`, new URL(page.url()).pathname === `/segments/${encodeURIComponent(SEGMENT)}`, page.url());
  const one = await api(`/api/segments/${encodeURIComponent(SEGMENT)}`);
  const charts = page.locator('svg.chart');
  const n = await charts.count();
  let drawn = 0;
  for (let i = 0; i < n; i++) {
    const c = charts.nth(i);
    const box = await c.boundingBox();
    if (await c.isVisible() && box && box.width > 100 && box.height > 30 &&
        (await c.locator('polyline, path, circle').count()) > 0) drawn++;
  }
  check('the segment page draws its four trend charts (health, logins, features, tickets)', drawn === 4, { n, drawn });
  const accounts = await page.$$eval('section.card:has(h2:text-is("Accounts")) tbody tr', (trs) => trs.length).catch(() => -1);
  check('the segment page lists its accounts, as the API does', accounts === one.accounts.length && accounts > 0,
    { accounts, api: one.accounts.length });
  const alerts = await page.locator('ul.seg-ctas li').allInnerTexts();
  const apiTitles = one.ctas.map((c) => c.title);
  check('the segment page shows its segment_shift alerts with their reasons',
    apiTitles.length > 0 && apiTitles.every((t) => alerts.some((a) => a.includes(t))) &&
      alerts.some((a) => /over the last 7 days against/.test(a)), { alerts, apiTitles });
  await shot(page, 'segment.png');

  // The alert's CTA page links back to the segment, not to an account.
  await page.locator('ul.seg-ctas li a').first().click();
  await page.waitForLoadState('load');
  const back = await page.locator(`a[href="/segments/${encodeURIComponent(SEGMENT)}"]`).count();
  check('the segment CTA\'s page links to its segment', back > 0, page.url());
  await shot(page, 'segment-cta.png');

  check('no errors in the browser console (CSP violations included)', consoleErrors.length === 0, consoleErrors);

  // Last: the 404 itself logs a console error.
  const missing = await page.goto(BASE + '/segments/no-such-segment');
  check('an unknown segment is a 404 page', missing.status() === 404, missing.status());
} catch (e) {
  check('segments.mjs ran to the end', false, String(e && e.stack || e));
} finally {
  await browser.close();
}
