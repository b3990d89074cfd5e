/* ctas.c: a day's evaluation, from metrics to CTAs (see ctas.h).
 *
 * The order within a day: every account's metrics (eval_accounts, in
 * parallel), then, on this thread, its score (stored), its rules and the
 * decision for each key. Resolves, raises and wakes apply as they are
 * decided; opens wait until every account is done and then go in by priority
 * (high first), so that when a published cap bites it holds back the least
 * urgent work, and says so. */
#include "eval/ctas.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cta.h"
#include "eval/eval.h"
#include "notify/outbox.h"
#include "util/datetime.h"
#include "util/mem.h"

/* A CTA an evaluation watches (store_ctas_watched_each), owned here. */
struct watched {
    struct store_cta c; /* strings malloced */
    bool matched;       /* a finding of today has its key */
};

/* A finding kept until the account's decisions are made. */
struct found {
    struct rule_finding f; /* evidence malloced */
};

/* An open waiting for the caps. */
struct pending_open {
    int64_t account_id;
    char *account;
    char *owner;
    struct rule_finding f;      /* evidence malloced */
    const char *rule;           /* borrowed from the configuration */
    struct notify_account acct; /* strings malloced; when notifying */
};

struct engine {
    struct store *s;
    const struct health_config *hc;
    const struct rules_config *rc;
    const struct notify_config *nc; /* NULL or nothing to notify: no outbox rows */
    int32_t day;
    int64_t t_ms, since_ms, now_ms;
    const int64_t *only; /* NULL: every account */
    size_t n_only;
    eval_change_fn fn;
    void *arg;
    struct eval_summary *sum;
    enum tend_err err;
    /* Watched CTAs by account (sorted by account id). */
    struct watched *w;
    size_t n_w, cap_w;
    /* Live CTAs per account id, and in all. */
    int64_t *live;
    size_t live_len;
    int64_t live_total;
    struct eval_day_scores before; /* health_drop's earlier day */
    /* Today's findings of the account at hand. */
    struct found *found;
    size_t n_found, cap_found;
    struct pending_open *opens;
    size_t n_opens, cap_opens;
    const char *account;        /* the account at hand (external id) */
    struct notify_account acct; /* the account at hand, for its messages */
    bool failed[RULES_MAX];     /* the account at hand's rules that failed today */
    /* Custom rules that ran out of time on RULE_TIMEOUTS_SUSPEND accounts of
     * this run: not asked again until the next run, which tries them afresh. */
    int timeouts[RULES_MAX];
    bool suspended[RULES_MAX];
    char label[160];         /* the user_label() answer */
    struct risk_model *risk; /* the adopted churn-risk model, NULL when none */
};

void eval_cta_copy(struct store_cta *dst, const struct store_cta *src) {
    *dst = *src;
    const char **s[] = {&dst->account, &dst->rule,   &dst->subject,  &dst->type,        &dst->owner,
                        &dst->title,   &dst->reason, &dst->evidence, &dst->account_name};
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
        *s[i] = *s[i] ? xstrdup(*s[i]) : NULL;
}

void eval_cta_release(struct store_cta *c) {
    const char *s[] = {c->account, c->rule,   c->subject,  c->type,        c->owner,
                       c->title,   c->reason, c->evidence, c->account_name};
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
        free((char *)s[i]);
}

static void on_got(void *arg, const struct store_cta *c) {
    eval_cta_copy(arg, c);
}

enum tend_err eval_cta_get(struct store *s, int64_t id, struct store_cta *out) {
    return store_cta_get(s, id, on_got, out);
}

static void on_watched(void *arg, const struct store_cta *c) {
    struct engine *e = arg;
    if (e->n_w == e->cap_w) {
        e->cap_w = e->cap_w ? e->cap_w * 2 : 256;
        e->w = xrealloc(e->w, e->cap_w * sizeof *e->w);
    }
    struct watched *x = &e->w[e->n_w++];
    eval_cta_copy(&x->c, c);
    x->matched = false;
}

static int by_account(const void *a, const void *b) {
    const struct watched *x = a, *y = b;
    if (x->c.account_id != y->c.account_id)
        return x->c.account_id < y->c.account_id ? -1 : 1;
    return x->c.id < y->c.id ? -1 : x->c.id > y->c.id;
}

static int64_t *live_slot(struct engine *e, int64_t account_id) {
    if ((size_t)account_id >= e->live_len) {
        size_t len = (size_t)account_id * 2 + 16;
        e->live = xrealloc(e->live, len * sizeof *e->live);
        memset(e->live + e->live_len, 0, (len - e->live_len) * sizeof *e->live);
        e->live_len = len;
    }
    return &e->live[account_id];
}

/* Scores one account for the earlier day when none are stored for it. */
struct backfill {
    struct store *s;
    const struct health_config *hc;
    int32_t day;
    struct eval_day_scores *d;
    enum tend_err err;
};

static int on_backfill(void *arg, int64_t id, const char *account_id, const struct metrics *m) {
    struct backfill *b = arg;
    struct health_score h;
    health_compute(b->hc, m, &h);
    if (m->churned)
        return 0;
    eval_day_scores_put(b->d, id, h.has_score, h.overall);
    struct store_score sc;
    eval_score_row(b->hc, b->day, &h, &sc);
    b->err = store_score_put(b->s, id, &sc);
    return b->err != TEND_OK;
}

/* The overall scores as of the day health_drop compares with: stored with
 * the same health configuration, or computed (and stored) when that day has
 * none: a score under other weights is not comparable. */
static enum tend_err load_scores_before(struct engine *e) {
    int32_t day = e->day - (int32_t)e->rc->rules[RULE_HEALTH_DROP].params[1];
    enum tend_err err = eval_day_scores_load(e->s, day, e->hc->version, &e->before);
    if (err || e->before.rows > 0)
        return err;
    struct backfill b = {.s = e->s, .hc = e->hc, .day = day, .d = &e->before};
    err = eval_metrics(e->s, (int64_t)(day + 1) * DT_MS_PER_DAY, NULL, on_backfill, &b);
    return err ? err : b.err;
}

/* ---- applying decisions ------------------------------------------------------ */

/* Writes the outbox rows of a change (notify/outbox.h), in this transaction. */
static enum tend_err notify(struct engine *e, enum notify_event ev, const struct store_cta *c,
                            const struct notify_account *a, const char *previous,
                            const char *note) {
    if (!e->nc)
        return TEND_OK;
    struct notify_cta_event x = {.event = ev,
                                 .day = e->day,
                                 .now_ms = e->now_ms,
                                 .cta = c,
                                 .previous_priority = previous,
                                 .note = note,
                                 .account = a};
    int64_t rows = 0;
    enum tend_err err = notify_enqueue(e->s, e->nc, &x, &rows);
    e->sum->notifications += rows;
    return err;
}

static void tell(struct engine *e, const char *action, const struct store_cta *c) {
    if (!e->fn)
        return;
    /* Watched CTAs are read without their account's external id: it is the
     * account at hand's. */
    struct store_cta shown = *c;
    if (!shown.account)
        shown.account = e->account;
    struct eval_change ch = {
        .action = action, .cta_id = c->id, .account = shown.account, .cta = &shown};
    e->fn(e->arg, &ch, NULL, NULL);
}

static enum tend_err history(struct engine *e, const struct store_cta *c, const char *action,
                             const char *note) {
    struct store_cta_change ch = {
        .day = e->day,
        .at_ms = e->now_ms,
        .action = action,
        .actor = "tend",
        .status = c->status,
        .priority = c->priority,
        .note = note,
    };
    return store_cta_history_add(e->s, c->id, &ch);
}

/* The current values of the metrics a CTA's evidence named, against the
 * values it was raised with: why it resolved, in numbers. */
static void clearing_note(const struct store_cta *c, const struct metrics *m, int32_t day,
                          char *out, size_t size) {
    char date[16];
    dt_format_date(c->has_clear_since ? c->clear_since : day, date);
    int len = snprintf(out, size, "the condition no longer holds as of %s", date);
    cJSON *ev = m && c->evidence ? cJSON_Parse(c->evidence) : NULL;
    const cJSON *kv;
    const char *sep = ": ";
    cJSON_ArrayForEach(kv, ev) {
        double now;
        if (!cJSON_IsNumber(kv) || !health_input(m, kv->string, &now) || len < 0 ||
            (size_t)len >= size)
            continue;
        len += snprintf(out + len, size - (size_t)len, "%s%s %g (was %g)", sep, kv->string, now,
                        kv->valuedouble);
        sep = ", ";
    }
    cJSON_Delete(ev);
}

static enum tend_err resolve(struct engine *e, struct watched *w, enum cta_close_reason why,
                             const struct metrics *m) {
    struct store_cta *c = &w->c;
    c->status = CTA_CLOSED;
    c->has_closed = true;
    c->closed_reason = why;
    c->closed_day = e->day;
    c->cleared = true; /* cleared (or churned): nothing to cool down */
    c->updated_ms = e->now_ms;
    char note[480];
    if (why == CTA_CHURNED)
        snprintf(note, sizeof note, "the account churned");
    else
        clearing_note(c, m, e->day, note, sizeof note);
    enum tend_err err = store_cta_update(e->s, c);
    if (!err)
        err = history(e, c, why == CTA_CHURNED ? "close" : "resolve", note);
    if (!err && why != CTA_CHURNED)
        err = notify(e, NOTIFY_RESOLVE, c, &e->acct, NULL, note);
    if (!err) {
        (*live_slot(e, c->account_id))--;
        e->live_total--;
        if (why == CTA_CHURNED)
            e->sum->closed_churned++;
        else
            e->sum->resolved++;
        tell(e, why == CTA_CHURNED ? "close" : "resolve", c);
    }
    return err;
}

/* Raises (and wakes) or wakes a live CTA with today's finding. */
static enum tend_err raise_or_wake(struct engine *e, struct watched *w, const struct found *f,
                                   bool raise) {
    struct store_cta *c = &w->c;
    char note[600];
    const char *action = raise ? "raise" : "wake";
    enum cta_priority before = (enum cta_priority)c->priority;
    if (raise) {
        snprintf(note, sizeof note, "%s -> %s: %s", cta_priority_name(c->priority),
                 cta_priority_name(f->f.priority), f->f.reason);
        c->priority = f->f.priority;
        int32_t due = cta_due_day(e->day, e->rc->due_days[c->priority]);
        if (due < c->due_day)
            c->due_day = due;
        free((char *)c->title);
        free((char *)c->reason);
        free((char *)c->evidence);
        c->title = xstrdup(f->f.title);
        c->reason = xstrdup(f->f.reason);
        c->evidence = xstrdup(f->f.evidence ? f->f.evidence : "{}");
    } else {
        snprintf(note, sizeof note, "the snooze ended and the condition still holds: %s",
                 f->f.reason);
    }
    c->status = CTA_OPEN;
    c->updated_ms = e->now_ms;
    enum tend_err err = store_cta_update(e->s, c);
    if (!err)
        err = history(e, c, action, note);
    if (!err)
        err = notify(e, raise ? NOTIFY_RAISE : NOTIFY_WAKE, c, &e->acct,
                     raise ? cta_priority_name(before) : NULL, NULL);
    if (!err) {
        if (raise)
            e->sum->raised++;
        else
            e->sum->woken++;
        tell(e, action, c);
    }
    return err;
}

static void queue_open(struct engine *e, const struct eval_account *a, const struct found *f) {
    if (e->n_opens == e->cap_opens) {
        e->cap_opens = e->cap_opens ? e->cap_opens * 2 : 256;
        e->opens = xrealloc(e->opens, e->cap_opens * sizeof *e->opens);
    }
    struct pending_open *o = &e->opens[e->n_opens++];
    o->account_id = a->id;
    o->account = xstrdup(a->account_id);
    const char *owner = a->f->csm_email && a->f->csm_email[0] ? a->f->csm_email
                        : e->rc->default_owner[0]             ? e->rc->default_owner
                                                              : "unassigned";
    o->owner = xstrdup(owner);
    o->f = f->f;
    o->f.evidence = xstrdup(f->f.evidence ? f->f.evidence : "{}");
    o->rule = e->rc->rules[f->f.rule].name;
    memset(&o->acct, 0, sizeof o->acct);
    if (e->nc) { /* the account as of now, for the open's message later */
        o->acct = e->acct;
        const char **str[] = {&o->acct.external_id, &o->acct.name,         &o->acct.segment,
                              &o->acct.plan,        &o->acct.renewal_date, &o->acct.csm_email,
                              &o->acct.csm_slack};
        for (size_t i = 0; i < sizeof str / sizeof str[0]; i++)
            *str[i] = *str[i] ? xstrdup(*str[i]) : NULL;
    }
}

static void free_acct(struct notify_account *a) {
    const char *str[] = {a->external_id,  a->name,      a->segment,  a->plan,
                         a->renewal_date, a->csm_email, a->csm_slack};
    for (size_t i = 0; i < sizeof str / sizeof str[0]; i++)
        free((char *)str[i]);
}

static int by_priority(const void *a, const void *b) {
    const struct pending_open *x = a, *y = b;
    if (x->f.priority != y->f.priority)
        return x->f.priority > y->f.priority ? -1 : 1;
    int c = strcmp(x->account, y->account);
    if (c)
        return c;
    c = strcmp(x->rule, y->rule);
    return c ? c : strcmp(x->f.subject, y->f.subject);
}

static enum tend_err apply_opens(struct engine *e) {
    if (e->n_opens)
        qsort(e->opens, e->n_opens, sizeof *e->opens, by_priority);
    enum tend_err err = TEND_OK;
    for (size_t i = 0; !err && i < e->n_opens; i++) {
        struct pending_open *o = &e->opens[i];
        int64_t *live = live_slot(e, o->account_id);
        if (*live >= e->rc->max_open_per_account || e->live_total >= e->rc->max_open_total) {
            e->sum->held_back++;
            continue;
        }
        struct store_cta c = {
            .account_id = o->account_id,
            .account = o->account,
            .rule = o->rule,
            .subject = o->f.subject,
            .type = cta_type_name(o->f.type),
            .priority = o->f.priority,
            .status = CTA_OPEN,
            .owner = o->owner,
            .title = o->f.title,
            .reason = o->f.reason,
            .evidence = o->f.evidence,
            .opened_day = e->day,
            .due_day = cta_due_day(e->day, e->rc->due_days[o->f.priority]),
            .updated_ms = e->now_ms,
        };
        err = store_cta_forget_closed(e->s, c.rule, c.account_id, c.subject);
        if (!err)
            err = store_cta_insert(e->s, &c, &c.id);
        if (!err)
            err = history(e, &c, "open", c.reason);
        if (!err)
            err = notify(e, NOTIFY_OPEN, &c, &o->acct, NULL, NULL);
        if (!err) {
            (*live)++;
            e->live_total++;
            e->sum->opened++;
            tell(e, "open", &c);
        }
    }
    return err;
}

/* ---- one account --------------------------------------------------------------- */

static void on_finding(void *arg, const struct rule_finding *f) {
    struct engine *e = arg;
    if (e->n_found == e->cap_found) {
        e->cap_found = e->cap_found ? e->cap_found * 2 : 16;
        e->found = xrealloc(e->found, e->cap_found * sizeof *e->found);
    }
    struct found *x = &e->found[e->n_found++];
    x->f = *f;
    x->f.evidence = xstrdup(f->evidence ? f->evidence : "{}");
}

static void on_rule_error(void *arg, int rule, const char *message, bool timed_out) {
    struct engine *e = arg;
    e->sum->rule_errors++;
    if (e->fn)
        e->fn(e->arg, NULL, message, e->account);
    if (rule < 0 || rule >= RULES_MAX)
        return;
    e->failed[rule] = true;
    if (timed_out && ++e->timeouts[rule] == RULE_TIMEOUTS_SUSPEND) {
        /* One hostile or runaway rule must not cost the time limit on every
         * account: 10,000 accounts x 250 ms is 42 minutes of evaluation. */
        e->suspended[rule] = true;
        e->sum->rules_suspended++;
        if (e->fn) {
            char msg[400];
            snprintf(msg, sizeof msg,
                     "rule %s: ran out of time on %d accounts; not evaluated for the rest of "
                     "this run (their CTAs are kept as they are)",
                     e->rc->rules[rule].name, RULE_TIMEOUTS_SUSPEND);
            e->fn(e->arg, NULL, msg, e->account);
        }
    }
}

/* The watched CTAs of an account: [*first, *end). */
static void watched_of(const struct engine *e, int64_t account_id, size_t *first, size_t *end) {
    size_t lo = 0, hi = e->n_w;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (e->w[mid].c.account_id < account_id)
            lo = mid + 1;
        else
            hi = mid;
    }
    *first = lo;
    while (lo < e->n_w && e->w[lo].c.account_id == account_id)
        lo++;
    *end = lo;
}

static int rule_index(const struct rules_config *rc, const char *name) {
    for (int i = 0; i < rc->n_rules; i++)
        if (strcmp(rc->rules[i].name, name) == 0)
            return i;
    return -1;
}

static struct cta_state state_of(const struct watched *w) {
    struct cta_state st = {0};
    if (!w)
        return st;
    if (w->c.status != CTA_CLOSED) {
        st.live = true;
        st.status = (enum cta_status)w->c.status;
        st.priority = (enum cta_priority)w->c.priority;
        st.snoozed_until = w->c.snoozed_until;
    } else {
        st.has_closed = true;
        st.closed_reason = (enum cta_close_reason)w->c.closed_reason;
        st.closed_day = w->c.closed_day;
        st.cleared_since_close = w->c.cleared;
    }
    return st;
}

/* Decides and applies what one finding means for its key. */
static enum tend_err decide_found(struct engine *e, const struct eval_account *a, struct found *f,
                                  size_t first, size_t end) {
    const struct rule_settings *r = &e->rc->rules[f->f.rule];
    struct watched *live = NULL, *closed = NULL;
    for (size_t i = first; i < end; i++) {
        struct watched *w = &e->w[i];
        if (strcmp(w->c.rule, r->name) != 0 || strcmp(w->c.subject, f->f.subject) != 0)
            continue;
        w->matched = true;
        if (w->c.status != CTA_CLOSED)
            live = w;
        else if (!closed || w->c.id > closed->c.id)
            closed = w;
    }
    enum tend_err err = TEND_OK;
    /* A different kind of trouble on the same key (a login drop turned
     * spike, a detractor's next answer a promoter's): the old CTA is done,
     * and the new condition is a new CTA. */
    if (live && strcmp(live->c.type, cta_type_name(f->f.type)) != 0) {
        if ((err = resolve(e, live, CTA_AUTO_RESOLVED, a->m)))
            return err;
        live = NULL;
        closed = NULL;
    }
    if (live && live->c.has_clear_since) {
        /* It holds again: the run of clear days is over. */
        live->c.has_clear_since = false;
        if ((err = store_cta_update(e->s, &live->c)))
            return err;
    }
    struct cta_state st = state_of(live ? live : closed);
    struct cta_condition cond = {.holds = true, .priority = f->f.priority};
    enum cta_action act = cta_decide(&st, &cond, e->day, r->cooldown_days);
    switch (act) {
    case CTA_DO_OPEN:
        if (!f->f.event || f->f.fresh)
            queue_open(e, a, f);
        break;
    case CTA_DO_RAISE:
        err = raise_or_wake(e, live, f, true);
        break;
    case CTA_DO_WAKE:
        err = raise_or_wake(e, live, f, false);
        break;
    default:
        break;
    }
    return err;
}

/* The account's watched CTAs that no finding of today matched: resolved if
 * their rule looked at the account, and closed ones marked cleared. */
static enum tend_err decide_unmatched(struct engine *e, const struct eval_account *a, size_t first,
                                      size_t end) {
    enum tend_err err = TEND_OK;
    for (size_t i = first; !err && i < end; i++) {
        struct watched *w = &e->w[i];
        if (w->matched)
            continue;
        int ri = rule_index(e->rc, w->c.rule);
        if (ri < 0 || !rules_applies(&e->rc->rules[ri], a->f->segment, a->f->plan))
            continue; /* a rule now off or out of scope leaves its CTAs to people */
        if (e->failed[ri])
            continue; /* a rule that failed said nothing: unknown is not clear */
        struct cta_state st = state_of(w);
        struct cta_condition cond = {.holds = false};
        enum cta_action act = cta_decide(&st, &cond, e->day, e->rc->rules[ri].cooldown_days);
        if (act == CTA_DO_RESOLVE) {
            /* Resolved once the condition has not held for resolve_after_days
             * days in a row; until then the first such day is kept. */
            bool first_clear = !w->c.has_clear_since;
            if (first_clear) {
                w->c.has_clear_since = true;
                w->c.clear_since = e->day;
            }
            if (e->day - w->c.clear_since + 1 >= e->rc->rules[ri].resolve_after_days)
                err = resolve(e, w, CTA_AUTO_RESOLVED, a->m);
            else if (first_clear)
                err = store_cta_update(e->s, &w->c);
        } else if (act == CTA_DO_CLEARED) {
            err = store_cta_forget_closed(e->s, w->c.rule, w->c.account_id, w->c.subject);
            w->c.cleared = true;
        }
    }
    return err;
}

static const char *user_label(void *arg, int64_t user_id) {
    struct engine *e = arg;
    if (!user_id || store_user_label(e->s, user_id, e->label, sizeof e->label) != TEND_OK)
        return NULL;
    return e->label;
}

/* The account's age in days as of D: from its created_at trait, else from
 * when tend first saw it. */
static bool account_age(const struct eval_account *a, int32_t day, int64_t *out) {
    int64_t ms;
    const char *c = a->f->created_at;
    if (!(c && dt_parse_instant(c, strlen(c), &ms)))
        ms = a->first_seen_ms;
    *out = day - dt_day_of_ms(ms);
    return true;
}

/* Keeps one finding per key (rule, subject), the most urgent: the data can
 * say the same thing twice (a goal set again, a product listed twice), and a
 * key has one CTA. */
static void dedupe_found(struct engine *e) {
    size_t keep = 0;
    for (size_t i = 0; i < e->n_found; i++) {
        struct found *f = &e->found[i];
        size_t k;
        for (k = 0; k < keep; k++)
            if (e->found[k].f.rule == f->f.rule && strcmp(e->found[k].f.subject, f->f.subject) == 0)
                break;
        if (k == keep) {
            e->found[keep++] = *f;
        } else {
            if (f->f.priority > e->found[k].f.priority) {
                free((char *)e->found[k].f.evidence);
                e->found[k] = *f;
            } else {
                free((char *)f->f.evidence);
            }
        }
    }
    e->n_found = keep;
}

static void free_found(struct engine *e) {
    for (size_t i = 0; i < e->n_found; i++)
        free((char *)e->found[i].f.evidence);
    e->n_found = 0;
}

static int on_account(void *arg, const struct eval_account *a) {
    struct engine *e = arg;
    size_t first, end;
    watched_of(e, a->id, &first, &end);
    e->sum->accounts++;
    e->account = a->account_id;
    if (a->m->churned) {
        /* A former customer: no score, no rules; what was open is over. */
        for (size_t i = first; !e->err && i < end; i++) {
            struct watched *w = &e->w[i];
            if (w->c.status != CTA_CLOSED)
                e->err = resolve(e, w, CTA_CHURNED, NULL);
            else /* a cooldown no longer matters */
                e->err = store_cta_forget_closed(e->s, w->c.rule, w->c.account_id, w->c.subject);
        }
        return e->err != TEND_OK;
    }
    struct health_score h;
    health_compute(e->hc, a->m, &h);
    e->acct = (struct notify_account){
        .id = a->id,
        .external_id = a->account_id,
        .name = a->f->name,
        .segment = a->f->segment,
        .plan = a->f->plan,
        .renewal_date = a->f->renewal_date,
        .csm_email = a->f->csm_email,
        .csm_slack = a->f->csm_slack,
        .has_mrr = a->f->has_mrr,
        .mrr = a->f->mrr,
        .has_score = h.has_score,
        .score = h.overall,
        .band = h.has_score ? health_band_name(h.band) : NULL,
    };
    struct store_score sc;
    eval_score_row(e->hc, e->day, &h, &sc);
    e->err = store_score_put(e->s, a->id, &sc);
    if (!e->err && a->risk) /* p_churn, in the evaluation's transaction */
        e->err = risk_store(e->s, e->day, a->id, a->model_version, a->risk);
    if (e->err)
        return 1;

    struct rule_input in = {
        .t_ms = e->t_ms,
        .day = e->day,
        .m = a->m,
        .h = &h,
        .segment = a->f->segment,
        .plan = a->f->plan,
        .since_ms = e->since_ms,
        .has_last_ticket = a->has_last_ticket,
        .last_ticket_ms = a->last_ticket_ms,
    };
    in.has_score_before = eval_day_score(&e->before, a->id, &in.score_before);
    in.has_age = account_age(a, e->day, &in.age_days);
    rules_facts_finish(a->facts, &in);
    in.user_label = user_label;
    in.label_arg = e;
    /* Premium products: the trait's list, each used or not in 30 days. */
    cJSON *products = a->f->premium_products && e->rc->rules[RULE_PREMIUM_UNUSED].enabled
                          ? cJSON_Parse(a->f->premium_products)
                          : NULL;
    struct rule_product prods[16];
    size_t n_prods = 0;
    const cJSON *p;
    cJSON_ArrayForEach(p, products) {
        if (n_prods < 16 && cJSON_IsString(p) && !e->err) {
            /* Used: a feature event with that product in days D-29..D
             * (docs/rules.md), not merely a feature name once seen with it. */
            prods[n_prods].name = p->valuestring;
            e->err = store_product_used(e->s, a->id, p->valuestring, e->day - 29, e->day,
                                        &prods[n_prods].used_30d);
            n_prods++;
        }
    }
    if (e->err) {
        cJSON_Delete(products);
        return 1;
    }
    in.products = prods;
    in.n_products = n_prods;
    /* Traits are for custom rules only. */
    cJSON *traits =
        e->rc->n_rules > RULE_BUILTIN_COUNT && a->traits_json ? cJSON_Parse(a->traits_json) : NULL;
    in.traits = traits;

    memcpy(e->failed, e->suspended, sizeof e->failed); /* a suspended rule keeps its CTAs */
    in.suspended = e->suspended;
    rules_evaluate(e->rc, &in, on_finding, on_rule_error, e);
    dedupe_found(e);
    for (size_t i = 0; !e->err && i < e->n_found; i++)
        e->err = decide_found(e, a, &e->found[i], first, end);
    if (!e->err)
        e->err = decide_unmatched(e, a, first, end);
    free_found(e);
    cJSON_Delete(products);
    cJSON_Delete(traits);
    return e->err != TEND_OK;
}

/* ---- the day ------------------------------------------------------------------- */

static void engine_free(struct engine *e) {
    for (size_t i = 0; i < e->n_w; i++)
        eval_cta_release(&e->w[i].c);
    free(e->w);
    free(e->live);
    eval_day_scores_free(&e->before);
    free_found(e);
    free(e->found);
    for (size_t i = 0; i < e->n_opens; i++) {
        free(e->opens[i].account);
        free(e->opens[i].owner);
        free((char *)e->opens[i].f.evidence);
        free_acct(&e->opens[i].acct);
    }
    free(e->opens);
    free(e->risk);
}

static enum tend_err run(struct engine *e) {
    const struct rules_config *rc = e->rc;
    int64_t prev;
    bool found;
    enum tend_err err = store_eval_run_before(e->s, e->t_ms, &prev, &found);
    if (err)
        return err;
    /* Event rules fire for what arrived since the previous evaluation; on
     * the first, for the last days of first_lookback_days. */
    e->since_ms =
        found ? prev : e->t_ms - (int64_t)rc->rules[RULE_NPS_RESPONSE].params[4] * DT_MS_PER_DAY;
    if ((err = store_ctas_watched_each(e->s, 1, STORE_LAST_ID, on_watched, e)))
        return err;
    if (e->n_w)
        qsort(e->w, e->n_w, sizeof *e->w, by_account);
    for (size_t i = 0; i < e->n_w; i++) {
        if (e->w[i].c.status != CTA_CLOSED) {
            (*live_slot(e, e->w[i].c.account_id))++;
            e->live_total++;
        }
    }
    if ((err = load_scores_before(e)))
        return err;
    struct eval_options o = {0};
    const struct rule_settings *tickets = &rc->rules[RULE_SUPPORT_TICKETS];
    if (tickets->enabled)
        o.last_ticket_min_users = (int64_t)tickets->params[2];
    o.risk = e->risk;
    o.hc = e->hc;
    if (!e->only)
        err = eval_accounts(e->s, e->t_ms, NULL, &o, on_account, e);
    for (size_t i = 0; e->only && !err && !e->err && i < e->n_only; i++) {
        o.only_id = e->only[i];
        err = eval_accounts(e->s, e->t_ms, NULL, &o, on_account, e);
    }
    if (!err)
        err = e->err;
    if (!err)
        err = apply_opens(e);
    return err;
}

static enum tend_err evaluate(struct store *s, const struct health_config *hc,
                              const struct rules_config *rc, const struct notify_config *nc,
                              int32_t day, const int64_t *only, size_t n_only, eval_change_fn fn,
                              void *arg, struct eval_summary *out) {
    struct eval_summary sum = {.day = day};
    int64_t started = dt_now_ms();
    struct engine e = {
        .s = s,
        .hc = hc,
        .rc = rc,
        .nc = notify_wanted(nc, day, dt_day_of_ms(started)) ? nc : NULL,
        .day = day,
        .t_ms = (int64_t)(day + 1) * DT_MS_PER_DAY,
        .now_ms = started,
        .only = only,
        .n_only = n_only,
        .fn = fn,
        .arg = arg,
        .sum = &sum,
    };
    enum tend_err err = store_begin(s, NULL);
    if (!err) /* read once per run: every account is scored by the same model */
        err = risk_model_load_adopted(s, &e.risk);
    if (!err)
        err = run(&e);
    if (!err) {
        sum.live_total = e.live_total;
        for (size_t i = 0; i < e.live_len; i++)
            if (e.live[i] > sum.busiest_account_live)
                sum.busiest_account_live = e.live[i];
        sum.run_ms = dt_now_ms() - started;
        /* Only a full evaluation moves the event rules' "since": one of a
         * few accounts must not hide the others' events from the next. */
        if (!only)
            err = store_eval_run_put(s, e.t_ms, sum.run_ms, sum.opened, sum.raised + sum.woken,
                                     sum.resolved + sum.closed_churned, sum.rule_errors);
    }
    if (!err)
        err = store_commit(s);
    else
        store_rollback(s);
    engine_free(&e);
    if (!err)
        *out = sum;
    return err;
}

enum tend_err eval_ctas_day(struct store *s, const struct health_config *hc,
                            const struct rules_config *rc, const struct notify_config *nc,
                            int32_t day, eval_change_fn fn, void *arg, struct eval_summary *out) {
    return evaluate(s, hc, rc, nc, day, NULL, 0, fn, arg, out);
}

enum tend_err eval_ctas_accounts(struct store *s, const struct health_config *hc,
                                 const struct rules_config *rc, const struct notify_config *nc,
                                 int32_t day, const int64_t *ids, size_t n, eval_change_fn fn,
                                 void *arg, struct eval_summary *out) {
    static const int64_t none = 0;
    return evaluate(s, hc, rc, nc, day, n ? ids : &none, n, fn, arg, out);
}
