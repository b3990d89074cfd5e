/* pg_account_list.c: the dashboard's account list in the PostgreSQL
 * backend (backend.h's data_version, account_summary, account_count,
 * account_rows, account_rows_of; account_list.c pages and keeps them); the statements and
 * results are sqlite_account_list.c's, in PostgreSQL's words.
 *
 * Each sort's head (known values) and tail (unknown, by label) is a static
 * statement walking an index in the sort's order (migration 23): the day's
 * scores by overall (scores_rank), accounts by label (accounts_label) or by
 * MRR (accounts_mrr), the live CTAs (ctas_live_account). Ties break on the
 * label with ASCII case folded (translate() of A-Z, compared COLLATE "C":
 * g_ascii_strcasecmp's order whatever the database's collation) and then
 * the external id (COLLATE "C": strcmp's). The filters are parameters
 * (NULL or 0: any), checked on the rows the walk meets; the change sort
 * alone, a difference of two days, reads every scored account (top-N).
 *
 * Parameters: $1 day, $2 the day 30 days before, $3 owner, $4 1 for accounts
 * without owner, $5 segment, $6 the bands kept (bits red 1, yellow 2,
 * green 4, none 8; 0 any), $7 limit (NULL none), $8 offset.
 *
 * The data version is the current snapshot (xmin:xmax:running xids): it
 * changes when any transaction of any node that wrote commits or starts,
 * where xmax alone would miss a commit of a transaction older than the
 * latest one begun. */
#include <stdio.h>
#include <string.h>

#include "store/codes.h"
#include "store/pg_int.h"
#include "store/store.h"

#define LIVE "status IN (" SQL_CTA_OPEN ", " SQL_CTA_SNOOZED ")"
#define LABEL_KEY                                                                                  \
    "translate(coalesce(a.name, a.external_id), 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',"                     \
    " 'abcdefghijklmnopqrstuvwxyz') COLLATE \"C\""
#define LABEL LABEL_KEY ", a.external_id COLLATE \"C\""
#define BAND_BIT                                                                                   \
    "(CASE s.band WHEN 'red' THEN 1 WHEN 'yellow' THEN 2 WHEN 'green' THEN 4 ELSE 8 END)"
/* $2 appears in every statement, so that each binds the same parameters. */
#define FILTERS                                                                                    \
    " ($2::integer IS NULL OR true)"                                                               \
    " AND ($3::text IS NULL OR a.csm_email = $3::text) AND ($4::integer = 0 OR a.csm_email IS "    \
    "NULL)"                                                                                        \
    " AND ($5::text IS NULL OR a.segment = $5::text)"                                              \
    " AND ($6::integer = 0 OR $6::integer & " BAND_BIT " <> 0) "
#define JOIN_S  " LEFT JOIN scores s ON s.account_id = a.id AND s.day = $1::integer "
#define JOIN_B  " LEFT JOIN scores b ON b.account_id = a.id AND b.day = $2::integer "
#define COLUMNS "SELECT a.id, a.external_id, a.name "
#define PAGE    " LIMIT $7::bigint OFFSET $8::bigint"

/* FROM ... WHERE of each sort's head (known values) and of the tails. */
#define HEAD_SCORE                                                                                 \
    " FROM scores s JOIN accounts a ON a.id = s.account_id"                                        \
    " WHERE s.day = $1::integer AND s.overall IS NOT NULL AND " FILTERS
#define HEAD_CHANGE                                                                                \
    " FROM scores s JOIN scores b ON b.account_id = s.account_id AND b.day = $2::integer"          \
    " JOIN accounts a ON a.id = s.account_id"                                                      \
    " WHERE s.day = $1::integer AND s.overall IS NOT NULL AND b.overall IS NOT NULL AND " FILTERS
#define HEAD_MRR " FROM accounts a " JOIN_S "WHERE a.mrr IS NOT NULL AND " FILTERS
#define HEAD_ALL " FROM accounts a " JOIN_S "WHERE " FILTERS
#define HEAD_CTAS                                                                                  \
    " FROM (SELECT account_id AS id, count(*) AS n FROM ctas WHERE " LIVE                          \
    " GROUP BY account_id) l"                                                                      \
    " JOIN accounts a ON a.id = l.id " JOIN_S "WHERE " FILTERS
#define TAIL_SCORE " FROM accounts a " JOIN_S "WHERE s.overall IS NULL AND " FILTERS
#define TAIL_CHANGE                                                                                \
    " FROM accounts a " JOIN_S JOIN_B "WHERE (s.overall IS NULL OR b.overall IS NULL) "            \
    "AND " FILTERS
#define TAIL_MRR " FROM accounts a " JOIN_S "WHERE a.mrr IS NULL AND " FILTERS
#define TAIL_CTAS                                                                                  \
    " FROM accounts a " JOIN_S                                                                     \
    "WHERE NOT EXISTS (SELECT 1 FROM ctas c WHERE c.account_id = a.id AND c." LIVE                 \
    ") AND " FILTERS

/* [sort][part - 1]: the ids of head and tail in order; NULL: no tail. */
static const char *const q_rows[6][2] = {
    [STORE_SORT_SCORE] = {COLUMNS HEAD_SCORE "ORDER BY s.overall, " LABEL PAGE,
                          COLUMNS TAIL_SCORE "ORDER BY " LABEL PAGE},
    [STORE_SORT_SCORE_DESC] = {COLUMNS HEAD_SCORE "ORDER BY s.overall DESC, " LABEL PAGE,
                               COLUMNS TAIL_SCORE "ORDER BY " LABEL PAGE},
    [STORE_SORT_CHANGE] = {COLUMNS HEAD_CHANGE "ORDER BY s.overall - b.overall, " LABEL PAGE,
                           COLUMNS TAIL_CHANGE "ORDER BY " LABEL PAGE},
    [STORE_SORT_MRR] = {COLUMNS HEAD_MRR "ORDER BY a.mrr DESC, " LABEL PAGE,
                        COLUMNS TAIL_MRR "ORDER BY " LABEL PAGE},
    [STORE_SORT_NAME] = {COLUMNS HEAD_ALL "ORDER BY " LABEL PAGE, NULL},
    [STORE_SORT_CTAS] = {COLUMNS HEAD_CTAS "ORDER BY l.n DESC, " LABEL PAGE,
                         COLUMNS TAIL_CTAS "ORDER BY " LABEL PAGE},
};
/* [sort]: the head's size; the total (part 0) is q_count_all. */
static const char *const q_count_head[6] = {
    [STORE_SORT_SCORE] = "SELECT count(*) " HEAD_SCORE,
    [STORE_SORT_SCORE_DESC] = "SELECT count(*) " HEAD_SCORE,
    [STORE_SORT_CHANGE] = "SELECT count(*) " HEAD_CHANGE,
    [STORE_SORT_MRR] = "SELECT count(*) " HEAD_MRR,
    [STORE_SORT_NAME] = "SELECT count(*) " HEAD_ALL,
    [STORE_SORT_CTAS] = "SELECT count(*) " HEAD_CTAS,
};
/* The page's rows, in the order of the ids ($3). */
static const char q_rows_of[] =
    "SELECT a.id, a.external_id, a.name, a.segment, a.csm_email, a.mrr, s.account_id, s.overall,"
    " s.band, (SELECT count(*) FROM ctas c WHERE c.account_id = a.id AND c." LIVE "), b.overall"
    " FROM unnest($3::bigint[]) WITH ORDINALITY AS l(id, n) JOIN accounts a ON a.id = l.id " JOIN_S
        JOIN_B "ORDER BY l.n";
static const char q_count_all[] = "SELECT count(*) FROM accounts a " JOIN_S "WHERE " FILTERS;
static const char q_accounts[] = "SELECT count(*) FROM accounts";
/* Every score is of an account (accounts are never deleted). */
static const char q_bands[] = "SELECT band, count(*) FROM scores WHERE day = $1 GROUP BY band";
static const char q_owners[] = "SELECT DISTINCT csm_email COLLATE \"C\" FROM accounts "
                               "WHERE csm_email IS NOT NULL ORDER BY 1";
static const char q_segments[] = "SELECT DISTINCT segment COLLATE \"C\" FROM accounts "
                                 "WHERE segment IS NOT NULL ORDER BY 1";
static const char q_version[] = "SELECT pg_current_snapshot()::text";

enum tend_err pg_data_version(struct store *base, char *buf, size_t size) {
    struct pg_store *s = pg_of(base);
    PGresult *r;
    enum tend_err e = pg_query(s, q_version, NULL, "reading the data version", &r);
    if (e)
        return e;
    const char *v = PQntuples(r) ? pg_text(r, 0, 0) : NULL;
    snprintf(buf, size, "%s", v ? v : "");
    PQclear(r);
    return TEND_OK;
}

struct facet_scan {
    void (*facet)(void *arg, int which, const char *v);
    void *arg;
    int which;
};

static void facet_row(void *arg, PGresult *r, int i) {
    struct facet_scan *f = arg;
    f->facet(f->arg, f->which, pg_text(r, i, 0));
}

enum tend_err pg_account_summary(struct store *base, int32_t day, int64_t *accounts,
                                 int64_t bands[4],
                                 void (*facet)(void *arg, int which, const char *v), void *arg) {
    struct pg_store *s = pg_of(base);
    enum tend_err e = pg_int(s, q_accounts, NULL, "counting accounts", accounts);
    if (e)
        return e;
    struct pg_params p = {0};
    pg_p_int(&p, day);
    PGresult *r;
    if ((e = pg_query(s, q_bands, &p, "counting the day's bands", &r)))
        return e;
    int64_t banded = 0;
    memset(bands, 0, 4 * sizeof *bands);
    for (int i = 0; i < PQntuples(r); i++) {
        const char *b = pg_text(r, i, 0);
        int k = !b                     ? 3
                : !strcmp(b, "red")    ? 0
                : !strcmp(b, "yellow") ? 1
                : !strcmp(b, "green")  ? 2
                                       : 3;
        if (k < 3) {
            bands[k] = pg_i64(r, i, 1);
            banded += bands[k];
        }
    }
    PQclear(r);
    bands[3] = *accounts - banded;
    struct facet_scan f = {.facet = facet, .arg = arg, .which = 0};
    if ((e = pg_stream(s, q_owners, NULL, "listing owners", facet_row, &f)))
        return e;
    f.which = 1;
    return pg_stream(s, q_segments, NULL, "listing segments", facet_row, &f);
}

/* The eight parameters of a list statement (counts: the first six). */
static void params_of(struct pg_params *p, const struct store_account_query *q, bool paged,
                      int64_t limit, int64_t offset) {
    bool none = q->owner && !strcmp(q->owner, "none");
    pg_p_int(p, q->day);
    pg_p_int(p, q->day == INT32_MIN ? INT32_MIN : q->day - 30);
    pg_p_text(p, q->owner && !none ? q->owner : NULL);
    pg_p_int(p, none);
    pg_p_text(p, q->segment);
    pg_p_int(p, (int)(q->bands & 15u));
    if (!paged)
        return;
    if (limit < 0)
        pg_p_null(p);
    else
        pg_p_i64(p, limit);
    pg_p_i64(p, offset < 0 ? 0 : offset);
}

enum tend_err pg_account_count(struct store *base, const struct store_account_query *q, int part,
                               int64_t *n) {
    struct pg_params p = {0};
    params_of(&p, q, false, -1, 0);
    struct pg_store *s = pg_of(base);
    bool unnamed = s->unnamed; /* planned with its parameters, as stream_planned */
    s->unnamed = true;
    enum tend_err e = pg_int(s, part == 0 ? q_count_all : q_count_head[(int)q->sort % 6], &p,
                             "counting accounts", n);
    s->unnamed = unnamed;
    return e;
}

/* pg_stream of a statement sent unprepared, so that each run is planned
 * with its parameters: a prepared statement's generic plan, used after five
 * runs, takes the optional filters ("$3 IS NULL OR ...") for a few rows and
 * may sort every account where a page walks an index (in psql at 10,000
 * accounts: 66 ms sorting all the scored ones; the first page planned with
 * its parameters walks 52 index entries in 0.2 ms). */
static enum tend_err stream_planned(struct pg_store *s, const char *sql, struct pg_params *p,
                                    const char *what, void (*row)(void *arg, PGresult *r, int i),
                                    void *arg) {
    bool unnamed = s->unnamed;
    s->unnamed = true;
    enum tend_err e = pg_stream(s, sql, p, what, row, arg);
    s->unnamed = unnamed;
    return e;
}

struct id_scan {
    void (*fn)(void *arg, int64_t id, const char *external_id, const char *name);
    void *arg;
};

static void id_row(void *arg, PGresult *r, int i) {
    struct id_scan *sc = arg;
    sc->fn(sc->arg, pg_i64(r, i, 0), pg_text(r, i, 1), pg_text(r, i, 2));
}

enum tend_err pg_account_rows(struct store *base, const struct store_account_query *q, int part,
                              int64_t offset, int64_t limit,
                              void (*fn)(void *arg, int64_t id, const char *external_id,
                                         const char *name),
                              void *arg) {
    const char *sql = part == 1 || part == 2 ? q_rows[(int)q->sort % 6][part - 1] : NULL;
    if (!sql)
        return TEND_OK;
    struct pg_params p = {0};
    params_of(&p, q, true, limit, offset);
    struct id_scan sc = {.fn = fn, .arg = arg};
    return stream_planned(pg_of(base), sql, &p, "listing accounts", id_row, &sc);
}

struct row_scan {
    void (*fn)(void *arg, const struct store_account_brief *b);
    void *arg;
};

static void list_row(void *arg, PGresult *r, int i) {
    struct row_scan *sc = arg;
    struct store_account_brief b = {
        .id = pg_i64(r, i, 0),
        .external_id = pg_text(r, i, 1),
        .name = pg_text(r, i, 2),
        .segment = pg_text(r, i, 3),
        .owner = pg_text(r, i, 4),
        .has_mrr = !pg_null(r, i, 5),
        .mrr = pg_f64(r, i, 5),
        .has_score = !pg_null(r, i, 6),
        .has_overall = !pg_null(r, i, 7),
        .overall = pg_f64(r, i, 7),
        .band = pg_null(r, i, 8) ? "none" : pg_text(r, i, 8),
        .live_ctas = pg_i64(r, i, 9),
        .has_before = !pg_null(r, i, 10),
        .before = pg_f64(r, i, 10),
    };
    sc->fn(sc->arg, &b);
}

enum tend_err pg_account_rows_of(struct store *base, int32_t day, const int64_t *ids, size_t n,
                                 void (*fn)(void *arg, const struct store_account_brief *b),
                                 void *arg) {
    struct pg_params p = {0};
    pg_p_int(&p, day);
    pg_p_int(&p, day == INT32_MIN ? INT32_MIN : day - 30);
    pg_p_ids(&p, ids, n);
    struct row_scan sc = {.fn = fn, .arg = arg};
    return pg_stream(pg_of(base), q_rows_of, &p, "reading the listed accounts", list_row, &sc);
}
