// The users section of an account's page in headless Chromium
// (playwright-core), driven by tests/integration/browser_users.sh, which
// prepares the data (tests/integration/users_data.py) and starts the
// server. Prints one JSON line per check: {"name", "ok", "detail"}.
//
// Each row of the section is compared with GET /api/accounts/ID/users: the
// user, role, last login, logins in 30 days and the last 4 weeks, and the
// 12 weekly bars of the sparkline (their heights in the API's proportions).
//
// Environment: BASE, EMAIL, PASSWORD, TOKEN (an API token, for the expected
// answers), ACCOUNT, SHOTS (the screenshot directory: users.png).
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
const ACCOUNT = env('ACCOUNT');
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

  const where = '/accounts/' + encodeURIComponent(ACCOUNT);
  await page.goto(BASE + where);
  await page.locator('form input[name=email]').fill(EMAIL);
  await page.locator('form input[type=password]').fill(PASSWORD);
  await page.locator('form:has(input[type=password]) [type=submit]').click();
  await page.waitForLoadState('load');
  check('signing in leads back to the account page', new URL(page.url()).pathname === where, page.url());

  const want = (await api(`/api/accounts/${encodeURIComponent(ACCOUNT)}/users`)).users;
  await page.locator('section#users').scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(SHOTS, 'users.png'), fullPage: true });
  await page.locator('section#users').screenshot({ path: path.join(SHOTS, 'users-section.png') });
  const rows = await page.$$eval('section#users table.users tbody tr', (trs) => trs.map((tr) => {
    const td = [...tr.querySelectorAll('td')].map((c) => c.textContent);
    const bars = [...tr.querySelectorAll('svg.logins rect')]
      .filter((r) => r.getAttribute('height') !== '1' || r.getAttribute('fill') !== '#eaecf0')
      .map((r) => ({ x: Number(r.getAttribute('x')), h: Number(r.getAttribute('height')) }));
    return { td, former: tr.classList.contains('former'), bars,
      label: (tr.querySelector('svg.logins') || { getAttribute: () => '' }).getAttribute('aria-label') };
  }));
  check(`the users section lists the API's ${want.length} users in its order`,
    rows.length === want.length && rows.every((r, i) => text(r.td[0]).startsWith(want[i].user)),
    { page: rows.map((r) => text(r.td[0])), api: want.map((u) => u.user) });
  const problems = [];
  rows.forEach((r, i) => {
    const u = want[i];
    if (!u) return;
    const role = text(r.td[1]);
    if (role !== (u.role || '\u2014')) problems.push([u.user, 'role', role, u.role]);
    if (u.name && !text(r.td[0]).includes(u.name)) problems.push([u.user, 'name', text(r.td[0]), u.name]);
    if (r.former === u.member) problems.push([u.user, 'former', r.former, u.member]);
    const last = text(r.td[2]);
    if (u.last_login ? !last.includes(`(${u.days_since_login} days)`) : last !== 'none in 12 weeks')
      problems.push([u.user, 'last login', last, u.last_login, u.days_since_login]);
    if (text(r.td[3]) !== String(u.logins_30d)) problems.push([u.user, 'logins 30d', text(r.td[3]), u.logins_30d]);
    if (!text(r.td[4]).startsWith(String(u.logins_4w))) problems.push([u.user, 'last 4 weeks', text(r.td[4]), u.logins_4w]);
    const label = 'logins per week, 12 weeks, oldest first: ' + u.weeks.join(' ');
    if (r.label !== label) problems.push([u.user, 'sparkline label', r.label, label]);
    // The bars: one per week with logins, at its place, as tall as its share of the busiest week.
    const most = Math.max(...u.weeks);
    const expect = u.weeks.map((w, k) => ({ x: k * 6, h: most > 0 ? Math.ceil(w / most * 18) : 0 })).filter((b) => b.h > 0);
    const got = r.bars.filter((b) => b.h > 1 || expect.some((e) => e.x === b.x));
    if (JSON.stringify(got) !== JSON.stringify(expect)) problems.push([u.user, 'bars', got, expect]);
  });
  check('each row shows the API\'s role, name, last login, logins and 12-week bars', problems.length === 0, problems);
  const champion = rows.findIndex((r, i) => want[i] && want[i].role === 'champion');
  check('the champion going quiet shows bars that stop: the last 4 weeks empty',
    champion >= 0 && want[champion].weeks.slice(-4).every((w) => w === 0) && want[champion].weeks.some((w) => w > 0),
    want[champion]);
  const html = await page.locator('section#users').innerHTML();
  check('a hostile name is text, not markup (Ann <b>Lee</b>)', html.includes('Ann &lt;b&gt;Lee&lt;/b&gt;') && !html.includes('<b>Lee</b>'),
    html.slice(0, 400));
  check('no script ran (no dialog)', dialogs.length === 0, dialogs);
  check('no console errors (no CSP violation)', consoleErrors.length === 0, consoleErrors);
} catch (e) {
  check('the browser run completed', false, String(e && e.stack || e));
  process.exitCode = 1;
} finally {
  await browser.close();
}
