// Sends messages through Segment's official Node library (unchanged) to the
// host given as argv[2] with the write key argv[3], then flushes and exits.
// Prints one line per delivery error; exits 1 if any.
const { Analytics } = require('@segment/analytics-node');

const host = process.argv[2];
const writeKey = process.argv[3];
const analytics = new Analytics({ writeKey, host, maxEventsInBatch: 5, flushInterval: 200 });
let errors = 0;
analytics.on('error', (err) => {
  errors++;
  console.log('error', err.code || '', err.reason ? String(err.reason) : String(err));
});

analytics.group({ userId: 'sdk-user-1', groupId: 'sdk-acme', traits: { name: 'SDK Acme', plan: 'growth', mrr: 990, seats: 10 } });
analytics.identify({ userId: 'sdk-user-1', traits: { email: 'one@sdk.example', company_id: 'sdk-acme' } });
analytics.track({ userId: 'sdk-user-1', event: 'Signed In' });
analytics.track({ userId: 'sdk-user-1', event: 'Report Exported', properties: { product: 'analytics_pro' } });
analytics.track({ userId: 'sdk-user-1', event: 'NPS Survey Responded', properties: { score: 3, comment: 'slow' } });
analytics.page({ userId: 'sdk-user-1', name: 'Settings' });
analytics.screen({ userId: 'sdk-user-1', name: 'Home' });
analytics.alias({ userId: 'sdk-user-1', previousId: 'anon-sdk' });
for (let i = 0; i < 12; i++) {
  analytics.track({ userId: 'sdk-user-1', event: 'Dashboard Viewed', properties: { i } });
}

// A deadline for a broken server, not a speed (the machine may be loaded).
analytics.closeAndFlush({ timeout: 120000 }).then(() => {
  console.log(errors ? 'failed' : 'flushed');
  process.exit(errors ? 1 : 0);
});
