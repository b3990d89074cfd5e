/* ingest.c: the ingest pipeline (see ingest.h).
 *
 * Hot path: a track event with context.groupId of a known account costs two
 * hash look-ups (account, event name) and one insert. Everything that touches
 * more (traits, memberships, quarantine) happens on identify and group calls,
 * which are rare next to track events.
 *
 * Caches (GLib hash tables: open addressing, so a hit costs about one cache
 * miss, which measured 12% of the writer's time with chained uthash buckets)
 * map external ids to internal ids and users to their memberships. They
 * are only an optimisation of the store's answers, so they are dropped
 * whenever they could be stale: after a rollback (ids may not exist any more),
 * when another process committed (store_begin tells), and when they outgrow
 * INGEST_CACHE_MAX entries (memory stays flat on any input). */
#include "ingest/ingest.h"

#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <xxhash.h>

#include "ingest/text.h"
#include "util/datetime.h"
#include "util/mem.h"

#define INGEST_CACHE_MAX 1000000

struct user_entry {
    char *key; /* "u:" + userId or "a:" + anonymousId */
    int64_t id;
    bool loaded; /* memberships below are current */
    struct store_membership *m;
    size_t n;
};

struct ingest {
    struct store *store;
    int64_t last_account;    /* of the last message applied, when accepted (0: none) */
    GHashTable *accounts;    /* external id (owned) -> internal id */
    GHashTable *names;       /* name (owned) -> id */
    GHashTable *users;       /* user key (owned by the entry) -> struct user_entry */
    GHashTable *users_by_id; /* internal id -> struct user_entry (borrowed) */
    size_t cached;
    /* This transaction's event count per account, indexed by the account's
     * internal id (SQLite row ids: small and dense, so an array beats a hash
     * on the hot path), and the ids touched, to flush and clear them. */
    int64_t *account_events;
    size_t account_events_cap;
    int64_t *touched;
    size_t n_touched, cap_touched;
    /* Per account id: 1 + the last day recorded in login_days, so a day's
     * first login writes the row and the others skip it. */
    int32_t *login_day;
    size_t login_day_cap;
    int64_t kind_events[EV_ALIAS + 1]; /* this transaction's per-kind counts */
    int64_t traits_over_limit;         /* this transaction's trait keys not merged */
    struct ingest_totals tx;           /* this transaction */
    struct ingest_totals total;        /* committed */
};

static void user_entry_free(void *p) {
    struct user_entry *u = p;
    free(u->key);
    free(u->m);
    free(u);
}

struct ingest *ingest_new(struct store *s) {
    struct ingest *ig = xcalloc(1, sizeof *ig);
    ig->store = s;
    ig->accounts = g_hash_table_new_full(g_str_hash, g_str_equal, free, NULL);
    ig->names = g_hash_table_new_full(g_str_hash, g_str_equal, free, NULL);
    ig->users = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, user_entry_free);
    ig->users_by_id = g_hash_table_new(g_int64_hash, g_int64_equal);
    return ig;
}

static void drop_caches(struct ingest *ig) {
    if (ig->login_day)
        memset(ig->login_day, 0, ig->login_day_cap * sizeof *ig->login_day);
    g_hash_table_remove_all(ig->accounts);
    g_hash_table_remove_all(ig->names);
    g_hash_table_remove_all(ig->users_by_id);
    g_hash_table_remove_all(ig->users);
    ig->cached = 0;
}

static void forget_tx(struct ingest *ig) {
    for (size_t i = 0; i < ig->n_touched; i++)
        ig->account_events[ig->touched[i]] = 0;
    ig->n_touched = 0;
    memset(ig->kind_events, 0, sizeof ig->kind_events);
    ig->traits_over_limit = 0;
    memset(&ig->tx, 0, sizeof ig->tx);
}

void ingest_free(struct ingest *ig) {
    if (!ig)
        return;
    store_rollback(ig->store);
    forget_tx(ig);
    g_hash_table_destroy(ig->users_by_id);
    g_hash_table_destroy(ig->users);
    g_hash_table_destroy(ig->names);
    g_hash_table_destroy(ig->accounts);
    free(ig->account_events);
    free(ig->touched);
    free(ig->login_day);
    free(ig);
}

enum tend_err ingest_begin(struct ingest *ig) {
    bool changed = false;
    enum tend_err err = store_begin(ig->store, &changed);
    if (!err && (changed || ig->cached > INGEST_CACHE_MAX))
        drop_caches(ig);
    return err;
}

static int cmp_id(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Writes this transaction's counts into the store, the accounts' in id
 * order: two nodes' transactions that touched the same accounts then lock
 * their rows in one order and wait for each other instead of deadlocking. */
static enum tend_err flush_counts(struct ingest *ig) {
    enum tend_err err;
    if (ig->n_touched > 1)
        qsort(ig->touched, ig->n_touched, sizeof *ig->touched, cmp_id);
    for (size_t i = 0; i < ig->n_touched; i++) {
        int64_t id = ig->touched[i];
        if ((err = store_account_count_events(ig->store, id, ig->account_events[id])))
            return err;
    }
    for (int k = 0; k <= EV_ALIAS; k++) {
        if (!ig->kind_events[k])
            continue;
        char name[64];
        snprintf(name, sizeof name, "events.%s", vocab_kind_key((enum event_kind)k));
        if ((err = store_counter_add(ig->store, name, ig->kind_events[k])))
            return err;
    }
    const struct {
        const char *name;
        int64_t n;
    } totals[] = {
        {"messages.accepted", ig->tx.accepted},       {"messages.duplicates", ig->tx.duplicates},
        {"messages.quarantined", ig->tx.quarantined}, {"messages.attached", ig->tx.attached},
        {"messages.rejected", ig->tx.rejected},       {"traits.over_limit", ig->traits_over_limit},
        {"messages.ignored", ig->tx.ignored},         {"mapping.aliased", ig->tx.aliased},
        {"mapping.renamed", ig->tx.renamed},
    };
    for (size_t i = 0; i < sizeof totals / sizeof totals[0]; i++) {
        if (totals[i].n && (err = store_counter_add(ig->store, totals[i].name, totals[i].n)))
            return err;
    }
    return TEND_OK;
}

enum tend_err ingest_commit(struct ingest *ig) {
    enum tend_err err = flush_counts(ig);
    if (!err)
        err = store_commit(ig->store);
    if (err) {
        ingest_rollback(ig);
        return err;
    }
    ig->total.accepted += ig->tx.accepted;
    ig->total.duplicates += ig->tx.duplicates;
    ig->total.quarantined += ig->tx.quarantined;
    ig->total.attached += ig->tx.attached;
    ig->total.rejected += ig->tx.rejected;
    ig->total.ignored += ig->tx.ignored;
    ig->total.aliased += ig->tx.aliased;
    ig->total.renamed += ig->tx.renamed;
    forget_tx(ig);
    return TEND_OK;
}

void ingest_rollback(struct ingest *ig) {
    store_rollback(ig->store);
    forget_tx(ig);
    drop_caches(ig);
}

void ingest_count_rejected(struct ingest *ig, int64_t n) {
    ig->tx.rejected += n;
}

void ingest_count_mapped(struct ingest *ig, int64_t ignored, int64_t aliased, int64_t renamed) {
    ig->tx.ignored += ignored;
    ig->tx.aliased += aliased;
    ig->tx.renamed += renamed;
}

struct ingest_totals ingest_totals(const struct ingest *ig) {
    return ig->total;
}

/* ---- cached look-ups ------------------------------------------------------ */

/* Ids are stored in the tables as pointer-sized integers (ids < 2^63). */
static void cache_id(struct ingest *ig, GHashTable *h, const char *key, int64_t id) {
    g_hash_table_insert(h, xstrdup(key), (gpointer)(intptr_t)id);
    ig->cached++;
}

static bool cached_id(GHashTable *h, const char *key, int64_t *id) {
    gpointer v;
    if (!g_hash_table_lookup_extended(h, key, NULL, &v))
        return false;
    *id = (int64_t)(intptr_t)v;
    return true;
}

/* The id of a known account, or TEND_ERR_NOTFOUND. */
static enum tend_err account_find(struct ingest *ig, const char *ext, int64_t *id) {
    if (cached_id(ig->accounts, ext, id))
        return TEND_OK;
    enum tend_err err = store_account_find(ig->store, ext, id);
    if (!err)
        cache_id(ig, ig->accounts, ext, *id);
    return err;
}

/* The account's id, created when new; an existing account's first-seen time
 * moves back to ts_ms when that is earlier. */
static enum tend_err account_ensure(struct ingest *ig, const char *ext, int64_t ts_ms, int64_t *id,
                                    bool *created) {
    enum tend_err err = account_find(ig, ext, id);
    if (err != TEND_ERR_NOTFOUND) {
        *created = false;
        return err ? err : store_account_seen(ig->store, *id, ts_ms);
    }
    err = store_account_ensure(ig->store, ext, ts_ms, id, created);
    if (!err)
        cache_id(ig, ig->accounts, ext, *id);
    return err;
}

static enum tend_err name_ensure(struct ingest *ig, const char *name, int64_t *id) {
    if (cached_id(ig->names, name, id))
        return TEND_OK;
    enum tend_err err = store_name_ensure(ig->store, name, id);
    if (!err)
        cache_id(ig, ig->names, name, *id);
    return err;
}

/* The cache entry of the message's user, created in the store if new. */
static enum tend_err user_of(struct ingest *ig, const struct seg_msg *m, struct user_entry **out) {
    bool anonymous = m->user_id == NULL;
    const char *ext = anonymous ? m->anonymous_id : m->user_id;
    size_t len = strlen(ext);
    char stack[128];
    char *key = len + 3 <= sizeof stack ? stack : xmalloc(len + 3);
    key[0] = anonymous ? 'a' : 'u';
    key[1] = ':';
    memcpy(key + 2, ext, len + 1);
    enum tend_err err = TEND_OK;
    struct user_entry *u = g_hash_table_lookup(ig->users, key);
    if (!u) {
        int64_t id;
        err = store_user_ensure(ig->store, ext, anonymous, m->ts_ms, &id);
        if (!err) {
            u = xcalloc(1, sizeof *u);
            u->key = xstrdup(key);
            u->id = id;
            g_hash_table_insert(ig->users, u->key, u);
            g_hash_table_insert(ig->users_by_id, &u->id, u);
            ig->cached++;
        }
    }
    if (key != stack)
        free(key);
    if (!err)
        *out = u;
    return err;
}

/* Counts the accounts the user belongs to at ts_ms (memberships not ended by
 * then; one that starts later counts too, so a group call that arrives after
 * the user's first events resolves them). *account is set when *n == 1. */
static enum tend_err user_accounts_at(struct ingest *ig, struct user_entry *u, int64_t ts_ms,
                                      int64_t *account, int *n) {
    if (!u->loaded) {
        free(u->m);
        u->m = NULL;
        enum tend_err err = store_user_memberships(ig->store, u->id, &u->m, &u->n);
        if (err)
            return err;
        u->loaded = true;
    }
    int count = 0;
    int64_t found = 0;
    for (size_t i = 0; i < u->n; i++) {
        if (u->m[i].end_ms <= ts_ms || u->m[i].account_id == found)
            continue;
        found = u->m[i].account_id;
        count++;
    }
    *n = count;
    *account = count == 1 ? found : 0;
    return TEND_OK;
}

static void memberships_changed(struct ingest *ig, int64_t user_id) {
    struct user_entry *u = g_hash_table_lookup(ig->users_by_id, &user_id);
    if (u)
        u->loaded = false;
}

/* ---- effects -------------------------------------------------------------- */

/* Makes *arr (items of size bytes, *cap of them) hold index id, zeroing what
 * it adds. Account ids are small dense row ids, so arrays indexed by them
 * replace hash tables on the hot path. */
static void grow_dense(void **arr, size_t *cap, size_t size, size_t id) {
    if (id < *cap)
        return;
    size_t n = *cap ? *cap : 1024;
    while (n <= id)
        n *= 2;
    *arr = xrealloc(*arr, n * size);
    memset((char *)*arr + *cap * size, 0, (n - *cap) * size);
    *cap = n;
}

static void count_account_event(struct ingest *ig, int64_t account_id) {
    size_t id = (size_t)account_id;
    grow_dense((void **)&ig->account_events, &ig->account_events_cap, sizeof *ig->account_events,
               id);
    if (ig->account_events[id]++ == 0) {
        if (ig->n_touched == ig->cap_touched) {
            ig->cap_touched = ig->cap_touched ? ig->cap_touched * 2 : 1024;
            ig->touched = xrealloc(ig->touched, ig->cap_touched * sizeof *ig->touched);
        }
        ig->touched[ig->n_touched++] = account_id;
    }
}

/* Records a login day of the account unless this writer did already. */
static enum tend_err note_login_day(struct ingest *ig, int64_t account_id, int64_t ts_ms) {
    size_t id = (size_t)account_id;
    int32_t day = dt_day_of_ms(ts_ms);
    grow_dense((void **)&ig->login_day, &ig->login_day_cap, sizeof *ig->login_day, id);
    if (ig->login_day[id] == day + 1)
        return TEND_OK;
    enum tend_err err = store_login_day_add(ig->store, account_id, day);
    if (!err)
        ig->login_day[id] = day + 1;
    return err;
}

/* What an event attached to an account does beyond being stored. */
static enum tend_err apply_attached(struct ingest *ig, int kind, int64_t account_id,
                                    int64_t user_id, int64_t ts_ms) {
    count_account_event(ig, account_id);
    if (kind == EV_LOGIN)
        return note_login_day(ig, account_id, ts_ms);
    if (kind == EV_USER_REMOVED && user_id) {
        bool ended;
        enum tend_err err = store_membership_end(ig->store, account_id, user_id, ts_ms, &ended);
        if (err)
            return err;
        if (ended)
            memberships_changed(ig, user_id);
    }
    return TEND_OK;
}

/* Starts a membership at ts_ms (unless one is open then). A removal of the
 * user that arrived earlier but happened after ts_ms ends it at once: events
 * count as of their timestamps, not their order of arrival. */
static enum tend_err start_membership(struct ingest *ig, int64_t account_id, int64_t user_id,
                                      int64_t ts_ms, bool *started) {
    enum tend_err err = store_membership_start(ig->store, account_id, user_id, ts_ms, started);
    if (err || !*started)
        return err;
    int64_t removal_ms;
    bool found, ended;
    err = store_removal_after(ig->store, account_id, user_id, ts_ms, &removal_ms, &found);
    if (!err && found)
        err = store_membership_end(ig->store, account_id, user_id, removal_ms, &ended);
    return err;
}

/* Attaches the events that waited for the account external_id. */
static enum tend_err attach_account(struct ingest *ig, const char *external_id,
                                    int64_t account_id) {
    struct store_pending *p = NULL;
    size_t n = 0;
    enum tend_err err = store_quarantine_by_account(ig->store, external_id, &p, &n);
    for (size_t i = 0; !err && i < n; i++) {
        err = store_quarantine_attach(ig->store, &p[i], account_id);
        if (!err)
            err = apply_attached(ig, p[i].kind, account_id, p[i].user_id, p[i].ts_ms);
        if (!err)
            ig->tx.attached++;
    }
    free(p);
    return err;
}

/* Attaches the events of user u that waited for a membership and now have
 * exactly one account. */
static enum tend_err attach_user(struct ingest *ig, struct user_entry *u) {
    struct store_pending *p;
    size_t n;
    enum tend_err err = store_quarantine_by_user(ig->store, u->id, &p, &n);
    if (err)
        return err;
    for (size_t i = 0; !err && i < n; i++) {
        int64_t account;
        int count;
        err = user_accounts_at(ig, u, p[i].ts_ms, &account, &count);
        if (err || count != 1)
            continue;
        err = store_quarantine_attach(ig->store, &p[i], account);
        if (!err)
            err = apply_attached(ig, p[i].kind, account, u->id, p[i].ts_ms);
        if (!err)
            ig->tx.attached++;
    }
    free(p);
    return err;
}

/* ---- traits --------------------------------------------------------------- */

static void collect_trait(void *arg, const char *key, const char *value_json) {
    cJSON *obj = arg;
    cJSON *v = cJSON_Parse(value_json);
    cJSON_AddItemToObject(obj, key, v ? v : cJSON_CreateNull());
}

static void collect_key(void *arg, const char *key, const char *value_json) {
    g_hash_table_add(arg, xstrdup(key));
}

/* The traits tend reads: always merged, whatever the number of other keys. */
static bool known_trait(const char *key) {
    static const char *const known[] = {
        "name",      "plan",      "mrr",     "seats",      "renewal_date",
        "csm_email", "csm_slack", "segment", "created_at", "premium_products",
        "email",     "title",
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        if (strcmp(key, known[i]) == 0)
            return true;
    }
    return false;
}

/* Merges traits into the entity's stored traits; returns the merged object
 * (caller deletes) in *merged. An entity keeps at most INGEST_MAX_TRAIT_KEYS
 * keys besides the known traits: a new key past that is not merged (the
 * message, stored whole in its event row, still has it) and is counted in
 * traits.over_limit. Without the cap every group call of an account re-reads
 * and re-writes all its keys: 100 calls of 2,500 new keys each took 0.25 s a
 * call at the end and kept growing. */
static enum tend_err merge_traits(struct ingest *ig, enum store_entity entity, int64_t id,
                                  const cJSON *traits, int64_t ts_ms, cJSON **merged) {
    const cJSON *kv;
    GHashTable *keys = g_hash_table_new_full(g_str_hash, g_str_equal, free, NULL);
    enum tend_err err = store_traits_each(ig->store, entity, id, collect_key, keys);
    cJSON_ArrayForEach(kv, traits) {
        if (err)
            break;
        if (!kv->string)
            continue;
        if (!g_hash_table_contains(keys, kv->string) && !known_trait(kv->string)) {
            if (g_hash_table_size(keys) >= INGEST_MAX_TRAIT_KEYS) {
                ig->traits_over_limit++;
                continue;
            }
            g_hash_table_add(keys, xstrdup(kv->string));
        }
        char *v = cJSON_PrintUnformatted(kv);
        err = store_trait_merge(ig->store, entity, id, kv->string, v, ts_ms);
        cJSON_free(v);
    }
    g_hash_table_destroy(keys);
    if (err)
        return err;
    cJSON *obj = cJSON_CreateObject();
    err = store_traits_each(ig->store, entity, id, collect_trait, obj);
    if (err) {
        cJSON_Delete(obj);
        return err;
    }
    *merged = obj;
    return TEND_OK;
}

static const char *trait_string(const cJSON *t, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(t, key);
    return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
}

static bool trait_number(const cJSON *t, const char *key, double *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(t, key);
    if (cJSON_IsNumber(v)) {
        *out = v->valuedouble;
        return true;
    }
    if (cJSON_IsString(v) && v->valuestring[0]) {
        char *end;
        double x = strtod(v->valuestring, &end);
        if (!*end) {
            *out = x;
            return true;
        }
    }
    return false;
}

/* Sets the typed account columns from the merged traits object t. */
static enum tend_err account_set_fields(struct ingest *ig, int64_t id, const cJSON *t) {
    struct store_account_fields f;
    memset(&f, 0, sizeof f);
    f.name = trait_string(t, "name");
    f.plan = trait_string(t, "plan");
    f.has_mrr = trait_number(t, "mrr", &f.mrr);
    double seats;
    f.has_seats = trait_number(t, "seats", &seats);
    f.seats = (int64_t)seats;
    char renewal[16];
    const char *rd = trait_string(t, "renewal_date");
    int64_t ms;
    if (rd && dt_parse_instant(rd, strlen(rd), &ms)) {
        dt_format_date(dt_day_of_ms(ms), renewal);
        f.renewal_date = renewal;
    }
    f.csm_email = trait_string(t, "csm_email");
    f.csm_slack = trait_string(t, "csm_slack");
    f.segment = trait_string(t, "segment");
    f.created_at = trait_string(t, "created_at");
    char *products = NULL;
    const cJSON *pp = cJSON_GetObjectItemCaseSensitive(t, "premium_products");
    if (cJSON_IsArray(pp))
        f.premium_products = products = cJSON_PrintUnformatted(pp);
    char *all = cJSON_PrintUnformatted(t);
    enum tend_err err = store_account_set_fields(ig->store, id, &f, all);
    cJSON_free(all);
    cJSON_free(products);
    return err;
}

static enum tend_err user_set_fields(struct ingest *ig, int64_t id, const cJSON *t) {
    char *all = cJSON_PrintUnformatted(t);
    enum tend_err err =
        store_user_set_fields(ig->store, id, trait_string(t, "email"), trait_string(t, "name"),
                              trait_string(t, "title"), all);
    cJSON_free(all);
    return err;
}

/* Merges account traits and rebuilds the typed columns. */
static enum tend_err account_update(struct ingest *ig, int64_t id, const cJSON *traits,
                                    int64_t ts_ms) {
    if (!traits || cJSON_GetArraySize(traits) == 0)
        return TEND_OK;
    cJSON *merged;
    enum tend_err err = merge_traits(ig, STORE_ACCOUNT, id, traits, ts_ms, &merged);
    if (err)
        return err;
    err = account_set_fields(ig, id, merged);
    cJSON_Delete(merged);
    return err;
}

enum tend_err ingest_account_traits(struct ingest *ig, const char *external_id, cJSON *traits,
                                    int64_t ts_ms, char *err) {
    /* The same rules as a group call's (text.h, segment.h), the row's as_of
     * in the place of its timestamp, now in the place of the receive time. */
    int64_t now = dt_now_ms();
    if (!text_check_id(external_id, "account_id", err, SEG_ERR_BYTES) ||
        !text_check_tree(traits, "", err, SEG_ERR_BYTES))
        return TEND_ERR_INVALID;
    enum tend_err e = segment_check_time(ts_ms, "as_of", now, err);
    if (!e)
        e = segment_check_account_traits(traits, "", ts_ms, now, err);
    if (e)
        return e;
    int64_t id;
    bool created;
    if ((e = account_ensure(ig, external_id, ts_ms, &id, &created)))
        return e;
    /* Stored as a group call at ts_ms, so metrics as of an earlier day do not
     * see traits that were not known then. Its key hashes the account and
     * the traits: the same row with the same as_of is a duplicate. */
    char *body = cJSON_PrintUnformatted(traits);
    XXH3_state_t *h = XXH3_createState();
    XXH3_64bits_reset(h);
    XXH3_64bits_update(h, "csv", 4);
    XXH3_64bits_update(h, external_id, strlen(external_id) + 1);
    XXH3_64bits_update(h, body, strlen(body));
    struct store_event ev = {.key_ts_ms = ts_ms,
                             .key_hash = XXH3_64bits_digest(h),
                             .ts_ms = ts_ms,
                             .kind = EV_GROUP,
                             .account_id = id,
                             .props = body};
    XXH3_freeState(h);
    /* A dated trait record, not a message: it is not counted as one. */
    bool inserted;
    e = store_event_put(ig->store, &ev, &inserted);
    cJSON_free(body);
    if (e || !inserted)
        return e;
    if ((e = account_update(ig, id, traits, ts_ms)))
        return e;
    return created ? attach_account(ig, external_id, id) : TEND_OK;
}

/* ---- messages ------------------------------------------------------------- */

/* Fills the stored form of m. *props is what the caller frees: the body
 * serialised here, or NULL when m came with it serialised. */
static void event_of(const struct seg_msg *m, struct store_event *ev, char **props) {
    memset(ev, 0, sizeof *ev);
    ev->key_ts_ms = m->key_ts_ms;
    ev->key_hash = m->key_hash;
    ev->ts_ms = m->ts_ms;
    ev->kind = m->kind;
    ev->subject = m->subject;
    ev->detail = m->detail;
    ev->num = m->num;
    ev->has_num = m->has_num;
    ev->day = m->day;
    ev->has_day = m->has_day;
    const cJSON *body = m->properties ? m->properties : m->traits;
    if (m->type == SEG_ALIAS)
        ev->subject = m->previous_id;
    if (m->body_json) {
        *props = NULL;
        ev->props = m->body_json;
    } else {
        *props = body && body->child ? cJSON_PrintUnformatted(body) : NULL;
        ev->props = *props;
    }
}

static enum tend_err put(struct ingest *ig, const struct store_event *ev,
                         enum ingest_outcome *outcome) {
    bool inserted;
    enum tend_err err = store_event_put(ig->store, ev, &inserted);
    if (err)
        return err;
    if (!inserted) {
        ig->tx.duplicates++;
        *outcome = INGEST_DUPLICATE;
        return TEND_OK;
    }
    ig->kind_events[ev->kind]++;
    *outcome = INGEST_ACCEPTED;
    return TEND_OK;
}

/* track, page, screen: resolve the account, store, quarantine or apply. */
static enum tend_err ingest_activity(struct ingest *ig, const struct seg_msg *m,
                                     struct user_entry *u, struct store_event *ev,
                                     enum ingest_outcome *outcome) {
    const char *named = m->group_id ? m->group_id : m->account_hint;
    const char *reason = NULL;
    enum tend_err err;
    if (named) {
        err = account_find(ig, named, &ev->account_id);
        if (err == TEND_ERR_NOTFOUND)
            reason = "unknown account";
        else if (err)
            return err;
    } else {
        int n;
        if ((err = user_accounts_at(ig, u, m->ts_ms, &ev->account_id, &n)))
            return err;
        if (n == 0)
            reason = "user belongs to no account";
        else if (n > 1)
            reason = "user belongs to several accounts";
    }
    if (m->event && (err = name_ensure(ig, m->event, &ev->name_id)))
        return err;
    if ((err = put(ig, ev, outcome)) || *outcome == INGEST_DUPLICATE)
        return err;
    if (reason) {
        ig->tx.quarantined++;
        *outcome = INGEST_QUARANTINED;
        return store_quarantine_put(ig->store, ev, named, reason);
    }
    ig->tx.accepted++;
    return apply_attached(ig, ev->kind, ev->account_id, ev->user_id, ev->ts_ms);
}

static enum tend_err ingest_identify(struct ingest *ig, const struct seg_msg *m,
                                     struct user_entry *u, struct store_event *ev,
                                     enum ingest_outcome *outcome) {
    bool created = false;
    enum tend_err err;
    if (m->company_id &&
        (err = account_ensure(ig, m->company_id, m->ts_ms, &ev->account_id, &created)))
        return err;
    if ((err = put(ig, ev, outcome)) || *outcome == INGEST_DUPLICATE)
        return err;
    ig->tx.accepted++;
    if (m->traits && cJSON_GetArraySize(m->traits) > 0) {
        cJSON *merged;
        if ((err = merge_traits(ig, STORE_USER, u->id, m->traits, m->ts_ms, &merged)))
            return err;
        err = user_set_fields(ig, u->id, merged);
        cJSON_Delete(merged);
        if (err)
            return err;
    }
    if (!ev->account_id)
        return TEND_OK;
    count_account_event(ig, ev->account_id);
    bool started;
    if ((err = start_membership(ig, ev->account_id, u->id, m->ts_ms, &started)))
        return err;
    if (created && (err = attach_account(ig, m->company_id, ev->account_id)))
        return err;
    if (started) {
        u->loaded = false;
        err = attach_user(ig, u);
    }
    return err;
}

static enum tend_err ingest_group(struct ingest *ig, const struct seg_msg *m, struct user_entry *u,
                                  struct store_event *ev, enum ingest_outcome *outcome) {
    bool created;
    enum tend_err err = account_ensure(ig, m->group_id, m->ts_ms, &ev->account_id, &created);
    if (err)
        return err;
    if ((err = put(ig, ev, outcome)) || *outcome == INGEST_DUPLICATE)
        return err;
    ig->tx.accepted++;
    count_account_event(ig, ev->account_id);
    if ((err = account_update(ig, ev->account_id, m->traits, m->ts_ms)))
        return err;
    /* The membership first: an event waiting for this account may be the
     * user's removal, which must find the membership to end. */
    bool started;
    if ((err = start_membership(ig, ev->account_id, u->id, m->ts_ms, &started)))
        return err;
    if (created && (err = attach_account(ig, m->group_id, ev->account_id)))
        return err;
    if (started) {
        u->loaded = false;
        err = attach_user(ig, u);
    }
    return err;
}

enum tend_err ingest_message(struct ingest *ig, const struct seg_msg *m,
                             enum ingest_outcome *outcome) {
    enum tend_err err;
    if (m->type == SEG_IDENTIFY || m->type == SEG_GROUP || m->type == SEG_ALIAS) {
        /* These create accounts, users and memberships before they are stored:
         * a duplicate must be known first, or a resend with another body
         * would leave them behind. (Track events, the hot path, find out at
         * insert time; a resend of one under another userId leaves at most an
         * unused user row.) */
        bool exists;
        if ((err = store_event_exists(ig->store, m->key_ts_ms, m->key_hash, &exists)))
            return err;
        if (exists) {
            ig->tx.duplicates++;
            *outcome = INGEST_DUPLICATE;
            return TEND_OK;
        }
    }
    struct user_entry *u;
    err = user_of(ig, m, &u);
    if (err)
        return err;
    struct store_event ev;
    char *props;
    event_of(m, &ev, &props);
    ev.user_id = u->id;
    switch (m->type) {
    case SEG_TRACK:
    case SEG_PAGE:
    case SEG_SCREEN:
        err = ingest_activity(ig, m, u, &ev, outcome);
        break;
    case SEG_IDENTIFY:
        err = ingest_identify(ig, m, u, &ev, outcome);
        break;
    case SEG_GROUP:
        err = ingest_group(ig, m, u, &ev, outcome);
        break;
    case SEG_ALIAS:
        err = put(ig, &ev, outcome);
        if (!err && *outcome == INGEST_ACCEPTED)
            ig->tx.accepted++;
        break;
    }
    ig->last_account = !err && *outcome == INGEST_ACCEPTED ? ev.account_id : 0;
    cJSON_free(props);
    return err;
}

enum tend_err ingest_prefetch(struct ingest *ig, const struct seg_msg *msgs, size_t n) {
    if (n == 0)
        return TEND_OK;
    struct store_event_key *keys = xmalloc(n * sizeof *keys);
    for (size_t i = 0; i < n; i++) {
        keys[i].key_ts_ms = msgs[i].key_ts_ms;
        keys[i].key_hash = msgs[i].key_hash;
    }
    enum tend_err err = store_event_keys_prefetch(ig->store, keys, n);
    free(keys);
    return err;
}

int64_t ingest_last_account(const struct ingest *ig) {
    return ig->last_account;
}
