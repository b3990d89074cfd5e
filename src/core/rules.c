/* rules.c: the built-in and custom rules (see rules.h, docs/rules.md).
 *
 * Each built-in rule is one function of the account's inputs that emits a
 * finding per key whose condition holds; its thresholds are named parameters
 * with the defaults of SPEC 5. Reasons carry the numbers a CSM needs to act
 * without opening a dashboard ("logins fell from 41/week to 12 in the last 7
 * days"), and the evidence the metric values behind them.
 *
 * What it is not: the table of built-in rules and the loading of tend.yaml
 * (rules_config.c), nor the gathering of facts into a rule_input
 * (rules_facts.c); this file only evaluates a loaded configuration. */
#include "core/rules.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/custom_rule.h"
#include "util/datetime.h"

/* ---- findings ------------------------------------------------------------------ */

struct emitter {
    const struct rules_config *c;
    const struct rule_input *in;
    rules_emit_fn emit;
    rules_error_fn error;
    void *arg;
    int rule;
    /* The evidence of the next finding, as the members of a JSON object:
     * built as text, since most findings only keep a CTA alive and are never
     * stored (a cJSON tree per finding measured 3 us of the 25 us per
     * account). */
    char ev[1024];
    size_t ev_len;
};

static double param(const struct emitter *e, int i) {
    return e->c->rules[e->rule].params[i];
}

static const struct rule_settings *settings(const struct emitter *e) {
    return &e->c->rules[e->rule];
}

/* Appends text to the evidence, or nothing once it is full. */
static void ev_put(struct emitter *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ev_put(struct emitter *e, const char *fmt, ...) {
    if (e->ev_len >= sizeof e->ev - 1)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(e->ev + e->ev_len, sizeof e->ev - e->ev_len, fmt, ap);
    va_end(ap);
    if (n > 0 && e->ev_len + (size_t)n < sizeof e->ev)
        e->ev_len += (size_t)n;
    else
        e->ev[e->ev_len] = '\0'; /* a member that does not fit is left out */
}

/* Appends s as a JSON string (quoted and escaped). */
static void ev_quoted(struct emitter *e, const char *s) {
    char out[512];
    size_t n = 0;
    out[n++] = '"';
    for (; *s && n < sizeof out - 8; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            out[n++] = '\\';
            out[n++] = (char)c;
        } else if (c < 0x20) {
            n += (size_t)snprintf(out + n, sizeof out - n, "\\u%04x", c);
        } else {
            out[n++] = (char)c;
        }
    }
    out[n++] = '"';
    out[n] = '\0';
    ev_put(e, "%s", out);
}

static void ev_name(struct emitter *e, const char *name) {
    ev_put(e, "%s", e->ev_len ? "," : "");
    ev_quoted(e, name);
    ev_put(e, ":");
}

static void ev_num(struct emitter *e, const char *name, double v) {
    ev_name(e, name);
    if (!isfinite(v))
        ev_put(e, "null");
    else if (v == floor(v) && fabs(v) < 1e15)
        ev_put(e, "%lld", (long long)v);
    else
        ev_put(e, "%.15g", v);
}

static void ev_str(struct emitter *e, const char *name, const char *v) {
    ev_name(e, name);
    ev_quoted(e, v ? v : "");
}

static void ev_null(struct emitter *e, const char *name) {
    ev_name(e, name);
    ev_put(e, "null");
}

/* Emits a finding with the evidence gathered since the last one. */
static void finding(struct emitter *e, const char *subject, enum cta_type type,
                    enum cta_priority priority, bool event, bool fresh, const char *title,
                    const char *reason_fmt, ...) {
    struct rule_finding f = {
        .rule = e->rule,
        .type = type,
        .priority = priority,
        .event = event,
        .fresh = fresh,
    };
    snprintf(f.subject, sizeof f.subject, "%s", subject ? subject : "");
    snprintf(f.title, sizeof f.title, "%s", title);
    va_list ap;
    va_start(ap, reason_fmt);
    vsnprintf(f.reason, sizeof f.reason, reason_fmt, ap);
    va_end(ap);
    char evidence[sizeof e->ev + 2];
    snprintf(evidence, sizeof evidence, "{%s}", e->ev);
    f.evidence = evidence;
    e->ev_len = 0;
    e->ev[0] = '\0';
    e->emit(e->arg, &f);
}

/* Says that a key's condition does not hold but has not cleared by the
 * rule's margin (hysteresis, docs/rules.md): its CTA, if live, stays. */
static void between(struct emitter *e, const char *subject, enum cta_type type) {
    struct rule_finding f = {.rule = e->rule, .type = type, .in_between = true};
    snprintf(f.subject, sizeof f.subject, "%s", subject);
    f.evidence = "{}";
    e->ev_len = 0;
    e->ev[0] = '\0';
    e->emit(e->arg, &f);
}

static void date_of(int32_t day, char out[16]) {
    dt_format_date(day, out);
}

/* ---- the built-in rules -------------------------------------------------------- */

static void health_drop(struct emitter *e) {
    const struct rule_input *in = e->in;
    if (!in->h->has_score)
        return;
    double now = in->h->overall, drop_points = param(e, 0);
    bool red = in->h->band == BAND_RED;
    bool dropped = in->has_score_before && in->score_before - now >= drop_points;
    if (!red && !dropped) {
        double margin = rules_param(settings(e), RP_HEALTH_DROP_CLEAR_MARGIN);
        if (margin > 0 && in->has_score_before && in->score_before - now >= drop_points - margin)
            between(e, "", settings(e)->type);
        return;
    }
    ev_num(e, "score", round(now * 10) / 10);
    if (in->has_score_before)
        ev_num(e, "score_before", round(in->score_before * 10) / 10);
    ev_num(e, "days", param(e, 1));
    ev_str(e, "band", health_band_name(in->h->band));
    char reason[256];
    if (dropped)
        snprintf(reason, sizeof reason, "health fell from %.1f to %.1f in %.0f days%s",
                 in->score_before, now, param(e, 1), red ? ", into the red band" : "");
    else
        snprintf(reason, sizeof reason, "health is %.1f, in the red band", now);
    finding(e, "", settings(e)->type, red ? CTA_HIGH : settings(e)->priority, false, false,
            red ? "Health is red" : "Health dropped", "%s", reason);
}

/* One account-level NPS key: the answers that make it, as evidence. */
struct nps_group {
    const char *subject;
    int n, n_main;  /* answers; detractors (risk) or all */
    bool fresh;     /* an answer arrived since the previous evaluation */
    char list[400]; /* "jane@x answered 3 on 2026-03-01; ..." */
    size_t list_len;
    char answers[700]; /* JSON array members */
    size_t answers_len;
};

static void nps_add(struct nps_group *g, const char *who, const struct rule_nps *a, bool fresh,
                    bool main) {
    g->n++;
    g->n_main += main;
    g->fresh = g->fresh || fresh;
    char when[16], one[200];
    dt_format_date(dt_day_of_ms(a->ts_ms), when);
    int n = a->has_prev ? snprintf(one, sizeof one, "%s%s answered %.0f on %s (before: %.0f)",
                                   g->list_len ? "; " : "", who, a->score, when, a->prev_score)
                        : snprintf(one, sizeof one, "%s%s answered %.0f on %s",
                                   g->list_len ? "; " : "", who, a->score, when);
    if (n > 0 && g->list_len + (size_t)n < sizeof g->list - 8) {
        memcpy(g->list + g->list_len, one, (size_t)n + 1);
        g->list_len += (size_t)n;
    } else if (g->list_len + 6 < sizeof g->list && !strstr(g->list, "; ...")) {
        memcpy(g->list + g->list_len, "; ...", 6);
        g->list_len += 5;
    }
    /* The evidence: each answer as {"user","score","answered"[,"previous_score"]},
     * as many as fit whole. */
    char esc[160];
    size_t k = 0;
    for (const char *c = who; *c && k < sizeof esc - 8; c++) {
        unsigned char ch = (unsigned char)*c;
        if (ch == '"' || ch == '\\')
            esc[k++] = '\\', esc[k++] = (char)ch;
        else if (ch >= 0x20)
            esc[k++] = (char)ch;
    }
    esc[k] = '\0';
    n = a->has_prev
            ? snprintf(one, sizeof one,
                       "%s{\"user\":\"%s\",\"score\":%g,\"answered\":\"%s\",\"previous_score\":%g}",
                       g->answers_len ? "," : "", esc, a->score, when, a->prev_score)
            : snprintf(one, sizeof one, "%s{\"user\":\"%s\",\"score\":%g,\"answered\":\"%s\"}",
                       g->answers_len ? "," : "", esc, a->score, when);
    if (n > 0 && g->answers_len + (size_t)n < sizeof g->answers) {
        memcpy(g->answers + g->answers_len, one, (size_t)n + 1);
        g->answers_len += (size_t)n;
    }
}

/* NPS: one CTA per account and kind (docs/rules.md): "nps" for detractors
 * and falls (risk), "nps:passives" (risk, watch) and "nps:promoters"
 * (opportunity). Every answer that makes a key is evidence on its CTA; a new
 * one on a live CTA updates its reason. */
static void nps_response(struct emitter *e) {
    const struct rule_input *in = e->in;
    const struct rule_settings *r = settings(e);
    double detractor_max = rules_param(r, RP_NPS_DETRACTOR_MAX);
    double promoter_min = rules_param(r, RP_NPS_PROMOTER_MIN);
    double drop = rules_param(r, RP_NPS_DROP_POINTS);
    int64_t window_ms = (int64_t)rules_param(r, RP_NPS_WINDOW_DAYS) * DT_MS_PER_DAY;
    int64_t watch_ms = (int64_t)rules_param(r, RP_NPS_WATCH_DAYS) * DT_MS_PER_DAY;
    struct nps_group g[3] = {
        {.subject = "nps"}, {.subject = "nps:passives"}, {.subject = "nps:promoters"}};
    for (size_t i = 0; i < in->n_nps; i++) {
        const struct rule_nps *a = &in->nps[i];
        if (a->ts_ms >= in->t_ms || a->ts_ms < in->t_ms - window_ms)
            continue;
        bool detractor = a->score <= detractor_max;
        bool fell = a->has_prev && a->prev_score - a->score >= drop;
        if (!detractor && !fell && a->ts_ms < in->t_ms - watch_ms)
            continue; /* a passive's or promoter's CTA is a quick one (watch_days) */
        /* Who, asked only now that it counts (a look-up in the store). */
        const char *label = in->user_label ? in->user_label(in->label_arg, a->user_id) : NULL;
        char who[128];
        if (label && label[0])
            snprintf(who, sizeof who, "%s", label);
        else
            snprintf(who, sizeof who, "user #%lld", (long long)a->user_id);
        int k = detractor || fell ? 0 : a->score >= promoter_min ? 2 : 1;
        nps_add(&g[k], who, a, a->ts_ms >= in->since_ms, detractor);
    }
    for (int k = 0; k < 3; k++) {
        if (!g[k].n)
            continue;
        enum cta_type type = k == 2 ? CTA_OPPORTUNITY : k == 0 ? r->type : CTA_RISK;
        enum cta_priority prio = k == 0 ? (g[k].n_main ? r->priority : CTA_MEDIUM) : CTA_LOW;
        char title[200];
        if (k == 0 && g[k].n_main)
            snprintf(title, sizeof title, "NPS detractor%s: %d answer%s of %.0f or less%s",
                     g[k].n_main == 1 ? "" : "s", g[k].n_main, g[k].n_main == 1 ? "" : "s",
                     detractor_max, g[k].n > g[k].n_main ? ", and a fall" : "");
        else if (k == 0)
            snprintf(title, sizeof title, "NPS fell: %d answer%s %.0f+ points below the last",
                     g[k].n, g[k].n == 1 ? "" : "s", drop);
        else if (k == 1)
            snprintf(title, sizeof title, "NPS passive%s (watch)", g[k].n == 1 ? "" : "s");
        else
            snprintf(title, sizeof title, "NPS promoter%s (ask for advocacy)",
                     g[k].n == 1 ? "" : "s");
        ev_num(e, "answers_count", g[k].n);
        ev_name(e, "answers");
        ev_put(e, "[%s]", g[k].answers);
        finding(e, g[k].subject, type, prio, true, g[k].fresh, title, "%s", g[k].list);
    }
}

/* The stage of a count of days left among low/medium/high thresholds: the
 * priority, or -1 when not yet in the first stage. */
static int stage(const struct emitter *e, int64_t days_left) {
    if (days_left <= param(e, 2))
        return CTA_HIGH;
    if (days_left <= param(e, 1))
        return CTA_MEDIUM;
    if (days_left <= param(e, 0))
        return CTA_LOW;
    return -1;
}

static void card_expiring(struct emitter *e) {
    const struct metrics *m = e->in->m;
    if (!m->has_card_days_left)
        return;
    int p = stage(e, m->card_days_left);
    if (p < 0)
        return;
    char last[16], subject[32];
    date_of(e->in->day + (int32_t)m->card_days_left, last);
    snprintf(subject, sizeof subject, "card:%.7s", last); /* the expiry month */
    ev_num(e, "card_days_left", (double)m->card_days_left);
    ev_str(e, "expires", last);
    if (m->card_days_left < 0)
        finding(e, subject, settings(e)->type, (enum cta_priority)p, false, false,
                "Card on file has expired", "the card on file expired on %s, %lld days ago", last,
                (long long)-m->card_days_left);
    else
        finding(e, subject, settings(e)->type, (enum cta_priority)p, false, false,
                "Card on file expires soon", "the card on file expires on %s, in %lld days", last,
                (long long)m->card_days_left);
}

static void renewal_upcoming(struct emitter *e) {
    const struct metrics *m = e->in->m;
    if (!m->has_renewal_days_left)
        return;
    int p = stage(e, m->renewal_days_left);
    if (p < 0)
        return;
    char date[16], subject[32];
    date_of(e->in->day + (int32_t)m->renewal_days_left, date);
    snprintf(subject, sizeof subject, "renewal:%s", date);
    ev_num(e, "renewal_days_left", (double)m->renewal_days_left);
    ev_str(e, "renewal_date", date);
    if (m->has_mrr)
        ev_num(e, "mrr", m->mrr);
    if (m->renewal_days_left < 0)
        finding(e, subject, settings(e)->type, (enum cta_priority)p, false, false,
                "Renewal date has passed", "the renewal date %s passed %lld days ago", date,
                (long long)-m->renewal_days_left);
    else
        finding(e, subject, settings(e)->type, (enum cta_priority)p, false, false,
                "Renewal coming up", "renews on %s, in %lld days", date,
                (long long)m->renewal_days_left);
}

static void payment_overdue(struct emitter *e) {
    const struct metrics *m = e->in->m;
    if (m->overdue_invoices < param(e, 0))
        return;
    bool high = m->max_days_overdue >= param(e, 1);
    ev_num(e, "overdue_invoices", (double)m->overdue_invoices);
    ev_num(e, "overdue_amount", m->overdue_amount);
    ev_num(e, "max_days_overdue", (double)m->max_days_overdue);
    finding(e, "", settings(e)->type, high ? CTA_HIGH : settings(e)->priority, false, false,
            "Payment overdue", "%lld invoice%s overdue, %.2f in all, the oldest by %lld days",
            (long long)m->overdue_invoices, m->overdue_invoices == 1 ? "" : "s", m->overdue_amount,
            (long long)m->max_days_overdue);
}

static void no_login(struct emitter *e) {
    const struct metrics *m = e->in->m;
    if (!m->has_days_since_login || m->days_since_login < param(e, 0))
        return;
    char last[16];
    date_of(e->in->day - (int32_t)m->days_since_login, last);
    ev_num(e, "days_since_login", (double)m->days_since_login);
    ev_str(e, "last_login", last);
    finding(e, "", settings(e)->type, settings(e)->priority, false, false, "No logins",
            "no one has logged in for %lld days (last login %s)", (long long)m->days_since_login,
            last);
}

static void login_change(struct emitter *e) {
    const struct metrics *m = e->in->m;
    double baseline = (double)m->logins_prev_28d / 4.0;
    if (baseline < param(e, 0))
        return;
    bool drop = (double)m->logins_7d <= param(e, 1) * baseline;
    bool spike = (double)m->logins_7d >= param(e, 2) * baseline;
    if (!drop && !spike) {
        double margin = rules_param(settings(e), RP_LOGIN_CLEAR_MARGIN);
        if ((double)m->logins_7d <= (param(e, 1) + margin) * baseline)
            between(e, "", settings(e)->type);
        else if ((double)m->logins_7d >= (param(e, 2) - margin) * baseline)
            between(e, "", CTA_OPPORTUNITY);
        return;
    }
    ev_num(e, "logins_7d", (double)m->logins_7d);
    ev_num(e, "logins_prev_28d", (double)m->logins_prev_28d);
    ev_num(e, "baseline_per_week", baseline);
    if (drop)
        finding(e, "", settings(e)->type, settings(e)->priority, false, false, "Logins dropped",
                "logins fell from %.0f/week to %lld in the last 7 days", baseline,
                (long long)m->logins_7d);
    else
        finding(e, "", CTA_OPPORTUNITY, CTA_LOW, false, false, "Logins spiked",
                "logins rose from %.0f/week to %lld in the last 7 days", baseline,
                (long long)m->logins_7d);
}

static void usage_dip(struct emitter *e) {
    const struct metrics *m = e->in->m;
    double baseline = (double)m->feature_events_prev_28d / 4.0;
    if (baseline < param(e, 0))
        return;
    if ((double)m->feature_events_7d > param(e, 1) * baseline) {
        double margin = rules_param(settings(e), RP_USAGE_CLEAR_MARGIN);
        if ((double)m->feature_events_7d <= (param(e, 1) + margin) * baseline)
            between(e, "", settings(e)->type);
        return;
    }
    ev_num(e, "feature_events_7d", (double)m->feature_events_7d);
    ev_num(e, "feature_events_prev_28d", (double)m->feature_events_prev_28d);
    ev_num(e, "baseline_per_week", baseline);
    finding(e, "", settings(e)->type, settings(e)->priority, false, false, "Product usage dipped",
            "feature use fell from %.0f events/week to %lld in the last 7 days", baseline,
            (long long)m->feature_events_7d);
}

static void intended_adoption(struct emitter *e) {
    const struct rule_input *in = e->in;
    for (size_t i = 0; i < in->n_goals; i++) {
        const struct rule_goal *g = &in->goals[i];
        int64_t due_end = (int64_t)(g->due_day + 1) * DT_MS_PER_DAY;
        /* Missed: due before D, not used by the end of the due day; met
         * late (used since, before T), the CTA has done its work. */
        if (g->set_ms >= in->t_ms || g->due_day >= in->day || g->met_ms < due_end ||
            g->met_ms < in->t_ms)
            continue;
        char subject[128], due[16];
        snprintf(subject, sizeof subject, "goal:%s", g->goal_id);
        date_of(g->due_day, due);
        ev_str(e, "goal_id", g->goal_id);
        ev_str(e, "feature", g->feature);
        ev_str(e, "due_date", due);
        ev_num(e, "days_overdue", in->day - g->due_day);
        char title[200];
        snprintf(title, sizeof title, "Adoption goal missed: %s", g->feature);
        finding(e, subject, settings(e)->type, settings(e)->priority, false, false, title,
                "goal %s was to use %s by %s; no one has used it since the goal was set",
                g->goal_id, g->feature, due);
    }
}

static void onboarding_stalled(struct emitter *e) {
    const struct rule_input *in = e->in;
    for (size_t i = 0; i < in->n_milestones; i++) {
        const struct rule_milestone *ms = &in->milestones[i];
        if (ms->done || ms->due_day >= in->day)
            continue;
        char subject[128], due[16], title[200];
        snprintf(subject, sizeof subject, "milestone:%s", ms->name);
        date_of(ms->due_day, due);
        snprintf(title, sizeof title, "Onboarding stalled: %s", ms->name);
        ev_str(e, "milestone", ms->name);
        ev_str(e, "due_date", due);
        ev_num(e, "days_overdue", in->day - ms->due_day);
        finding(e, subject, settings(e)->type, settings(e)->priority, false, false, title,
                "milestone %s was due on %s and is %d days late", ms->name, due,
                in->day - ms->due_day);
    }
}

static void outreach_unresponsive(struct emitter *e) {
    const struct rule_input *in = e->in;
    const struct metrics *m = in->m;
    if (m->outreach_unanswered < param(e, 0) || !in->has_oldest_unanswered)
        return;
    int32_t oldest = dt_day_of_ms(in->oldest_unanswered_ms);
    if (in->day - oldest < param(e, 1))
        return;
    char first[16];
    date_of(oldest, first);
    ev_num(e, "outreach_unanswered", (double)m->outreach_unanswered);
    ev_str(e, "oldest_sent", first);
    if (m->has_days_since_reply)
        ev_num(e, "days_since_reply", (double)m->days_since_reply);
    finding(e, "", settings(e)->type, settings(e)->priority, false, false,
            "Customer not answering outreach",
            "%lld outreach messages unanswered since %s (%d days)",
            (long long)m->outreach_unanswered, first, in->day - oldest);
}

static void seat_limit(struct emitter *e) {
    const struct metrics *m = e->in->m;
    if (!m->has_seat_utilization)
        return;
    if (m->seat_utilization < param(e, 0)) {
        if (m->seat_utilization >= param(e, 0) - rules_param(settings(e), RP_SEAT_CLEAR_MARGIN))
            between(e, "", settings(e)->type);
        return;
    }
    bool high = m->seat_utilization >= param(e, 1);
    ev_num(e, "users", (double)m->users);
    ev_num(e, "seats", (double)m->seats);
    ev_num(e, "seat_utilization", round(m->seat_utilization * 1000) / 1000);
    finding(e, "", settings(e)->type, high ? CTA_HIGH : settings(e)->priority, false, false,
            high ? "Seats full: expansion opportunity" : "Seats nearly full: expansion opportunity",
            "%lld users on %lld seats (%.0f%%)", (long long)m->users, (long long)m->seats,
            m->seat_utilization * 100);
}

static void premium_unused(struct emitter *e) {
    const struct rule_input *in = e->in;
    if (!in->has_age || in->age_days < param(e, 0))
        return;
    for (size_t i = 0; i < in->n_products; i++) {
        const struct rule_product *p = &in->products[i];
        if (p->used_30d)
            continue;
        char subject[128], title[200];
        snprintf(subject, sizeof subject, "product:%s", p->name);
        snprintf(title, sizeof title, "Premium product unused: %s", p->name);
        ev_str(e, "product", p->name);
        ev_num(e, "account_age_days", (double)in->age_days);
        finding(e, subject, settings(e)->type, settings(e)->priority, false, false, title,
                "paid for %s, but no feature event with product %s in the last 30 days", p->name,
                p->name);
    }
}

static void support_tickets(struct emitter *e) {
    const struct rule_input *in = e->in;
    const struct metrics *m = in->m;
    if (m->tickets_30d < param(e, 0) &&
        m->tickets_30d >= param(e, 0) - rules_param(settings(e), RP_TICKETS_CLEAR_MARGIN) &&
        rules_param(settings(e), RP_TICKETS_CLEAR_MARGIN) > 0)
        between(e, "too_many", settings(e)->type);
    if (m->tickets_30d >= param(e, 0)) {
        ev_num(e, "tickets_30d", (double)m->tickets_30d);
        ev_num(e, "tickets_open", (double)m->tickets_open);
        finding(e, "too_many", settings(e)->type, settings(e)->priority, false, false,
                "Many support tickets", "%lld tickets opened in the last 30 days, %lld still open",
                (long long)m->tickets_30d, (long long)m->tickets_open);
    }
    int64_t quiet_ms = (int64_t)param(e, 1) * DT_MS_PER_DAY;
    /* Quiet for quiet_days: the account must be that old. */
    if (m->users >= param(e, 2) && in->has_age && in->age_days >= param(e, 1) &&
        (!in->has_last_ticket || in->last_ticket_ms < in->t_ms - quiet_ms)) {
        ev_num(e, "users", (double)m->users);
        char last[16] = "never";
        if (in->has_last_ticket)
            date_of(dt_day_of_ms(in->last_ticket_ms), last);
        ev_str(e, "last_ticket", last);
        finding(e, "too_quiet", settings(e)->type, CTA_LOW, false, false,
                "No support tickets: too quiet",
                "%lld users and no ticket in the last %.0f days (last: %s)", (long long)m->users,
                param(e, 1), last);
    }
}

/* champion_risk (core/users.h): the account's champion left, moved away,
 * went quiet or fell off against their own 4 weeks before; high when no
 * member marked admin or champion has signed in within quiet_days. */
static void champion_risk(struct emitter *e) {
    const struct rule_input *in = e->in;
    if (!in->users)
        return;
    const struct rule_settings *r = settings(e);
    struct champion_params p = {
        .quiet_days = (int)rules_param(r, RP_CHAMPION_QUIET_DAYS),
        .drop_ratio = rules_param(r, RP_CHAMPION_DROP_RATIO),
        .min_baseline = rules_param(r, RP_CHAMPION_MIN_BASELINE),
    };
    struct champion_verdict v;
    champion_assess(in->users, &p, &v);
    if (v.state == CHAMPION_UNKNOWN || v.state == CHAMPION_OK)
        return;
    const struct user_engagement *u = v.who;
    const char *who = u->label && u->label[0] ? u->label : "a user";
    char last[32] = "none in 12 weeks", what[200], also[96] = ""; /* 16 characters and a NUL */
    if (u->has_last_login)
        date_of(u->last_login_day, last);
    const char *as = v.state == CHAMPION_REMOVED ? "champion"
                     : v.fallback                ? "the most engaged admin (no member is marked "
                                                   "champion)"
                                                 : "champion";
    ev_str(e, "champion", who);
    ev_str(e, "role", v.fallback ? "admin (most engaged)" : "champion");
    ev_str(e, "last_login", last);
    if (v.days_quiet >= 0)
        ev_num(e, "days_since_login", v.days_quiet);
    ev_num(e, "logins_4w", (double)u->logins_4w);
    ev_num(e, "logins_prev_4w", (double)u->logins_prev_4w);
    ev_num(e, "engaged_admins", v.engaged_admins);
    char when[16];
    switch (v.state) {
    case CHAMPION_REMOVED:
        date_of(dt_day_of_ms(u->left_ms), when);
        ev_str(e, "removed_on", when);
        snprintf(what, sizeof what,
                 "left the account on %s (last login: %s); no member is marked %s", when, last,
                 "champion");
        break;
    case CHAMPION_MOVED:
        date_of(dt_day_of_ms(u->elsewhere_ms), when);
        ev_str(e, "joined_elsewhere_on", when);
        snprintf(what, sizeof what,
                 "joined another account on %s and has not signed in here since (last login: %s)",
                 when, last);
        break;
    case CHAMPION_QUIET:
        if (v.days_quiet >= 0)
            snprintf(what, sizeof what, "has not signed in for %d days (last login: %s)",
                     v.days_quiet, last);
        else
            snprintf(what, sizeof what, "has not signed in within the last 12 weeks");
        break;
    default: /* CHAMPION_DROP */
        ev_num(e, "drop_ratio", p.drop_ratio);
        snprintf(what, sizeof what,
                 "signed in %lld times in the last 4 weeks, against %lld in the 4 weeks before "
                 "(last login: %s)",
                 (long long)u->logins_4w, (long long)u->logins_prev_4w, last);
        break;
    }
    if (v.engaged_admins == 0)
        snprintf(also, sizeof also, "; no admin or champion has signed in within %d days",
                 p.quiet_days);
    bool gone = v.state == CHAMPION_REMOVED || v.state == CHAMPION_MOVED;
    /* Two keys: a champion gone (left, moved) is other news than one going
     * quiet, and a quiet champion who then leaves gets the new title. */
    finding(e, gone ? "champion:left" : "champion:quiet", r->type,
            v.engaged_admins == 0 ? CTA_HIGH : r->priority, false, false,
            gone ? "New champion needed" : "Champion going quiet", "%s %s %s%s", as, who, what,
            also);
}

/* nps_change: the account's NPS (SPEC 3) moved by points or more against
 * its value RULES_NPS_CHANGE_DAYS earlier, with min_answers in each of the
 * two windows: a fall is a risk, a rise an opportunity. */
static void nps_change(struct emitter *e) {
    const struct rule_input *in = e->in;
    const struct metrics *m = in->m;
    const struct rule_settings *r = settings(e);
    double points = rules_param(r, RP_NPS_CHANGE_POINTS);
    double min_answers = rules_param(r, RP_NPS_CHANGE_MIN_ANSWERS);
    if (!m->has_nps || !in->has_nps_before || (double)m->nps_responses_90d < min_answers ||
        (double)in->nps_answers_before < min_answers)
        return;
    double moved = m->nps - in->nps_before;
    if (fabs(moved) < points)
        return;
    ev_num(e, "nps", round(m->nps * 10) / 10);
    ev_num(e, "nps_before", round(in->nps_before * 10) / 10);
    ev_num(e, "days", RULES_NPS_CHANGE_DAYS);
    ev_num(e, "answers_90d", (double)m->nps_responses_90d);
    ev_num(e, "answers_before", (double)in->nps_answers_before);
    bool fell = moved < 0;
    finding(e, "", fell ? r->type : CTA_OPPORTUNITY, fell ? r->priority : CTA_LOW, false, false,
            fell ? "Account NPS fell" : "Account NPS rose",
            "NPS %s from %.0f to %.0f in %d days (%lld answers in the last %d days, %lld in the %d "
            "before)",
            fell ? "fell" : "rose", in->nps_before, m->nps, RULES_NPS_CHANGE_DAYS,
            (long long)m->nps_responses_90d, RULES_NPS_CHANGE_DAYS,
            (long long)in->nps_answers_before, RULES_NPS_CHANGE_DAYS);
}

/* ---- custom rules ------------------------------------------------------------- */

/* The variables a custom rule reads: the SPEC 3 metrics, the health scores,
 * segment, plan, the account's age, and its scalar traits: each as
 * traits[key], and as trait_<key> too when that is a Lua name. */
struct vars {
    struct custom_var v[CUSTOM_RULE_MAX_VARS];
    char names[CUSTOM_RULE_MAX_VARS][80];
    size_t n;
};

static void var_num(struct vars *vs, const char *name, bool known, double value) {
    if (vs->n == CUSTOM_RULE_MAX_VARS)
        return;
    vs->v[vs->n++] = (struct custom_var){.name = name, .known = known, .number = value};
}

static void var_str(struct vars *vs, const char *name, const char *value) {
    if (vs->n == CUSTOM_RULE_MAX_VARS)
        return;
    vs->v[vs->n++] =
        (struct custom_var){.name = name, .known = value != NULL, .is_string = true, .str = value};
}

static bool identifier(const char *s) {
    if (!s || !*s || (*s >= '0' && *s <= '9'))
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_'))
            return false;
    return true;
}

static void custom_vars(const struct rule_input *in, struct vars *vs) {
    const struct metrics *m = in->m;
    vs->n = 0;
    for (int i = 0; i < metrics_column_count; i++) {
        double v;
        bool known = health_input(m, metrics_columns[i], &v);
        var_num(vs, metrics_columns[i], known, v);
    }
    const struct health_score *h = in->h;
    var_num(vs, "health", h->has_score, h->overall);
    var_num(vs, "health_30d_ago", in->has_score_before, in->score_before);
    var_str(vs, "band", h->has_score ? health_band_name(h->band) : NULL);
    static const char *const comp[HC_COUNT] = {"health_logins", "health_adoption",
                                               "health_sentiment", "health_support",
                                               "health_financial"};
    for (int i = 0; i < HC_COUNT; i++)
        var_num(vs, comp[i], h->components[i].has_data, h->components[i].score);
    var_str(vs, "segment", in->segment);
    var_str(vs, "plan", in->plan);
    var_num(vs, "account_age_days", in->has_age, (double)in->age_days);
    /* Each scalar trait, whatever its key: a key that is no Lua name (a-b) is
     * skipped as trait_<key> only, never ends the loop. A repeated key counts
     * once (the first, as cJSON_GetObjectItem reads); lists, objects and null
     * are no variables; past CUSTOM_RULE_MAX_VARS the rest are left out. */
    const cJSON *t;
    cJSON_ArrayForEach(t, in->traits) {
        bool num = cJSON_IsNumber(t) || cJSON_IsBool(t);
        if (!t->string || (!num && !cJSON_IsString(t)))
            continue;
        bool repeated = false;
        for (size_t k = 0; k < vs->n && !repeated; k++)
            repeated = vs->v[k].table && strcmp(vs->v[k].key, t->string) == 0;
        if (repeated)
            continue;
        bool global = identifier(t->string) && strlen(t->string) <= 60;
        if (vs->n + (global ? 2 : 1) > CUSTOM_RULE_MAX_VARS)
            break;
        double x = cJSON_IsNumber(t) ? t->valuedouble : cJSON_IsTrue(t) ? 1 : 0;
        for (int as_global = 0; as_global <= (int)global; as_global++) {
            char *name = vs->names[vs->n];
            snprintf(name, sizeof vs->names[0], as_global ? "trait_%s" : "traits.%s", t->string);
            if (num)
                var_num(vs, name, true, x);
            else
                var_str(vs, name, t->valuestring);
            if (!as_global) {
                vs->v[vs->n - 1].table = "traits";
                vs->v[vs->n - 1].key = t->string;
            }
        }
    }
}

static void custom(struct emitter *e, struct vars *vs, bool *vars_ready) {
    const struct rule_settings *r = settings(e);
    if (!*vars_ready) {
        custom_vars(e->in, vs);
        *vars_ready = true;
    }
    bool holds = false, read[CUSTOM_RULE_MAX_VARS] = {false};
    char *reason = NULL, err[CUSTOM_RULE_ERR_BYTES];
    if (custom_rule_eval(r->compiled, vs->v, vs->n, &holds, &reason, read, err)) {
        if (e->error)
            e->error(e->arg, e->rule, err, custom_rule_timed_out(r->compiled));
        return;
    }
    if (!holds) {
        free(reason);
        return;
    }
    for (size_t i = 0; i < vs->n; i++) {
        if (!read[i])
            continue;
        const struct custom_var *v = &vs->v[i];
        if (!v->known)
            ev_null(e, v->name);
        else if (v->is_string)
            ev_str(e, v->name, v->str);
        else
            ev_num(e, v->name, v->number);
    }
    char fallback[240];
    if (!reason) {
        /* The condition, on one line. */
        size_t n = (size_t)snprintf(fallback, sizeof fallback, "matched: ");
        bool space = false;
        for (const char *p = r->when; *p && n + 4 < sizeof fallback; p++) {
            bool ws = *p == ' ' || *p == '\n' || *p == '\t' || *p == '\r';
            if (ws && !space)
                fallback[n++] = ' ';
            else if (!ws)
                fallback[n++] = *p;
            space = ws;
        }
        fallback[n] = '\0';
    }
    finding(e, "", r->type, r->priority, false, false, r->title, "%s", reason ? reason : fallback);
    free(reason);
}

/* segment_shift watches segments, not accounts (eval/segments.c): nothing
 * of an account's. */
static void segment_shift(struct emitter *e) {
    (void)e;
}

void rules_evaluate(const struct rules_config *c, const struct rule_input *in, rules_emit_fn emit,
                    rules_error_fn error, void *arg) {
    static void (*const fns[RULE_BUILTIN_COUNT])(struct emitter *) = {
        [RULE_HEALTH_DROP] = health_drop,
        [RULE_NPS_RESPONSE] = nps_response,
        [RULE_CARD_EXPIRING] = card_expiring,
        [RULE_RENEWAL_UPCOMING] = renewal_upcoming,
        [RULE_PAYMENT_OVERDUE] = payment_overdue,
        [RULE_NO_LOGIN] = no_login,
        [RULE_LOGIN_CHANGE] = login_change,
        [RULE_USAGE_DIP] = usage_dip,
        [RULE_INTENDED_ADOPTION] = intended_adoption,
        [RULE_ONBOARDING_STALLED] = onboarding_stalled,
        [RULE_OUTREACH_UNRESPONSIVE] = outreach_unresponsive,
        [RULE_SEAT_LIMIT] = seat_limit,
        [RULE_PREMIUM_UNUSED] = premium_unused,
        [RULE_SUPPORT_TICKETS] = support_tickets,
        [RULE_CHAMPION_RISK] = champion_risk,
        [RULE_NPS_CHANGE] = nps_change,

        [RULE_SEGMENT_SHIFT] = segment_shift,
    };
    struct emitter e = {.c = c, .in = in, .emit = emit, .error = error, .arg = arg};
    struct vars vs;
    bool vars_ready = false;
    for (int i = 0; i < c->n_rules; i++) {
        const struct rule_settings *r = &c->rules[i];
        if (!rules_applies(r, in->segment, in->plan) || (in->suspended && in->suspended[i]))
            continue;
        e.rule = i;
        if (r->kind == RULE_CUSTOM)
            custom(&e, &vs, &vars_ready);
        else
            fns[r->kind](&e);
        e.ev_len = 0; /* a rule that started evidence and did not fire */
        e.ev[0] = '\0';
    }
}
