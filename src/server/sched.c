/* sched.c: the evaluation scheduler (see sched.h).
 *
 * Days: an evaluation as of day D counts events before D+1 00:00Z (SPEC 2);
 * the scheduler evaluates the UTC day of the wall clock, so that what
 * arrived today counts at once, and a later run of the same day changes
 * nothing twice (eval/ctas.h). */
#include "server/sched.h"

#include <glib.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/labels.h"
#include "eval/ctas.h"
#include "eval/customer.h"

#include "eval/escalate.h"
#include "eval/eval.h"
#include "eval/segments.h"
#include "server/lease.h"
#include "store/store.h"
#include "util/datetime.h"
#include "util/log.h"
#include "util/mem.h"

#define RETRY_MS        60000 /* after a failed daily evaluation */
#define CATCH_UP_DAYS   366   /* at most this many missed days are replayed */
#define EVENT_BATCH_MAX 4096  /* accounts in one event evaluation */
#define POLL_MS         5000  /* how often a node looks for buckets unwoken */
#define ESCALATE_MS     60000 /* how often the lease's holder escalates (eval/escalate.h) */

struct sched {
    struct sched_options o;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stopping;
    int64_t *touched; /* waiting for an event evaluation */
    size_t n_touched, cap_touched;
    struct sched_stats stats;
    int32_t refit_tried_day; /* the wall-clock day of the last refit tried */
    bool look;               /* woken: look for buckets now */
    bool shared;             /* several nodes may share the database (not SQLite) */
    int64_t bucket_ids;      /* account ids per bucket of a run planned here (0: one) */
    int64_t period_ms;       /* TEND_TEST_SCHEDULE_EVERY_S: the test schedule (0: daily) */
    int64_t escalate_ms;     /* between escalation passes; 0: escalation is off */
};

/* ---- the daily time ------------------------------------------------------------- */

static GDateTime *local_at(GTimeZone *tz, GDateTime *day, int minute) {
    return g_date_time_new(tz, g_date_time_get_year(day), g_date_time_get_month(day),
                           g_date_time_get_day_of_month(day), minute / 60, minute % 60, 0);
}

/* The daily instant on now's local date, offset by days. */
static int64_t due_on(int64_t now_ms, const char *tzname, int minute, int days) {
    GTimeZone *tz = tzname ? g_time_zone_new_identifier(tzname) : NULL;
    if (!tz)
        tz = g_time_zone_new_utc();
    GDateTime *now = g_date_time_new_from_unix_utc(now_ms / 1000);
    GDateTime *local = g_date_time_to_timezone(now, tz);
    GDateTime *day = g_date_time_add_days(local, days);
    GDateTime *at = local_at(tz, day, minute);
    int64_t ms = g_date_time_to_unix(at) * 1000;
    g_date_time_unref(at);
    g_date_time_unref(day);
    g_date_time_unref(local);
    g_date_time_unref(now);
    g_time_zone_unref(tz);
    return ms;
}

int64_t sched_last_due(int64_t now_ms, const char *tz, int daily_minute) {
    int64_t today = due_on(now_ms, tz, daily_minute, 0);
    return today <= now_ms ? today : due_on(now_ms, tz, daily_minute, -1);
}

int64_t sched_next_due(int64_t now_ms, const char *tz, int daily_minute) {
    int64_t today = due_on(now_ms, tz, daily_minute, 0);
    return today > now_ms ? today : due_on(now_ms, tz, daily_minute, 1);
}

/* ---- evaluations ------------------------------------------------------------------- */

static enum tend_err first_owed(struct store *st, int32_t today, int32_t *first);

static void on_change(void *arg, const struct eval_change *c, const char *error,
                      const char *account) {
    if (error)
        log_printf("tend serve: %s (account %s)", error, account ? account : "?");
}

static void record(struct sched *s, bool daily, bool ok, int64_t ms) {
    pthread_mutex_lock(&s->lock);
    if (!ok)
        s->stats.failures++;
    else if (daily) {
        s->stats.daily_runs++;
        s->stats.last_daily_s = (double)ms / 1000.0;
        s->stats.last_daily_ok_ms = dt_now_ms();
    } else {
        s->stats.event_runs++;
        s->stats.last_event_s = (double)ms / 1000.0;
    }
    pthread_mutex_unlock(&s->lock);
}

/* Before planning a daily evaluation: the stale rollups rebuilt, and the
 * churn-risk model refitted when due (tried at most once a day), so that
 * the run scores with the model it adopts; false on failure (logged). */
static bool prepare(struct sched *s, struct store *st) {
    int refreshed = 0;
    int64_t started = dt_now_ms();
    enum tend_err e = eval_refresh_rollups(st, &refreshed);
    int32_t today = dt_day_of_ms(started);
    if (!e && s->o.model && s->refit_tried_day != today) {
        bool ran;
        char msg[STATS_ERR_BYTES + 80];
        e = model_refit(st, s->o.model, s->o.hc, started, &ran, msg, sizeof msg);
        s->refit_tried_day = today;
        if (!e && ran) {
            log_printf("tend serve: %s", msg);
            pthread_mutex_lock(&s->lock);
            s->stats.refits++;
            pthread_mutex_unlock(&s->lock);
        }
    }
    if (e) {
        record(s, true, false, 0);
        log_printf("tend serve: preparing the daily evaluation failed: %s; again in %d s",
                   store_last_error(st), RETRY_MS / 1000);
    }
    return !e;
}

/* Plans run due_ms of day under the lease's term; false on failure. */
static bool plan(struct sched *s, struct store *st, int64_t term, int64_t due_ms, int32_t day,
                 int *planned) {
    bool created;
    enum tend_err e = store_run_create(st, STORE_LEASE_SCHED, s->o.node_id, term, due_ms, day,
                                       s->bucket_ids, dt_now_ms(), &created);
    if (e) {
        log_printf("tend serve: scheduler: planning an evaluation failed: %s",
                   store_last_error(st));
        return false;
    }
    *planned += created;
    return true;
}

/* The test schedule (TEND_TEST_SCHEDULE_EVERY_S): a scheduled time every
 * period, each evaluating today; the times since the latest run (at most
 * CATCH_UP_DAYS of them) are each planned once. */
static bool plan_periodic(struct sched *s, struct store *st, int64_t term, int64_t now,
                          int *planned, int64_t *next_at) {
    int64_t x = now / s->period_ms * s->period_ms, from = x;
    struct store_run latest;
    bool found;
    if (store_run_latest(st, &latest, &found)) {
        log_printf("tend serve: scheduler: %s", store_last_error(st));
        return false;
    }
    if (found && latest.due_ms < x)
        from = latest.due_ms + s->period_ms;
    if (from < x - (int64_t)(CATCH_UP_DAYS - 1) * s->period_ms)
        from = x - (int64_t)(CATCH_UP_DAYS - 1) * s->period_ms;
    bool ok = true;
    for (int64_t at = from; ok && at <= x; at += s->period_ms)
        ok = plan(s, st, term, at, dt_day_of_ms(now), planned);
    *next_at = x + s->period_ms;
    return ok;
}

/* Plans what the schedule owes as the lease's new holder: the days since
 * the latest full evaluation or planned run, when a scheduled time has
 * passed them (each day a run keyed by its last millisecond: a catch-up,
 * not a scheduled time); *next_at gets the next scheduled time. */
static bool plan_catch_up(struct sched *s, struct store *st, int64_t term, int64_t now,
                          int *planned, int64_t *next_at) {
    if (s->period_ms)
        return plan_periodic(s, st, term, now, planned, next_at);
    int64_t last_due = sched_last_due(now, s->o.timezone, s->o.daily_minute);
    int32_t today = dt_day_of_ms(now), first;
    struct store_run latest;
    bool found;
    *next_at = sched_next_due(now, s->o.timezone, s->o.daily_minute);
    if (first_owed(st, today, &first) || store_run_latest(st, &latest, &found)) {
        log_printf("tend serve: scheduler: %s", store_last_error(st));
        return false;
    }
    if (found && latest.day + 1 > first)
        first = latest.day + 1;
    bool ok = true;
    if (first <= dt_day_of_ms(last_due))
        for (int32_t d = first; ok && d <= today; d++)
            ok = plan(s, st, term, (int64_t)(d + 1) * DT_MS_PER_DAY - 1, d, planned);
    return ok;
}

/* Plans the scheduled time that has come; *next_at gets the next. */
static bool plan_due(struct sched *s, struct store *st, int64_t term, int64_t now, int *planned,
                     int64_t *next_at) {
    if (s->period_ms)
        return plan_periodic(s, st, term, now, planned, next_at);
    *next_at = sched_next_due(now, s->o.timezone, s->o.daily_minute);
    return plan(s, st, term, sched_last_due(now, s->o.timezone, s->o.daily_minute),
                dt_day_of_ms(now), planned);
}

/* Logs a completed run (the node that completed it does). */
static void log_run(const struct store_run *run, const struct eval_summary *one, int64_t ms) {
    char d[16];
    dt_format_date(run->day, d);
    char notes[48];
    if (one) { /* one bucket, the whole evaluation's summary */
        labels_count((long long)one->notifications, "notification", "notifications", notes,
                     sizeof notes);
        log_printf("tend serve: evaluated %s: %lld accounts, %lld opened, %lld raised, %lld woken, "
                   "%lld resolved, %lld expired, %lld held back by the budget, %s, in %lld ms",
                   d, (long long)one->accounts, (long long)one->opened, (long long)one->raised,
                   (long long)one->woken, (long long)(one->resolved + one->closed_churned),
                   (long long)one->expired, (long long)one->held_budget, notes, (long long)ms);
        return;
    }
    labels_count((long long)run->c.notifications, "notification", "notifications", notes,
                 sizeof notes);
    char due[32];
    dt_format_instant(run->due_ms, due);
    log_printf("tend serve: evaluated %s: %lld accounts in %d buckets, %lld opened, %lld raised "
               "or woken, %lld resolved or expired, %s, in %lld ms (run %s)",
               d, (long long)run->c.accounts, run->n_buckets, (long long)run->c.opened,
               (long long)run->c.updated, (long long)run->c.resolved, notes, (long long)ms, due);
}

/* Evaluates a claimed bucket and marks it done (with the run when it was
 * the last); false on failure (logged; the claim runs out and the bucket
 * is claimed again). One node (SQLite): the bucket is every account and
 * the evaluation the full one (eval_ctas_day, which records itself).
 * Several: the bucket's accounts, listed, under their evaluation locks,
 * and the run's completion records the full evaluation. */
/* Decides the messages to customers of the accounts just evaluated (ids
 * NULL: all) on day; a failure is logged, never the evaluation's: the next
 * run decides what this one could not (each key is claimed once). */
static void customers(struct sched *s, struct store *st, int32_t day, const int64_t *ids,
                      size_t n) {
    if (!s->o.cc || !s->o.nc)
        return;
    struct customer_summary cs;
    if (customer_eval(st, s->o.cc, s->o.nc, s->o.unsub_key, day, dt_now_ms(), ids, n, &cs))
        log_printf("tend serve: customer messages failed: %s", store_last_error(st));
    else if (cs.queued || cs.unsubscribed || cs.no_recipient)
        log_printf("tend serve: customer messages: %lld queued, %lld withheld (unsubscribed), "
                   "%lld without a recipient",
                   (long long)cs.queued, (long long)cs.unsubscribed, (long long)cs.no_recipient);
}

static bool run_bucket(struct sched *s, struct store *st, const struct store_bucket *b) {
    int64_t started = dt_now_ms();
    struct eval_summary sum;
    memset(&sum, 0, sizeof sum);
    enum tend_err e = TEND_OK;
    if (!s->shared) {
        e = eval_ctas_day(st, s->o.hc, s->o.rc, s->o.nc, b->day, on_change, NULL, &sum);
        if (!e)
            customers(s, st, b->day, NULL, 0);
    } else {
        int64_t *ids;
        size_t n;
        e = store_account_ids_between(st, b->first_id, b->last_id, &ids, &n);
        if (!e && n)
            e = eval_ctas_bucket(st, s->o.hc, s->o.rc, s->o.nc, b->day, ids, n, b->due_ms,
                                 b->bucket, on_change, NULL, &sum);
        if (!e && n)
            customers(s, st, b->day, ids, n);
        free(ids);
    }
    char d[16];
    dt_format_date(b->day, d);
    if (e) {
        record(s, true, false, 0);
        log_printf("tend serve: evaluating %s (bucket %d of %d) failed: %s; again in %d s", d,
                   b->bucket + 1, b->n_buckets, store_last_error(st), RETRY_MS / 1000);
        return false;
    }
    struct store_run_counts c = {
        .accounts = sum.accounts,
        .opened = sum.opened,
        .updated = sum.raised + sum.woken,
        .resolved = sum.resolved + sum.closed_churned + sum.expired,
        .errors = sum.rule_errors,
        .notifications = sum.notifications,
    };
    bool ours = false, run_done = false;
    struct store_run run;
    int64_t now = dt_now_ms();
    e = store_begin(st, NULL);
    if (!e)
        e = store_bucket_done(st, s->o.node_id, b->due_ms, b->bucket, now, &c, &ours, &run_done,
                              &run);
    /* The run's last bucket: its node sums the buckets' segment parts into
     * the day's groups and runs segment_shift, once (eval/segments.h). */
    struct eval_summary seg = {.day = b->day};
    if (!e && run_done && s->shared)
        e = eval_segments_finish(st, s->o.rc, s->o.nc, b->day, b->due_ms, now, on_change, NULL,
                                 &seg);
    if (!e && run_done && s->shared)
        e = store_eval_run_put(st, (int64_t)(b->day + 1) * DT_MS_PER_DAY, now - run.created_ms,
                               run.c.opened + seg.opened, run.c.updated + seg.raised + seg.woken,
                               run.c.resolved + seg.resolved + seg.expired, run.c.errors);
    if (!e && (sum.notifications || seg.notifications))
        e = store_notify(st, STORE_CHANNEL_OUTBOX); /* one per commit, at the commit */
    if (!e)
        e = store_commit(st);
    else
        store_rollback(st);
    if (e) {
        record(s, true, false, 0);
        log_printf("tend serve: recording the evaluation of %s failed: %s", d,
                   store_last_error(st));
        return false;
    }
    if (run_done) {
        int64_t ms = s->shared ? now - run.created_ms : now - started;
        record(s, true, true, ms);
        log_run(&run, s->shared ? NULL : &sum, ms);
        if (seg.opened || seg.raised || seg.woken || seg.resolved || seg.expired)
            log_printf("tend serve: segments of %s: %lld opened, %lld raised or woken, %lld "
                       "resolved or expired",
                       d, (long long)seg.opened, (long long)(seg.raised + seg.woken),
                       (long long)(seg.resolved + seg.expired));
    }
    return true;
}

static bool is_stopping(struct sched *s) {
    pthread_mutex_lock(&s->lock);
    bool stop = s->stopping;
    pthread_mutex_unlock(&s->lock);
    return stop;
}

/* Claims and evaluates buckets until none is free (or stop, or a
 * failure); true when it did any. */
static bool claim_buckets(struct sched *s, struct store *st) {
    bool any = false;
    /* One node: nobody else can hold a claim, so a claim is a mark that
     * lasts no time (a restart after a crash takes its bucket at once). */
    int64_t claim_ms = s->shared ? 2 * lease_ttl_ms() : 0;
    while (!is_stopping(s)) {
        struct store_bucket b;
        bool found;
        if (store_bucket_claim(st, s->o.node_id, dt_now_ms(), claim_ms, &b, &found)) {
            log_printf("tend serve: scheduler: claiming a bucket: %s", store_last_error(st));
            break;
        }
        if (!found || !run_bucket(s, st, &b))
            break;
        any = true;
    }
    return any;
}

static int cmp_id(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static void run_events(struct sched *s, struct store *st, int64_t *ids, size_t n) {
    qsort(ids, n, sizeof *ids, cmp_id);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (i == 0 || ids[i] != ids[i - 1])
            ids[k++] = ids[i];
    int64_t started = dt_now_ms();
    struct eval_summary sum;
    enum tend_err e = eval_ctas_accounts(st, s->o.hc, s->o.rc, s->o.nc, dt_day_of_ms(started), ids,
                                         k, on_change, NULL, &sum);
    if (!e) /* a card updated, a payment failed: decided now, not tomorrow */
        customers(s, st, dt_day_of_ms(started), ids, k);
    int64_t ms = dt_now_ms() - started;
    record(s, false, !e, ms);
    if (e)
        log_printf("tend serve: evaluating %zu accounts after their events failed: %s", k,
                   store_last_error(st));
    else if (sum.opened || sum.raised || sum.woken || sum.resolved) {
        char notes[48];
        labels_count((long long)sum.notifications, "notification", "notifications", notes,
                     sizeof notes);
        log_printf("tend serve: events of %zu accounts: %lld opened, %lld raised, %lld woken, "
                   "%lld resolved, %s, in %lld ms",
                   k, (long long)sum.opened, (long long)sum.raised, (long long)sum.woken,
                   (long long)sum.resolved, notes, (long long)ms);
    }
    if (!e && sum.notifications && store_notify(st, STORE_CHANNEL_OUTBOX))
        log_printf("tend serve: waking the dispatchers: %s", store_last_error(st));
}

/* The first day the daily schedule still owes: the day after the latest
 * full evaluation, or today when there was none. */
static enum tend_err first_owed(struct store *st, int32_t today, int32_t *first) {
    int64_t latest;
    bool found;
    enum tend_err e = store_eval_run_before(st, INT64_MAX, &latest, &found);
    if (e)
        return e;
    *first = found ? dt_day_of_ms(latest - 1) + 1 : today;
    if (*first < today - CATCH_UP_DAYS + 1)
        *first = today - CATCH_UP_DAYS + 1;
    return TEND_OK;
}

/* Waits until deadline_ms, an event or stop; under the lock. */
static void wait_until(struct sched *s, int64_t deadline_ms) {
    int64_t now = dt_now_ms();
    if (deadline_ms <= now)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t ns = (int64_t)ts.tv_nsec + (deadline_ms - now) % 1000 * 1000000;
    ts.tv_sec += (time_t)((deadline_ms - now) / 1000 + ns / 1000000000);
    ts.tv_nsec = (long)(ns % 1000000000);
    pthread_cond_timedwait(&s->wake, &s->lock, &ts);
}

/* Says when the next daily evaluation is due, once the start-up catch-up is
 * done (operators see the schedule; tests wait for this line), and names a
 * test clock (util/datetime.h) so that it is never mistaken for the real one. */
static void announce(const struct sched *s, int64_t daily_at) {
    GTimeZone *tz = s->o.timezone ? g_time_zone_new_identifier(s->o.timezone) : NULL;
    if (!tz)
        tz = g_time_zone_new_utc();
    GDateTime *utc = g_date_time_new_from_unix_utc(daily_at / 1000);
    GDateTime *local = g_date_time_to_timezone(utc, tz);
    char *when = g_date_time_format(local, "%Y-%m-%d %H:%M");
    char instant[32];
    dt_format_instant(daily_at, instant);
    int64_t offset_ms = dt_clock_offset_ms();
    char test_clock[160] = "";
    int n = 0;
    if (offset_ms)
        n = snprintf(test_clock, sizeof test_clock,
                     "; test clock: shifted by %+lld s (TEND_TEST_CLOCK_OFFSET_S)",
                     (long long)(offset_ms / 1000));
    if (s->period_ms && n >= 0 && (size_t)n < sizeof test_clock)
        snprintf(test_clock + n, sizeof test_clock - (size_t)n,
                 "; test schedule: every %lld s (TEND_TEST_SCHEDULE_EVERY_S)",
                 (long long)(s->period_ms / 1000));
    log_printf("tend serve: scheduler: next daily evaluation at %s %s (%s)%s", when,
               s->o.timezone ? s->o.timezone : "UTC", instant, test_clock);
    g_free(when);
    g_date_time_unref(local);
    g_date_time_unref(utc);
    g_time_zone_unref(tz);
}

/* One escalation pass as of now (the lease's holder only: one node
 * escalates at a time, and the store's record keeps each level to once
 * even if two ever overlap); logged when it escalated anything. */
static void escalate(struct sched *s, struct store *st) {
    struct eval_esc_summary sum;
    int64_t started = dt_now_ms();
    enum tend_err e =
        eval_escalate(st, s->o.escalation, s->o.nc, s->o.timezone, started, NULL, NULL, &sum);
    if (e)
        log_printf("tend serve: escalating: %s; again in %lld s", store_last_error(st),
                   (long long)(s->escalate_ms / 1000));
    else if (sum.escalated)
        log_printf("tend serve: escalated %lld of %lld open CTAs, %lld messages queued, %lld left "
                   "for the next pass, in %lld ms",
                   (long long)sum.escalated, (long long)sum.open, (long long)sum.notifications,
                   (long long)sum.deferred, (long long)(dt_now_ms() - started));
}

/* TEND_TEST_SCHEDULE_EVERY_S: a whole number of seconds > 0, else 0. */
static int64_t test_period_ms(void) {
    const char *e = getenv("TEND_TEST_SCHEDULE_EVERY_S");
    char *end;
    long long v = e && *e ? strtoll(e, &end, 10) : 0;
    return e && *e && !*end && v > 0 ? (int64_t)v * 1000 : 0;
}

/* The lease's holder plans; every node claims buckets and evaluates the
 * accounts its own ingest touched. Wakes on a touch, a wake-up from
 * another node or the lease's keeper, the next scheduled time, and every
 * POLL_MS to look for buckets (the fallback when a wake-up is lost). */
static void *sched_main(void *arg) {
    struct sched *s = arg;
    char err[STORE_ERR_BYTES];
    struct store *st = NULL;
    while (store_open(s->o.db, &st, err)) {
        log_printf("tend serve: scheduler: %s; again in %d s", err, RETRY_MS / 1000);
        pthread_mutex_lock(&s->lock);
        wait_until(s, dt_now_ms() + RETRY_MS);
        bool stop = s->stopping;
        pthread_mutex_unlock(&s->lock);
        if (stop)
            return NULL;
    }
    s->shared = strcmp(store_backend_name(st), "sqlite") != 0;
    s->bucket_ids = s->shared ? store_bucket_ids() : 0;
    s->period_ms = test_period_ms();
    if (s->o.escalation && s->o.escalation->enabled) {
        /* TEND_TEST_ESCALATE_EVERY_S: tests pass a shorter period. */
        const char *ev = getenv("TEND_TEST_ESCALATE_EVERY_S");
        long long v = ev && *ev ? atoll(ev) : 0;
        s->escalate_ms = v > 0 && v <= 3600 ? v * 1000 : ESCALATE_MS;
    }
    int64_t next_escalate = 0;
    int64_t planned_term = 0, announced_term = 0, daily_at = INT64_MAX, next_look = 0;
    int64_t retry_at = 0; /* when to try planning again after a failure */
    int64_t *batch = NULL;
    pthread_mutex_lock(&s->lock);
    while (!s->stopping) {
        size_t n = s->n_touched < EVENT_BATCH_MAX ? s->n_touched : EVENT_BATCH_MAX;
        if (n) {
            batch = xrealloc(batch, n * sizeof *batch);
            memcpy(batch, s->touched, n * sizeof *batch);
            memmove(s->touched, s->touched + n, (s->n_touched - n) * sizeof *s->touched);
            s->n_touched -= n;
        }
        s->stats.events_pending = (int64_t)s->n_touched;
        bool look = s->look;
        s->look = false;
        pthread_mutex_unlock(&s->lock);

        int64_t now = dt_now_ms(), term = 0;
        bool held = lease_held(s->o.lease, &term);
        int planned = 0;
        if (held && term != planned_term && now >= retry_at) {
            /* This node has just become the holder: what is owed first. */
            if (prepare(s, st) && plan_catch_up(s, st, term, now, &planned, &daily_at))
                planned_term = term;
            else
                retry_at = now + RETRY_MS;
        } else if (held && term == planned_term && now >= daily_at) {
            if (!(prepare(s, st) && plan_due(s, st, term, now, &planned, &daily_at)))
                daily_at = now + RETRY_MS;
        } else if (!held) {
            planned_term = 0;
        }
        if (planned && store_notify(st, STORE_CHANNEL_RUN))
            log_printf("tend serve: scheduler: waking the other nodes: %s", store_last_error(st));
        if (n)
            run_events(s, st, batch, n);
        if (held && s->escalate_ms && dt_now_ms() >= next_escalate) {
            escalate(s, st);
            next_escalate = dt_now_ms() + s->escalate_ms;
        }
        if (planned || look || dt_now_ms() >= next_look) {
            claim_buckets(s, st);
            next_look = dt_now_ms() + POLL_MS;
        }
        if (held && planned_term == term && announced_term != term) {
            announce(s, daily_at);
            announced_term = term;
        }
        pthread_mutex_lock(&s->lock);
        if (!s->n_touched && !s->look && !s->stopping) {
            int64_t until = next_look;
            if (held && planned_term == term && daily_at < until)
                until = daily_at;
            if (held && planned_term != term && retry_at < until)
                until = retry_at;
            if (held && s->escalate_ms && next_escalate < until)
                until = next_escalate;
            wait_until(s, until);
        }
    }
    pthread_mutex_unlock(&s->lock);
    free(batch);
    store_close(st);
    return NULL;
}

enum tend_err sched_start(const struct sched_options *o, struct sched **out, char *err) {
    struct sched *s = xcalloc(1, sizeof *s);
    s->o = *o;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->wake, NULL);
    if (pthread_create(&s->thread, NULL, sched_main, s) != 0) {
        snprintf(err, SCHED_ERR_BYTES, "cannot start the scheduler thread");
        pthread_mutex_destroy(&s->lock);
        pthread_cond_destroy(&s->wake);
        free(s);
        return TEND_ERR_IO;
    }
    *out = s;
    return TEND_OK;
}

void sched_wake(void *arg) {
    struct sched *s = arg;
    pthread_mutex_lock(&s->lock);
    s->look = true;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->lock);
}

void sched_touch(void *arg, const int64_t *accounts, size_t n) {
    struct sched *s = arg;
    pthread_mutex_lock(&s->lock);
    if (s->n_touched + n > s->cap_touched) {
        s->cap_touched = (s->n_touched + n) * 2;
        s->touched = xrealloc(s->touched, s->cap_touched * sizeof *s->touched);
    }
    memcpy(s->touched + s->n_touched, accounts, n * sizeof *accounts);
    s->n_touched += n;
    s->stats.events_pending = (int64_t)s->n_touched;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->lock);
}

void sched_stats(struct sched *s, struct sched_stats *out) {
    pthread_mutex_lock(&s->lock);
    *out = s->stats;
    pthread_mutex_unlock(&s->lock);
}

void sched_stop(struct sched *s) {
    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    s->stopping = true;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->thread, NULL);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->wake);
    free(s->touched);
    free(s);
}
