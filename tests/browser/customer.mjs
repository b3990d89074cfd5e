// Messages to customers in headless Chromium (playwright-core), driven by
// tests/integration/customer.sh. Two parts, by MODE:
//   unsubscribe: open UNSUB_URL (the link of a customer's email) without any
//     session: the confirmation page says the contact is unsubscribed.
//   account: sign in (EMAIL, PASSWORD) and open /accounts/ACCOUNT: the
//     Customer messages card lists the reminders and the timeline shows what
//     the customer was told; the account's name (with <script>) stays text.
// Prints one JSON line per check: {"name", "ok", "detail"}; screenshots in SHOTS.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set`);
  return v;
};
const MODE = env('MODE');
const BASE = env('BASE');
const SHOTS = env('SHOTS');
fs.mkdirSync(SHOTS, { recursive: true });

function check(name, ok, detail) {
  process.stdout.write(JSON.stringify({ name, ok: !!ok, detail: ok ? undefined : detail }) + '\n');
  return !!ok;
}

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'], headless: true });
try {
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const page = await context.newPage();
  page.setDefaultTimeout(60000);
  const dialogs = [];
  page.on('dialog', async (d) => {
    dialogs.push(d.message());
    await d.dismiss().catch(() => {});
  });
  if (MODE === 'unsubscribe') {
    const resp = await page.goto(env('UNSUB_URL'));
    const text = await page.locator('body').innerText();
    check('the unsubscribe link opens in Chromium without signing in (200, not /login)',
      resp && resp.status() === 200 && new URL(page.url()).pathname.startsWith('/unsubscribe/'),
      { status: resp && resp.status(), url: page.url() });
    check('and the page confirms the contact and the kind of message',
      text.includes('You are unsubscribed') && text.includes(env('CONTACT')) && text.includes('card expiry reminders'),
      text.slice(0, 1000));
    await page.screenshot({ path: path.join(SHOTS, 'customer-unsubscribed.png'), fullPage: true });
  } else {
    await page.goto(BASE + '/login');
    await page.locator('form input[type=email], form input[name=email]').first().fill(env('EMAIL'));
    await page.locator('form input[type=password]').first().fill(env('PASSWORD'));
    await page.locator('form:has(input[type=password]) [type=submit], form:has(input[type=password]) button').first().click();
    await page.waitForLoadState('load');
    await page.goto(BASE + '/accounts/' + encodeURIComponent(env('ACCOUNT')));
    const card = page.locator('#customer-messages');
    const rows = await card.locator('tbody tr').allInnerTexts();
    check('the account page has a Customer messages card with each reminder (3 rows, all sent)',
      rows.length === 3 && rows.every((r) => /\bsent\b/.test(r)) &&
      ['30 days', '14 days', '7 days'].every((d) => rows.some((r) => r.includes(d))), rows);
    const tl = await page.locator('ol.timeline li.kind-customer').allInnerTexts();
    check('the timeline shows what the customer was told (3 entries, with the recipient)',
      tl.length === 3 && tl.every((t) => t.includes('Customer told: Card expiry reminder') && t.includes(env('CONTACT'))), tl);
    const h1 = await page.locator('h1').first().innerText();
    check('the account name with <script> is shown as text, no dialog ran',
      h1.includes('<script>') && dialogs.length === 0, { h1, dialogs });
    await card.scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(SHOTS, 'customer-account.png'), fullPage: true });
  }
} catch (e) {
  check(`customer.mjs ${MODE} ran to its end`, false, String(e && e.stack || e));
} finally {
  await browser.close();
}
