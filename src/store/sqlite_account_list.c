/* sqlite_account_list.c: the dashboard's account list in the SQLite backend
 * (backend.h's data_version, account_summary, account_count, account_rows;
 * account_list.c pages and keeps them; pg_account_list.c is the same on
 * PostgreSQL).
 *
 * Each sort's head (known values) and tail (unknown, by label) is a static
 * statement of ids (and names, for a search) walking an index in the sort's
 * order (migration 23), so that skipping to a deep page reads no more than
 * the walk; the page's rows are then read by id (q_rows_of). The day's
 * scores by overall (scores_rank), accounts by label (accounts_label) or by
 * MRR (accounts_mrr), the live CTAs (ctas_live_account). Ties break on the
 * label with ASCII case folded (COLLATE NOCASE: g_ascii_strcasecmp's order)
 * and then the external id (BINARY: strcmp's). The filters are parameters
 * (NULL or 0: any), checked on the rows the walk meets; the change sort
 * alone, a difference of two days, reads every scored account (top-N).
 *
 * Parameters: ?1 day, ?2 the day 30 days before, ?3 owner, ?4 1 for accounts
 * without owner, ?5 segment, ?6 the bands kept (bits red 1, yellow 2,
 * green 4, none 8; 0 any), ?7 limit (-1 none), ?8 offset. */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "store/codes.h"
#include "store/sqlite_int.h"
#include "store/store.h"

#define LIVE  "status IN (" SQL_CTA_OPEN ", " SQL_CTA_SNOOZED ")"
#define LABEL "coalesce(a.name, a.external_id) COLLATE NOCASE, a.external_id"
#define BAND_BIT                                                                                   \
    "(CASE s.band WHEN 'red' THEN 1 WHEN 'yellow' THEN 2 WHEN 'green' THEN 4 ELSE 8 END)"
/* ?2 appears in every statement, so that each binds the same parameters. */
#define FILTERS                                                                                    \
    " (?2 IS NULL OR 1) AND (?3 IS NULL OR a.csm_email = ?3) AND (?4 = 0 OR a.csm_email IS NULL)"  \
    " AND (?5 IS NULL OR a.segment = ?5) AND (?6 = 0 OR ?6 & " BAND_BIT " <> 0) "
#define JOIN_S  " LEFT JOIN scores s ON s.day = ?1 AND s.account_id = a.id "
#define JOIN_B  " LEFT JOIN scores b ON b.day = ?2 AND b.account_id = a.id "
#define COLUMNS "SELECT a.id, a.external_id, a.name "
#define PAGE    " LIMIT ?7 OFFSET ?8"

/* FROM ... WHERE of each sort's head (known values) and of the tails. */
#define HEAD_SCORE                                                                                 \
    " FROM scores s CROSS JOIN accounts a ON a.id = s.account_id"                                  \
    " WHERE s.day = ?1 AND s.overall IS NOT NULL AND " FILTERS
#define HEAD_CHANGE                                                                                \
    " FROM scores s CROSS JOIN scores b ON b.day = ?2 AND b.account_id = s.account_id"             \
    " CROSS JOIN accounts a ON a.id = s.account_id"                                                \
    " WHERE s.day = ?1 AND s.overall IS NOT NULL AND b.overall IS NOT NULL AND " FILTERS
#define HEAD_MRR " FROM accounts a " JOIN_S "WHERE a.mrr IS NOT NULL AND " FILTERS
#define HEAD_ALL " FROM accounts a " JOIN_S "WHERE " FILTERS
#define HEAD_CTAS                                                                                  \
    " FROM (SELECT account_id AS id, count(*) AS n FROM ctas WHERE " LIVE                          \
    " GROUP BY account_id) l"                                                                      \
    " CROSS JOIN accounts a ON a.id = l.id " JOIN_S "WHERE " FILTERS
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
/* The page's rows, in the order of the ids (?3, a JSON array). */
static const char q_rows_of[] =
    "SELECT a.id, a.external_id, a.name, a.segment, a.csm_email, a.mrr, s.account_id, s.overall,"
    " s.band, (SELECT count(*) FROM ctas c WHERE c.account_id = a.id AND c." LIVE "), b.overall"
    " FROM json_each(?3) j CROSS JOIN accounts a ON a.id = j.value " JOIN_S JOIN_B "ORDER BY j.key";
static const char q_count_all[] = "SELECT count(*) FROM accounts a " JOIN_S "WHERE " FILTERS;
static const char q_accounts[] = "SELECT count(*) FROM accounts";
/* Every score is of an account (accounts are never deleted). */
static const char q_bands[] = "SELECT band, count(*) FROM scores WHERE day = ? GROUP BY band";
static const char q_owners[] =
    "SELECT DISTINCT csm_email FROM accounts WHERE csm_email IS NOT NULL ORDER BY csm_email";
static const char q_segments[] =
    "SELECT DISTINCT segment FROM accounts WHERE segment IS NOT NULL ORDER BY segment";
static const char q_version[] = "PRAGMA data_version";

enum tend_err sqlite_data_version(struct store *base, char *buf, size_t size) {
    struct sqlite_store *s = sqlite_of(base);
    /* The pragma reads the file's state (a read transaction), which brings
     * the pager's data version up to date; that counter, unlike the
     * pragma's, also counts this connection's own commits. */
    sqlite3_stmt *st = sqlite_stmt(s, q_version);
    int rc = sqlite_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW)
        return sqlite_fail(s, "reading the data version");
    unsigned v = 0;
    sqlite3_file_control(s->db, "main", SQLITE_FCNTL_DATA_VERSION, &v);
    snprintf(buf, size, "%u", v);
    return TEND_OK;
}

static enum tend_err one_count(struct sqlite_store *s, sqlite3_stmt *st, int64_t *n,
                               const char *what) {
    int rc = sqlite_step(st);
    *n = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_ROW ? TEND_OK : sqlite_fail(s, what);
}

static enum tend_err each_text(struct sqlite_store *s, const char *sql, int which,
                               void (*facet)(void *arg, int which, const char *v), void *arg) {
    sqlite3_stmt *st = sqlite_stmt(s, sql);
    int rc;
    while ((rc = sqlite_step(st)) == SQLITE_ROW)
        facet(arg, which, sqlite_col_text(st, 0));
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? TEND_OK : sqlite_fail(s, "listing owners and segments");
}

enum tend_err sqlite_account_summary(struct store *base, int32_t day, int64_t *accounts,
                                     int64_t bands[4],
                                     void (*facet)(void *arg, int which, const char *v),
                                     void *arg) {
    struct sqlite_store *s = sqlite_of(base);
    enum tend_err e = one_count(s, sqlite_stmt(s, q_accounts), accounts, "counting accounts");
    if (e)
        return e;
    sqlite3_stmt *st = sqlite_stmt(s, q_bands);
    sqlite3_bind_int(st, 1, day);
    int rc;
    int64_t banded = 0;
    memset(bands, 0, 4 * sizeof *bands);
    while ((rc = sqlite_step(st)) == SQLITE_ROW) {
        const char *b = sqlite_col_text(st, 0);
        int64_t n = sqlite3_column_int64(st, 1);
        int k = !b                     ? 3
                : !strcmp(b, "red")    ? 0
                : !strcmp(b, "yellow") ? 1
                : !strcmp(b, "green")  ? 2
                                       : 3;
        if (k < 3) {
            bands[k] = n;
            banded += n;
        }
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE)
        return sqlite_fail(s, "counting the day's bands");
    bands[3] = *accounts - banded;
    if ((e = each_text(s, q_owners, 0, facet, arg)))
        return e;
    return each_text(s, q_segments, 1, facet, arg);
}

/* Binds the eight parameters of a list statement. */
static void bind_query(sqlite3_stmt *st, const struct store_account_query *q, int64_t limit,
                       int64_t offset) {
    bool none = q->owner && !strcmp(q->owner, "none");
    sqlite3_bind_int(st, 1, q->day);
    sqlite3_bind_int(st, 2, q->day == INT32_MIN ? INT32_MIN : q->day - 30);
    if (q->owner && !none)
        sqlite3_bind_text(st, 3, q->owner, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 3);
    sqlite3_bind_int(st, 4, none);
    if (q->segment)
        sqlite3_bind_text(st, 5, q->segment, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 5);
    sqlite3_bind_int(st, 6, (int)(q->bands & 15u));
    if (sqlite3_bind_parameter_count(st) >= 8) {
        sqlite3_bind_int64(st, 7, limit < 0 ? -1 : limit);
        sqlite3_bind_int64(st, 8, offset < 0 ? 0 : offset);
    }
}

enum tend_err sqlite_account_count(struct store *base, const struct store_account_query *q,
                                   int part, int64_t *n) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, part == 0 ? q_count_all : q_count_head[(int)q->sort % 6]);
    bind_query(st, q, -1, 0);
    return one_count(s, st, n, "counting accounts");
}

enum tend_err sqlite_account_rows(struct store *base, const struct store_account_query *q, int part,
                                  int64_t offset, int64_t limit,
                                  void (*fn)(void *arg, int64_t id, const char *external_id,
                                             const char *name),
                                  void *arg) {
    struct sqlite_store *s = sqlite_of(base);
    const char *sql = part == 1 || part == 2 ? q_rows[(int)q->sort % 6][part - 1] : NULL;
    if (!sql)
        return TEND_OK;
    sqlite3_stmt *st = sqlite_stmt(s, sql);
    bind_query(st, q, limit, offset);
    int rc;
    while ((rc = sqlite_step(st)) == SQLITE_ROW)
        fn(arg, sqlite3_column_int64(st, 0), sqlite_col_text(st, 1), sqlite_col_text(st, 2));
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? TEND_OK : sqlite_fail(s, "listing accounts");
}

enum tend_err sqlite_account_rows_of(struct store *base, int32_t day, const int64_t *ids, size_t n,
                                     void (*fn)(void *arg, const struct store_account_brief *b),
                                     void *arg) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_rows_of);
    sqlite3_bind_int(st, 1, day);
    sqlite3_bind_int(st, 2, day == INT32_MIN ? INT32_MIN : day - 30);
    sqlite_bind_ids(st, 3, ids, n);
    int rc;
    while ((rc = sqlite_step(st)) == SQLITE_ROW) {
        struct store_account_brief b = {
            .id = sqlite3_column_int64(st, 0),
            .external_id = sqlite_col_text(st, 1),
            .name = sqlite_col_text(st, 2),
            .segment = sqlite_col_text(st, 3),
            .owner = sqlite_col_text(st, 4),
            .has_mrr = sqlite3_column_type(st, 5) != SQLITE_NULL,
            .mrr = sqlite3_column_double(st, 5),
            .has_score = sqlite3_column_type(st, 6) != SQLITE_NULL,
            .has_overall = sqlite3_column_type(st, 7) != SQLITE_NULL,
            .overall = sqlite3_column_double(st, 7),
            .band = sqlite3_column_type(st, 8) != SQLITE_NULL ? sqlite_col_text(st, 8) : "none",
            .live_ctas = sqlite3_column_int64(st, 9),
            .has_before = sqlite3_column_type(st, 10) != SQLITE_NULL,
            .before = sqlite3_column_double(st, 10),
        };
        fn(arg, &b);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? TEND_OK : sqlite_fail(s, "reading the listed accounts");
}
