/* schema.c: SQLite schema migrations (see schema.h, docs/store.md).
 *
 * The SQL is written so that PostgreSQL accepts the statements that read and
 * write it (INSERT ... ON CONFLICT, RETURNING); only the DDL below is SQLite's
 * own (INTEGER PRIMARY KEY as row id, WITHOUT ROWID). Times are integer
 * milliseconds since the epoch (UTC), days are integer day numbers.
 *
 * events is clustered by its deduplication key, (timestamp as sent, hash of
 * messageId): messages arrive roughly in time order, so inserts stay near the
 * end of the B-tree and the uniqueness check is the primary key itself (see
 * ../shared/MEASURED.md: a random-order key slows every insert as the table
 * grows). Metric queries go through events_account: (day, account, kind,
 * time), which serves "every account over days D1..D2" as one range and "one
 * account over days D1..D2" as one seek per day. */
#include "store/schema.h"
#include "store/codes.h"

static const char migration_1[] =
    "CREATE TABLE accounts ("
    "  id INTEGER PRIMARY KEY,"
    "  external_id TEXT NOT NULL UNIQUE,"
    "  name TEXT, plan TEXT, mrr REAL, seats INTEGER, renewal_date TEXT,"
    "  csm_email TEXT, csm_slack TEXT, segment TEXT, premium_products TEXT, created_at TEXT,"
    "  traits TEXT NOT NULL DEFAULT '{}',"
    "  first_seen_ms INTEGER NOT NULL,"
    "  event_count INTEGER NOT NULL DEFAULT 0"
    ");"
    "CREATE TABLE users ("
    "  id INTEGER PRIMARY KEY,"
    "  external_id TEXT NOT NULL,"
    "  anonymous INTEGER NOT NULL DEFAULT 0,"
    "  email TEXT, name TEXT, title TEXT,"
    "  traits TEXT NOT NULL DEFAULT '{}',"
    "  first_seen_ms INTEGER NOT NULL,"
    "  UNIQUE (external_id, anonymous)"
    ");"
    "CREATE TABLE traits ("
    "  entity INTEGER NOT NULL," /* 0 account, 1 user */
    "  entity_id INTEGER NOT NULL,"
    "  key TEXT NOT NULL,"
    "  value TEXT NOT NULL," /* JSON */
    "  ts_ms INTEGER NOT NULL,"
    "  PRIMARY KEY (entity, entity_id, key)"
    ") WITHOUT ROWID;"
    "CREATE TABLE memberships ("
    "  id INTEGER PRIMARY KEY,"
    "  account_id INTEGER NOT NULL REFERENCES accounts (id),"
    "  user_id INTEGER NOT NULL REFERENCES users (id),"
    "  start_ms INTEGER NOT NULL,"
    "  end_ms INTEGER" /* NULL while a member */
    ");"
    "CREATE INDEX memberships_user ON memberships (user_id, account_id);"
    "CREATE INDEX memberships_account ON memberships (account_id) WHERE end_ms IS NULL;"
    "CREATE TABLE names ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE"
    ");"
    "CREATE TABLE events ("
    "  key_ts_ms INTEGER NOT NULL,"
    "  key_hash INTEGER NOT NULL,"
    "  ts_ms INTEGER NOT NULL,"
    "  kind INTEGER NOT NULL,"
    "  account_id INTEGER,"
    "  user_id INTEGER,"
    "  name_id INTEGER,"
    "  subject TEXT, detail TEXT, num REAL, day INTEGER,"
    "  props TEXT,"
    "  PRIMARY KEY (key_ts_ms, key_hash)"
    ") WITHOUT ROWID;"
    /* Day first: an insert lands in today's slice of the index, not in one
     * place per account, so a commit dirties a few pages instead of one per
     * account it touches (measured: 1.7x faster bulk import, 1.5x faster small
     * commits, docs/store.md). */
    "CREATE INDEX events_account ON events ((ts_ms / 86400000), account_id, kind, ts_ms)"
    "  WHERE account_id IS NOT NULL;"
    "CREATE TABLE quarantine ("
    "  key_ts_ms INTEGER NOT NULL,"
    "  key_hash INTEGER NOT NULL,"
    "  ts_ms INTEGER NOT NULL,"
    "  kind INTEGER NOT NULL,"
    "  user_id INTEGER,"
    "  account_external_id TEXT,"
    "  reason TEXT NOT NULL,"
    "  since_ms INTEGER NOT NULL,"
    "  PRIMARY KEY (key_ts_ms, key_hash)"
    ") WITHOUT ROWID;"
    "CREATE INDEX quarantine_user ON quarantine (user_id) WHERE account_external_id IS NULL;"
    "CREATE INDEX quarantine_account ON quarantine (account_external_id);"
    "CREATE TABLE counters ("
    "  name TEXT PRIMARY KEY,"
    "  value INTEGER NOT NULL"
    ");";

/* Metrics as of any day (SPEC 3):
 * - events_facts: (account, kind, time) over the rare events (NPS, tickets,
 *   invoices, cards, outreach, goals, milestones, outcomes, removals) and group
 *   calls, so "the latest card before T" or "the tickets open at T" is one
 *   index range per account. Logins and feature events (99% of the volume)
 *   stay out: an account-first index on them is what made commits rewrite
 *   one page per account (docs/store.md).
 * - login_days: one row per account and day with a login, written once per
 *   (account, day) at ingest, so "days since the last login" is one seek.
 * - memberships_by_account: every membership of an account, ended or not,
 *   for "members at T". */
static const char migration_2[] =
    "CREATE INDEX events_facts ON events (account_id, kind, ts_ms)"
    "  WHERE kind BETWEEN " SQL_EV_NPS " AND " SQL_EV_USER_REMOVED " OR kind = " SQL_EV_GROUP ";"
    "CREATE TABLE login_days ("
    "  account_id INTEGER NOT NULL,"
    "  day INTEGER NOT NULL,"
    "  PRIMARY KEY (account_id, day)"
    ") WITHOUT ROWID;"
    "INSERT INTO login_days (account_id, day)"
    "  SELECT DISTINCT account_id, ts_ms / 86400000 FROM events"
    "  WHERE kind = " SQL_EV_LOGIN " AND account_id IS NOT NULL;"
    "DROP INDEX memberships_account;"
    "CREATE INDEX memberships_by_account ON memberships (account_id);";

/* Health scores, one row per account and day (SPEC 4), with the version of
 * the configuration that produced them. NULL overall: no component had data;
 * a NULL component: it had none. */
static const char migration_3[] =
    "CREATE TABLE scores ("
    "  account_id INTEGER NOT NULL,"
    "  day INTEGER NOT NULL,"
    "  overall REAL,"
    "  band TEXT NOT NULL,"
    "  logins REAL, adoption REAL, sentiment REAL, support REAL, financial REAL,"
    "  config_version TEXT NOT NULL,"
    "  computed_ms INTEGER NOT NULL,"
    "  PRIMARY KEY (account_id, day)"
    ") WITHOUT ROWID;"
    "CREATE INDEX scores_day ON scores (day, overall);";

/* Covering indexes for metrics as of a day: the activity window and the facts
 * are read from the index alone instead of fetching each row from the table
 * (measured on 10,000 accounts x a year: 2.0 s -> 0.2 s and 2.8 s -> 0.06 s;
 * docs/benchmarks.md). */
static const char migration_4[] =
    "DROP INDEX events_account;"
    "CREATE INDEX events_account ON events ((ts_ms / 86400000), account_id, kind, ts_ms,"
    "  user_id, name_id) WHERE account_id IS NOT NULL;"
    "DROP INDEX events_facts;"
    "CREATE INDEX events_facts ON events (account_id, kind, ts_ms, user_id, subject, detail,"
    "  num, day, props) WHERE kind BETWEEN " SQL_EV_NPS " AND " SQL_EV_USER_REMOVED
    " OR kind = " SQL_EV_GROUP ";";

/* Daily activity rollups (docs/store.md): per day and account, the logins,
 * the feature events, and the distinct users who logged in and feature names
 * used (comma-separated ids), so that metrics over whole days read one row
 * per account and day instead of every event. They are derived data: a day
 * whose logins or feature events change is listed in activity_stale in the
 * same transaction, and is read from the events until its rollup is rebuilt
 * (store_activity_refresh). Every day with activity starts out stale.
 *
 * activity_windows holds the activity window as of the midnight that ends
 * day D (SPEC 3): logins and feature events of days D-6..D and D-34..D-7,
 * distinct users with a login and feature names of D-29..D, and the latest
 * day of D-34..D with a login (NULL: none), for every account with activity
 * in D-34..D, so that the window as of a midnight is one row per account
 * (a table of its own: small rows, written in key order). activity_counted lists
 * the days with rollups, done once their windows are current: rebuilding a
 * day undoes it for that day and the 34 after. */
static const char migration_5[] =
    "CREATE TABLE activity_days ("
    "  day INTEGER NOT NULL,"
    "  account_id INTEGER NOT NULL,"
    "  logins INTEGER NOT NULL,"
    "  features INTEGER NOT NULL,"
    "  users TEXT,"
    "  names TEXT,"
    "  PRIMARY KEY (day, account_id)"
    ") WITHOUT ROWID;"
    "CREATE TABLE activity_stale (day INTEGER PRIMARY KEY);"
    "CREATE TABLE activity_windows ("
    "  day INTEGER NOT NULL,"
    "  account_id INTEGER NOT NULL,"
    "  logins_7d INTEGER NOT NULL,"
    "  logins_28d INTEGER NOT NULL,"
    "  features_7d INTEGER NOT NULL,"
    "  features_28d INTEGER NOT NULL,"
    "  users_30d INTEGER NOT NULL,"
    "  names_30d INTEGER NOT NULL,"
    "  last_login INTEGER,"
    "  PRIMARY KEY (day, account_id)"
    ") WITHOUT ROWID;"
    "CREATE TABLE activity_counted (day INTEGER PRIMARY KEY, done INTEGER NOT NULL);"
    /* Memberships of an account with their times, from the index alone. */
    "DROP INDEX memberships_by_account;"
    "CREATE INDEX memberships_by_account ON memberships (account_id, start_ms, end_ms, user_id);"
    "INSERT INTO activity_stale (day) SELECT DISTINCT (ts_ms / 86400000) FROM events"
    "  WHERE account_id IS NOT NULL AND kind IN (" SQL_EV_FEATURE ", " SQL_EV_LOGIN ");";

/* Facts (docs/store.md): the meaningful events and group calls of each
 * account, clustered by account, kind and time, with their lifetimes: until
 * when each can still matter to metrics as of some T (until_ms; NULL: for
 * ever) and, for what opens an item, when the item was settled (settled_ms):
 * a ticket's first close at or after the open, an invoice's first payment,
 * the first reply at or after an outreach. Metrics as of T read only the
 * facts with until_ms >= T, a range of each account's rows, instead of all history: as of
 * today that skips closed tickets, paid invoices, answered outreach, old NPS
 * answers and superseded cards, replies and outcomes. The store keeps both
 * columns right as facts arrive, in any order (sqlite.c, keep_lifetimes).
 * Clustered by account and lifetime, a fact and the earlier facts it settles
 * share pages, so keeping lifetimes costs few page writes, and the events
 * table is never updated for it. The table replaces the events_facts index. */
static const char migration_6[] =
    "CREATE TABLE facts ("
    "  account_id INTEGER NOT NULL,"
    "  until_ms INTEGER NOT NULL," /* 9223372036854775807: never */
    "  kind INTEGER NOT NULL,"
    "  ts_ms INTEGER NOT NULL,"
    "  key_ts_ms INTEGER NOT NULL,"
    "  key_hash INTEGER NOT NULL,"
    "  user_id INTEGER, subject TEXT, detail TEXT, num REAL, day INTEGER, props TEXT,"
    "  settled_ms INTEGER,"
    "  PRIMARY KEY (account_id, until_ms, kind, ts_ms, key_ts_ms, key_hash)"
    ") WITHOUT ROWID;"
    "INSERT INTO facts (account_id, until_ms, kind, ts_ms, key_ts_ms, key_hash, user_id, subject,"
    "  detail, num, day, props)"
    "  SELECT account_id, " SCHEMA_NEVER ", kind, ts_ms, key_ts_ms, key_hash, user_id, subject,"
    "  detail, num, day, props FROM events WHERE " SCHEMA_FACT_ROWS " AND account_id IS NOT NULL;"
    "UPDATE facts SET settled_ms = " SCHEMA_ROW_SETTLED " WHERE kind IN (" SQL_EV_TICKET_OPENED
    ", " SQL_EV_INVOICE_ISSUED ", " SQL_EV_OUTREACH_SENT ");"
    "UPDATE facts SET until_ms = coalesce(" SCHEMA_ROW_UNTIL ", " SCHEMA_NEVER ");"
    "DROP INDEX events_facts;";

/* Scores day first: a day's scores for every account are appended together
 * (account first, each of 10,000 rows went to a page of its own: measured
 * 40 ms of the 250 ms budget of tend score), and a day range for every
 * account, as the dashboard's sparklines read, is one range. */
static const char migration_7[] =
    "CREATE TABLE scores_by_day ("
    "  day INTEGER NOT NULL,"
    "  account_id INTEGER NOT NULL,"
    "  overall REAL,"
    "  band TEXT NOT NULL,"
    "  logins REAL, adoption REAL, sentiment REAL, support REAL, financial REAL,"
    "  config_version TEXT NOT NULL,"
    "  computed_ms INTEGER NOT NULL,"
    "  PRIMARY KEY (day, account_id)"
    ") WITHOUT ROWID;"
    "INSERT INTO scores_by_day SELECT day, account_id, overall, band, logins, adoption,"
    "  sentiment, support, financial, config_version, computed_ms FROM scores;"
    "DROP TABLE scores;"
    "ALTER TABLE scores_by_day RENAME TO scores;";

/* Rules and CTAs (docs/rules.md).
 *
 * ctas: one row per call to action. At most one open or snoozed CTA per
 * (rule, account, subject): the unique partial index ctas_live enforces it,
 * whatever a caller does. A closed CTA whose condition has not been seen to
 * clear since still matters (a cooldown after a manual close, or "clears and
 * returns" after one); `cleared` says it no longer does, so an evaluation reads
 * only the watched rows (ctas_watched), not the whole history. clear_since:
 * the first day of the current run of days on which a live CTA's condition
 * did not hold (a rule's resolve_after_days). Days are
 * day numbers (days since 1970-01-01); priorities 0 low, 1 medium, 2 high.
 * cta_history: every change of a CTA, in order. eval_runs: each evaluation,
 * as of which instant, so that event rules fire for what arrived since the
 * previous one.
 *
 * feature_products: which product each feature event name was sent with
 * (premium_unused asks whether a product was used in the last 30 days, and
 * the activity windows carry the feature names of the last 30 days).
 * activity_windows.names: those names, as a comma-separated id list.
 * facts_goals: the goals, which rollup rebuilds mark met (settled_ms: the
 * first day on or after the goal's with a feature event of its feature).
 * facts_tickets: an account's latest ticket in one seek (support_tickets'
 * too_quiet; scanning the account's facts cost 12% of an evaluation).
 * Every rollup is rebuilt once, to fill both. */
static const char migration_8[] =
    "CREATE TABLE ctas ("
    "  id INTEGER PRIMARY KEY,"
    "  account_id INTEGER NOT NULL,"
    "  rule TEXT NOT NULL,"
    "  subject TEXT NOT NULL,"
    "  type TEXT NOT NULL,"
    "  priority INTEGER NOT NULL,"
    "  status TEXT NOT NULL,"
    "  snoozed_until INTEGER,"
    "  closed_reason TEXT,"
    "  closed_day INTEGER,"
    "  cleared INTEGER NOT NULL DEFAULT 0,"
    "  clear_since INTEGER,"
    "  owner TEXT NOT NULL,"
    "  title TEXT NOT NULL,"
    "  reason TEXT NOT NULL,"
    "  evidence TEXT NOT NULL,"
    "  opened_day INTEGER NOT NULL,"
    "  due_day INTEGER NOT NULL,"
    "  updated_ms INTEGER NOT NULL"
    ");"
    "CREATE UNIQUE INDEX ctas_live ON ctas (rule, account_id, subject)"
    "  WHERE status IN (" SQL_CTA_OPEN ", " SQL_CTA_SNOOZED ");"
    "CREATE INDEX ctas_watched ON ctas (account_id) WHERE status <> " SQL_CTA_CLOSED
    " OR cleared = 0;"
    "CREATE INDEX ctas_account ON ctas (account_id, status);"
    "CREATE TABLE cta_history ("
    "  cta_id INTEGER NOT NULL,"
    "  seq INTEGER NOT NULL,"
    "  day INTEGER NOT NULL,"
    "  at_ms INTEGER NOT NULL,"
    "  action TEXT NOT NULL,"
    "  actor TEXT NOT NULL,"
    "  status TEXT NOT NULL,"
    "  priority INTEGER NOT NULL,"
    "  note TEXT,"
    "  PRIMARY KEY (cta_id, seq)"
    ") WITHOUT ROWID;"
    "CREATE TABLE eval_runs ("
    "  t_ms INTEGER PRIMARY KEY,"
    "  run_ms INTEGER NOT NULL,"
    "  opened INTEGER NOT NULL, updated INTEGER NOT NULL, resolved INTEGER NOT NULL,"
    "  errors INTEGER NOT NULL"
    ");"
    "CREATE TABLE feature_products ("
    "  name_id INTEGER NOT NULL,"
    "  product TEXT NOT NULL,"
    "  PRIMARY KEY (name_id, product)"
    ") WITHOUT ROWID;"
    "INSERT OR IGNORE INTO feature_products SELECT DISTINCT name_id, subject FROM events"
    "  WHERE kind = " SQL_EV_FEATURE " AND name_id IS NOT NULL AND subject IS NOT NULL;"
    "ALTER TABLE activity_windows ADD COLUMN names TEXT;"
    "CREATE INDEX facts_goals ON facts (kind, account_id) WHERE kind = " SQL_EV_GOAL_SET ";"
    "CREATE INDEX facts_tickets ON facts (account_id, ts_ms) WHERE kind = " SQL_EV_TICKET_OPENED ";"
    "UPDATE facts SET settled_ms = NULL WHERE kind = " SQL_EV_GOAL_SET ";"
    "INSERT OR IGNORE INTO activity_stale (day) SELECT day FROM activity_counted;";

/* Notifications and the outbox (docs/delivery.md): a snapshot per CTA event,
 * a row per (notification, channel, target), digests as rows whose items
 * point at them. A row's nonce, random, makes its key unique even when ids
 * repeat (a backup restored after messages were sent, a second install). */
static const char migration_9[] =
    "CREATE TABLE notifications ("
    "  id INTEGER PRIMARY KEY,"
    "  cta_id INTEGER NOT NULL,"
    "  event TEXT NOT NULL,"
    "  day INTEGER NOT NULL,"
    "  created_ms INTEGER NOT NULL,"
    "  snapshot TEXT NOT NULL"
    ");"
    "CREATE TABLE outbox ("
    "  id INTEGER PRIMARY KEY,"
    "  notification_id INTEGER,"
    "  digest_id INTEGER,"
    "  channel TEXT NOT NULL,"
    "  target TEXT NOT NULL,"
    "  owner TEXT NOT NULL,"
    "  status TEXT NOT NULL CHECK (status IN ('held', 'digested', 'pending', 'sending', 'sent',"
    "    'dead')),"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  resends INTEGER NOT NULL DEFAULT 0,"
    "  next_at_ms INTEGER NOT NULL,"
    "  created_ms INTEGER NOT NULL,"
    "  sent_ms INTEGER,"
    "  last_error TEXT,"
    "  nonce TEXT NOT NULL DEFAULT (lower(hex(randomblob(4))))"
    ");"
    "CREATE INDEX outbox_due ON outbox (channel, target, next_at_ms) WHERE status = 'pending';"
    "CREATE INDEX outbox_held ON outbox (channel, target, owner, created_ms) WHERE status = 'held';"
    "CREATE INDEX outbox_digest ON outbox (digest_id) WHERE digest_id IS NOT NULL;"
    "CREATE INDEX outbox_status ON outbox (status, id);";

/* The HTML reports of tend analyze and tend backtest (docs/store.md): the
 * fragment as written, a one-line summary for lists. Only the newest 100 are
 * kept (store_report_put prunes), so no index: a list reads at most 100 rows. */
static const char migration_10[] = "CREATE TABLE reports ("
                                   "  id INTEGER PRIMARY KEY,"
                                   "  kind TEXT NOT NULL CHECK (kind IN ('analyze', 'backtest')),"
                                   "  title TEXT NOT NULL,"
                                   "  created_ms INTEGER NOT NULL,"
                                   "  summary TEXT NOT NULL DEFAULT '',"
                                   "  body TEXT NOT NULL"
                                   ");";

/* Delivery holds and urgency (docs/delivery.md): a row's rank orders the due
 * rows of a target (0 most urgent: high, medium, low, then digests, then
 * replays of past days), and the due index leads with it so a target's most
 * urgent row is one seek whatever its backlog. delivery_holds keeps the
 * earliest instant each destination may be sent to again (a Slack webhook's
 * pacing, a 429's Retry-After), so every dispatcher process honours it: one
 * run after another, after a kill -9, tend serve after tend deliver. A gate
 * is "slack SHA-256-of-the-url" (the url itself is a secret) or "CHANNEL
 * TARGET"; label says which, for tend outbox. */
static const char migration_11[] =
    "ALTER TABLE outbox ADD COLUMN rank INTEGER NOT NULL DEFAULT 1;"
    "DROP INDEX outbox_due;"
    "CREATE INDEX outbox_due ON outbox (channel, target, rank, next_at_ms) WHERE status = "
    "'pending';"
    "CREATE TABLE delivery_holds ("
    "  gate TEXT PRIMARY KEY,"
    "  not_before_ms INTEGER NOT NULL,"
    "  reason TEXT NOT NULL,"
    "  label TEXT NOT NULL"
    ") WITHOUT ROWID;";

/* Session epochs (docs/dashboard.md, Security): a user's sessions are valid
 * only for the epoch they were made in, and signing out bumps it, so one
 * row per user who ever signed out, keyed by the lowercased email. */
static const char migration_12[] = "CREATE TABLE session_epochs ("
                                   "  email TEXT PRIMARY KEY,"
                                   "  epoch INTEGER NOT NULL,"
                                   "  changed_ms INTEGER NOT NULL"
                                   ") WITHOUT ROWID;";

/* Product use (premium_unused, docs/rules.md): one row per account, product
 * and day with a feature event carrying that `product`, written as events
 * are stored or attached (sqlite.c, note_product_day), so "was product P
 * used in the last 30 days" is one seek of the primary key. It replaces
 * feature_products (migration 8), which paired feature names with the
 * products they were ever sent with: any later use of such a name, tagged or
 * not, counted as the product's use. Filled from the events already stored.
 * The activity windows' feature names (activity_windows.names, migration 8)
 * served only that pairing, and go. */
static const char migration_13[] =
    "CREATE TABLE product_days ("
    "  account_id INTEGER NOT NULL,"
    "  product TEXT NOT NULL,"
    "  day INTEGER NOT NULL,"
    "  PRIMARY KEY (account_id, product, day)"
    ") WITHOUT ROWID;"
    "INSERT OR IGNORE INTO product_days (account_id, product, day)"
    "  SELECT account_id, subject, ts_ms / 86400000 FROM events"
    "  WHERE kind = " SQL_EV_FEATURE " AND account_id IS NOT NULL AND subject IS NOT NULL;"
    "DROP TABLE feature_products;"
    "ALTER TABLE activity_windows DROP COLUMN names;";

/* Churn-risk models and scores (docs/analysis.md, docs/store.md). models:
 * every fitted model with its card (the JSON of `tend model show`); at most
 * one adopted (a unique partial index says so whatever a caller does).
 * risk_by_day: each account's p_churn of a day with the model that scored it
 * and its drivers, day first as scores are (a day's rows are appended
 * together and read as one range). */
static const char migration_14[] =
    "CREATE TABLE models ("
    "  version INTEGER PRIMARY KEY,"
    "  fitted_ms INTEGER NOT NULL,"
    "  horizon_days INTEGER NOT NULL,"
    "  trained_from INTEGER NOT NULL,"
    "  trained_to INTEGER NOT NULL,"
    "  n_rows INTEGER NOT NULL,"
    "  n_churns INTEGER NOT NULL,"
    "  auc_holdout REAL,"
    "  brier_holdout REAL,"
    "  auc_health REAL,"
    "  adopted INTEGER NOT NULL DEFAULT 0 CHECK (adopted IN (0, 1)),"
    "  card TEXT NOT NULL"
    ");"
    "CREATE UNIQUE INDEX models_adopted ON models (adopted) WHERE adopted = 1;"
    "CREATE TABLE risk_by_day ("
    "  day INTEGER NOT NULL,"
    "  account_id INTEGER NOT NULL,"
    "  p_churn REAL NOT NULL,"
    "  model_version INTEGER NOT NULL,"
    "  drivers TEXT NOT NULL,"
    "  PRIMARY KEY (day, account_id)"
    ") WITHOUT ROWID;";

/* A CTA's value (currency per year, docs/rules.md) and the CTAs the weekly
 * budget held back: one row per key and ISO week, never silently dropped.
 * ctas_opened counts each owner's opens of a week for the budget. */
static const char migration_15[] = "ALTER TABLE ctas ADD COLUMN value REAL;"
                                   "CREATE INDEX ctas_opened ON ctas (opened_day, owner);"
                                   "CREATE TABLE cta_held ("
                                   "  week INTEGER NOT NULL,"
                                   "  account_id INTEGER NOT NULL,"
                                   "  rule TEXT NOT NULL,"
                                   "  subject TEXT NOT NULL,"
                                   "  first_day INTEGER NOT NULL,"
                                   "  day INTEGER NOT NULL,"
                                   "  type TEXT NOT NULL,"
                                   "  priority INTEGER NOT NULL,"
                                   "  owner TEXT NOT NULL,"
                                   "  value REAL,"
                                   "  title TEXT NOT NULL,"
                                   "  reason TEXT NOT NULL,"
                                   "  PRIMARY KEY (week, account_id, rule, subject)"
                                   ") WITHOUT ROWID;"
                                   "CREATE INDEX cta_held_owner ON cta_held (owner, week);";

/* Models from a replayed day's past (docs/analysis.md, "p_churn in every
 * evaluation"): data_end, the last day of data a model's labels saw (the
 * card's data_end, a day number), and adopted_ms, when it was adopted (NULL:
 * never; kept when a later model replaces it), so that an evaluation of day D
 * scores with the most recently adopted model whose data end on or before D.
 * Existing rows: data_end from the card, adopted_ms the fitted_ms of the
 * adopted one (a model adopted and then replaced before this migration
 * counts as never adopted). */
static const char migration_16[] =
    "ALTER TABLE models ADD COLUMN data_end INTEGER;"
    "ALTER TABLE models ADD COLUMN adopted_ms INTEGER;"
    "UPDATE models SET data_end = CAST(julianday(json_extract(card, '$.data_end')) - 2440587.5 "
    "AS INTEGER) WHERE json_valid(card) AND json_type(card, '$.data_end') = 'text';"
    "UPDATE models SET adopted_ms = fitted_ms WHERE adopted = 1;";

/* Delivery by several dispatchers at once (docs/delivery.md, "Several
 * nodes"): a row a dispatcher claims for sending carries its lease
 * (locked_until_ms: renewed while the transfer runs; past it, any dispatcher
 * may put the row back to pending) and its destination's gate, so that a
 * claim can see that a Slack webhook has a message in flight on another
 * node (outbox_sending). Rows left `sending` from before have no lease:
 * expired. */
static const char migration_17[] =
    "ALTER TABLE outbox ADD COLUMN locked_until_ms INTEGER;"
    "ALTER TABLE outbox ADD COLUMN gate TEXT;"
    "CREATE INDEX outbox_sending ON outbox (gate, locked_until_ms) WHERE status = 'sending';";

/* Several nodes on one database (docs/operations.md, "Several nodes"; on
 * SQLite one node uses them alone): leases (the scheduler's: who plans the
 * daily evaluations, with a term that grows at each change of hands),
 * sched_runs (one row per scheduled time ever planned: a takeover never
 * plans a time again) and sched_buckets (a run's account id ranges, each
 * claimed by a node until claimed_until, then done with its counts). */
static const char migration_18[] =
    "CREATE TABLE leases ("
    "  name TEXT PRIMARY KEY,"
    "  holder TEXT NOT NULL,"
    "  term INTEGER NOT NULL,"
    "  expires_ms INTEGER NOT NULL"
    ");"
    "CREATE TABLE sched_runs ("
    "  due_ms INTEGER PRIMARY KEY,"
    "  day INTEGER NOT NULL,"
    "  n_buckets INTEGER NOT NULL,"
    "  term INTEGER NOT NULL,"
    "  holder TEXT NOT NULL,"
    "  created_ms INTEGER NOT NULL,"
    "  done_ms INTEGER,"
    "  accounts INTEGER NOT NULL DEFAULT 0, opened INTEGER NOT NULL DEFAULT 0,"
    "  updated INTEGER NOT NULL DEFAULT 0, resolved INTEGER NOT NULL DEFAULT 0,"
    "  errors INTEGER NOT NULL DEFAULT 0, notifications INTEGER NOT NULL DEFAULT 0"
    ");"
    "CREATE TABLE sched_buckets ("
    "  due_ms INTEGER NOT NULL,"
    "  bucket INTEGER NOT NULL,"
    "  day INTEGER NOT NULL,"
    "  first_id INTEGER NOT NULL,"
    "  last_id INTEGER NOT NULL,"
    "  claimed_by TEXT,"
    "  claimed_until INTEGER,"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  done_ms INTEGER,"
    "  accounts INTEGER NOT NULL DEFAULT 0, opened INTEGER NOT NULL DEFAULT 0,"
    "  updated INTEGER NOT NULL DEFAULT 0, resolved INTEGER NOT NULL DEFAULT 0,"
    "  errors INTEGER NOT NULL DEFAULT 0, notifications INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (due_ms, bucket)"
    ") WITHOUT ROWID;"
    "CREATE INDEX sched_buckets_open ON sched_buckets (due_ms, bucket) WHERE done_ms IS NULL;";

/* Messages to customers (docs/delivery.md, "Messages to the customer"): each
 * decided message once per key (account, kind, ref, step), claimed with
 * INSERT OR IGNORE in the transaction that queues it, so restarts and
 * several nodes decide it once; and who asked for no more of a kind. */
static const char migration_19[] =
    "CREATE TABLE customer_messages ("
    "  account_id INTEGER NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  ref TEXT NOT NULL,"
    "  step INTEGER NOT NULL,"
    "  day INTEGER NOT NULL,"
    "  created_ms INTEGER NOT NULL,"
    "  recipient TEXT,"
    "  rule TEXT NOT NULL,"
    "  status TEXT NOT NULL CHECK (status IN ('queued', 'no_recipient', 'unsubscribed')),"
    "  subject TEXT NOT NULL,"
    "  notification_id INTEGER,"
    "  PRIMARY KEY (account_id, kind, ref, step)"
    ") WITHOUT ROWID;"
    "CREATE TABLE customer_unsubscribes ("
    "  account_id INTEGER NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  contact TEXT NOT NULL,"
    "  created_ms INTEGER NOT NULL,"
    "  PRIMARY KEY (account_id, kind, contact)"
    ") WITHOUT ROWID;";

/* Users and the champion (docs/rules.md, champion_risk):
 * - traits_by_key: the users that have a trait, by its key (users with a
 *   role), without a pass over every user's traits;
 * - user_login_days: each user's logins in an account per day, so that a
 *   user's 12 weeks are one range of their rows instead of a seek per day
 *   of the day-first events index (2,000 accounts with a role: 1.2 s more
 *   per evaluation that way). Derived like the activity rollups: written
 *   when a stale day is rebuilt (store_activity_refresh); a stale day is
 *   read from the events. */
static const char migration_20[] =
    "CREATE INDEX IF NOT EXISTS traits_by_key ON traits (entity, key, entity_id);"
    "CREATE TABLE IF NOT EXISTS user_login_days ("
    "  account_id INTEGER NOT NULL,"
    "  user_id INTEGER NOT NULL,"
    "  day INTEGER NOT NULL,"
    "  logins INTEGER NOT NULL,"
    "  PRIMARY KEY (account_id, user_id, day)"
    ") WITHOUT ROWID;"
    "INSERT OR REPLACE INTO user_login_days (account_id, user_id, day, logins)"
    "  SELECT account_id, user_id, ts_ms / 86400000, count(*) FROM events"
    "  WHERE kind = " SQL_EV_LOGIN " AND account_id IS NOT NULL AND user_id IS NOT NULL"
    "  GROUP BY account_id, user_id, ts_ms / 86400000;";

/* Segments (docs/dashboard.md "Segments", docs/rules.md segment_shift):
 * segment_days, one row per group (kind 0 segment, 1 plan, 2 owner; its
 * name) and day, of sums over the group's accounts (core/segments.h), so
 * that a window of days is a sum and the parts of a day add up.
 * segment_parts: a scheduled run's parts (one per bucket of accounts,
 * evaluated by any node), summed into segment_days by the node that
 * completes the run, then deleted. */
static const char migration_21[] =
    "CREATE TABLE segment_days ("
    "  kind INTEGER NOT NULL,"
    "  name TEXT NOT NULL,"
    "  day INTEGER NOT NULL,"
    "  accounts INTEGER NOT NULL, arr_accounts INTEGER NOT NULL, arr REAL NOT NULL,"
    "  scored INTEGER NOT NULL, health_sum REAL NOT NULL,"
    "  red INTEGER NOT NULL, yellow INTEGER NOT NULL, green INTEGER NOT NULL,"
    "  active_users INTEGER NOT NULL, logins_7d INTEGER NOT NULL,"
    "  feature_events_7d INTEGER NOT NULL, nps_accounts INTEGER NOT NULL,"
    "  nps_sum REAL NOT NULL, tickets_30d INTEGER NOT NULL, tickets_open INTEGER NOT NULL,"
    "  open_ctas INTEGER NOT NULL,"
    "  PRIMARY KEY (kind, name, day)"
    ") WITHOUT ROWID;"
    "CREATE INDEX segment_days_day ON segment_days (day);"
    "CREATE TABLE segment_parts ("
    "  due_ms INTEGER NOT NULL,"
    "  part INTEGER NOT NULL,"
    "  kind INTEGER NOT NULL,"
    "  name TEXT NOT NULL,"
    "  accounts INTEGER NOT NULL, arr_accounts INTEGER NOT NULL, arr REAL NOT NULL,"
    "  scored INTEGER NOT NULL, health_sum REAL NOT NULL,"
    "  red INTEGER NOT NULL, yellow INTEGER NOT NULL, green INTEGER NOT NULL,"
    "  active_users INTEGER NOT NULL, logins_7d INTEGER NOT NULL,"
    "  feature_events_7d INTEGER NOT NULL, nps_accounts INTEGER NOT NULL,"
    "  nps_sum REAL NOT NULL, tickets_30d INTEGER NOT NULL, tickets_open INTEGER NOT NULL,"
    "  open_ctas INTEGER NOT NULL,"
    "  PRIMARY KEY (due_ms, part, kind, name)"
    ") WITHOUT ROWID;";

/* Escalations (core/escalate.h): one row per CTA and level, ever; the key
 * is what makes an escalation happen once across restarts and processes. */
static const char migration_22[] = "CREATE TABLE cta_escalations ("
                                   "  cta_id INTEGER NOT NULL,"
                                   "  level INTEGER NOT NULL,"
                                   "  at_ms INTEGER NOT NULL,"
                                   "  manager TEXT,"
                                   "  PRIMARY KEY (cta_id, level)"
                                   ") WITHOUT ROWID;";

/* The dashboard's account list a page at a time (account_list.c): each
 * sort walks an index in its order instead of sorting every account. The
 * label index's expression is the statements' ORDER BY, word for word. The
 * day's scores by overall cost the evaluation one more entry per score, in
 * the day's range of the index. */
static const char migration_23[] =
    "CREATE INDEX IF NOT EXISTS scores_rank ON scores (day, overall);"
    "CREATE INDEX IF NOT EXISTS accounts_label ON accounts (coalesce(name, external_id) COLLATE "
    "NOCASE,"
    "  external_id);"
    "CREATE INDEX IF NOT EXISTS accounts_mrr ON accounts (mrr);"
    "CREATE INDEX IF NOT EXISTS accounts_owner ON accounts (csm_email);"
    "CREATE INDEX IF NOT EXISTS accounts_segment ON accounts (segment);"
    "CREATE INDEX IF NOT EXISTS ctas_live_account ON ctas (account_id) WHERE status IN "
    "(" SQL_CTA_OPEN ", " SQL_CTA_SNOOZED ");";

/* People of the team managed in the app, their one-time links (only the
 * token's SHA-256 is kept) and the audit log of every person action
 * (docs/dashboard.md, "Users", "Audit log"). The log is append-only: the
 * store has no operation that changes an entry, and the triggers refuse
 * an UPDATE or DELETE from anyone else. */
static const char migration_28[] =
    "CREATE TABLE team_users ("
    "  email TEXT PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  hash TEXT NOT NULL DEFAULT '',"
    "  role TEXT NOT NULL,"
    "  disabled INTEGER NOT NULL DEFAULT 0,"
    "  created_ms INTEGER NOT NULL,"
    "  changed_ms INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE TABLE team_invites ("
    "  hash TEXT PRIMARY KEY,"
    "  email TEXT NOT NULL,"
    "  created_by TEXT NOT NULL,"
    "  created_ms INTEGER NOT NULL,"
    "  expires_ms INTEGER NOT NULL,"
    "  used_ms INTEGER"
    ") WITHOUT ROWID;"
    "CREATE TABLE audit_log ("
    "  id INTEGER PRIMARY KEY,"
    "  at_ms INTEGER NOT NULL,"
    "  actor TEXT NOT NULL,"
    "  action TEXT NOT NULL,"
    "  target TEXT NOT NULL,"
    "  before_json TEXT,"
    "  after_json TEXT"
    ");"
    "CREATE TABLE team_tokens ("
    "  sha256 TEXT PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  scope TEXT NOT NULL,"
    "  created_by TEXT NOT NULL,"
    "  created_ms INTEGER NOT NULL,"
    "  revoked_ms INTEGER"
    ") WITHOUT ROWID;"
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;";
/* The webhook inbox (docs/connectors.md; sqlite_inbox.c): one row per
 * provider event, keyed by (provider, the provider's event id) so a retry
 * or a duplicate is acknowledged and ignored; the raw payload kept until it
 * is pruned, so that `tend inbox replay` can map it again. hook_accounts:
 * the provider's customer, organisation or company id -> tend's account. */
static const char migration_24[] = "CREATE TABLE hook_inbox ("
                                   "  id INTEGER PRIMARY KEY,"
                                   "  provider TEXT NOT NULL,"
                                   "  event_id TEXT NOT NULL,"
                                   "  event_type TEXT NOT NULL,"
                                   "  received_ms INTEGER NOT NULL,"
                                   "  status TEXT NOT NULL,"
                                   "  reason TEXT NOT NULL DEFAULT '',"
                                   "  detail TEXT NOT NULL DEFAULT '',"
                                   "  account TEXT NOT NULL DEFAULT '',"
                                   "  events INTEGER NOT NULL DEFAULT 0,"
                                   "  attempts INTEGER NOT NULL DEFAULT 0,"
                                   "  processed_ms INTEGER,"
                                   "  payload TEXT NOT NULL,"
                                   "  UNIQUE (provider, event_id)"
                                   ");"
                                   "CREATE INDEX hook_inbox_pending ON hook_inbox (id) "
                                   "  WHERE status = 'pending';"
                                   "CREATE INDEX hook_inbox_received ON hook_inbox (received_ms);"
                                   "CREATE TABLE hook_accounts ("
                                   "  provider TEXT NOT NULL,"
                                   "  provider_id TEXT NOT NULL,"
                                   "  account TEXT NOT NULL,"
                                   "  updated_ms INTEGER NOT NULL,"
                                   "  PRIMARY KEY (provider, provider_id)"
                                   ") WITHOUT ROWID;";

/* Notes and the randomised holdout (docs/analysis.md): notes, what people
 * recorded on a CTA or an account (call, email, meeting, text, note), read
 * by account in time order and by CTA; cta_holdouts, each CTA of a rule with
 * a holdout and the account's draw, whether it was held out (created, not
 * delivered): the record tend analyze impact compares. */
static const char migration_27[] =
    "CREATE TABLE notes ("
    "  id INTEGER PRIMARY KEY,"
    "  account_id INTEGER NOT NULL,"
    "  cta_id INTEGER,"
    "  kind TEXT NOT NULL,"
    "  body TEXT NOT NULL,"
    "  actor TEXT NOT NULL,"
    "  at_ms INTEGER NOT NULL,"
    "  day INTEGER NOT NULL"
    ");"
    "CREATE INDEX notes_account ON notes (account_id, at_ms);"
    "CREATE INDEX notes_cta ON notes (cta_id) WHERE cta_id IS NOT NULL;"
    "CREATE INDEX notes_time ON notes (at_ms);"
    "CREATE TABLE cta_holdouts ("
    "  cta_id INTEGER PRIMARY KEY,"
    "  account_id INTEGER NOT NULL,"
    "  rule TEXT NOT NULL,"
    "  day INTEGER NOT NULL,"
    "  share REAL NOT NULL,"
    "  draw REAL NOT NULL,"
    "  held_out INTEGER NOT NULL"
    ");"
    "CREATE INDEX cta_holdouts_rule ON cta_holdouts (rule, cta_id);";

/* Playbooks (core/playbook.h): which step of a CTA's playbook is done, by
 * whom and when; one row per CTA and step id, rewritten when a step is
 * ticked or unticked (the history keeps every change). */
static const char migration_29[] = "CREATE TABLE cta_steps ("
                                   "  cta_id INTEGER NOT NULL,"
                                   "  step TEXT NOT NULL,"
                                   "  done INTEGER NOT NULL,"
                                   "  actor TEXT NOT NULL,"
                                   "  at_ms INTEGER NOT NULL,"
                                   "  PRIMARY KEY (cta_id, step)"
                                   ") WITHOUT ROWID;";

const struct migration schema_migrations[] = {
    {1, "accounts, users, traits, memberships, events, quarantine, counters", migration_1},
    {2, "indexes and login days for metrics as of any day", migration_2},
    {3, "health scores per account and day", migration_3},
    {4, "covering indexes for metrics", migration_4},
    {5, "daily activity rollups", migration_5},
    {6, "facts by account with their lifetimes", migration_6},
    {7, "scores day first", migration_7},
    {8, "rules and CTAs, product use, goals met", migration_8},
    {9, "notifications and the delivery outbox", migration_9},
    {10, "stored analyze and backtest reports", migration_10},
    {11, "delivery holds per destination and urgency of outbox rows", migration_11},
    {12, "session epochs: signing out ends every session of the user", migration_12},
    {13, "product use by account and day", migration_13},
    {14, "churn-risk models and scores by day", migration_14},
    {15, "CTA value and CTAs held back by the budget", migration_15},
    {16, "models: the end of their data and when adopted (replays use models of their past)",
     migration_16},
    {17, "outbox leases and gates: several dispatchers claim rows and share pacing", migration_17},
    {18, "several nodes: the scheduler lease, scheduled runs and their account buckets",
     migration_18},
    {19, "messages to customers and their unsubscribes", migration_19},

    {20, "users by trait key and their login days (champion_risk)", migration_20},

    {21, "segments: daily sums per segment, plan and owner, and a run's parts", migration_21},

    {22, "escalations of CTAs, once per CTA and level", migration_22},

    {23, "the dashboard's account list from indexes, a page at a time", migration_23},

    {24, "the webhook inbox and the providers' ids of accounts", migration_24},

    {27, "notes on CTAs and accounts, and the randomised holdout's draws", migration_27},

    {28, "people of the team, their one-time links, API tokens made in the app, the audit log",
     migration_28},

    {29, "playbook steps done on CTAs", migration_29},
};

const int schema_migration_count = sizeof schema_migrations / sizeof schema_migrations[0];
