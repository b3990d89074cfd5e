// The dashboard of tend serve in headless Chromium (playwright-core), driven
// by tests/integration/browser.sh, which prepares the data and starts the
// server. Prints one JSON line per check: {"name", "ok", "detail"}.
//
// Environment: BASE (http://127.0.0.1:PORT), EMAIL, PASSWORD, TOKEN (an API
// token, for the expected answers), SNOOZE_ID (a live CTA of EMAIL's),
// UNTIL (a date after today), XSS_ID (the account named
// <script>alert(1)</script>), SHOTS (the screenshot directory).
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
const SNOOZE_ID = env('SNOOZE_ID');
const UNTIL = env('UNTIL');
const XSS_ID = env('XSS_ID');
const SHOTS = env('SHOTS');
const XSS_NAME = '<script>alert(1)</script>';
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

// The account ids the table's rows link to, in order.
async function tableIds(page) {
  const hrefs = await page.$$eval('table tbody tr', (rows) =>
    rows.map((r) => {
      const a = r.querySelector('a[href*="/accounts/"]');
      return a ? a.getAttribute('href') : null;
    }));
  return hrefs.filter((h) => h).map((h) => {
    const u = new URL(h, 'http://x/');
    return decodeURIComponent(u.pathname.replace(/^.*\/accounts\//, ''));
  });
}

const dialogs = [];
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox'],
  headless: true,
});
try {
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const page = await context.newPage();
  // A deadline for a broken page, not a speed: the machine may be loaded. (A
  // click that submits a form or follows a link returns once the navigation
  // it started has committed, so waitForLoadState('load') after it waits for
  // the new page.)
  page.setDefaultTimeout(60000);
  page.on('dialog', async (d) => {
    dialogs.push(d.message());
    await d.dismiss().catch(() => {});
  });
  const consoleErrors = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !/favicon/i.test(m.text() + (m.location().url || ''))) consoleErrors.push(m.text());
  });

  // ---- sign in -----------------------------------------------------------------
  await page.goto(BASE + '/accounts');
  check('a page without a session leads to the login form', new URL(page.url()).pathname === '/login', page.url());
  await shot(page, 'login.png');
  const emailBox = page.locator('form input[type=email], form input[name=email]').first();
  const pwBox = page.locator('form input[type=password]').first();
  await emailBox.fill(EMAIL);
  await pwBox.fill(PASSWORD);
  await page.locator('form:has(input[type=password]) [type=submit], form:has(input[type=password]) button').first().click();
  await page.waitForLoadState('load');
  const cookies = await context.cookies();
  const sess = cookies.find((c) => c.name === 'tend_session');
  check('signing in through the form sets the tend_session cookie (HttpOnly, SameSite=Strict)',
    sess && sess.httpOnly && sess.sameSite === 'Strict', cookies);
  check('and leaves the login page', new URL(page.url()).pathname !== '/login', page.url());

  // ---- the ranking ----------------------------------------------------------------
  if (new URL(page.url()).pathname !== '/accounts') await page.goto(BASE + '/accounts');
  await shot(page, 'accounts.png');
  const expected = (await api('/api/accounts')).accounts.map((a) => a.id);
  const shown = await tableIds(page);
  check('the accounts table lists the first 50 accounts in the API\'s order (worst score first)',
    JSON.stringify(shown) === JSON.stringify(expected), { shown, expected });
  const sparks = await page.locator('table tbody tr svg').count();
  check('the table rows have SVG sparklines', sparks >= Math.min(50, expected.length) - 5, sparks);

  // ---- an account -----------------------------------------------------------------
  const first = page.locator('table tbody tr a[href*="/accounts/"]').first();
  await first.click();
  await page.waitForLoadState('load');
  const accPath = new URL(page.url()).pathname;
  check('clicking the worst account opens its page',
    decodeURIComponent(accPath.replace(/^.*\/accounts\//, '')) === expected[0], { url: page.url(), worst: expected[0] });
  const chart = page.locator('svg.chart').first();
  const chartOk = (await page.locator('svg.chart').count()) > 0 && await chart.isVisible();
  const marks = chartOk ? await chart.locator('path, polyline, line, circle, rect').count() : 0;
  const box = chartOk ? await chart.boundingBox() : null;
  check('the account page shows its score chart (svg.chart, drawn, visible)',
    chartOk && marks > 0 && box && box.width > 100 && box.height > 30, { marks, box });
  const body = (await page.locator('body').innerText()).toLowerCase();
  check('the account page names the five components',
    ['logins', 'adoption', 'sentiment', 'support', 'financial'].every((c) => body.includes(c)), body.slice(0, 2000));
  await shot(page, 'account.png');

  // ---- the cockpit: snooze a CTA ---------------------------------------------------------
  await page.goto(BASE + '/ctas');
  await shot(page, 'cockpit-before.png');
  const row = page.locator(`#cta-${SNOOZE_ID}`);
  check(`the cockpit lists my CTA ${SNOOZE_ID} (#cta-${SNOOZE_ID})`, (await row.count()) === 1, await page.content());
  // The compact rows carry a checkbox that joins the bulk form (form="bulk"):
  // a snooze of one CTA is a bulk snooze of one.
  const pick = row.locator('input[type=checkbox][name=id]');
  const form = page.locator('form#bulk');
  if ((await pick.count()) === 1 && (await form.count()) === 1) {
    await pick.check();
    await form.locator('input[type=date], input[name=until]').first().fill(UNTIL);
    const submit = form.locator('button[value=snooze]').first();
    await submit.click();
    await page.waitForLoadState('load');
    check('the snooze form answers without an error page', !/forbidden|error/i.test(await page.title()),
      await page.title());
    await shot(page, 'cockpit-after.png');
    const cta = await api(`/api/ctas/${SNOOZE_ID}`);
    check('the form snoozed the CTA until the date chosen', cta.status === 'snoozed' && cta.snoozed_until === UNTIL,
      { status: cta.status, until: cta.snoozed_until });
    const last = (cta.history || []).slice(-1)[0] || {};
    check('the snooze is in its history, by the signed-in user',
      last.action === 'snooze' && [EMAIL, 'Ana Ortiz'].includes(last.actor), last);
    await page.goto(BASE + '/ctas');
    const live = page.locator(`#cta-${SNOOZE_ID}`);
    check('it still shows among my live CTAs, marked snoozed',
      (await live.count()) === 1 && /snoozed/i.test(await live.innerText()), (await live.count()) && await live.innerText());
    await page.goto(BASE + '/ctas?status=open');
    check('it is gone from the open list (/ctas?status=open)',
      (await page.locator(`#cta-${SNOOZE_ID}`).count()) === 0, page.url());
    await shot(page, 'cockpit-open.png');
  } else {
    check('the CTA has a checkbox and the cockpit a bulk snooze form with a date input', false, await row.innerHTML().catch(() => ''));
  }

  // ---- a hostile account name --------------------------------------------------------------
  for (const p of [`/accounts?q=${encodeURIComponent('script')}`, `/accounts/${encodeURIComponent(XSS_ID)}`,
    '/ctas?owner=all']) {
    await page.goto(BASE + p);
    const text = await page.locator('body').innerText();
    const scripts = await page.evaluate(() => document.querySelectorAll('script').length);
    check(`${p}: the name ${XSS_NAME} shows as text`, text.includes(XSS_NAME), text.slice(0, 1500));
    check(`${p}: no <script> element in the DOM`, scripts === 0, scripts);
    if (p.startsWith('/accounts/')) await shot(page, 'xss-account.png');
  }
  check('no dialog opened (no script ran)', dialogs.length === 0, dialogs);

  // ---- sign out --------------------------------------------------------------------------
  // A copy of the session cookie (another tab of a thief, a second browser):
  // signing out must end it too, not only clear this browser's cookie.
  const copy = (await context.cookies()).find((c) => c.name === 'tend_session');
  const logout = page.locator('form[action$="/logout"] [type=submit], form[action$="/logout"] button').first();
  if ((await logout.count()) === 1) {
    await logout.click();
    await page.waitForLoadState('load');
    check('signing out leads back to the login page', new URL(page.url()).pathname === '/login', page.url());
    check('which says the sign-out holds in every browser', /signed out in every browser/i.test(
      await page.locator('body').innerText()), await page.locator('body').innerText());
    await page.goto(BASE + '/ctas');
    check('and the pages ask for a session again', new URL(page.url()).pathname === '/login', page.url());
    const other = await browser.newContext();
    if (copy) await other.addCookies([copy]);
    const p2 = await other.newPage();
    await p2.goto(BASE + '/ctas');
    check('a copy of the old session cookie in another browser is refused too (sent to /login)',
      copy && new URL(p2.url()).pathname === '/login', { copy: !!copy, url: p2.url() });
    await other.close();
  } else {
    check('pages have a sign-out button', false, await page.content());
  }

  // ---- open redirect after sign-in ---------------------------------------------------------
  // A next= with a tab or a backslash: Chromium drops tabs from URLs and reads
  // "\" as "/", so "/<TAB>/host" would become "//host", another site. tend's
  // CSP (form-action 'self') would block that redirect of its own form, so
  // the grammar is checked with the CSP bypassed: it must hold on its own.
  const home = new URL(BASE).host;
  const payloads = [['/<TAB>/evil.example/', '/\t/evil.example/'],
    ['/<TAB><BACKSLASH>evil.example/', '/\t\\evil.example/']];
  const noCsp = await browser.newContext({ bypassCSP: true });
  const offsite = [];
  await noCsp.route((u) => u.host !== home, (route) => {
    offsite.push(route.request().url());
    return route.abort();
  });
  const p3 = await noCsp.newPage();
  for (const [label, next] of payloads) {
    await p3.goto(BASE + '/login?next=' + encodeURIComponent(next));
    await p3.locator('form input[type=email], form input[name=email]').first().fill(EMAIL);
    await p3.locator('form input[type=password]').first().fill(PASSWORD);
    await p3.locator('form:has(input[type=password]) [type=submit], form:has(input[type=password]) button').first().click();
    await p3.waitForLoadState('load').catch(() => {});
    const url = p3.url();
    check(`signing in with next=${label} stays on this site (even without the CSP)`,
      url.startsWith(BASE + '/') && offsite.length === 0, { url, offsite });
  }
  await noCsp.close();

  // The attack as reported: a form on another site posts the attacker's
  // credentials and such a next= to /login. It must sign no one in (login
  // CSRF: 403) and lead nowhere else.
  const cross = await browser.newContext();
  const away = [];
  await cross.route('**/*', (route) => {
    const u = new URL(route.request().url());
    if (u.host === 'attacker.test') {
      const [, next] = payloads[0];
      const esc = (v) => v.replace(/&/g, '&amp;').replace(/"/g, '&quot;');
      return route.fulfill({
        contentType: 'text/html',
        body: `<form method="post" action="${BASE}/login"><input name="email" value="${esc(EMAIL)}">` +
          `<input name="password" value="${esc(PASSWORD)}"><input name="next" value="${esc(next)}">` +
          '<button type="submit">go</button></form>',
      });
    }
    if (u.host !== home) {
      away.push(u.href);
      return route.abort();
    }
    return route.continue();
  });
  const p4 = await cross.newPage();
  await p4.goto('http://attacker.test/');
  const [answer] = await Promise.all([
    p4.waitForResponse((r) => r.url().startsWith(BASE + '/login')).catch(() => null),
    p4.locator('button').click(),
  ]);
  await p4.waitForLoadState('load').catch(() => {});
  const crossSession = (await cross.cookies()).find((c) => c.name === 'tend_session');
  check('a form on another site posting credentials to /login is refused (403) and signs no one in',
    answer && answer.status() === 403 && !crossSession && away.length === 0,
    { status: answer && answer.status(), session: !!crossSession, away, url: p4.url() });
  await cross.close();

  check('no errors in the browser console (CSP violations included)', consoleErrors.length === 0, consoleErrors);
} catch (e) {
  check('dashboard.mjs ran to the end', false, String(e && e.stack || e));
} finally {
  await browser.close();
}
