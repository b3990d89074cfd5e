/* cmd_migrate.c: tend migrate --from tend.db --to postgresql://...: moves an
 * installation from SQLite to PostgreSQL, then proves the move.
 *
 * The copy is store/move.c's (only store/ knows both schemas); this file
 * reads the options, prints the row counts of every table side by side, and
 * verifies through the store API what tend will actually read: the SPEC 3
 * metrics of every account as of the latest day with events, computed from
 * each database by the code tend metrics runs (eval_metrics), must be equal
 * cell for cell, and so must the stored health scores of the latest scored
 * day. Any difference is named (account, column, both values) and exits 2. */
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/output.h"
#include "core/metrics.h"
#include "eval/eval.h"
#include "store/move.h"
#include "util/datetime.h"
#include "util/mem.h"

#define CMD "migrate"
/* Differences named before the rest are only counted. */
#define MAX_SHOWN 10

static void usage(FILE *f) {
    fprintf(f,
            "Usage: tend migrate --from PATH --to postgresql://... [--force] [--format FORMAT]\n"
            "       tend migrate --from PATH --to postgresql://... --verify [--format FORMAT]\n\n"
            "Copies every table of the SQLite database PATH into the PostgreSQL database the\n"
            "URL names, in one transaction, then verifies: the rows of every table (printed\n"
            "side by side), and the metrics of every account as of the latest day with\n"
            "events, computed from each database, cell for cell. Stop tend first; see\n"
            "docs/operations.md, \"Moving from SQLite to PostgreSQL\".\n\n"
            "  --from PATH      the SQLite database (a path or file: URI); must exist\n"
            "  --to URL         the PostgreSQL database (postgresql://user@host/db); its\n"
            "                   schema is created or brought up to date\n"
            "  --force          replace what the target holds (without it, a target with\n"
            "                   any rows is refused, naming them)\n"
            "  --verify         copy nothing: check an earlier copy (counts and metrics)\n"
            "  --format FORMAT  the counts as table (default), csv or json\n\n"
            "Progress goes to stderr. Exit 0: copied and verified; 2: refused, failed\n"
            "(nothing committed) or a verification found a difference (named).\n");
}

/* ---- the metrics of each database ------------------------------------------ */

struct account_metrics {
    char *external_id;
    struct metrics m;
};

struct metrics_set {
    struct account_metrics *v;
    size_t n, cap;
};

static int collect(void *arg, int64_t id, const char *account_id, const struct metrics *m) {
    (void)id;
    struct metrics_set *s = arg;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 256;
        s->v = xrealloc(s->v, s->cap * sizeof *s->v);
    }
    s->v[s->n].external_id = xstrdup(account_id);
    s->v[s->n].m = *m;
    s->n++;
    return 0;
}

static void metrics_set_free(struct metrics_set *s) {
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i].external_id);
    free(s->v);
}

/* The cells compared: every SPEC 3 column (metrics_columns' names and
 * order) and whether the account has churned. has: the offset of the
 * column's "known" flag, or NONE when it always is. */
enum cell_type { CELL_I64, CELL_F64, CELL_BOOL };
#define NONE SIZE_MAX
struct cell {
    const char *name;
    enum cell_type type;
    size_t value, has;
};
#define I64(F)                                                                                     \
    { #F, CELL_I64, offsetof(struct metrics, F), NONE }
#define I64_HAS(F, H)                                                                              \
    { #F, CELL_I64, offsetof(struct metrics, F), offsetof(struct metrics, H) }
#define F64(F)                                                                                     \
    { #F, CELL_F64, offsetof(struct metrics, F), NONE }
#define F64_HAS(F, H)                                                                              \
    { #F, CELL_F64, offsetof(struct metrics, F), offsetof(struct metrics, H) }
static const struct cell cells[] = {
    I64(users),
    I64(active_users_30d),
    I64(logins_7d),
    I64(logins_prev_28d),
    I64_HAS(days_since_login, has_days_since_login),
    I64(feature_events_7d),
    I64(feature_events_prev_28d),
    I64(features_used_30d),
    F64_HAS(nps, has_nps),
    I64(nps_responses_90d),
    I64(tickets_open),
    I64(tickets_30d),
    I64(overdue_invoices),
    F64(overdue_amount),
    I64(max_days_overdue),
    I64_HAS(card_days_left, has_card_days_left),
    I64_HAS(renewal_days_left, has_renewal_days_left),
    I64_HAS(seats, has_seats),
    F64_HAS(seat_utilization, has_seat_utilization),
    I64(outreach_unanswered),
    I64_HAS(days_since_reply, has_days_since_reply),
    F64_HAS(mrr, has_mrr),
    {"churned", CELL_BOOL, offsetof(struct metrics, churned), NONE},
};
#define N_CELLS (sizeof cells / sizeof cells[0])

/* The text of one cell ("" when unknown), for comparing and naming. */
static void cell_text(const struct metrics *m, const struct cell *c, char *buf, size_t size) {
    const char *base = (const char *)m;
    bool known = true;
    if (c->has != NONE)
        memcpy(&known, base + c->has, sizeof known);
    if (!known) {
        snprintf(buf, size, "(none)");
        return;
    }
    if (c->type == CELL_I64) {
        int64_t v;
        memcpy(&v, base + c->value, sizeof v);
        snprintf(buf, size, "%" PRId64, v);
    } else if (c->type == CELL_F64) {
        double v;
        memcpy(&v, base + c->value, sizeof v);
        snprintf(buf, size, "%.17g", v);
    } else {
        bool v;
        memcpy(&v, base + c->value, sizeof v);
        snprintf(buf, size, "%s", v ? "true" : "false");
    }
}

/* Compares the two sets (each in external id order), printing each
 * difference (up to MAX_SHOWN) to stderr; returns how many there are. */
static size_t compare_metrics(const struct metrics_set *a, const struct metrics_set *b) {
    size_t diffs = 0, i = 0, j = 0;
    while (i < a->n || j < b->n) {
        int order = i == a->n   ? 1
                    : j == b->n ? -1
                                : strcmp(a->v[i].external_id, b->v[j].external_id);
        if (order != 0) {
            if (++diffs <= MAX_SHOWN)
                fprintf(stderr, "tend migrate: account %s has metrics only in %s\n",
                        order < 0 ? a->v[i].external_id : b->v[j].external_id,
                        order < 0 ? "SQLite" : "PostgreSQL");
            if (order < 0)
                i++;
            else
                j++;
            continue;
        }
        for (size_t k = 0; k < N_CELLS; k++) {
            char x[64], y[64];
            cell_text(&a->v[i].m, &cells[k], x, sizeof x);
            cell_text(&b->v[j].m, &cells[k], y, sizeof y);
            if (strcmp(x, y) != 0 && ++diffs <= MAX_SHOWN)
                fprintf(stderr, "tend migrate: account %s, %s: %s in SQLite, %s in PostgreSQL\n",
                        a->v[i].external_id, cells[k].name, x, y);
        }
        i++;
        j++;
    }
    if (diffs > MAX_SHOWN)
        fprintf(stderr, "tend migrate: ... and %zu more differences\n", diffs - MAX_SHOWN);
    return diffs;
}

/* ---- the stored scores of a day -------------------------------------------- */

struct score_row {
    int64_t account_id;
    bool has_overall;
    double overall;
};

struct score_set {
    struct score_row *v;
    size_t n, cap;
};

static void collect_score(void *arg, int64_t account_id, bool has_overall, double overall) {
    struct score_set *s = arg;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 256;
        s->v = xrealloc(s->v, s->cap * sizeof *s->v);
    }
    s->v[s->n++] = (struct score_row){account_id, has_overall, overall};
}

static int by_account(const void *x, const void *y) {
    const struct score_row *a = x, *b = y;
    return (a->account_id > b->account_id) - (a->account_id < b->account_id);
}

/* Compares two days of stored scores (sorted here: each backend reads in
 * its own key order); prints the differences; returns how many. */
static size_t compare_scores(struct score_set *a, struct score_set *b) {
    qsort(a->v, a->n, sizeof *a->v, by_account);
    qsort(b->v, b->n, sizeof *b->v, by_account);
    size_t diffs = 0;
    if (a->n != b->n) {
        fprintf(stderr, "tend migrate: %zu stored scores in SQLite, %zu in PostgreSQL\n", a->n,
                b->n);
        return 1;
    }
    for (size_t i = 0; i < a->n; i++) {
        const struct score_row *x = &a->v[i], *y = &b->v[i];
        bool same = x->account_id == y->account_id && x->has_overall == y->has_overall &&
                    (!x->has_overall || x->overall == y->overall);
        if (same || ++diffs > MAX_SHOWN)
            continue;
        if (x->account_id != y->account_id)
            fprintf(stderr,
                    "tend migrate: stored scores: account id %" PRId64 " in SQLite where "
                    "PostgreSQL has %" PRId64 "\n",
                    x->account_id, y->account_id);
        else
            fprintf(stderr,
                    "tend migrate: stored score of account id %" PRId64 ": %.17g in SQLite, "
                    "%.17g in PostgreSQL (nan: none)\n",
                    x->account_id, x->has_overall ? x->overall : NAN,
                    y->has_overall ? y->overall : NAN);
    }
    return diffs;
}

/* ---- verification through the store ---------------------------------------- */

/* Opens both stores and compares what tend reads from each; returns 0 when
 * equal, EXIT_USAGE after naming the difference or the failure. */
static int verify(const char *from, const char *to, const char *to_shown) {
    struct store *src = NULL, *dst = NULL;
    char err[STORE_ERR_BYTES];
    int rc = 0;
    if (store_open_with(from, STORE_OPEN_EXISTING, &src, err)) {
        fprintf(stderr, "tend migrate: verifying: %s\n", err);
        return EXIT_USAGE;
    }
    if (store_open_with(to, STORE_OPEN_EXISTING, &dst, err)) {
        fprintf(stderr, "tend migrate: verifying: %s: %s\n", to_shown, err);
        store_close(src);
        return EXIT_USAGE;
    }
    struct metrics_set a = {0}, b = {0};
    struct score_set sa = {0}, sb = {0};
    int32_t day = 0;
    bool found = false;
    enum tend_err e = store_last_event_day(src, &day, &found);
    struct store *failed = src;
    if (!e && found) {
        int64_t t_ms = (int64_t)(day + 1) * DT_MS_PER_DAY;
        char date[16];
        dt_format_date(day, date);
        if (!(e = eval_metrics(src, t_ms, NULL, collect, &a))) {
            failed = dst;
            e = eval_metrics(dst, t_ms, NULL, collect, &b);
        }
        if (!e) {
            size_t d = compare_metrics(&a, &b);
            if (d) {
                fprintf(stderr,
                        "tend migrate: the metrics as of %s differ (%zu cells): the copy is "
                        "committed but does not read the same; do not start tend on it\n",
                        date, d);
                rc = EXIT_USAGE;
            } else {
                fprintf(stderr,
                        "tend migrate: metrics as of %s: %zu accounts x %zu columns equal\n", date,
                        a.n, N_CELLS);
            }
        }
    } else if (!e) {
        fprintf(stderr, "tend migrate: no events: no metrics to compare\n");
    }
    int32_t sday = 0;
    found = false;
    if (!e) {
        failed = src;
        e = store_scores_latest_day(src, &sday, &found);
    }
    if (!e && found) {
        if (!(e = store_scores_of_day(src, sday, collect_score, &sa))) {
            failed = dst;
            e = store_scores_of_day(dst, sday, collect_score, &sb);
        }
        char date[16];
        dt_format_date(sday, date);
        if (!e && compare_scores(&sa, &sb)) {
            fprintf(stderr, "tend migrate: the stored scores of %s differ\n", date);
            rc = EXIT_USAGE;
        } else if (!e) {
            fprintf(stderr, "tend migrate: stored scores of %s: %zu accounts equal\n", date, sa.n);
        }
    }
    if (e) {
        fprintf(stderr, "tend migrate: verifying on %s: %s\n",
                failed == src ? "SQLite" : "PostgreSQL", store_last_error(failed));
        rc = EXIT_USAGE;
    }
    metrics_set_free(&a);
    metrics_set_free(&b);
    free(sa.v);
    free(sb.v);
    store_close(src);
    store_close(dst);
    return rc;
}

static void print_counts(const struct move_report *r, enum out_format format) {
    static const char *const cols[] = {"table", "sqlite", "postgresql", "equal"};
    struct out_table *t = out_new(cols, 4);
    for (int i = 0; i < r->n_counts; i++) {
        const struct move_count *c = &r->counts[i];
        out_row(t);
        out_str(t, c->table);
        out_int(t, c->source);
        if (c->target >= 0)
            out_int(t, c->target);
        else
            out_str(t, NULL);
        out_str(t, c->target < 0 ? NULL : c->target == c->source ? "yes" : "NO");
    }
    out_print(t, format, stdout);
    out_free(t);
}

int cmd_migrate(int argc, char **argv) {
    static const struct option opts[] = {
        {"from", required_argument, NULL, 'f'},
        {"to", required_argument, NULL, 't'},
        {"force", no_argument, NULL, 'F'},
        {"format", required_argument, NULL, 'o'},
        {"verify", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct move_options o = {.progress = stderr};
    enum out_format format = OUT_TABLE;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            o.from = optarg;
            break;
        case 't':
            o.to = optarg;
            break;
        case 'F':
            o.force = true;
            break;
        case 'v':
            o.verify_only = true;
            break;
        case 'o':
            if (cli_parse_format(CMD, optarg, &format))
                return EXIT_USAGE;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (optind < argc)
        return cli_usage_error(CMD, "unexpected argument \"%s\"", argv[optind]);
    if (o.force && o.verify_only)
        return cli_usage_error(CMD, "--verify copies nothing: leave out --force");
    if (!o.from || !o.to)
        return cli_usage_error(CMD, "--from (the SQLite database) and --to (the PostgreSQL URL) "
                                    "are both required");
    char shown[512];
    move_url_redacted(o.to, shown, sizeof shown);
    struct move_report r;
    char err[MOVE_ERR_BYTES];
    fprintf(stderr, "tend migrate: %s %s %s %s\n", o.verify_only ? "comparing" : "copying", o.from,
            o.verify_only ? "with" : "into", shown);
    enum tend_err e = move_copy(&o, &r, err);
    if (r.n_counts && (!e || r.counts[0].target >= 0))
        print_counts(&r, format);
    if (e) {
        fprintf(stderr, "tend migrate: %s\n", err);
        return EXIT_USAGE;
    }
    if (o.verify_only)
        fprintf(stderr, "tend migrate: %d tables counted (schema version %d); row counts equal\n",
                r.n_counts, r.schema_version);
    else
        fprintf(stderr,
                "tend migrate: %" PRId64 " rows of %d tables copied in %.1f s (schema version "
                "%d); row counts equal%s\n",
                r.rows, r.n_counts, r.seconds, r.schema_version,
                r.replaced ? ", replacing what the target held (--force)" : "");
    int rc = verify(o.from, o.to, shown);
    if (!rc && !o.verify_only)
        fprintf(stderr, "tend migrate: done: start tend with --db %s\n", shown);
    return rc;
}
