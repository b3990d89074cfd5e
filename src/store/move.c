/* move.c: copying a SQLite database into PostgreSQL (see move.h).
 *
 * The table list below is the one place that knows how SQLite's tables map
 * to PostgreSQL's (docs/store.md): one row per PostgreSQL table, with the
 * SQLite SELECT that yields its columns in COPY order. Most are the same
 * table with the same columns; the differences of pg_schema.c are spelt out
 * in the SELECTs:
 *
 * - events.account_id NULL (no account yet) is 0 on PostgreSQL;
 * - event_keys, PostgreSQL's deduplication table, holds the key of every
 *   event and of every quarantined one (a quarantined event is also an
 *   event row, so the second part is empty unless the file is odd);
 * - traits (entity 0 account, 1 user) splits into account_traits and
 *   user_traits;
 * - cta_history carries its CTA's account_id;
 * - SQLite's 0/1 columns go into booleans (PostgreSQL reads "0" and "1" as
 *   false and true), its JSON text into jsonb (PostgreSQL parses it: text
 *   that is not JSON fails the copy with the table and line), renewal_date
 *   into date.
 *
 * A new migration (SQLite's N and PostgreSQL's N, in one commit) that adds a
 * table or a column extends this list in the same commit: a new row, or the
 * column in the row's columns and SELECT. Nothing is left to chance: before
 * copying, every table and column of both databases is checked against the
 * list (check_target, check_source), and a table or column the list does not
 * carry refuses the copy, naming it; tests/unit/test_move.c runs the SQLite
 * half on a new database, so the migration's own commit fails its tests
 * until the list has it.
 *
 * Speed: one COPY ... FROM STDIN per table in the text format, rows
 * formatted here and sent in 1 MiB batches (PQputCopyData); the source is
 * read in its stored order. Doubles travel as %.17g (every bit kept;
 * SQLite's own text form has 15 digits). The event partitions of every
 * month the events span are made before the copy, so rows land in their
 * month and not in the default partition. */
#include "store/move.h"

#include <inttypes.h>
#include <libpq-fe.h>
#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/pg.h"
#include "store/store.h"
#include "util/buf.h"

/* One table of the target and where its rows come from. */
struct move_table {
    const char *name;    /* PostgreSQL's table */
    const char *columns; /* its columns, in the order of the SELECT */
    /* The SQLite table whose rows and columns this carries (NULL: derived
     * from others, not a copy of one), for the check of the source. */
    const char *source;
    const char *select; /* SQLite's rows, columns in the order above */
    /* An identity column: its sequence is set past the copied ids. */
    const char *identity;
};

// clang-format off
static const struct move_table tables[] = {
    {"accounts",
     "id, external_id, name, plan, mrr, seats, renewal_date, csm_email, csm_slack, segment, "
     "premium_products, created_at, traits, first_seen_ms, event_count",
     "accounts",
     "SELECT id, external_id, name, plan, mrr, seats, renewal_date, csm_email, csm_slack, "
     "segment, premium_products, created_at, traits, first_seen_ms, event_count FROM accounts",
     "id"},
    {"users", "id, external_id, anonymous, email, name, title, traits, first_seen_ms", "users",
     "SELECT id, external_id, anonymous, email, name, title, traits, first_seen_ms FROM users",
     "id"},
    {"account_traits", "account_id, key, value, ts_ms", "traits",
     "SELECT entity_id, key, value, ts_ms FROM traits WHERE entity = 0", NULL},
    {"user_traits", "user_id, key, value, ts_ms", "traits",
     "SELECT entity_id, key, value, ts_ms FROM traits WHERE entity = 1", NULL},
    {"memberships", "account_id, id, user_id, start_ms, end_ms", "memberships",
     "SELECT account_id, id, user_id, start_ms, end_ms FROM memberships", "id"},
    {"names", "id, name", "names", "SELECT id, name FROM names", "id"},
    {"event_keys", "key_ts_ms, key_hash", NULL,
     "SELECT key_ts_ms, key_hash FROM events UNION ALL "
     "SELECT key_ts_ms, key_hash FROM quarantine q WHERE NOT EXISTS "
     "(SELECT 1 FROM events e WHERE e.key_ts_ms = q.key_ts_ms AND e.key_hash = q.key_hash)",
     NULL},
    {"events",
     "account_id, ts_ms, key_ts_ms, key_hash, kind, user_id, name_id, subject, detail, num, day, "
     "props",
     "events",
     "SELECT coalesce(account_id, 0), ts_ms, key_ts_ms, key_hash, kind, user_id, name_id, "
     "subject, detail, num, day, props FROM events",
     NULL},
    {"quarantine",
     "key_ts_ms, key_hash, ts_ms, kind, user_id, account_external_id, reason, since_ms",
     "quarantine",
     "SELECT key_ts_ms, key_hash, ts_ms, kind, user_id, account_external_id, reason, since_ms "
     "FROM quarantine",
     NULL},
    {"counters", "name, value", "counters", "SELECT name, value FROM counters", NULL},
    {"login_days", "account_id, day", "login_days", "SELECT account_id, day FROM login_days",
     NULL},
    {"scores",
     "account_id, day, overall, band, logins, adoption, sentiment, support, financial, "
     "config_version, computed_ms",
     "scores",
     "SELECT account_id, day, overall, band, logins, adoption, sentiment, support, financial, "
     "config_version, computed_ms FROM scores",
     NULL},
    {"activity_days", "account_id, day, logins, features, users, names", "activity_days",
     "SELECT account_id, day, logins, features, users, names FROM activity_days", NULL},
    {"activity_stale", "day", "activity_stale", "SELECT day FROM activity_stale", NULL},
    {"activity_windows",
     "account_id, day, logins_7d, logins_28d, features_7d, features_28d, users_30d, names_30d, "
     "last_login",
     "activity_windows",
     "SELECT account_id, day, logins_7d, logins_28d, features_7d, features_28d, users_30d, "
     "names_30d, last_login FROM activity_windows",
     NULL},
    {"activity_counted", "day, done", "activity_counted",
     "SELECT day, done FROM activity_counted", NULL},
    {"facts",
     "account_id, until_ms, kind, ts_ms, key_ts_ms, key_hash, user_id, subject, detail, num, "
     "day, props, settled_ms",
     "facts",
     "SELECT account_id, until_ms, kind, ts_ms, key_ts_ms, key_hash, user_id, subject, detail, "
     "num, day, props, settled_ms FROM facts",
     NULL},
    {"product_days", "account_id, product, day", "product_days",
     "SELECT account_id, product, day FROM product_days", NULL},
    {"ctas",
     "account_id, id, rule, subject, type, priority, status, snoozed_until, closed_reason, "
     "closed_day, cleared, clear_since, owner, title, reason, evidence, opened_day, due_day, "
     "updated_ms, value",
     "ctas",
     "SELECT account_id, id, rule, subject, type, priority, status, snoozed_until, "
     "closed_reason, closed_day, cleared, clear_since, owner, title, reason, evidence, "
     "opened_day, due_day, updated_ms, value FROM ctas",
     "id"},
    /* A history row of a CTA that is gone (none should be) keeps account 0
     * rather than disappearing: the counts still match, the row is kept. */
    {"cta_history",
     "account_id, cta_id, seq, day, at_ms, action, actor, status, priority, note",
     "cta_history",
     "SELECT coalesce(c.account_id, 0), h.cta_id, h.seq, h.day, h.at_ms, h.action, h.actor, "
     "h.status, h.priority, h.note FROM cta_history h LEFT JOIN ctas c ON c.id = h.cta_id",
     NULL},
    {"eval_runs", "t_ms, run_ms, opened, updated, resolved, errors", "eval_runs",
     "SELECT t_ms, run_ms, opened, updated, resolved, errors FROM eval_runs", NULL},
    {"cta_held",
     "account_id, week, rule, subject, first_day, day, type, priority, owner, value, title, "
     "reason",
     "cta_held",
     "SELECT account_id, week, rule, subject, first_day, day, type, priority, owner, value, "
     "title, reason FROM cta_held",
     NULL},
    {"notifications", "id, cta_id, event, day, created_ms, snapshot", "notifications",
     "SELECT id, cta_id, event, day, created_ms, snapshot FROM notifications", "id"},
    {"outbox",
     "id, notification_id, digest_id, channel, target, owner, status, attempts, resends, "
     "next_at_ms, created_ms, sent_ms, last_error, nonce, rank, locked_until_ms, gate",
     "outbox",
     "SELECT id, notification_id, digest_id, channel, target, owner, status, attempts, resends, "
     "next_at_ms, created_ms, sent_ms, last_error, nonce, rank, locked_until_ms, gate "
     "FROM outbox",
     "id"},
    {"delivery_holds", "gate, not_before_ms, reason, label", "delivery_holds",
     "SELECT gate, not_before_ms, reason, label FROM delivery_holds", NULL},
    {"reports", "id, kind, title, created_ms, summary, body", "reports",
     "SELECT id, kind, title, created_ms, summary, body FROM reports", "id"},
    {"session_epochs", "email, epoch, changed_ms", "session_epochs",
     "SELECT email, epoch, changed_ms FROM session_epochs", NULL},
    {"models",
     "version, fitted_ms, horizon_days, trained_from, trained_to, n_rows, n_churns, "
     "auc_holdout, brier_holdout, auc_health, adopted, card, data_end, adopted_ms",
     "models",
     "SELECT version, fitted_ms, horizon_days, trained_from, trained_to, n_rows, n_churns, "
     "auc_holdout, brier_holdout, auc_health, adopted, card, data_end, adopted_ms FROM models",
     NULL},
    {"risk_by_day", "account_id, day, p_churn, model_version, drivers", "risk_by_day",
     "SELECT account_id, day, p_churn, model_version, drivers FROM risk_by_day", NULL},
    /* Several nodes (migration 18): the lease keeps its term, so terms only
     * grow; the scheduled runs and their buckets say which scheduled times
     * were evaluated, so the nodes on the copy do not evaluate them again. */
    {"leases", "name, holder, term, expires_ms", "leases",
     "SELECT name, holder, term, expires_ms FROM leases", NULL},
    {"sched_runs",
     "due_ms, day, n_buckets, term, holder, created_ms, done_ms, accounts, opened, updated, "
     "resolved, errors, notifications",
     "sched_runs",
     "SELECT due_ms, day, n_buckets, term, holder, created_ms, done_ms, accounts, opened, "
     "updated, resolved, errors, notifications FROM sched_runs",
     NULL},
    {"sched_buckets",
     "due_ms, bucket, day, first_id, last_id, claimed_by, claimed_until, attempts, done_ms, "
     "accounts, opened, updated, resolved, errors, notifications",
     "sched_buckets",
     "SELECT due_ms, bucket, day, first_id, last_id, claimed_by, claimed_until, attempts, "
     "done_ms, accounts, opened, updated, resolved, errors, notifications FROM sched_buckets",
     NULL},
    /* Messages to customers (migration 19): what was decided stays decided. */
    {"customer_messages",
     "account_id, kind, ref, step, day, created_ms, recipient, rule, status, subject, "
     "notification_id",
     "customer_messages",
     "SELECT account_id, kind, ref, step, day, created_ms, recipient, rule, status, subject, "
     "notification_id FROM customer_messages",
     NULL},
    {"customer_unsubscribes", "account_id, kind, contact, created_ms", "customer_unsubscribes",
     "SELECT account_id, kind, contact, created_ms FROM customer_unsubscribes", NULL},
    /* Each user's logins per day (migration 20: champion_risk). */
    {"user_login_days", "account_id, user_id, day, logins", "user_login_days",
     "SELECT account_id, user_id, day, logins FROM user_login_days", NULL},
    /* Segments (migration 21): the days charted and segment_shift's baseline;
     * a run's parts not yet summed go along with their run. */
    {"segment_days",
     "kind, name, day, accounts, arr_accounts, arr, scored, health_sum, red, yellow, green, "
     "active_users, logins_7d, feature_events_7d, nps_accounts, nps_sum, tickets_30d, "
     "tickets_open, open_ctas",
     "segment_days",
     "SELECT kind, name, day, accounts, arr_accounts, arr, scored, health_sum, red, yellow, "
     "green, active_users, logins_7d, feature_events_7d, nps_accounts, nps_sum, tickets_30d, "
     "tickets_open, open_ctas FROM segment_days",
     NULL},
    {"segment_parts",
     "due_ms, part, kind, name, accounts, arr_accounts, arr, scored, health_sum, red, yellow, "
     "green, active_users, logins_7d, feature_events_7d, nps_accounts, nps_sum, tickets_30d, "
     "tickets_open, open_ctas",
     "segment_parts",
     "SELECT due_ms, part, kind, name, accounts, arr_accounts, arr, scored, health_sum, red, "
     "yellow, green, active_users, logins_7d, feature_events_7d, nps_accounts, nps_sum, "
     "tickets_30d, tickets_open, open_ctas FROM segment_parts",
     NULL},
    /* Escalations (migration 22): the record that each happened once. */
    {"cta_escalations", "account_id, cta_id, level, at_ms, manager", "cta_escalations",
     "SELECT coalesce(c.account_id, 0), e.cta_id, e.level, e.at_ms, e.manager "
     "FROM cta_escalations e LEFT JOIN ctas c ON c.id = e.cta_id",
     NULL},
    /* People, their one-time links and the audit log (migration 28). */
    {"team_users", "email, name, hash, role, disabled, created_ms, changed_ms", "team_users",
     "SELECT email, name, hash, role, disabled, created_ms, changed_ms FROM team_users", NULL},
    {"team_invites", "hash, email, created_by, created_ms, expires_ms, used_ms", "team_invites",
     "SELECT hash, email, created_by, created_ms, expires_ms, used_ms FROM team_invites", NULL},
    {"team_tokens", "sha256, name, scope, created_by, created_ms, revoked_ms", "team_tokens",
     "SELECT sha256, name, scope, created_by, created_ms, revoked_ms FROM team_tokens", NULL},
    {"audit_log", "id, at_ms, actor, action, target, before_json, after_json", "audit_log",
     "SELECT id, at_ms, actor, action, target, before_json, after_json FROM audit_log", "id"},
    /* The webhook inbox (migration 24): the kept events and the providers'
     * ids of accounts. */
    {"hook_inbox",
     "id, provider, event_id, event_type, received_ms, status, reason, detail, account, events, "
     "attempts, processed_ms, payload",
     "hook_inbox",
     "SELECT id, provider, event_id, event_type, received_ms, status, reason, detail, account, "
     "events, attempts, processed_ms, payload FROM hook_inbox",
     "id"},
    {"hook_accounts", "provider, provider_id, account, updated_ms", "hook_accounts",
     "SELECT provider, provider_id, account, updated_ms FROM hook_accounts", NULL},

    /* Notes and the holdout's draws (migration 27). */
    {"notes", "account_id, id, cta_id, kind, body, actor, at_ms, day", "notes",
     "SELECT account_id, id, cta_id, kind, body, actor, at_ms, day FROM notes", "id"},
    {"cta_holdouts", "account_id, cta_id, rule, day, share, draw, held_out", "cta_holdouts",
     "SELECT account_id, cta_id, rule, day, share, draw, held_out FROM cta_holdouts", NULL},

    /* Playbook steps (migration 29) carry their CTA's account_id. */
    {"cta_steps", "account_id, cta_id, step, done, actor, at_ms", "cta_steps",
     "SELECT coalesce(c.account_id, 0), t.cta_id, t.step, t.done, t.actor, t.at_ms "
     "FROM cta_steps t LEFT JOIN ctas c ON c.id = t.cta_id",
     NULL},
};
// clang-format on
#define N_TABLES ((int)(sizeof tables / sizeof tables[0]))
_Static_assert(sizeof tables / sizeof tables[0] <= MOVE_MAX_TABLES, "MOVE_MAX_TABLES");

/* Tables of either database that are the migrations' own bookkeeping. */
#define BOOKKEEPING "schema_migrations"

/* Bytes of COPY data sent at once. */
#define BATCH_BYTES (1 << 20)
/* Progress while a table is copied: a line every 5 s, or on a terminal the
 * line kept up to date 4 times a second. */
#define PROGRESS_LINE_MS 5000
#define PROGRESS_TTY_MS  250
/* Months tend_event_partitions_ensure makes in one call, at most (it
 * refuses more than 1,200); older events go to the default partition. */
#define MAX_PARTITION_MONTHS 1188
#define MS_PER_DAY           INT64_C(86400000)

/* ---- small helpers ---------------------------------------------------------- */

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void say(char *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(char *err, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, MOVE_ERR_BYTES, fmt, ap);
    va_end(ap);
}

/* The value of a `password=` query parameter of buf, if any, replaced by
 * "***". */
static void redact_query_password(char *buf, size_t size) {
    char *q = strchr(buf, '?');
    for (char *p = q; p && (p = strstr(p, "password=")); p += 9) {
        if (p[-1] != '?' && p[-1] != '&')
            continue;
        char *end = p + 9 + strcspn(p + 9, "&");
        char rest[1024];
        snprintf(rest, sizeof rest, "%s", end);
        snprintf(p + 9, size - (size_t)(p + 9 - buf), "***%s", rest);
    }
}

void move_url_redacted(const char *url, char *buf, size_t size) {
    snprintf(buf, size, "%s", url ? url : "");
    char *scheme = strstr(buf, "://");
    if (!scheme)
        return;
    redact_query_password(buf, size);
    char *user = scheme + 3;
    char *at = strchr(user, '@');
    char *slash = strchr(user, '/');
    if (!at || (slash && slash < at))
        return;
    char *colon = memchr(user, ':', (size_t)(at - user));
    if (!colon)
        return;
    char rest[1024];
    snprintf(rest, sizeof rest, "%s", at);
    snprintf(colon, size - (size_t)(colon - buf), ":***%s", rest);
}

/* PostgreSQL's message of r (or of the connection) on one line, with its
 * detail and context (a COPY's context names the table, line and column),
 * after "what: ", into err. */
static void pg_say(char *err, PGconn *c, const PGresult *r, const char *what) {
    const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *detail = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL) : NULL;
    const char *context = r ? PQresultErrorField(r, PG_DIAG_CONTEXT) : NULL;
    say(err, "%s: %s%s%s%s", what, msg ? msg : PQerrorMessage(c), detail ? " (" : "",
        detail ? detail : "", detail ? ")" : "");
    size_t len = strlen(err);
    if (context && len + 4 < MOVE_ERR_BYTES)
        snprintf(err + len, MOVE_ERR_BYTES - len, "; %s", context);
    for (char *p = err; *p; p++)
        if (*p == '\n' || *p == '\t')
            *p = ' ';
    len = strlen(err);
    while (len > 0 && err[len - 1] == ' ')
        err[--len] = '\0';
}

/* Runs sql on the target expecting no rows or some; *out (may be NULL) gets
 * the result, which the caller clears. */
static enum tend_err pg_do(PGconn *c, const char *sql, const char *what, PGresult **out,
                           char *err) {
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        pg_say(err, c, r, what);
        PQclear(r);
        return TEND_ERR_DB;
    }
    if (out)
        *out = r;
    else
        PQclear(r);
    return TEND_OK;
}

/* A count (or any one integer) from the target. */
static enum tend_err pg_count(PGconn *c, const char *sql, const char *what, int64_t *n, char *err) {
    PGresult *r;
    enum tend_err e = pg_do(c, sql, what, &r, err);
    if (e)
        return e;
    *n = PQntuples(r) && !PQgetisnull(r, 0, 0) ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : 0;
    PQclear(r);
    return TEND_OK;
}

/* Two integers from the source: the first columns of sql's one row (NULL
 * reads 0); second may be NULL. */
static enum tend_err lite_two(sqlite3 *db, const char *sql, const char *what, int64_t *first,
                              int64_t *second, char *err) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        say(err, "%s: %s", what, sqlite3_errmsg(db));
        return TEND_ERR_DB;
    }
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *first = sqlite3_column_int64(st, 0);
        if (second)
            *second = sqlite3_column_int64(st, 1);
    } else if (rc != SQLITE_DONE)
        say(err, "%s: %s", what, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? TEND_OK : TEND_ERR_DB;
}

/* A count from the source: the first column of sql's one row. */
static enum tend_err lite_count(sqlite3 *db, const char *sql, const char *what, int64_t *n,
                                char *err) {
    return lite_two(db, sql, what, n, NULL, err);
}

/* Whether name occurs in text as a whole identifier. */
static bool has_word(const char *text, const char *name) {
    size_t n = strlen(name);
    for (const char *p = strstr(text, name); p; p = strstr(p + 1, name)) {
        bool before =
            p == text || !(p[-1] == '_' || (p[-1] >= 'a' && p[-1] <= 'z') ||
                           (p[-1] >= 'A' && p[-1] <= 'Z') || (p[-1] >= '0' && p[-1] <= '9'));
        char a = p[n];
        bool after = !(a == '_' || (a >= 'a' && a <= 'z') || (a >= 'A' && a <= 'Z') ||
                       (a >= '0' && a <= '9'));
        if (before && after)
            return true;
    }
    return false;
}

static const struct move_table *table_named(const char *name) {
    for (int i = 0; i < N_TABLES; i++)
        if (strcmp(tables[i].name, name) == 0)
            return &tables[i];
    return NULL;
}

/* ---- the checks of the table list ---------------------------------------- */

/* Every table of the SQLite database db is the source of a row of the list,
 * and each of its columns is named in the SELECT of one of those rows. */
static enum tend_err check_source(sqlite3 *db, char *err) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p"
                           " WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'"
                           " AND m.name <> '" BOOKKEEPING "' ORDER BY m.name, p.cid",
                           -1, &st, NULL) != SQLITE_OK) {
        say(err, "reading the SQLite schema: %s", sqlite3_errmsg(db));
        return TEND_ERR_DB;
    }
    enum tend_err e = TEND_OK;
    int rc;
    while (!e && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *table = (const char *)sqlite3_column_text(st, 0);
        const char *column = (const char *)sqlite3_column_text(st, 1);
        bool known = false, carried = false;
        for (int i = 0; i < N_TABLES; i++) {
            if (!tables[i].source || strcmp(tables[i].source, table) != 0)
                continue;
            known = true;
            carried |= has_word(tables[i].select, column);
        }
        if (!known) {
            say(err,
                "SQLite's table %s is not in tend migrate's table list (src/store/move.c): "
                "this build cannot copy it",
                table);
            e = TEND_ERR_INVALID;
        } else if (!carried) {
            say(err,
                "SQLite's column %s.%s is not in tend migrate's table list (src/store/move.c): "
                "this build cannot copy it",
                table, column);
            e = TEND_ERR_INVALID;
        }
    }
    if (!e && rc != SQLITE_DONE) {
        say(err, "reading the SQLite schema: %s", sqlite3_errmsg(db));
        e = TEND_ERR_DB;
    }
    sqlite3_finalize(st);
    return e;
}

/* Whether the comma-separated list has column. */
static bool list_has(const char *list, const char *column) {
    size_t n = strlen(column);
    for (const char *p = list; *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t k = strcspn(p, ", ");
        if (k == n && strncmp(p, column, n) == 0)
            return true;
        p += k;
    }
    return false;
}

static int list_len(const char *list) {
    int n = 0;
    for (const char *p = list; *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        if (!*p)
            break;
        n++;
        p += strcspn(p, ", ");
    }
    return n;
}

/* Every table of the target's schema (partitions aside) is a row of the
 * list, with exactly the row's columns. */
static enum tend_err check_target(PGconn *c, char *err) {
    PGresult *r;
    enum tend_err e = pg_do(c,
                            "SELECT t.relname, a.attname, a.attidentity <> '' FROM pg_class t"
                            " JOIN pg_namespace n ON n.oid = t.relnamespace"
                            " JOIN pg_attribute a ON a.attrelid = t.oid"
                            " WHERE n.nspname = current_schema() AND t.relkind IN ('r', 'p')"
                            " AND NOT t.relispartition AND t.relname <> '" BOOKKEEPING "'"
                            " AND a.attnum > 0 AND NOT a.attisdropped ORDER BY 1, a.attnum",
                            "reading the PostgreSQL schema", &r, err);
    if (e)
        return e;
    int seen[MOVE_MAX_TABLES] = {0};
    for (int i = 0; !e && i < PQntuples(r); i++) {
        const char *table = PQgetvalue(r, i, 0), *column = PQgetvalue(r, i, 1);
        const struct move_table *t = table_named(table);
        if (!t) {
            say(err,
                "PostgreSQL's table %s is not in tend migrate's table list (src/store/move.c): "
                "this build cannot fill it",
                table);
            e = TEND_ERR_INVALID;
        } else if (!list_has(t->columns, column)) {
            say(err,
                "PostgreSQL's column %s.%s is not in tend migrate's table list "
                "(src/store/move.c): this build cannot fill it",
                table, column);
            e = TEND_ERR_INVALID;
        } else if (PQgetvalue(r, i, 2)[0] == 't' &&
                   (!t->identity || strcmp(t->identity, column) != 0)) {
            say(err,
                "PostgreSQL's identity column %s.%s is not an identity of tend migrate's table "
                "list (src/store/move.c): its sequence would not be set past the copied ids",
                table, column);
            e = TEND_ERR_INVALID;
        } else {
            seen[t - tables]++;
        }
    }
    PQclear(r);
    for (int i = 0; !e && i < N_TABLES; i++) {
        if (seen[i] != list_len(tables[i].columns)) {
            say(err,
                "PostgreSQL's table %s has %d of the %d columns tend migrate copies: "
                "is its schema tend's?",
                tables[i].name, seen[i], list_len(tables[i].columns));
            e = TEND_ERR_INVALID;
        }
    }
    return e;
}

/* Opens the SQLite database at path read-only (a file: location as a URI,
 * as the store does). */
static enum tend_err lite_open(const char *path, sqlite3 **out, char *err) {
    int uri = strncmp(path, "file:", 5) == 0 ? SQLITE_OPEN_URI : 0;
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | uri, NULL) != SQLITE_OK) {
        say(err, "cannot open %s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return TEND_ERR_IO;
    }
    sqlite3_busy_timeout(db, 10000);
    *out = db;
    return TEND_OK;
}

enum tend_err move_check_sqlite(const char *path, char *err) {
    sqlite3 *db;
    enum tend_err e = lite_open(path, &db, err);
    if (e)
        return e;
    e = check_source(db, err);
    sqlite3_close(db);
    return e;
}

/* ---- progress ------------------------------------------------------------- */

struct progress {
    FILE *f;
    bool tty;
    const char *table;
    int64_t total, done;
    double started, shown;
};

static void progress_start(struct progress *p, const char *table, int64_t total) {
    p->table = table;
    p->total = total;
    p->done = 0;
    p->started = p->shown = now_s();
}

static void progress_row(struct progress *p) {
    p->done++;
    if (!p->f || (p->done & 4095))
        return;
    double t = now_s();
    if ((t - p->shown) * 1000 < (p->tty ? PROGRESS_TTY_MS : PROGRESS_LINE_MS))
        return;
    p->shown = t;
    fprintf(p->f, "%stend migrate: %s: %" PRId64 " of %" PRId64 " rows (%d%%)%s",
            p->tty ? "\r" : "", p->table, p->done, p->total,
            p->total ? (int)(p->done * 100 / p->total) : 100, p->tty ? "\033[K" : "\n");
    fflush(p->f);
}

static void progress_end(struct progress *p) {
    if (!p->f)
        return;
    double s = now_s() - p->started;
    fprintf(p->f, "%stend migrate: %s: %" PRId64 " rows in %.1f s", p->tty ? "\r" : "", p->table,
            p->done, s);
    if (p->done >= 10000 && s > 0)
        fprintf(p->f, " (%.0f rows/s)", (double)p->done / s);
    fprintf(p->f, "%s\n", p->tty ? "\033[K" : "");
    fflush(p->f);
}

/* ---- the copy of one table ------------------------------------------------ */

/* Appends one SQLite value in COPY's text format. */
static void put_value(struct buf *b, sqlite3_stmt *st, int col) {
    char num[40];
    switch (sqlite3_column_type(st, col)) {
    case SQLITE_NULL:
        buf_append(b, "\\N", 2);
        return;
    case SQLITE_INTEGER:
        buf_append(b, num,
                   (size_t)snprintf(num, sizeof num, "%lld", sqlite3_column_int64(st, col)));
        return;
    case SQLITE_FLOAT: {
        double v = sqlite3_column_double(st, col);
        if (isnan(v))
            buf_puts(b, "NaN");
        else if (isinf(v))
            buf_puts(b, v > 0 ? "Infinity" : "-Infinity");
        else
            buf_append(b, num, (size_t)snprintf(num, sizeof num, "%.17g", v));
        return;
    }
    default: { /* text, and a blob as its bytes */
        const unsigned char *s = sqlite3_column_text(st, col);
        int n = sqlite3_column_bytes(st, col);
        int from = 0;
        for (int i = 0; i < n; i++) {
            const char *esc = s[i] == '\\'   ? "\\\\"
                              : s[i] == '\n' ? "\\n"
                              : s[i] == '\r' ? "\\r"
                              : s[i] == '\t' ? "\\t"
                                             : NULL;
            if (!esc)
                continue;
            buf_append(b, s + from, (size_t)(i - from));
            buf_append(b, esc, 2);
            from = i + 1;
        }
        buf_append(b, s + from, (size_t)(n - from));
        return;
    }
    }
}

/* Sends what b holds as COPY data and empties it. */
static bool send_batch(PGconn *c, struct buf *b) {
    bool ok = b->len == 0 || PQputCopyData(c, b->data, (int)b->len) == 1;
    buf_reset(b);
    return ok;
}

/* Copies table t: its SELECT on the source into COPY on the target;
 * *rows gets the rows sent. */
static enum tend_err copy_table(sqlite3 *db, PGconn *c, const struct move_table *t,
                                struct progress *p, int64_t *rows, char *err) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, t->select, -1, &st, NULL) != SQLITE_OK) {
        say(err, "reading %s from SQLite: %s", t->name, sqlite3_errmsg(db));
        return TEND_ERR_DB;
    }
    char sql[1024], what[128];
    snprintf(sql, sizeof sql, "COPY %s (%s) FROM STDIN", t->name, t->columns);
    snprintf(what, sizeof what, "copying %s into PostgreSQL", t->name);
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COPY_IN) {
        pg_say(err, c, r, what);
        PQclear(r);
        sqlite3_finalize(st);
        return TEND_ERR_DB;
    }
    PQclear(r);
    struct buf b;
    buf_init(&b, 0);
    int n_cols = sqlite3_column_count(st), rc;
    bool sent = true;
    while (sent && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (int k = 0; k < n_cols; k++) {
            if (k)
                buf_putc(&b, '\t');
            put_value(&b, st, k);
        }
        buf_putc(&b, '\n');
        progress_row(p);
        if (b.len >= BATCH_BYTES)
            sent = send_batch(c, &b);
    }
    enum tend_err e = TEND_OK;
    char lite_err[512] = "";
    if (sent && rc != SQLITE_DONE)
        snprintf(lite_err, sizeof lite_err, "%s", sqlite3_errmsg(db));
    if (sent && !*lite_err)
        sent = send_batch(c, &b);
    buf_free(&b);
    sqlite3_finalize(st);
    /* A source that failed mid-way ends the COPY with an error, so nothing
     * of the table is kept. */
    if (PQputCopyEnd(c, *lite_err ? "the source failed" : NULL) != 1)
        sent = false;
    r = PQgetResult(c);
    if (*lite_err) {
        say(err, "reading %s from SQLite: %s", t->name, lite_err);
        e = TEND_ERR_DB;
    } else if (!sent || PQresultStatus(r) != PGRES_COMMAND_OK) {
        pg_say(err, c, r, what);
        e = TEND_ERR_DB;
    }
    PQclear(r);
    while ((r = PQgetResult(c)))
        PQclear(r);
    *rows = p->done;
    if (!e)
        progress_end(p);
    return e;
}

/* ---- the run -------------------------------------------------------------- */

/* Brings the source's schema up to date through the store (the same
 * migrations as tend's every command) and reads its version. */
static enum tend_err source_schema(const char *from, int *version, char *err) {
    struct store *s;
    char msg[STORE_ERR_BYTES];
    enum tend_err e = store_open_with(from, STORE_OPEN_EXISTING, &s, msg);
    if (e) {
        say(err, "%s", msg);
        return e == TEND_ERR_NOTFOUND ? e : TEND_ERR_IO;
    }
    *version = store_schema_version(s);
    store_close(s);
    return TEND_OK;
}

/* The target's tables as a list for SQL ("accounts, users, ..."), into
 * names (initialised by the caller). */
static void table_names(struct buf *names) {
    for (int i = 0; i < N_TABLES; i++)
        buf_printf(names, "%s%s", i ? ", " : "", tables[i].name);
}

/* Refuses a target that holds rows, naming them, unless force; with force,
 * empties every table (identities restarted). */
static enum tend_err empty_target(PGconn *c, bool force, bool *replaced, char *err) {
    struct buf names, held;
    buf_init(&names, 0);
    buf_init(&held, 0);
    enum tend_err e = TEND_OK;
    table_names(&names);
    char sql[4096];
    /* Writers wait; a node still running on the target makes this wait, up
     * to the lock timeout, and the run stop with a message. */
    snprintf(sql, sizeof sql,
             "SET LOCAL lock_timeout = '10s'; LOCK TABLE %s IN SHARE ROW EXCLUSIVE MODE",
             buf_str(&names));
    if ((e = pg_do(c, sql,
                   "locking the target's tables (is a tend serve running on it? stop it first)",
                   NULL, err)))
        goto cleanup;
    for (int i = 0; !e && i < N_TABLES; i++) {
        int64_t n = 0;
        snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", tables[i].name);
        if ((e = pg_count(c, sql, "reading the target", &n, err)))
            break;
        if (n)
            buf_printf(&held, "%s%s %" PRId64, held.len ? ", " : "", tables[i].name, n);
    }
    if (e || held.len == 0)
        goto cleanup;
    if (!force) {
        say(err,
            "the target already holds data (%s rows): tend migrate copies into an empty "
            "database; --force replaces what it holds",
            buf_str(&held));
        e = TEND_ERR_CONFLICT;
        goto cleanup;
    }
    snprintf(sql, sizeof sql, "TRUNCATE %s RESTART IDENTITY", buf_str(&names));
    if (!(e = pg_do(c, sql, "emptying the target (--force)", NULL, err)))
        *replaced = true;
cleanup:
    buf_free(&names);
    buf_free(&held);
    return e;
}

/* Makes the event partitions of the months the source's events span (the
 * latest MAX_PARTITION_MONTHS of them; earlier ones, if any, go to the
 * default partition). */
static enum tend_err make_partitions(sqlite3 *db, PGconn *c, char *err) {
    int64_t lo = 0, hi = 0, key_lo = 0, key_hi = 0;
    /* One scan for the times; the keys' range from the primary key. */
    enum tend_err e = lite_two(db, "SELECT min(ts_ms), max(ts_ms) FROM events",
                               "reading the events' times", &lo, &hi, err);
    if (!e)
        e = lite_two(db,
                     "SELECT (SELECT min(key_ts_ms) FROM events WHERE key_ts_ms > 0), "
                     "(SELECT max(key_ts_ms) FROM events)",
                     "reading the events' keys", &key_lo, &key_hi, err);
    if (e)
        return e;
    if (key_lo > 0 && key_lo < lo)
        lo = key_lo;
    if (key_hi > hi)
        hi = key_hi;
    if (hi <= 0)
        return TEND_OK;
    if (lo < 0)
        lo = 0;
    int64_t span = (int64_t)MAX_PARTITION_MONTHS / 12 * 365 * MS_PER_DAY;
    if (hi - lo > span)
        lo = hi - span;
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT tend_event_partitions_ensure(%" PRId64 ", %" PRId64 ")", lo,
             hi);
    return pg_do(c, sql, "making the event partitions", NULL, err);
}

/* Sets each identity past the largest id copied, so rows made later do not
 * collide with them. */
static enum tend_err set_identities(PGconn *c, char *err) {
    for (int i = 0; i < N_TABLES; i++) {
        const struct move_table *t = &tables[i];
        if (!t->identity)
            continue;
        char sql[512];
        snprintf(sql, sizeof sql,
                 "SELECT setval(pg_get_serial_sequence('%s', '%s'), coalesce(max(%s), 0) + 1, "
                 "false) FROM %s",
                 t->name, t->identity, t->identity, t->name);
        enum tend_err e = pg_do(c, sql, "setting the identities past the copied ids", NULL, err);
        if (e)
            return e;
    }
    return TEND_OK;
}

/* The source's rows of every table into r. */
static enum tend_err count_source(sqlite3 *db, struct move_report *r, char *err) {
    enum tend_err e = TEND_OK;
    char sql[8192];
    for (int i = 0; !e && i < N_TABLES; i++) {
        r->counts[i] = (struct move_count){tables[i].name, -1, -1};
        snprintf(sql, sizeof sql, "SELECT count(*) FROM (%s)", tables[i].select);
        e = lite_count(db, sql, "counting the source's rows", &r->counts[i].source, err);
    }
    r->n_counts = N_TABLES;
    return e;
}

/* The target's rows of every table into r, compared with the source's:
 * TEND_ERR_DB naming each table that differs, after "the row counts
 * differ" and then, when set, then. */
static enum tend_err count_target(PGconn *c, struct move_report *r, const char *then, char *err) {
    enum tend_err e = TEND_OK;
    char sql[256];
    struct buf diff;
    buf_init(&diff, 0);
    for (int i = 0; !e && i < N_TABLES; i++) {
        snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", tables[i].name);
        e = pg_count(c, sql, "counting the target's rows", &r->counts[i].target, err);
        if (!e && r->counts[i].target != r->counts[i].source)
            buf_printf(&diff, "%s%s: %" PRId64 " in SQLite, %" PRId64 " in PostgreSQL",
                       diff.len ? "; " : "", tables[i].name, r->counts[i].source,
                       r->counts[i].target);
    }
    if (!e && diff.len) {
        say(err, "the row counts differ (%s)%s", buf_str(&diff), then ? then : "");
        e = TEND_ERR_DB;
    }
    buf_free(&diff);
    return e;
}

/* The copy proper, inside the target's transaction and the source's read
 * transaction. */
static enum tend_err copy_all(sqlite3 *db, PGconn *c, const struct move_options *o,
                              struct move_report *r, char *err) {
    enum tend_err e = count_source(db, r, err);
    if (e || (e = empty_target(c, o->force, &r->replaced, err)) ||
        (e = make_partitions(db, c, err)))
        return e;
    struct progress p = {.f = o->progress, .tty = o->progress && isatty(fileno(o->progress))};
    for (int i = 0; !e && i < N_TABLES; i++) {
        int64_t rows = 0;
        progress_start(&p, tables[i].name, r->counts[i].source);
        e = copy_table(db, c, &tables[i], &p, &rows, err);
        r->rows += rows;
    }
    if (e || (e = set_identities(c, err)) ||
        (e = count_target(c, r, ": nothing was committed", err)))
        return e;
    /* Statistics for the planner now, not when autovacuum gets to it: the
     * first evaluation on the new database reads every table. */
    struct buf names;
    buf_init(&names, 0);
    table_names(&names);
    char sql[2048];
    snprintf(sql, sizeof sql, "ANALYZE %s", buf_str(&names));
    buf_free(&names);
    return pg_do(c, sql, "analyzing the copied tables", NULL, err);
}

enum tend_err move_copy(const struct move_options *o, struct move_report *r, char *err) {
    memset(r, 0, sizeof *r);
    if (pg_is_url(o->from)) {
        say(err, "--from must be a SQLite database (a path or file: URI), not a PostgreSQL URL");
        return TEND_ERR_USAGE;
    }
    if (!pg_is_url(o->to)) {
        say(err, "--to must be a PostgreSQL URL (postgresql://...), not \"%.200s\"", o->to);
        return TEND_ERR_USAGE;
    }
    double started = now_s();
    int from_version = 0, to_version = 0;
    enum tend_err e = source_schema(o->from, &from_version, err);
    if (e)
        return e;
    struct pg_conn *c = NULL;
    sqlite3 *db = NULL;
    char msg[PG_ERR_BYTES], url[512];
    move_url_redacted(o->to, url, sizeof url);
    if ((e = pg_connect(o->to, &c, msg)) || (e = pg_migrate(c, msg)) ||
        (e = pg_read_schema_version(c, &to_version, msg))) {
        say(err, "%s: %s", url, msg);
        goto cleanup;
    }
    if (from_version != to_version) {
        say(err,
            "the schemas differ: %s has version %d, %s version %d (this tend's SQLite and "
            "PostgreSQL migrations must end at the same number)",
            o->from, from_version, url, to_version);
        e = TEND_ERR_INVALID;
        goto cleanup;
    }
    r->schema_version = from_version;
    if ((e = pg_do(c, "SET client_encoding = 'UTF8'", "configuring the connection", NULL, err)) ||
        (e = check_target(c, err)) || (e = lite_open(o->from, &db, err)) ||
        (e = check_source(db, err)))
        goto cleanup;
    if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
        say(err, "reading %s: %s", o->from, sqlite3_errmsg(db));
        e = TEND_ERR_DB;
        goto cleanup;
    }
    if (o->verify_only) {
        /* Both sides as of one snapshot each: a read transaction on each. */
        if (!(e = pg_do(c, "BEGIN READ ONLY", "starting the target's transaction", NULL, err)) &&
            !(e = count_source(db, r, err)))
            e = count_target(c, r, NULL, err);
        PQclear(PQexec(c, "ROLLBACK"));
        goto cleanup;
    }
    if ((e = pg_do(c, "BEGIN", "starting the target's transaction", NULL, err)))
        goto cleanup;
    e = copy_all(db, c, o, r, err);
    if (!e)
        e = pg_do(c, "COMMIT", "committing the copy", NULL, err);
    else
        PQclear(PQexec(c, "ROLLBACK"));
cleanup:
    if (db) {
        sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
        sqlite3_close(db);
    }
    pg_disconnect(c);
    r->seconds = now_s() - started;
    return e;
}
