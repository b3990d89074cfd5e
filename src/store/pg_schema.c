/* pg_schema.c: PostgreSQL schema migrations (see pg_schema.h, docs/store.md).
 *
 * Migration 15 creates, in one transaction, the tables SQLite has after its
 * migrations 1..15 (schema.c), with PostgreSQL's types: bigint ids, times in
 * milliseconds and counts, integer day numbers, double precision for REAL,
 * boolean for SQLite's 0/1, jsonb for its JSON text, date for the normalised
 * renewal date. Ids are identity columns.
 *
 * Three rules shape it beyond SQLite's:
 *
 * - Every key of a table that belongs to an account starts with the account
 *   id (accounts: its id): primary keys and unique indexes alike, so a later
 *   `create_distributed_table(table, 'account_id')` under Citus is
 *   mechanical, and an account's rows sit together. Where SQLite orders a
 *   table day first (scores, activity, risk) for its append pattern, the key
 *   here is (account_id, day) and a plain index serves the day-first reads.
 *   Rows that have an account only through another row carry its id:
 *   cta_history.account_id. The tables of several accounts or none (users,
 *   names, quarantine, counters, delivery, models, reports) keep their own
 *   keys; docs/operations.md says which become Citus reference tables. Traits
 *   are split by owner (account_traits, user_traits) for the same reason.
 *
 * - events is partitioned by month of its time (RANGE on ts_ms), so that
 *   retention drops a partition instead of deleting rows. A key of a
 *   partitioned table must hold its partition column, so deduplication,
 *   which SQLite does with the events' primary key (timestamp as sent,
 *   messageId hash), has a table of its own: event_keys, partitioned by month
 *   of the timestamp as sent, whose primary key is exactly that; ingest
 *   inserts the keys with ON CONFLICT DO NOTHING and stores the events whose
 *   keys were new. Messages without a timestamp (key_ts_ms 0) keep their keys
 *   in event_keys' default partition. events' own key is (account_id, ts_ms,
 *   key), account 0 while an event has none (quarantined, or no account at
 *   all: SQLite's NULL). Each table has a DEFAULT partition, so no insert
 *   ever fails for a month not made yet;
 *   tend_event_partitions_ensure(from_ms, to_ms) makes the months of a range
 *   (moving rows of those months out of the default partitions), and
 *   tend_event_partitions_drop(before_ms) is retention.
 *
 * - The one open CTA per (account, rule, subject) is the partial unique index
 *   ctas_live, as on SQLite.
 *
 * Foreign keys: none, as on SQLite (which declares two but does not enforce
 * them: foreign_keys is off); the store keeps references right. */
#include "store/pg_schema.h"
#include "store/codes.h"

/* Month arithmetic in UTC on millisecond times, and the partition helpers.
 * tend_month_partition makes one month's partition of a table partitioned
 * by RANGE on a bigint column: as a table of its own, filled with that
 * month's rows taken out of the default partition, then attached (creating
 * it as PARTITION OF would fail while the default partition holds rows of
 * the month). The default partition is locked first, for the whole move:
 * ATTACH needs that lock anyway, and taken only there, a row inserted into
 * it after the DELETE would be left behind and fail the ATTACH. */
#define PG_PARTITION_FUNCTIONS                                                                     \
    "CREATE FUNCTION tend_month_start(ms bigint) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$"      \
    "  SELECT (extract(epoch FROM date_trunc('month', to_timestamp(ms / 1000.0) AT TIME ZONE "     \
    "'UTC')) * 1000)::bigint $$;"                                                                  \
    "CREATE FUNCTION tend_month_next(ms bigint) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$"       \
    "  SELECT (extract(epoch FROM date_trunc('month', to_timestamp(ms / 1000.0) AT TIME ZONE "     \
    "'UTC') + interval '1 month') * 1000)::bigint $$;"                                             \
    "CREATE FUNCTION tend_month_partition(parent text, col text, lo bigint, hi bigint, part text)" \
    "  RETURNS boolean LANGUAGE plpgsql AS $$"                                                     \
    "BEGIN"                                                                                        \
    "  IF to_regclass(quote_ident(part)) IS NOT NULL THEN RETURN false; END IF;"                   \
    "  EXECUTE format('LOCK TABLE %I IN ACCESS EXCLUSIVE MODE', parent || '_default');"            \
    "  EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS)',"       \
    "    part, parent);"                                                                           \
    "  EXECUTE format('WITH moved AS (DELETE FROM %I WHERE %I >= %s AND %I < %s RETURNING *)"      \
    "    INSERT INTO %I SELECT * FROM moved', parent || '_default', col, lo, col, hi, part);"      \
    "  EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%s) TO (%s)',"          \
    "    parent, part, lo, hi);"                                                                   \
    "  RETURN true;"                                                                               \
    "END $$;" /* Every month that overlaps [from_ms, to_ms], at most 1,200 (a century)             \
               * per call; returns how many months were made. Two nodes at once: the               \
               * advisory lock makes the second wait and find them made. */                        \
    "CREATE FUNCTION tend_event_partitions_ensure(from_ms bigint, to_ms bigint)"                   \
    "  RETURNS integer LANGUAGE plpgsql AS $$"                                                     \
    "DECLARE m bigint; nxt bigint; suffix text; made integer := 0; n integer := 0;"                \
    "BEGIN"                                                                                        \
    "  IF to_ms < from_ms THEN"                                                                    \
    "    RAISE EXCEPTION 'tend_event_partitions_ensure: to_ms % is before from_ms %',"             \
    "      to_ms, from_ms;"                                                                        \
    "  END IF;"                                                                                    \
    "  PERFORM pg_advisory_xact_lock(" PG_LOCK_PARTITIONS ");"                                     \
    "  m := tend_month_start(from_ms);"                                                            \
    "  WHILE m <= to_ms LOOP"                                                                      \
    "    n := n + 1;"                                                                              \
    "    IF n > 1200 THEN"                                                                         \
    "      RAISE EXCEPTION 'tend_event_partitions_ensure: more than 1200 months from % to %',"     \
    "        from_ms, to_ms;"                                                                      \
    "    END IF;"                                                                                  \
    "    nxt := tend_month_next(m);"                                                               \
    "    suffix := to_char(to_timestamp(m / 1000) AT TIME ZONE 'UTC', 'YYYYMM');"                  \
    "    IF tend_month_partition('events', 'ts_ms', m, nxt, 'events_p' || suffix) THEN"            \
    "      made := made + 1;"                                                                      \
    "    END IF;"                                                                                  \
    "    PERFORM tend_month_partition('event_keys', 'key_ts_ms', m, nxt,"                          \
    "      'event_keys_p' || suffix);"                                                             \
    "    m := nxt;"                                                                                \
    "  END LOOP;"                                                                                  \
    "  RETURN made;"                                                                               \
    "END $$;" /* Retention: drops the monthly partitions of events and event_keys                  \
               * whose month ends at or before before_ms; returns how many months of               \
               * events went. Rows in the default partitions stay. */                              \
    "CREATE FUNCTION tend_event_partitions_drop(before_ms bigint)"                                 \
    "  RETURNS integer LANGUAGE plpgsql AS $$"                                                     \
    "DECLARE r record; dropped integer := 0;"                                                      \
    "BEGIN"                                                                                        \
    "  PERFORM pg_advisory_xact_lock(" PG_LOCK_PARTITIONS ");"                                     \
    "  FOR r IN SELECT c.relname, p.relname AS parent FROM pg_inherits i"                          \
    "      JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent"           \
    "      WHERE i.inhparent IN ('events'::regclass, 'event_keys'::regclass)"                      \
    "        AND c.relname ~ '_p[0-9]{6}$'"                                                        \
    "        AND tend_month_next((extract(epoch FROM to_timestamp(right(c.relname, 6), "           \
    "'YYYYMM') AT TIME ZONE 'UTC') * 1000)::bigint) <= before_ms"                                  \
    "  LOOP"                                                                                       \
    "    EXECUTE format('DROP TABLE %I', r.relname);"                                              \
    "    IF r.parent = 'events' THEN dropped := dropped + 1; END IF;"                              \
    "  END LOOP;"                                                                                  \
    "  RETURN dropped;"                                                                            \
    "END $$;"

static const char migration_15[] =
    /* ---- accounts, users, traits, memberships, names ---- */
    "CREATE TABLE accounts ("
    "  id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    "  external_id text NOT NULL,"
    "  name text, plan text, mrr double precision, seats bigint, renewal_date date,"
    "  csm_email text, csm_slack text, segment text, premium_products jsonb, created_at text,"
    "  traits jsonb NOT NULL DEFAULT '{}',"
    "  first_seen_ms bigint NOT NULL,"
    "  event_count bigint NOT NULL DEFAULT 0"
    ");"
    /* The one unique key of an account table not led by its id: the
     * external id names the account (docs/operations.md, the Citus path). */
    "CREATE UNIQUE INDEX accounts_external_id ON accounts (external_id);"
    "CREATE TABLE users ("
    "  id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    "  external_id text NOT NULL,"
    "  anonymous boolean NOT NULL DEFAULT false,"
    "  email text, name text, title text,"
    "  traits jsonb NOT NULL DEFAULT '{}',"
    "  first_seen_ms bigint NOT NULL,"
    "  UNIQUE (external_id, anonymous)"
    ");"
    /* SQLite's traits (entity 0 account, 1 user), one table per owner. */
    "CREATE TABLE account_traits ("
    "  account_id bigint NOT NULL,"
    "  key text NOT NULL,"
    "  value jsonb NOT NULL,"
    "  ts_ms bigint NOT NULL,"
    "  PRIMARY KEY (account_id, key)"
    ");"
    "CREATE TABLE user_traits ("
    "  user_id bigint NOT NULL,"
    "  key text NOT NULL,"
    "  value jsonb NOT NULL,"
    "  ts_ms bigint NOT NULL,"
    "  PRIMARY KEY (user_id, key)"
    ");"
    "CREATE TABLE memberships ("
    "  account_id bigint NOT NULL,"
    "  id bigint GENERATED BY DEFAULT AS IDENTITY,"
    "  user_id bigint NOT NULL,"
    "  start_ms bigint NOT NULL,"
    "  end_ms bigint," /* NULL while a member */
    "  PRIMARY KEY (account_id, id)"
    ");"
    "CREATE INDEX memberships_user ON memberships (user_id, account_id);"
    "CREATE INDEX memberships_by_account ON memberships (account_id, start_ms, end_ms, user_id);"
    "CREATE TABLE names ("
    "  id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    "  name text NOT NULL UNIQUE"
    ");"
    /* ---- events, their keys, quarantine, counters ---- */
    "CREATE TABLE event_keys ("
    "  key_ts_ms bigint NOT NULL,"
    "  key_hash bigint NOT NULL," /* the 64-bit hash, bit for bit */
    "  PRIMARY KEY (key_ts_ms, key_hash)"
    ") PARTITION BY RANGE (key_ts_ms);"
    "CREATE TABLE event_keys_default PARTITION OF event_keys DEFAULT;"
    "CREATE TABLE events ("
    "  account_id bigint NOT NULL DEFAULT 0," /* 0: none (SQLite: NULL) */
    "  ts_ms bigint NOT NULL,"
    "  key_ts_ms bigint NOT NULL,"
    "  key_hash bigint NOT NULL,"
    "  kind integer NOT NULL,"
    "  user_id bigint,"
    "  name_id bigint,"
    "  subject text, detail text, num double precision, day integer,"
    "  props jsonb,"
    "  PRIMARY KEY (account_id, ts_ms, key_ts_ms, key_hash)"
    ") PARTITION BY RANGE (ts_ms);"
    "CREATE TABLE events_default PARTITION OF events DEFAULT;"
    /* Rows arrive about in time order: a BRIN index finds a day range of
     * every account for a few pages, and costs an insert almost nothing. */
    "CREATE INDEX events_time ON events USING brin (ts_ms);"
    "CREATE TABLE quarantine ("
    "  key_ts_ms bigint NOT NULL,"
    "  key_hash bigint NOT NULL,"
    "  ts_ms bigint NOT NULL,"
    "  kind integer NOT NULL,"
    "  user_id bigint,"
    "  account_external_id text,"
    "  reason text NOT NULL,"
    "  since_ms bigint NOT NULL,"
    "  PRIMARY KEY (key_ts_ms, key_hash)"
    ");"
    "CREATE INDEX quarantine_user ON quarantine (user_id) WHERE account_external_id IS NULL;"
    "CREATE INDEX quarantine_account ON quarantine (account_external_id);"
    "CREATE TABLE counters ("
    "  name text PRIMARY KEY,"
    "  value bigint NOT NULL"
    ");"
    /* ---- what metrics read (SQLite migrations 2-7, 13) ---- */
    "CREATE TABLE login_days ("
    "  account_id bigint NOT NULL,"
    "  day integer NOT NULL,"
    "  PRIMARY KEY (account_id, day)"
    ");"
    "CREATE TABLE scores ("
    "  account_id bigint NOT NULL,"
    "  day integer NOT NULL,"
    "  overall double precision,"
    "  band text NOT NULL,"
    "  logins double precision, adoption double precision, sentiment double precision,"
    "  support double precision, financial double precision,"
    "  config_version text NOT NULL,"
    "  computed_ms bigint NOT NULL,"
    "  PRIMARY KEY (account_id, day)"
    ");"
    "CREATE INDEX scores_day ON scores (day, account_id);"
    "CREATE TABLE activity_days ("
    "  account_id bigint NOT NULL,"
    "  day integer NOT NULL,"
    "  logins integer NOT NULL,"
    "  features integer NOT NULL,"
    "  users text," /* comma-separated ids, as SQLite's */
    "  names text,"
    "  PRIMARY KEY (account_id, day)"
    ");"
    "CREATE INDEX activity_days_day ON activity_days (day, account_id);"
    "CREATE TABLE activity_stale (day integer PRIMARY KEY);"
    "CREATE TABLE activity_windows ("
    "  account_id bigint NOT NULL,"
    "  day integer NOT NULL,"
    "  logins_7d integer NOT NULL,"
    "  logins_28d integer NOT NULL,"
    "  features_7d integer NOT NULL,"
    "  features_28d integer NOT NULL,"
    "  users_30d integer NOT NULL,"
    "  names_30d integer NOT NULL,"
    "  last_login integer,"
    "  PRIMARY KEY (account_id, day)"
    ");"
    "CREATE INDEX activity_windows_day ON activity_windows (day, account_id);"
    "CREATE TABLE activity_counted (day integer PRIMARY KEY, done boolean NOT NULL);"
    "CREATE TABLE facts ("
    "  account_id bigint NOT NULL,"
    "  until_ms bigint NOT NULL," /* 9223372036854775807: never */
    "  kind integer NOT NULL,"
    "  ts_ms bigint NOT NULL,"
    "  key_ts_ms bigint NOT NULL,"
    "  key_hash bigint NOT NULL,"
    "  user_id bigint, subject text, detail text, num double precision, day integer,"
    "  props jsonb,"
    "  settled_ms bigint,"
    "  PRIMARY KEY (account_id, until_ms, kind, ts_ms, key_ts_ms, key_hash)"
    ");"
    "CREATE INDEX facts_goals ON facts (kind, account_id) WHERE kind = 11;"
    "CREATE INDEX facts_tickets ON facts (account_id, ts_ms) WHERE kind = 3;"
    "CREATE TABLE product_days ("
    "  account_id bigint NOT NULL,"
    "  product text NOT NULL,"
    "  day integer NOT NULL,"
    "  PRIMARY KEY (account_id, product, day)"
    ");"
    /* ---- rules and CTAs (SQLite migrations 8, 15) ---- */
    "CREATE TABLE ctas ("
    "  account_id bigint NOT NULL,"
    "  id bigint GENERATED BY DEFAULT AS IDENTITY,"
    "  rule text NOT NULL,"
    "  subject text NOT NULL,"
    "  type text NOT NULL,"
    "  priority integer NOT NULL," /* 0 low, 1 medium, 2 high */
    "  status text NOT NULL CHECK (status IN ('open', 'snoozed', 'closed')),"
    "  snoozed_until integer,"
    "  closed_reason text,"
    "  closed_day integer,"
    "  cleared boolean NOT NULL DEFAULT false,"
    "  clear_since integer,"
    "  owner text NOT NULL,"
    "  title text NOT NULL,"
    "  reason text NOT NULL,"
    "  evidence jsonb NOT NULL,"
    "  opened_day integer NOT NULL,"
    "  due_day integer NOT NULL,"
    "  updated_ms bigint NOT NULL,"
    "  value double precision,"
    "  PRIMARY KEY (account_id, id)"
    ");"
    /* A CTA by its id alone (tend cta ID, /api/ctas/ID): not a key, the
     * identity keeps ids unique. */
    "CREATE INDEX ctas_id ON ctas (id);"
    "CREATE UNIQUE INDEX ctas_live ON ctas (account_id, rule, subject)"
    "  WHERE status IN ('open', 'snoozed');"
    "CREATE INDEX ctas_watched ON ctas (account_id) WHERE status <> 'closed' OR NOT cleared;"
    "CREATE INDEX ctas_account ON ctas (account_id, status);"
    "CREATE INDEX ctas_opened ON ctas (opened_day, owner);"
    "CREATE TABLE cta_history ("
    "  account_id bigint NOT NULL," /* the CTA's; SQLite finds it through ctas */
    "  cta_id bigint NOT NULL,"
    "  seq integer NOT NULL,"
    "  day integer NOT NULL,"
    "  at_ms bigint NOT NULL,"
    "  action text NOT NULL,"
    "  actor text NOT NULL,"
    "  status text NOT NULL,"
    "  priority integer NOT NULL,"
    "  note text,"
    "  PRIMARY KEY (account_id, cta_id, seq)"
    ");"
    "CREATE TABLE eval_runs ("
    "  t_ms bigint PRIMARY KEY,"
    "  run_ms bigint NOT NULL,"
    "  opened integer NOT NULL, updated integer NOT NULL, resolved integer NOT NULL,"
    "  errors integer NOT NULL"
    ");"
    "CREATE TABLE cta_held ("
    "  account_id bigint NOT NULL,"
    "  week integer NOT NULL,"
    "  rule text NOT NULL,"
    "  subject text NOT NULL,"
    "  first_day integer NOT NULL,"
    "  day integer NOT NULL,"
    "  type text NOT NULL,"
    "  priority integer NOT NULL,"
    "  owner text NOT NULL,"
    "  value double precision,"
    "  title text NOT NULL,"
    "  reason text NOT NULL,"
    "  PRIMARY KEY (account_id, week, rule, subject)"
    ");"
    "CREATE INDEX cta_held_week ON cta_held (week, account_id);"
    "CREATE INDEX cta_held_owner ON cta_held (owner, week);"
    /* ---- delivery (SQLite migrations 9, 11): a queue of its own, not an
     * account's (a digest spans accounts) ---- */
    "CREATE TABLE notifications ("
    "  id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    "  cta_id bigint NOT NULL,"
    "  event text NOT NULL,"
    "  day integer NOT NULL,"
    "  created_ms bigint NOT NULL,"
    "  snapshot jsonb NOT NULL"
    ");"
    "CREATE TABLE outbox ("
    "  id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    "  notification_id bigint,"
    "  digest_id bigint,"
    "  channel text NOT NULL,"
    "  target text NOT NULL,"
    "  owner text NOT NULL,"
    "  status text NOT NULL CHECK (status IN ('held', 'digested', 'pending', 'sending', 'sent',"
    "    'dead')),"
    "  attempts integer NOT NULL DEFAULT 0,"
    "  resends integer NOT NULL DEFAULT 0,"
    "  next_at_ms bigint NOT NULL,"
    "  created_ms bigint NOT NULL,"
    "  sent_ms bigint,"
    "  last_error text,"
    /* 8 random hex digits: the first group of a version 4 UUID is random. */
    "  nonce text NOT NULL DEFAULT left(gen_random_uuid()::text, 8),"
    "  rank integer NOT NULL DEFAULT 1"
    ");"
    "CREATE INDEX outbox_due ON outbox (channel, target, rank, next_at_ms)"
    "  WHERE status = 'pending';"
    "CREATE INDEX outbox_held ON outbox (channel, target, owner, created_ms)"
    "  WHERE status = 'held';"
    "CREATE INDEX outbox_digest ON outbox (digest_id) WHERE digest_id IS NOT NULL;"
    "CREATE INDEX outbox_status ON outbox (status, id);"
    "CREATE TABLE delivery_holds ("
    "  gate text PRIMARY KEY,"
    "  not_before_ms bigint NOT NULL,"
    "  reason text NOT NULL,"
    "  label text NOT NULL"
    ");"
    /* ---- reports, sessions, models (SQLite migrations 10, 12, 14) ---- */
    "CREATE TABLE reports ("
    "  id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    "  kind text NOT NULL CHECK (kind IN ('analyze', 'backtest')),"
    "  title text NOT NULL,"
    "  created_ms bigint NOT NULL,"
    "  summary text NOT NULL DEFAULT '',"
    "  body text NOT NULL"
    ");"
    "CREATE TABLE session_epochs ("
    "  email text PRIMARY KEY,"
    "  epoch bigint NOT NULL,"
    "  changed_ms bigint NOT NULL"
    ");"
    "CREATE TABLE models ("
    "  version bigint PRIMARY KEY,"
    "  fitted_ms bigint NOT NULL,"
    "  horizon_days integer NOT NULL,"
    "  trained_from integer NOT NULL,"
    "  trained_to integer NOT NULL,"
    "  n_rows bigint NOT NULL,"
    "  n_churns bigint NOT NULL,"
    "  auc_holdout double precision,"
    "  brier_holdout double precision,"
    "  auc_health double precision,"
    "  adopted boolean NOT NULL DEFAULT false,"
    "  card jsonb NOT NULL"
    ");"
    "CREATE UNIQUE INDEX models_adopted ON models (adopted) WHERE adopted;"
    "CREATE TABLE risk_by_day ("
    "  account_id bigint NOT NULL,"
    "  day integer NOT NULL,"
    "  p_churn double precision NOT NULL,"
    "  model_version bigint NOT NULL,"
    "  drivers jsonb NOT NULL,"
    "  PRIMARY KEY (account_id, day)"
    ");"
    "CREATE INDEX risk_by_day_day ON risk_by_day (day, account_id);"
    /* ---- monthly partitions of events: this month and the next two ---- */
    PG_PARTITION_FUNCTIONS
    "SELECT tend_event_partitions_ensure((extract(epoch FROM now()) * 1000)::bigint,"
    "  (extract(epoch FROM now() + interval '2 months') * 1000)::bigint);";

/* SQLite's migration 16: a model's data_end (the last day its labels saw, a
 * day number, from the card) and adopted_ms (when it was adopted; NULL:
 * never), so a replayed day scores with the model of its past. A card whose
 * data_end is not a YYYY-MM-DD date leaves it NULL, as SQLite's julianday()
 * does. */
static const char migration_16[] =
    "ALTER TABLE models ADD COLUMN data_end integer;"
    "ALTER TABLE models ADD COLUMN adopted_ms bigint;"
    "UPDATE models SET data_end = (card->>'data_end')::date - DATE '1970-01-01'"
    "  WHERE jsonb_typeof(card->'data_end') = 'string'"
    "  AND card->>'data_end' ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$';"
    "UPDATE models SET adopted_ms = fitted_ms WHERE adopted;";

/* SQLite's migration 17: a claimed row's lease and gate (schema.c says
 * why). And a CTA's evidence and a notification's snapshot become json, not
 * jsonb: jsonb keeps an object's keys sorted (by length, then bytes), so a
 * message listed the evidence in another order than on SQLite (and its cap
 * of lines kept other ones); json keeps the text as written, validated. */
static const char migration_17[] =
    "ALTER TABLE ctas ALTER COLUMN evidence TYPE json USING evidence::json;"
    "ALTER TABLE notifications ALTER COLUMN snapshot TYPE json USING snapshot::json;"
    "ALTER TABLE outbox ADD COLUMN locked_until_ms bigint;"
    "ALTER TABLE outbox ADD COLUMN gate text;"
    "CREATE INDEX outbox_sending ON outbox (gate, locked_until_ms) WHERE status = 'sending';";

/* SQLite's migration 18: several nodes on one database (docs/operations.md,
 * "Several nodes"): leases, sched_runs, sched_buckets. Not account data:
 * under Citus they are reference tables (their keys do not start with an
 * account id). */
static const char migration_18[] =
    "CREATE TABLE leases ("
    "  name text PRIMARY KEY,"
    "  holder text NOT NULL,"
    "  term bigint NOT NULL,"
    "  expires_ms bigint NOT NULL"
    ");"
    "CREATE TABLE sched_runs ("
    "  due_ms bigint PRIMARY KEY,"
    "  day integer NOT NULL,"
    "  n_buckets integer NOT NULL,"
    "  term bigint NOT NULL,"
    "  holder text NOT NULL,"
    "  created_ms bigint NOT NULL,"
    "  done_ms bigint,"
    "  accounts bigint NOT NULL DEFAULT 0, opened bigint NOT NULL DEFAULT 0,"
    "  updated bigint NOT NULL DEFAULT 0, resolved bigint NOT NULL DEFAULT 0,"
    "  errors bigint NOT NULL DEFAULT 0, notifications bigint NOT NULL DEFAULT 0"
    ");"
    "CREATE TABLE sched_buckets ("
    "  due_ms bigint NOT NULL,"
    "  bucket integer NOT NULL,"
    "  day integer NOT NULL,"
    "  first_id bigint NOT NULL,"
    "  last_id bigint NOT NULL,"
    "  claimed_by text,"
    "  claimed_until bigint,"
    "  attempts integer NOT NULL DEFAULT 0,"
    "  done_ms bigint,"
    "  accounts bigint NOT NULL DEFAULT 0, opened bigint NOT NULL DEFAULT 0,"
    "  updated bigint NOT NULL DEFAULT 0, resolved bigint NOT NULL DEFAULT 0,"
    "  errors bigint NOT NULL DEFAULT 0, notifications bigint NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (due_ms, bucket)"
    ");"
    "CREATE INDEX sched_buckets_open ON sched_buckets (due_ms, bucket) WHERE done_ms IS NULL;";

/* SQLite's migration 19: messages to customers and their unsubscribes,
 * keys leading with the account. */
static const char migration_19[] =
    "CREATE TABLE customer_messages ("
    "  account_id bigint NOT NULL,"
    "  kind text NOT NULL,"
    "  ref text NOT NULL,"
    "  step bigint NOT NULL,"
    "  day integer NOT NULL,"
    "  created_ms bigint NOT NULL,"
    "  recipient text,"
    "  rule text NOT NULL,"
    "  status text NOT NULL CHECK (status IN ('queued', 'no_recipient', 'unsubscribed')),"
    "  subject text NOT NULL,"
    "  notification_id bigint,"
    "  PRIMARY KEY (account_id, kind, ref, step)"
    ");"
    "CREATE TABLE customer_unsubscribes ("
    "  account_id bigint NOT NULL,"
    "  kind text NOT NULL,"
    "  contact text NOT NULL,"
    "  created_ms bigint NOT NULL,"
    "  PRIMARY KEY (account_id, kind, contact)"
    ");";

/* Users and the champion (schema.c's migration 20): the users by trait key,
 * and each user's logins in an account per day (derived: written when a
 * stale day's rollups are rebuilt). */
static const char migration_20[] =
    "CREATE INDEX IF NOT EXISTS user_traits_by_key ON user_traits (key, user_id);"
    "CREATE TABLE IF NOT EXISTS user_login_days ("
    "  account_id bigint NOT NULL,"
    "  user_id bigint NOT NULL,"
    "  day integer NOT NULL,"
    "  logins bigint NOT NULL,"
    "  PRIMARY KEY (account_id, user_id, day)"
    ");"
    "INSERT INTO user_login_days (account_id, user_id, day, logins)"
    "  SELECT account_id, user_id, (ts_ms / 86400000)::integer, count(*) FROM events"
    "  WHERE kind = " SQL_EV_LOGIN " AND account_id <> 0 AND user_id IS NOT NULL"
    "  GROUP BY account_id, user_id, ts_ms / 86400000"
    "  ON CONFLICT (account_id, user_id, day) DO UPDATE SET logins = excluded.logins;";

/* SQLite's migration 21: segments (segment_days, segment_parts). Not
 * account data: a row is a group's (segment, plan or owner), so its key
 * leads with the group (kind, name), not an account id: the reads are a
 * group's days (a trend chart, segment_shift's 63 days: one range of the
 * key) and a day's groups (segment_days_day); under Citus they would be
 * distributed by the group, or kept as reference tables (a few hundred
 * rows a day). */
static const char migration_21[] =
    "CREATE TABLE segment_days ("
    "  kind integer NOT NULL,"
    "  name text NOT NULL,"
    "  day integer NOT NULL,"
    "  accounts bigint NOT NULL, arr_accounts bigint NOT NULL, arr double precision NOT NULL,"
    "  scored bigint NOT NULL, health_sum double precision NOT NULL,"
    "  red bigint NOT NULL, yellow bigint NOT NULL, green bigint NOT NULL,"
    "  active_users bigint NOT NULL, logins_7d bigint NOT NULL,"
    "  feature_events_7d bigint NOT NULL, nps_accounts bigint NOT NULL,"
    "  nps_sum double precision NOT NULL, tickets_30d bigint NOT NULL, tickets_open bigint NOT "
    "NULL,"
    "  open_ctas bigint NOT NULL,"
    "  PRIMARY KEY (kind, name, day)"
    ");"
    "CREATE INDEX segment_days_day ON segment_days (day);"
    "CREATE TABLE segment_parts ("
    "  due_ms bigint NOT NULL,"
    "  part integer NOT NULL,"
    "  kind integer NOT NULL,"
    "  name text NOT NULL,"
    "  accounts bigint NOT NULL, arr_accounts bigint NOT NULL, arr double precision NOT NULL,"
    "  scored bigint NOT NULL, health_sum double precision NOT NULL,"
    "  red bigint NOT NULL, yellow bigint NOT NULL, green bigint NOT NULL,"
    "  active_users bigint NOT NULL, logins_7d bigint NOT NULL,"
    "  feature_events_7d bigint NOT NULL, nps_accounts bigint NOT NULL,"
    "  nps_sum double precision NOT NULL, tickets_30d bigint NOT NULL, tickets_open bigint NOT "
    "NULL,"
    "  open_ctas bigint NOT NULL,"
    "  PRIMARY KEY (due_ms, part, kind, name)"
    ");";

/* Escalations: as SQLite's migration 22, keyed by account first. */
static const char migration_22[] = "CREATE TABLE cta_escalations ("
                                   "  account_id bigint NOT NULL,"
                                   "  cta_id bigint NOT NULL,"
                                   "  level integer NOT NULL,"
                                   "  at_ms bigint NOT NULL,"
                                   "  manager text,"
                                   "  PRIMARY KEY (account_id, cta_id, level)"
                                   ");";

/* SQLite migration 23: the dashboard's account list from indexes
 * (pg_account_list.c). The label index's expression is the statements'
 * ORDER BY, word for word: A-Z folded, compared byte by byte. */
static const char migration_23[] =
    "CREATE INDEX IF NOT EXISTS scores_rank ON scores (day, overall);"
    "CREATE INDEX IF NOT EXISTS accounts_label ON accounts ((translate(coalesce(name, external_id),"
    "  'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') COLLATE \"C\"),"
    "  (external_id COLLATE \"C\"));"
    "CREATE INDEX IF NOT EXISTS accounts_mrr ON accounts (mrr);"
    "CREATE INDEX IF NOT EXISTS accounts_owner ON accounts (csm_email);"
    "CREATE INDEX IF NOT EXISTS accounts_segment ON accounts (segment);"
    "CREATE INDEX IF NOT EXISTS ctas_live_account ON ctas (account_id) WHERE status IN ('open', "
    "'snoozed');";

/* SQLite's migration 28: people of the team, their one-time links and the
 * append-only audit log (a trigger refuses UPDATE and DELETE). */
static const char migration_28[] =
    "CREATE TABLE team_users ("
    "  email text PRIMARY KEY,"
    "  name text NOT NULL,"
    "  hash text NOT NULL DEFAULT '',"
    "  role text NOT NULL,"
    "  disabled boolean NOT NULL DEFAULT false,"
    "  created_ms bigint NOT NULL,"
    "  changed_ms bigint NOT NULL);"
    "CREATE TABLE team_invites ("
    "  hash text PRIMARY KEY,"
    "  email text NOT NULL,"
    "  created_by text NOT NULL,"
    "  created_ms bigint NOT NULL,"
    "  expires_ms bigint NOT NULL,"
    "  used_ms bigint);"
    "CREATE TABLE audit_log ("
    "  id bigserial PRIMARY KEY,"
    "  at_ms bigint NOT NULL,"
    "  actor text NOT NULL,"
    "  action text NOT NULL,"
    "  target text NOT NULL,"
    "  before_json text,"
    "  after_json text);"
    "CREATE TABLE team_tokens ("
    "  sha256 text PRIMARY KEY,"
    "  name text NOT NULL UNIQUE,"
    "  scope text NOT NULL,"
    "  created_by text NOT NULL,"
    "  created_ms bigint NOT NULL,"
    "  revoked_ms bigint);"
    "CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$;"
    "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();";
/* SQLite migration 24: the webhook inbox (pg_inbox.c). A worker takes a
 * pending row with FOR UPDATE SKIP LOCKED, so several nodes share it. */
static const char migration_24[] = "CREATE TABLE hook_inbox ("
                                   "  id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
                                   "  provider text NOT NULL,"
                                   "  event_id text NOT NULL,"
                                   "  event_type text NOT NULL,"
                                   "  received_ms bigint NOT NULL,"
                                   "  status text NOT NULL,"
                                   "  reason text NOT NULL DEFAULT '',"
                                   "  detail text NOT NULL DEFAULT '',"
                                   "  account text NOT NULL DEFAULT '',"
                                   "  events integer NOT NULL DEFAULT 0,"
                                   "  attempts integer NOT NULL DEFAULT 0,"
                                   "  processed_ms bigint,"
                                   "  payload text NOT NULL,"
                                   "  UNIQUE (provider, event_id)"
                                   ");"
                                   "CREATE INDEX hook_inbox_pending ON hook_inbox (id) "
                                   "  WHERE status = 'pending';"
                                   "CREATE INDEX hook_inbox_received ON hook_inbox (received_ms);"
                                   "CREATE TABLE hook_accounts ("
                                   "  provider text NOT NULL,"
                                   "  provider_id text NOT NULL,"
                                   "  account text NOT NULL,"
                                   "  updated_ms bigint NOT NULL,"
                                   "  PRIMARY KEY (provider, provider_id)"
                                   ");";

/* SQLite migration 27: notes and the randomised holdout, keyed by account
 * first. */
static const char migration_27[] =
    "CREATE TABLE notes ("
    "  account_id bigint NOT NULL,"
    "  id bigint GENERATED BY DEFAULT AS IDENTITY,"
    "  cta_id bigint,"
    "  kind text NOT NULL,"
    "  body text NOT NULL,"
    "  actor text NOT NULL,"
    "  at_ms bigint NOT NULL,"
    "  day integer NOT NULL,"
    "  PRIMARY KEY (account_id, id)"
    ");"
    "CREATE INDEX notes_account ON notes (account_id, at_ms);"
    "CREATE INDEX notes_cta ON notes (cta_id) WHERE cta_id IS NOT NULL;"
    "CREATE INDEX notes_time ON notes (at_ms);"
    "CREATE TABLE cta_holdouts ("
    "  account_id bigint NOT NULL,"
    "  cta_id bigint NOT NULL,"
    "  rule text NOT NULL,"
    "  day integer NOT NULL,"
    "  share double precision NOT NULL,"
    "  draw double precision NOT NULL,"
    "  held_out boolean NOT NULL,"
    "  PRIMARY KEY (account_id, cta_id)"
    ");"
    "CREATE INDEX cta_holdouts_cta ON cta_holdouts (cta_id);"
    "CREATE INDEX cta_holdouts_rule ON cta_holdouts (rule, cta_id);";

/* Migration 29: playbook steps done on CTAs (sqlite's migration 29), keyed
 * by the CTA's account first like cta_history. */
static const char migration_29[] = "CREATE TABLE cta_steps ("
                                   "  account_id bigint NOT NULL,"
                                   "  cta_id bigint NOT NULL,"
                                   "  step text NOT NULL,"
                                   "  done boolean NOT NULL,"
                                   "  actor text NOT NULL,"
                                   "  at_ms bigint NOT NULL,"
                                   "  PRIMARY KEY (account_id, cta_id, step)"
                                   ");";

const struct pg_migration pg_schema_migrations[] = {
    {15,
     "the SQLite schema of migrations 1-15: accounts, events by month, metrics, CTAs, "
     "delivery, reports, sessions, models",
     migration_15},
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

const int pg_schema_migration_count = sizeof pg_schema_migrations / sizeof pg_schema_migrations[0];
