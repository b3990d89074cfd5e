/* test_store_account_list.c: the dashboard's account list a page at a time
 * (store_account_list, store/account_list.c and the backends'
 * *_account_list.c) on either backend (test_db.h: SQLite, or PostgreSQL
 * under tests/integration/store_pg.sh).
 *
 * - Every sort, every filter (owner, "none", segment, bands) and every page
 *   lists the rows, in the order, that the whole list sorted in memory
 *   lists (the oracle below: the comparison the dashboard used before,
 *   over store_account_briefs), on data made of ties: equal scores, labels
 *   equal but for case, accounts without a name, a score, an MRR or CTAs.
 * - The counts and facets kept per data version follow every commit: an
 *   account scored into another band moves on the next call, on the same
 *   connection and from another one (another node); an owner set, a CTA
 *   opened, an account created show at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <glib.h>

#include "core/cta.h"
#include "store/store.h"
#include "test_db.h"

#define DAY 20000
#define N   41

static char dir[256];
static int n_db;

static struct store *open_path(const char *path) {
    struct store *s;
    char err[STORE_ERR_BYTES];
    if (test_db_open(path, &s, err) != TEND_OK)
        fail_msg("store_open %s: %s", path, err);
    return s;
}

static struct store *fresh(char *path, size_t size) {
    snprintf(path, size, "%s/list-%d.db", dir, ++n_db);
    return open_path(path);
}

static void check(struct store *s, enum tend_err e, const char *what) {
    if (e != TEND_OK)
        fail_msg("%s: %s", what, store_last_error(s));
}

static int64_t account(struct store *s, const char *ext, const char *name, const char *owner,
                       const char *segment, bool has_mrr, double mrr) {
    int64_t id = 0;
    bool created = false;
    check(s, store_account_ensure(s, ext, 1000, &id, &created), "account_ensure");
    struct store_account_fields f = {
        .name = name, .csm_email = owner, .segment = segment, .has_mrr = has_mrr, .mrr = mrr};
    check(s, store_account_set_fields(s, id, &f, "{}"), "account_set_fields");
    return id;
}

static void score(struct store *s, int64_t id, int32_t day, bool has, double overall) {
    struct store_score sc = {.day = day, .has_overall = has, .overall = overall};
    snprintf(sc.band, sizeof sc.band, "%s",
             !has           ? "none"
             : overall < 40 ? "red"
             : overall < 70 ? "yellow"
                            : "green");
    snprintf(sc.config_version, sizeof sc.config_version, "v1");
    check(s, store_score_put(s, id, &sc), "score_put");
}

static void live_cta(struct store *s, int64_t id, const char *rule, int status) {
    struct store_cta c = {.account_id = id,
                          .rule = rule,
                          .subject = "",
                          .type = "risk",
                          .priority = 1,
                          .status = status,
                          .owner = "csm@x",
                          .title = "T",
                          .reason = "R",
                          .evidence = "{}",
                          .opened_day = DAY - 1,
                          .due_day = DAY + 6,
                          .updated_ms = 5000,
                          .has_closed = status == CTA_CLOSED,
                          .closed_day = DAY};
    int64_t cid;
    check(s, store_cta_insert(s, &c, &cid), "cta_insert");
}

/* Ties everywhere: 41 accounts, names equal but for case (and none),
 * scores and MRRs repeating, some unknown, CTAs on a few. */
static void populate(struct store *s) {
    static const char *const names[] = {"Acme", "acme", "ACME",  NULL,     "beta",
                                        "Beta", "zed",  "Ärger", "_under", "a"};
    static const char *const owners[] = {"ann@x", "bob@x", NULL, "Ann@x"};
    static const char *const segments[] = {"smb", "ent", NULL};
    static const double scores[] = {10, 20.5, 20.5, 55, 80, 39.9, 70};
    check(s, store_begin(s, NULL), "begin");
    for (int i = 0; i < N; i++) {
        char ext[16];
        snprintf(ext, sizeof ext, "%c%02d", i % 5 == 0 ? 'A' : 'a', (i * 7) % N);
        int64_t id = account(s, ext, names[i % 10], owners[i % 4], segments[i % 3], i % 6 != 0,
                             (double)(i % 4) * 100);
        if (i % 8 != 7)
            score(s, id, DAY, i % 9 != 4, scores[i % 7]);
        if (i % 3 != 2)
            score(s, id, DAY - 30, i % 11 != 3, scores[(i + 3) % 7]);
        score(s, id, DAY - 1, true, 50); /* another day: never listed */
        if (i % 5 == 1)
            live_cta(s, id, "r1", CTA_OPEN);
        if (i % 10 == 1)
            live_cta(s, id, "r2", CTA_SNOOZED);
        if (i % 7 == 2)
            live_cta(s, id, "r3", CTA_CLOSED);
    }
    check(s, store_commit(s), "commit");
}

/* ---- the oracle: the whole list sorted in memory --------------------------- */

struct row {
    int64_t id;
    char ext[32], name[32], owner[32], segment[32], band[8];
    bool has_name, has_owner, has_segment, has_mrr, has_overall, has_before;
    double mrr, overall, before;
    int64_t live;
};

struct rows {
    struct row v[64];
    int n;
};

static void copy_row(struct row *r, const struct store_account_brief *b) {
    memset(r, 0, sizeof *r);
    r->id = b->id;
    snprintf(r->ext, sizeof r->ext, "%s", b->external_id);
    if ((r->has_name = b->name != NULL))
        snprintf(r->name, sizeof r->name, "%s", b->name);
    if ((r->has_owner = b->owner != NULL))
        snprintf(r->owner, sizeof r->owner, "%s", b->owner);
    if ((r->has_segment = b->segment != NULL))
        snprintf(r->segment, sizeof r->segment, "%s", b->segment);
    snprintf(r->band, sizeof r->band, "%s", b->band);
    r->has_mrr = b->has_mrr;
    r->mrr = b->mrr;
    r->has_overall = b->has_overall;
    r->overall = b->overall;
    r->live = b->live_ctas;
}

static void on_brief(void *arg, const struct store_account_brief *b) {
    struct rows *l = arg;
    if (l->n < 64)
        copy_row(&l->v[l->n++], b);
}

static void on_listed(void *arg, const struct store_account_brief *b) {
    struct rows *l = arg;
    if (l->n < 64) {
        copy_row(&l->v[l->n], b);
        l->v[l->n].has_before = b->has_before;
        l->v[l->n].before = b->before;
        l->n++;
    }
}

struct before {
    int64_t id[64];
    double v[64];
    int n;
};

static void on_before(void *arg, int64_t id, bool has, double overall) {
    struct before *b = arg;
    if (has && b->n < 64) {
        b->id[b->n] = id;
        b->v[b->n++] = overall;
    }
}

static const char *label(const struct row *r) {
    return r->has_name ? r->name : r->ext;
}

static int cmp_known(bool ha, double a, bool hb, double b, bool ascending) {
    if (ha != hb)
        return ha ? -1 : 1;
    if (!ha || a == b)
        return 0;
    return (a < b) == ascending ? -1 : 1;
}

/* The dashboard's comparison before store_account_list (server/views.c). */
static int by_sort(const void *pa, const void *pb, void *key) {
    const struct row *a = pa, *b = pb;
    int c = 0;
    switch (*(const enum store_account_sort *)key) {
    case STORE_SORT_SCORE:
        c = cmp_known(a->has_overall, a->overall, b->has_overall, b->overall, true);
        break;
    case STORE_SORT_SCORE_DESC:
        c = cmp_known(a->has_overall, a->overall, b->has_overall, b->overall, false);
        break;
    case STORE_SORT_CHANGE:
        c = cmp_known(a->has_overall && a->has_before, a->overall - a->before,
                      b->has_overall && b->has_before, b->overall - b->before, true);
        break;
    case STORE_SORT_MRR:
        c = cmp_known(a->has_mrr, a->mrr, b->has_mrr, b->mrr, false);
        break;
    case STORE_SORT_CTAS:
        c = cmp_known(true, (double)a->live, true, (double)b->live, false);
        break;
    case STORE_SORT_NAME:
        break;
    }
    if (!c)
        c = g_ascii_strcasecmp(label(a), label(b));
    return c ? c : strcmp(a->ext, b->ext);
}

static int band_bit(const char *b) {
    return !strcmp(b, "red") ? 1 : !strcmp(b, "yellow") ? 2 : !strcmp(b, "green") ? 4 : 8;
}

static bool kept(const struct row *r, const struct store_account_query *q) {
    if (q->owner && !strcmp(q->owner, "none")) {
        if (r->has_owner)
            return false;
    } else if (q->owner && (!r->has_owner || strcmp(r->owner, q->owner))) {
        return false;
    }
    if (q->segment && (!r->has_segment || strcmp(r->segment, q->segment)))
        return false;
    return !q->bands || (q->bands & (unsigned)band_bit(r->band));
}

/* A search for the tests: "1" in the external id or a name starting
 * with a (either case). */
static bool search(void *arg, const char *external_id, const char *name) {
    (void)arg;
    return strchr(external_id, '1') || (name && (name[0] == 'a' || name[0] == 'A'));
}

/* The oracle's list for q (every row), sorted. */
static void oracle(struct store *s, const struct store_account_query *q, struct rows *out) {
    struct rows all = {0};
    check(s, store_account_briefs(s, q->day, on_brief, &all), "account_briefs");
    struct before b = {0};
    check(s, store_scores_of_day(s, q->day - 30, on_before, &b), "scores_of_day");
    out->n = 0;
    for (int i = 0; i < all.n; i++) {
        struct row *r = &all.v[i];
        for (int k = 0; k < b.n; k++)
            if (b.id[k] == r->id) {
                r->has_before = true;
                r->before = b.v[k];
            }
        if (kept(r, q) && (!q->match || q->match(NULL, r->ext, r->has_name ? r->name : NULL)))
            out->v[out->n++] = *r;
    }
    enum store_account_sort key = q->sort;
    g_qsort_with_data(out->v, out->n, sizeof out->v[0], by_sort, &key);
}

static void same_row(const struct row *want, const struct row *got, const char *what, int nth) {
    if (want->id != got->id)
        fail_msg("%s: row %d is %s (\"%s\"), not %s (\"%s\")", what, nth, got->ext, label(got),
                 want->ext, label(want));
    if (strcmp(want->band, got->band) || want->live != got->live ||
        want->has_before != got->has_before || (want->has_before && want->before != got->before) ||
        want->has_overall != got->has_overall ||
        (want->has_overall && want->overall != got->overall))
        fail_msg("%s: row %d (%s): band %s/%s, live %lld/%lld, before %d/%d", what, nth, got->ext,
                 got->band, want->band, (long long)got->live, (long long)want->live,
                 got->has_before, want->has_before);
}

/* Every page of size per_page of q against the oracle; returns the pages. */
static int pages_match(struct store *s, struct store_account_query q, int per_page,
                       const char *what) {
    struct rows want;
    oracle(s, &q, &want);
    int pages = 0;
    for (int from = 0; from <= want.n; from += per_page, pages++) {
        struct rows got = {0};
        struct store_account_summary sum;
        q.offset = from;
        q.limit = per_page;
        check(s, store_account_list(s, &q, &sum, on_listed, &got), "account_list");
        if (sum.total != want.n)
            fail_msg("%s: total %lld, not %d", what, (long long)sum.total, want.n);
        int expect = want.n - from < per_page ? want.n - from : per_page;
        if (got.n != expect)
            fail_msg("%s, from %d: %d rows, not %d", what, from, got.n, expect);
        for (int i = 0; i < got.n; i++)
            same_row(&want.v[from + i], &got.v[i], what, from + i);
    }
    /* Every row at once (a search's walk), from an offset inside the list. */
    struct rows got = {0};
    struct store_account_summary sum;
    q.offset = want.n / 2;
    q.limit = -1;
    check(s, store_account_list(s, &q, &sum, on_listed, &got), "account_list");
    if (got.n != want.n - want.n / 2)
        fail_msg("%s, every row from %d: %d rows, not %d", what, want.n / 2, got.n,
                 want.n - want.n / 2);
    for (int i = 0; i < got.n; i++)
        same_row(&want.v[want.n / 2 + i], &got.v[i], what, want.n / 2 + i);
    return pages;
}

static const char *const sort_names[] = {"score", "-score", "change", "mrr", "name", "ctas"};

static void test_every_sort_filter_and_page_lists_what_sorting_everything_lists(void **state) {
    (void)state;
    char path[300];
    struct store *s = fresh(path, sizeof path);
    populate(s);
    static const struct {
        const char *owner, *segment;
        unsigned bands;
    } filters[] = {
        {NULL, NULL, 0},     {"ann@x", NULL, 0},     {"none", NULL, 0},
        {NULL, "smb", 0},    {NULL, NULL, 1 | 2},    {NULL, NULL, 8},
        {"bob@x", "ent", 4}, {"Ann@x", NULL, 8 | 4}, {"nobody@x", NULL, 0},
    };
    int checked = 0;
    for (int sort = 0; sort < 6; sort++)
        for (size_t f = 0; f < sizeof filters / sizeof filters[0]; f++)
            for (int per_page = 1; per_page <= 10; per_page += 3) {
                char what[160];
                snprintf(what, sizeof what, "sort %s, owner %s, segment %s, bands %u, per page %d",
                         sort_names[sort], filters[f].owner ? filters[f].owner : "-",
                         filters[f].segment ? filters[f].segment : "-", filters[f].bands, per_page);
                struct store_account_query q = {.day = DAY,
                                                .owner = filters[f].owner,
                                                .segment = filters[f].segment,
                                                .bands = filters[f].bands,
                                                .sort = (enum store_account_sort)sort};
                if (per_page == 10) { /* a search's pages */
                    q.match = search;
                    strcat(what, ", a search");
                }
                checked += pages_match(s, q, per_page, what);
            }
    /* Pages past the end are empty and say the total. */
    struct rows got = {0};
    struct store_account_summary sum;
    struct store_account_query q = {.day = DAY, .offset = 1000, .limit = 50};
    check(s, store_account_list(s, &q, &sum, on_listed, &got), "account_list");
    assert_int_equal(got.n, 0);
    assert_int_equal(sum.total, N);
    /* Facets: distinct, byte order; bands of the day. */
    assert_int_equal(sum.n_owners, 3);
    assert_string_equal(sum.owners[0], "Ann@x");
    assert_string_equal(sum.owners[1], "ann@x");
    assert_string_equal(sum.owners[2], "bob@x");
    assert_int_equal(sum.n_segments, 2);
    assert_string_equal(sum.segments[0], "ent");
    int64_t bands = sum.bands[0] + sum.bands[1] + sum.bands[2] + sum.bands[3];
    assert_int_equal(bands, N);
    /* No scores at all: every account "none", listed by label. */
    q = (struct store_account_query){.day = INT32_MIN, .limit = 50};
    got.n = 0;
    check(s, store_account_list(s, &q, &sum, on_listed, &got), "account_list");
    assert_int_equal(got.n, N);
    assert_int_equal(sum.bands[3], N);
    print_message(
        "ok: %d pages of 6 sorts x 9 filters x 3 page sizes and a search match the sorted list on "
        "%s\n",
        checked, test_db_backend());
    store_close(s);
}

/* The first row of the list of q, its band and the band counts. */
static void first(struct store *s, struct store_account_query q, struct rows *got,
                  struct store_account_summary *sum) {
    got->n = 0;
    q.offset = 0;
    q.limit = 1;
    check(s, store_account_list(s, &q, sum, on_listed, got), "account_list");
    if (got->n != 1)
        fail_msg("no first row");
}

static void test_the_kept_counts_follow_every_commit_of_any_connection(void **state) {
    (void)state;
    char path[300];
    struct store *s = fresh(path, sizeof path);
    struct store *other = open_path(path); /* another node */
    populate(s);
    struct rows got;
    struct store_account_summary sum;
    struct store_account_query worst = {.day = DAY, .sort = STORE_SORT_SCORE};
    first(s, worst, &got, &sum);
    int64_t red = sum.bands[0], green = sum.bands[2];
    int64_t was_first = got.v[0].id;
    assert_string_equal(got.v[0].band, "red");

    /* This connection scores the worst account green: it moves at once. */
    check(s, store_begin(s, NULL), "begin");
    score(s, was_first, DAY, true, 99);
    check(s, store_commit(s), "commit");
    first(s, worst, &got, &sum);
    if (got.v[0].id == was_first || sum.bands[0] != red - 1 || sum.bands[2] != green + 1)
        fail_msg("after our own commit: first %lld (was %lld), red %lld (was %lld)",
                 (long long)got.v[0].id, (long long)was_first, (long long)sum.bands[0],
                 (long long)red);
    struct store_account_query greens = {.day = DAY, .bands = STORE_BAND_GREEN, .limit = 100};
    struct rows g = {0};
    check(s, store_account_list(s, &greens, &sum, on_listed, &g), "account_list");
    assert_int_equal(sum.total, green + 1);

    /* Another node scores it red again, below every other: it is first. */
    check(other, store_begin(other, NULL), "begin");
    score(other, was_first, DAY, true, 0.5);
    check(other, store_commit(other), "commit");
    first(s, worst, &got, &sum);
    if (got.v[0].id != was_first || sum.bands[0] != red || sum.bands[2] != green)
        fail_msg("after another node's commit: first %lld (want %lld), red %lld (want %lld)",
                 (long long)got.v[0].id, (long long)was_first, (long long)sum.bands[0],
                 (long long)red);
    g.n = 0;
    check(s, store_account_list(s, &greens, &sum, on_listed, &g), "account_list");
    assert_int_equal(sum.total, green);

    /* A new owner (a facet and an owner's count), a new account, a CTA. */
    struct store_account_query of_zoe = {.day = DAY, .owner = "zoe@x", .limit = 10};
    struct rows z = {0};
    check(s, store_account_list(s, &of_zoe, &sum, on_listed, &z), "account_list");
    assert_int_equal(sum.total, 0);
    size_t owners = sum.n_owners;
    int64_t accounts = sum.accounts;
    check(other, store_begin(other, NULL), "begin");
    int64_t zid = account(other, "zz-new", "Zoe's", "zoe@x", "smb", true, 1e9);
    for (int i = 0; i < 5; i++) {
        char rule[8];
        snprintf(rule, sizeof rule, "z%d", i);
        live_cta(other, zid, rule, CTA_OPEN);
    }
    check(other, store_commit(other), "commit");
    z.n = 0;
    check(s, store_account_list(s, &of_zoe, &sum, on_listed, &z), "account_list");
    assert_int_equal(sum.total, 1);
    assert_int_equal(z.n, 1);
    assert_int_equal(sum.n_owners, owners + 1);
    assert_int_equal(sum.accounts, accounts + 1);
    first(s, (struct store_account_query){.day = DAY, .sort = STORE_SORT_CTAS}, &got, &sum);
    assert_int_equal(got.v[0].id, zid);
    assert_int_equal(got.v[0].live, 5);
    first(s, (struct store_account_query){.day = DAY, .sort = STORE_SORT_MRR}, &got, &sum);
    assert_int_equal(got.v[0].id, zid);
    print_message("ok: the worst account moves with its score, from this connection and another, "
                  "on %s\n",
                  test_db_backend());
    store_close(other);
    store_close(s);
}

static int setup(void **state) {
    (void)state;
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/tend-test-store-list-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_sort_filter_and_page_lists_what_sorting_everything_lists),
        cmocka_unit_test(test_the_kept_counts_follow_every_commit_of_any_connection),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
