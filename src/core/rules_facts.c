/* rules_facts.c: the facts the rules read besides metrics (see rules.h):
 * NPS responses per user, goals and milestones, the last reply and the
 * outreach sent, gathered from an account's facts in time order into a
 * struct rule_input.
 *
 * What it is not: no rule and no configuration; it only keeps, for each
 * kind of fact, what a rule needs (the latest and previous NPS score of each
 * user, whether a milestone is done and when it is due). */
#include "core/rules.h"

#include <stdlib.h>
#include <string.h>

#include "core/vocab.h"
#include "util/datetime.h"
#include "util/mem.h"

struct nps_seen {
    int64_t user_id;
    int64_t ts[2]; /* latest, previous; INT64_MIN none */
    double score[2];
    /* nps_change: the latest answer before T - RULES_NPS_CHANGE_DAYS. */
    int64_t ts_before;
    double score_before;
};

struct milestone_seen {
    char *name;
    bool has_due;
    int32_t due_day;
    int64_t due_ts; /* of the latest due fact */
    bool done;
};

struct rules_facts {
    int64_t t_ms;
    struct nps_seen *nps;
    size_t n_nps, cap_nps;
    struct rule_nps *nps_out;
    struct rule_goal *goals;
    size_t n_goals, cap_goals;
    struct milestone_seen *ms;
    size_t n_ms, cap_ms;
    struct rule_milestone *ms_out;
    int64_t last_reply_ms; /* INT64_MIN none */
    int64_t *sent;         /* Outreach Sent times */
    size_t n_sent, cap_sent;
    int64_t nps_window_before; /* answers in the RULES_NPS_CHANGE_DAYS before T - that */
};

struct rules_facts *rules_facts_new(int64_t t_ms) {
    struct rules_facts *f = xcalloc(1, sizeof *f);
    f->t_ms = t_ms;
    f->last_reply_ms = INT64_MIN;
    return f;
}

void rules_facts_free(struct rules_facts *f) {
    if (!f)
        return;
    for (size_t i = 0; i < f->n_goals; i++) {
        free((char *)f->goals[i].goal_id);
        free((char *)f->goals[i].feature);
    }
    for (size_t i = 0; i < f->n_ms; i++)
        free(f->ms[i].name);
    free(f->nps);
    free(f->nps_out);
    free(f->goals);
    free(f->ms);
    free(f->ms_out);
    free(f->sent);
    free(f);
}

#define GROW(v, n, cap)                                                                            \
    do {                                                                                           \
        if ((n) == (cap)) {                                                                        \
            (cap) = (cap) ? (cap)*2 : 8;                                                           \
            (v) = xrealloc((v), (cap) * sizeof *(v));                                              \
        }                                                                                          \
    } while (0)

static void add_nps(struct rules_facts *f, const struct metric_fact *x) {
    if (!x->has_num)
        return;
    struct nps_seen *u = NULL;
    for (size_t i = 0; i < f->n_nps && !u; i++)
        if (f->nps[i].user_id == x->user_id)
            u = &f->nps[i];
    if (!u) {
        GROW(f->nps, f->n_nps, f->cap_nps);
        u = &f->nps[f->n_nps++];
        u->user_id = x->user_id;
        u->ts[0] = u->ts[1] = u->ts_before = INT64_MIN;
    }
    int64_t then = f->t_ms - (int64_t)RULES_NPS_CHANGE_DAYS * DT_MS_PER_DAY;
    if (x->ts_ms < then) {
        f->nps_window_before += x->ts_ms >= then - (int64_t)RULES_NPS_CHANGE_DAYS * DT_MS_PER_DAY;
        if (x->ts_ms > u->ts_before) {
            u->ts_before = x->ts_ms;
            u->score_before = x->num;
        }
    }
    if (x->ts_ms > u->ts[0]) {
        u->ts[1] = u->ts[0];
        u->score[1] = u->score[0];
        u->ts[0] = x->ts_ms;
        u->score[0] = x->num;
    } else if (x->ts_ms > u->ts[1] && x->ts_ms != u->ts[0]) {
        u->ts[1] = x->ts_ms;
        u->score[1] = x->num;
    }
}

static struct milestone_seen *milestone(struct rules_facts *f, const char *name) {
    for (size_t i = 0; i < f->n_ms; i++)
        if (strcmp(f->ms[i].name, name) == 0)
            return &f->ms[i];
    GROW(f->ms, f->n_ms, f->cap_ms);
    struct milestone_seen *m = &f->ms[f->n_ms++];
    memset(m, 0, sizeof *m);
    m->name = xstrdup(name);
    m->due_ts = INT64_MIN;
    return m;
}

void rules_facts_add(struct rules_facts *f, const struct metric_fact *x) {
    if (x->ts_ms >= f->t_ms)
        return;
    switch (x->kind) {
    case EV_NPS:
        add_nps(f, x);
        break;
    case EV_GOAL_SET:
        if (!x->subject || !x->has_day)
            break;
        for (size_t i = 0; i < f->n_goals; i++) {
            struct rule_goal *g = &f->goals[i];
            if (strcmp(g->goal_id, x->subject) != 0)
                continue;
            if (x->ts_ms > g->set_ms) { /* set again: the latest one stands */
                free((char *)g->feature);
                g->feature = xstrdup(x->detail ? x->detail : "");
                g->set_ms = x->ts_ms;
                g->due_day = x->day;
                g->met_ms = x->settled_ms;
            }
            return;
        }
        GROW(f->goals, f->n_goals, f->cap_goals);
        f->goals[f->n_goals++] = (struct rule_goal){
            .goal_id = xstrdup(x->subject),
            .feature = xstrdup(x->detail ? x->detail : ""),
            .set_ms = x->ts_ms,
            .due_day = x->day,
            .met_ms = x->settled_ms,
        };
        break;
    case EV_MILESTONE_DUE:
        if (x->subject && x->has_day) {
            struct milestone_seen *m = milestone(f, x->subject);
            if (x->ts_ms > m->due_ts) { /* the latest due date given wins */
                m->has_due = true;
                m->due_day = x->day;
                m->due_ts = x->ts_ms;
            }
        }
        break;
    case EV_MILESTONE_DONE:
        if (x->subject)
            milestone(f, x->subject)->done = true;
        break;
    case EV_OUTREACH_SENT:
        GROW(f->sent, f->n_sent, f->cap_sent);
        f->sent[f->n_sent++] = x->ts_ms;
        break;
    case EV_OUTREACH_REPLIED:
        if (x->ts_ms > f->last_reply_ms)
            f->last_reply_ms = x->ts_ms;
        break;
    default:
        break;
    }
}

void rules_facts_finish(struct rules_facts *f, struct rule_input *in) {
    free(f->nps_out);
    f->nps_out = xmalloc((f->n_nps ? f->n_nps : 1) * sizeof *f->nps_out);
    for (size_t i = 0; i < f->n_nps; i++) {
        const struct nps_seen *u = &f->nps[i];
        f->nps_out[i] = (struct rule_nps){
            .user_id = u->user_id,
            .score = u->score[0],
            .ts_ms = u->ts[0],
            .has_prev = u->ts[1] != INT64_MIN,
            .prev_score = u->score[1],
        };
    }
    in->nps = f->nps_out;
    in->n_nps = f->n_nps;
    /* The NPS as of RULES_NPS_CHANGE_DAYS earlier (SPEC 3's definition over
     * the answers still held as of T, docs/rules.md). */
    int64_t answered = 0, promoters = 0, detractors = 0;
    for (size_t i = 0; i < f->n_nps; i++) {
        if (f->nps[i].ts_before == INT64_MIN)
            continue;
        answered++;
        promoters += f->nps[i].score_before >= 9;
        detractors += f->nps[i].score_before <= 6;
    }
    in->has_nps_before = answered > 0;
    in->nps_before = answered ? 100.0 * (double)(promoters - detractors) / (double)answered : 0;
    in->nps_answers_before = f->nps_window_before;
    in->goals = f->goals;
    in->n_goals = f->n_goals;
    free(f->ms_out);
    f->ms_out = xmalloc((f->n_ms ? f->n_ms : 1) * sizeof *f->ms_out);
    size_t n = 0;
    for (size_t i = 0; i < f->n_ms; i++) {
        if (!f->ms[i].has_due)
            continue; /* completed without a due date: nothing to be late for */
        f->ms_out[n++] = (struct rule_milestone){
            .name = f->ms[i].name, .due_day = f->ms[i].due_day, .done = f->ms[i].done};
    }
    in->milestones = f->ms_out;
    in->n_milestones = n;
    in->has_oldest_unanswered = false;
    for (size_t i = 0; i < f->n_sent; i++) {
        if (f->sent[i] <= f->last_reply_ms)
            continue;
        if (!in->has_oldest_unanswered || f->sent[i] < in->oldest_unanswered_ms)
            in->oldest_unanswered_ms = f->sent[i];
        in->has_oldest_unanswered = true;
    }
}
