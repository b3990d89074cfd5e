// Notes and activities on the account and CTA pages in headless Chromium
// (playwright-core), driven by tests/integration/browser_notes.sh, which
// prepares the data and starts the server. Prints one JSON line per check:
// {"name", "ok", "detail"}.
//
// Signs in, records a meeting from the account page's form and a call from
// a CTA page's form, and checks each against GET /api/notes: who recorded
// it (the signed-in user), its kind and text, the notice after the form,
// the account's timeline, the CTA's history; a hostile text stays text.
// The cockpit leaves out the CTAs the randomised holdout keeps from
// delivery. Screenshots: notes-account.png, notes-cta.png, cockpit.png.
//
// Environment: BASE, EMAIL, PASSWORD, TOKEN, ACCOUNT, CTA, HELD (a held-out
// CTA's id), SHOTS.
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
const CTA = env('CTA');
const HELD = env('HELD');
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

  // The account page's form.
  const hostile = 'QBR booked <img src=x onerror=alert(1)> & agreed';
  const form = page.locator('section.notes form.note-form');
  await form.locator('select[name=kind]').selectOption('meeting');
  await form.locator('textarea[name=text]').fill(hostile);
  await form.locator('[type=submit]').click();
  await page.waitForLoadState('load');
  check('the form goes back to the account page', new URL(page.url()).pathname === where, page.url());
  const flash = text(await page.locator('.flash').first().textContent().catch(() => ''));
  check('with a notice', flash.includes(`meeting recorded on account ${ACCOUNT}`), flash);
  let notes = (await api(`/api/notes?account=${encodeURIComponent(ACCOUNT)}`)).notes;
  check('the API has the note, by the signed-in user', notes.length === 1 && notes[0].kind === 'meeting' &&
    notes[0].by === EMAIL && notes[0].text === hostile && notes[0].cta_id === null, notes);
  const row = text(await page.locator('section.notes table tbody tr').first().textContent());
  check('the notes section lists it', row.includes('meeting') && row.includes(EMAIL) && row.includes('QBR booked'), row);
  const tl = text(await page.locator('ol.timeline li.kind-note').first().textContent().catch(() => ''));
  check('and the timeline', tl.includes('meeting') && tl.includes('QBR booked'), tl);
  const html = await page.locator('section.notes').innerHTML();
  check('a hostile text is text, not markup', html.includes('&lt;img src=x') && !html.includes('<img src=x'), html.slice(0, 300));
  await page.locator('section.notes').scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(SHOTS, 'notes-account.png'), fullPage: true });
  await page.locator('section.notes').screenshot({ path: path.join(SHOTS, 'notes-account-section.png') });

  // A CTA page's form.
  await page.goto(BASE + '/ctas/' + CTA);
  const f2 = page.locator('section.notes form.note-form');
  await f2.locator('select[name=kind]').selectOption('call');
  await f2.locator('textarea[name=text]').fill('Spoke with Dana: renewal on track');
  await f2.locator('[type=submit]').click();
  await page.waitForLoadState('load');
  check('the CTA form goes back to the CTA page', new URL(page.url()).pathname === '/ctas/' + CTA, page.url());
  const flash2 = text(await page.locator('.flash').first().textContent().catch(() => ''));
  check('with a notice', flash2.includes(`CTA ${CTA} call recorded`), flash2);
  const cta = await api('/api/ctas/' + CTA);
  const last = cta.history[cta.history.length - 1];
  check('the CTA\'s history has the note by the signed-in user', last.action === 'note' && last.actor === EMAIL &&
    cta.notes.length === 1 && cta.notes[0].kind === 'call', { last, notes: cta.notes });
  const hist = text(await page.locator('section.card:has(h2:text("History")) tbody tr').last().textContent());
  check('the page shows it in the history', hist.includes('note') && hist.includes('call: Spoke with Dana'), hist);
  await page.screenshot({ path: path.join(SHOTS, 'notes-cta.png'), fullPage: true });

  // The cockpit leaves the held-out CTAs out; their page says why.
  await page.goto(BASE + '/ctas?owner=all');
  const links = await page.$$eval('a[href^="/ctas/"]', (as) => as.map((a) => a.getAttribute('href')));
  const all = (await api('/api/ctas')).ctas;
  const shown = all.filter((c) => !c.held_out).length;
  check(`the cockpit shows the ${shown} delivered CTAs, not the held-out one`,
    !links.includes('/ctas/' + HELD) && links.includes('/ctas/' + CTA), links);
  await page.screenshot({ path: path.join(SHOTS, 'cockpit.png'), fullPage: true });
  await page.goto(BASE + '/ctas/' + HELD);
  const notice = text(await page.locator('p.notice').textContent().catch(() => ''));
  check('a held-out CTA\'s page says it was not delivered', notice.includes('randomised holdout'), notice);
  check('no script ran (no dialog)', dialogs.length === 0, dialogs);
  check('no console errors (no CSP violation)', consoleErrors.length === 0, consoleErrors);
} catch (e) {
  check('the browser run completed', false, String(e && e.stack || e));
  process.exitCode = 1;
} finally {
  await browser.close();
}
