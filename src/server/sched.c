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

#include "eval/ctas.h"
#include "eval/eval.h"
#include "store/store.h"
#include "util/datetime.h"
#include "util/log.h"
#include "util/mem.h"

#define RETRY_MS        60000 /* after a failed daily evaluation */
#define CATCH_UP_DAYS   366   /* at most this many missed days are replayed */
#define EVENT_BATCH_MAX 4096  /* accounts in one event evaluation */

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

/* Evaluates every account as of day; false on failure (logged). */
static bool run_day(struct sched *s, struct store *st, int32_t day) {
    int64_t started = dt_now_ms();
    int refreshed = 0;
    struct eval_summary sum;
    enum tend_err e = eval_refresh_rollups(st, &refreshed);
    int32_t today = dt_day_of_ms(started);
    if (!e && s->o.model && s->refit_tried_day != today) {
        /* The churn-risk model first, so that this evaluation scores with
         * the model it adopts; tried at most once a day. */
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
    if (!e)
        e = eval_ctas_day(st, s->o.hc, s->o.rc, s->o.nc, day, on_change, NULL, &sum);
    char d[16];
    dt_format_date(day, d);
    int64_t ms = dt_now_ms() - started;
    record(s, true, !e, ms);
    if (e) {
        log_printf("tend serve: evaluating %s failed: %s; again in %d s", d, store_last_error(st),
                   RETRY_MS / 1000);
        return false;
    }
    log_printf(
        "tend serve: evaluated %s: %lld accounts, %lld opened, %lld raised, %lld woken, "
        "%lld resolved, %lld expired, %lld held back by the budget, %lld notifications, in %lld ms",
        d, (long long)sum.accounts, (long long)sum.opened, (long long)sum.raised,
        (long long)sum.woken, (long long)(sum.resolved + sum.closed_churned),
        (long long)sum.expired, (long long)sum.held_budget, (long long)sum.notifications,
        (long long)ms);
    return true;
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
    int64_t ms = dt_now_ms() - started;
    record(s, false, !e, ms);
    if (e)
        log_printf("tend serve: evaluating %zu accounts after their events failed: %s", k,
                   store_last_error(st));
    else if (sum.opened || sum.raised || sum.woken || sum.resolved)
        log_printf("tend serve: events of %zu accounts: %lld opened, %lld raised, %lld woken, "
                   "%lld resolved, %lld notifications, in %lld ms",
                   k, (long long)sum.opened, (long long)sum.raised, (long long)sum.woken,
                   (long long)sum.resolved, (long long)sum.notifications, (long long)ms);
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
    char test_clock[96] = "";
    if (offset_ms)
        snprintf(test_clock, sizeof test_clock,
                 "; test clock: shifted by %+lld s (TEND_TEST_CLOCK_OFFSET_S)",
                 (long long)(offset_ms / 1000));
    log_printf("tend serve: scheduler: next daily evaluation at %s %s (%s)%s", when,
               s->o.timezone ? s->o.timezone : "UTC", instant, test_clock);
    g_free(when);
    g_date_time_unref(local);
    g_date_time_unref(utc);
    g_time_zone_unref(tz);
}

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
    /* Catch up: the days owed since the latest full evaluation, when the
     * last scheduled time has passed them. */
    int64_t now = dt_now_ms();
    int64_t last_due = sched_last_due(now, s->o.timezone, s->o.daily_minute);
    int32_t today = dt_day_of_ms(now), first;
    int64_t daily_at = sched_next_due(now, s->o.timezone, s->o.daily_minute);
    if (first_owed(st, today, &first)) {
        log_printf("tend serve: scheduler: %s", store_last_error(st));
        daily_at = now; /* try the daily run at once, and again after failures */
    } else if (first <= dt_day_of_ms(last_due)) {
        for (int32_t d = first; d <= today; d++) {
            pthread_mutex_lock(&s->lock);
            bool stop = s->stopping;
            pthread_mutex_unlock(&s->lock);
            if (stop || !run_day(s, st, d)) {
                daily_at = now + RETRY_MS;
                break;
            }
        }
    }
    announce(s, daily_at);
    int64_t *batch = NULL;
    pthread_mutex_lock(&s->lock);
    while (!s->stopping) {
        if (!s->n_touched && dt_now_ms() < daily_at) {
            wait_until(s, daily_at);
            continue;
        }
        size_t n = s->n_touched < EVENT_BATCH_MAX ? s->n_touched : EVENT_BATCH_MAX;
        if (n) {
            batch = xrealloc(batch, n * sizeof *batch);
            memcpy(batch, s->touched, n * sizeof *batch);
            memmove(s->touched, s->touched + n, (s->n_touched - n) * sizeof *s->touched);
            s->n_touched -= n;
        }
        s->stats.events_pending = (int64_t)s->n_touched;
        pthread_mutex_unlock(&s->lock);
        if (n) {
            run_events(s, st, batch, n);
        } else {
            now = dt_now_ms();
            daily_at = run_day(s, st, dt_day_of_ms(now))
                           ? sched_next_due(now, s->o.timezone, s->o.daily_minute)
                           : now + RETRY_MS;
        }
        pthread_mutex_lock(&s->lock);
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
