/* test_plan.c: the CTA planner (core/plan.h) over text cases in
 * tests/data/plan/ *.txt: given one day's findings, the watched CTAs, the
 * owners' opens of the week and the settings, the expected plan, line by
 * line, in order.
 *
 * The format (one directive per line, '#' starts a comment):
 *   case NAME                         starts a case
 *   day YYYY-MM-DD                    the day planned
 *   set KEY=V ...                     budget, raise_at, lower_below, cap_account,
 *                                     cap_total, cooldown, resolve_after.RULE
 *   cta ID acct=A rule=R [subject=S] [type=T] [status=open|snoozed|closed]
 *       [priority=P] [due=D] [snoozed_until=D] [closed=D] [reason=resolved|...]
 *       [cleared] [clear_since=D] [value=V]
 *   finding acct=A rule=R [subject=S] [type=T] [priority=P] [value=V]
 *       [owner=O] [between] [event] [fresh]
 *   owner O opened=N                  opens O had this week already
 *   off RULE                          the rule did not look at the accounts
 *   churned acct=A
 *   value rule=R type=T arr=V [p=P] [band=B] [users=N seats=N mrr=V] expect=V
 *   expect                            the plan follows, one step a line:
 *     ACTION cta=ID [priority=P due=D] [since=D]           (account steps)
 *     ACTION acct=A rule=R subject=S [priority=P due=D] value=V (opens, holds)
 *   end
 * Subjects "-" mean the empty subject. The account steps come first (by
 * account, in the planner's order), then plan_opens()'s. */
#include <dirent.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/plan.h"
#include "core/rules.h"
#include "util/datetime.h"

#define MAX_ITEMS 64

struct tcta {
    int64_t acct;
    struct plan_cta c;
    char rule[64], subject[128];
};

struct tfinding {
    int64_t acct;
    struct plan_finding f;
    char subject[128], owner[64];
};

struct tcase {
    char name[160];
    int line;
    int32_t day;
    struct rules_config rc;
    struct tcta c[MAX_ITEMS];
    int n_c;
    struct tfinding f[MAX_ITEMS];
    int n_f;
    struct plan_owner_week owners[MAX_ITEMS];
    char owner_names[MAX_ITEMS][64];
    int n_owners;
    bool off[RULES_MAX];
    int64_t churned[MAX_ITEMS];
    int n_churned;
    char expect[MAX_ITEMS * 2][256];
    int n_expect;
};

static int32_t day_of(const char *s) {
    int32_t d = 0;
    assert_true(dt_parse_date(s, strlen(s), &d));
    return d;
}

static const char *date(int32_t d, char out[16]) {
    dt_format_date(d, out);
    return out;
}

static int rule_of(const struct rules_config *rc, const char *name) {
    for (int i = 0; i < rc->n_rules; i++)
        if (strcmp(rc->rules[i].name, name) == 0)
            return i;
    fail_msg("unknown rule %s", name);
    return -1;
}

/* The value of key=value in the words of a line, or NULL. */
static const char *opt(char **w, int n, const char *key) {
    size_t k = strlen(key);
    for (int i = 0; i < n; i++)
        if (strncmp(w[i], key, k) == 0 && (w[i][k] == '=' || w[i][k] == '\0'))
            return w[i][k] == '=' ? w[i] + k + 1 : "";
    return NULL;
}

static const char *subject_of(const char *s) {
    return !s || strcmp(s, "-") == 0 ? "" : s;
}

static double num(const char *s) {
    return !s || strcmp(s, "-") == 0 ? NAN : strtod(s, NULL);
}

static void parse_line(struct tcase *t, char **w, int n) {
    struct rules_config *rc = &t->rc;
    if (strcmp(w[0], "day") == 0) {
        t->day = day_of(w[1]);
    } else if (strcmp(w[0], "set") == 0) {
        for (int i = 1; i < n; i++) {
            char *eq = strchr(w[i], '=');
            assert_non_null(eq);
            *eq = '\0';
            double v = strtod(eq + 1, NULL);
            if (strcmp(w[i], "budget") == 0)
                rc->budget_per_owner_week = (int)v;
            else if (strcmp(w[i], "raise_at") == 0)
                rc->value_raise_at = v;
            else if (strcmp(w[i], "lower_below") == 0)
                rc->value_lower_below = v;
            else if (strcmp(w[i], "cap_account") == 0)
                rc->max_open_per_account = (int)v;
            else if (strcmp(w[i], "cap_total") == 0)
                rc->max_open_total = (int)v;
            else if (strcmp(w[i], "expire") == 0)
                rc->expire_after_days = (int)v;
            else if (strcmp(w[i], "cooldown") == 0)
                for (int r = 0; r < rc->n_rules; r++)
                    rc->rules[r].cooldown_days = (int)v;
            else if (strncmp(w[i], "resolve_after.", 14) == 0)
                rc->rules[rule_of(rc, w[i] + 14)].resolve_after_days = (int)v;
            else
                fail_msg("line %d: unknown setting %s", t->line, w[i]);
        }
    } else if (strcmp(w[0], "cta") == 0) {
        struct tcta *c = &t->c[t->n_c++];
        memset(c, 0, sizeof *c);
        c->c.id = strtoll(w[1], NULL, 10);
        c->acct = strtoll(opt(w, n, "acct"), NULL, 10);
        snprintf(c->rule, sizeof c->rule, "%s", opt(w, n, "rule"));
        snprintf(c->subject, sizeof c->subject, "%s", subject_of(opt(w, n, "subject")));
        c->c.rule = c->rule;
        c->c.subject = c->subject;
        const char *v;
        c->c.type = CTA_RISK;
        if ((v = opt(w, n, "type")))
            assert_true(cta_type_parse(v, &c->c.type));
        c->c.status = CTA_OPEN;
        if ((v = opt(w, n, "status")))
            assert_true(cta_status_parse(v, &c->c.status));
        c->c.priority = CTA_MEDIUM;
        if ((v = opt(w, n, "priority")))
            assert_true(cta_priority_parse(v, &c->c.priority));
        c->c.due_day = (v = opt(w, n, "due")) ? day_of(v) : t->day + 30;
        if ((v = opt(w, n, "snoozed_until")))
            c->c.snoozed_until = day_of(v);
        if ((v = opt(w, n, "closed")))
            c->c.closed_day = day_of(v);
        c->c.closed_reason = CTA_AUTO_RESOLVED;
        if ((v = opt(w, n, "reason")))
            assert_true(cta_close_reason_parse(v, &c->c.closed_reason));
        c->c.cleared = opt(w, n, "cleared") != NULL;
        c->c.acted = opt(w, n, "acted") != NULL;
        c->c.value = num(opt(w, n, "value"));
        if ((v = opt(w, n, "clear_since"))) {
            c->c.has_clear_since = true;
            c->c.clear_since = day_of(v);
        }
    } else if (strcmp(w[0], "finding") == 0) {
        struct tfinding *f = &t->f[t->n_f++];
        memset(f, 0, sizeof *f);
        f->acct = strtoll(opt(w, n, "acct"), NULL, 10);
        f->f.rule = rule_of(rc, opt(w, n, "rule"));
        snprintf(f->subject, sizeof f->subject, "%s", subject_of(opt(w, n, "subject")));
        f->f.subject = f->subject;
        const char *v;
        f->f.type = rc->rules[f->f.rule].type;
        if ((v = opt(w, n, "type")))
            assert_true(cta_type_parse(v, &f->f.type));
        f->f.priority = rc->rules[f->f.rule].priority;
        if ((v = opt(w, n, "priority")))
            assert_true(cta_priority_parse(v, &f->f.priority));
        f->f.value = num(opt(w, n, "value"));
        snprintf(f->owner, sizeof f->owner, "%s", (v = opt(w, n, "owner")) ? v : "csm");
        f->f.in_between = opt(w, n, "between") != NULL;
        f->f.event = opt(w, n, "event") != NULL;
        f->f.fresh = opt(w, n, "fresh") != NULL;
    } else if (strcmp(w[0], "owner") == 0) {
        snprintf(t->owner_names[t->n_owners], 64, "%s", w[1]);
        t->owners[t->n_owners] = (struct plan_owner_week){
            .owner = t->owner_names[t->n_owners], .opened = strtoll(opt(w, n, "opened"), NULL, 10)};
        t->n_owners++;
    } else if (strcmp(w[0], "off") == 0) {
        t->off[rule_of(rc, w[1])] = true;
    } else if (strcmp(w[0], "churned") == 0) {
        t->churned[t->n_churned++] = strtoll(opt(w, n, "acct"), NULL, 10);
    } else if (strcmp(w[0], "arr") == 0) {
        double want = num(opt(w, n, "expect")),
               got = plan_arr(num(opt(w, n, "trait")), num(opt(w, n, "mrr")));
        if (isnan(want) ? !isnan(got) : fabs(got - want) > 1e-9)
            fail_msg("%s, line %d: arr %g, expected %g", t->name, t->line, got, want);
    } else if (strcmp(w[0], "value") == 0) {
        const char *v;
        struct plan_value_input in = {.kind = RULE_CUSTOM,
                                      .arr = num(opt(w, n, "arr")),
                                      .p_churn = num(opt(w, n, "p")),
                                      .band = opt(w, n, "band"),
                                      .users = num(opt(w, n, "users")),
                                      .seats = num(opt(w, n, "seats")),
                                      .mrr = num(opt(w, n, "mrr"))};
        if ((v = opt(w, n, "rule")))
            in.kind = rc->rules[rule_of(rc, v)].kind;
        assert_true(cta_type_parse(opt(w, n, "type"), &in.type));
        double want = num(opt(w, n, "expect")), got = plan_value(&in, NULL);
        if (isnan(want) ? !isnan(got) : fabs(got - want) > 1e-6)
            fail_msg("%s, line %d: value %g, expected %g", t->name, t->line, got, want);
    } else {
        fail_msg("line %d: unknown directive %s", t->line, w[0]);
    }
}

/* ---- running a case ------------------------------------------------------- */

struct out {
    char lines[MAX_ITEMS * 2][256];
    int n;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...) {
    assert_true(o->n < MAX_ITEMS * 2);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(o->lines[o->n++], 256, fmt, ap);
    va_end(ap);
}

static void value_text(double v, char out[32]) {
    if (isnan(v))
        snprintf(out, 32, "-");
    else
        snprintf(out, 32, "%g", v);
}

static int64_t live_of(void *arg, int64_t account_id) {
    const struct tcase *t = arg;
    int64_t n = 0;
    for (int i = 0; i < t->n_c; i++)
        n += t->c[i].acct == account_id && t->c[i].c.status != CTA_CLOSED;
    return n;
}

static void run_case(struct tcase *t) {
    struct out o = {0};
    bool looked[RULES_MAX];
    for (int r = 0; r < RULES_MAX; r++)
        looked[r] = !t->off[r];
    /* Accounts in order of first mention. */
    int64_t accts[MAX_ITEMS * 2];
    int n_accts = 0;
    for (int i = 0; i < t->n_f + t->n_c; i++) {
        int64_t a = i < t->n_f ? t->f[i].acct : t->c[i - t->n_f].acct;
        int k;
        for (k = 0; k < n_accts && accts[k] != a; k++)
            ;
        if (k == n_accts)
            accts[n_accts++] = a;
    }
    struct plan_candidate cand[MAX_ITEMS];
    const struct tfinding *cand_f[MAX_ITEMS];
    int32_t cand_due[MAX_ITEMS]; /* the due day plan_account() gave the open */
    int n_cand = 0;
    int64_t live_total = 0;
    for (int i = 0; i < t->n_c; i++)
        live_total += t->c[i].c.status != CTA_CLOSED;
    for (int k = 0; k < n_accts; k++) {
        struct plan_finding pf[MAX_ITEMS];
        const struct tfinding *tf[MAX_ITEMS];
        struct plan_cta pc[MAX_ITEMS];
        int n_f = 0, n_c = 0;
        for (int i = 0; i < t->n_f; i++)
            if (t->f[i].acct == accts[k]) {
                tf[n_f] = &t->f[i];
                pf[n_f++] = t->f[i].f;
            }
        for (int i = 0; i < t->n_c; i++)
            if (t->c[i].acct == accts[k])
                pc[n_c++] = t->c[i].c;
        struct plan_account a = {
            .looked = looked, .f = pf, .n_f = (size_t)n_f, .c = pc, .n_c = (size_t)n_c};
        for (int i = 0; i < t->n_churned; i++)
            a.churned = a.churned || t->churned[i] == accts[k];
        struct plan_steps steps = {0};
        plan_account(&t->rc, t->day, &a, &steps);
        for (size_t i = 0; i < steps.n; i++) {
            const struct plan_step *s = &steps.v[i];
            char d[16];
            if (s->action == PLAN_OPEN) {
                const struct tfinding *f = tf[s->finding];
                cand_f[n_cand] = f;
                cand_due[n_cand] = s->due_day;
                cand[n_cand++] = (struct plan_candidate){.account_id = f->acct,
                                                         .account = "",
                                                         .rule = t->rc.rules[f->f.rule].name,
                                                         .subject = f->subject,
                                                         .owner = f->owner,
                                                         .priority = s->priority,
                                                         .value = s->value,
                                                         .replaces = s->replaces};
                continue;
            }
            const char *name = plan_action_name(s->action);
            int64_t id = pc[s->cta].id;
            if (s->action == PLAN_RAISE)
                put(&o, "%s cta=%lld priority=%s due=%s", name, (long long)id,
                    cta_priority_name(s->priority), date(s->due_day, d));
            else if (s->action == PLAN_CLEAR_START || s->action == PLAN_RESOLVE)
                put(&o, "%s cta=%lld since=%s", name, (long long)id, date(s->clear_since, d));
            else
                put(&o, "%s cta=%lld", name, (long long)id);
        }
        plan_steps_free(&steps);
    }
    struct plan_opens_input in = {.c = cand,
                                  .n_c = (size_t)n_cand,
                                  .owners = t->owners,
                                  .n_owners = (size_t)t->n_owners,
                                  .live_of = live_of,
                                  .live_arg = t,
                                  .live_total = live_total};
    struct plan_steps steps = {0};
    plan_opens(&t->rc, t->day, &in, &steps);
    for (size_t i = 0; i < steps.n; i++) {
        const struct plan_step *s = &steps.v[i];
        const struct tfinding *f = cand_f[s->finding];
        const struct plan_candidate *c = &cand[s->finding];
        char d[16], v[32];
        value_text(c->value, v);
        if (s->action == PLAN_OPEN)
            put(&o, "open acct=%lld rule=%s subject=%s priority=%s due=%s value=%s",
                (long long)f->acct, c->rule, c->subject[0] ? c->subject : "-",
                cta_priority_name(c->priority), date(cand_due[s->finding], d), v);
        else
            put(&o, "%s acct=%lld rule=%s subject=%s value=%s", plan_action_name(s->action),
                (long long)f->acct, c->rule, c->subject[0] ? c->subject : "-", v);
    }
    plan_steps_free(&steps);
    bool same = o.n == t->n_expect;
    for (int i = 0; same && i < o.n; i++)
        same = strcmp(o.lines[i], t->expect[i]) == 0;
    if (!same) {
        fprintf(stderr, "case \"%s\" (line %d):\n  expected:\n", t->name, t->line);
        for (int i = 0; i < t->n_expect; i++)
            fprintf(stderr, "    %s\n", t->expect[i]);
        fprintf(stderr, "  got:\n");
        for (int i = 0; i < o.n; i++)
            fprintf(stderr, "    %s\n", o.lines[i]);
        fail_msg("case \"%s\" differs", t->name);
    }
}

/* ---- reading the files ----------------------------------------------------- */

static int split(char *line, char **w, int max) {
    int n = 0;
    for (char *tok = strtok(line, " \t\r\n"); tok && n < max; tok = strtok(NULL, " \t\r\n"))
        w[n++] = tok;
    return n;
}

static int run_file(const char *path) {
    FILE *fp = fopen(path, "r");
    if (!fp)
        fail_msg("cannot open %s", path);
    char line[1024];
    int lineno = 0, cases = 0;
    struct tcase *t = NULL;
    bool expecting = false;
    while (fgets(line, sizeof line, fp)) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char copy[1024];
        snprintf(copy, sizeof copy, "%s", line);
        char *w[32];
        int n = split(line, w, 32);
        if (n == 0)
            continue;
        if (strcmp(w[0], "case") == 0) {
            assert_null(t);
            t = calloc(1, sizeof *t);
            rules_config_default(&t->rc);
            t->line = lineno;
            char *name = strstr(copy, "case") + 5;
            name[strcspn(name, "\r\n")] = '\0';
            snprintf(t->name, sizeof t->name, "%s", name);
            expecting = false;
        } else if (strcmp(w[0], "end") == 0) {
            assert_non_null(t);
            run_case(t);
            rules_config_release(&t->rc);
            free(t);
            t = NULL;
            cases++;
        } else if (strcmp(w[0], "expect") == 0) {
            expecting = true;
        } else if (expecting) {
            assert_true(t->n_expect < MAX_ITEMS * 2);
            char *e = t->expect[t->n_expect++];
            e[0] = '\0';
            for (int i = 0; i < n; i++) {
                strncat(e, w[i], 255 - strlen(e));
                if (i + 1 < n)
                    strncat(e, " ", 255 - strlen(e));
            }
        } else {
            assert_non_null(t);
            t->line = lineno;
            parse_line(t, w, n);
        }
    }
    fclose(fp);
    assert_null(t);
    return cases;
}

static int by_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The cases' directory: TEND_PLAN_CASES, else tests/data/plan of the tree
 * the binary was built in (BUILD/tests/test_plan), else of the cwd. */
static char cases_dir[4096] = "tests/data/plan";

static void test_cases(void **state) {
    (void)state;
    const char *dir = cases_dir;
    DIR *d = opendir(dir);
    assert_non_null(d);
    char *names[64];
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < 64) {
        size_t len = strlen(de->d_name);
        if (len > 4 && strcmp(de->d_name + len - 4, ".txt") == 0)
            names[n++] = strdup(de->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, by_name);
    int cases = 0;
    for (int i = 0; i < n; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        cases += run_file(path);
        free(names[i]);
    }
    printf("# %d plan cases in %d files\n", cases, n);
    assert_true(cases >= 20);
}

static void test_week_start(void **state) {
    (void)state;
    char d[16];
    /* 2026-03-04 is a Wednesday; its ISO week starts on Monday 2026-03-02. */
    assert_string_equal(date(plan_week_start(day_of("2026-03-04")), d), "2026-03-02");
    assert_string_equal(date(plan_week_start(day_of("2026-03-02")), d), "2026-03-02");
    assert_string_equal(date(plan_week_start(day_of("2026-03-08")), d), "2026-03-02");
    assert_string_equal(date(plan_week_start(day_of("1970-01-01")), d), "1969-12-29");
}

static void test_rule_params_by_name(void **state) {
    (void)state;
    struct rules_config rc;
    rules_config_default(&rc);
    assert_true(rules_param(&rc.rules[RULE_HEALTH_DROP], RP_HEALTH_DROP_DAYS) == 30);
    assert_true(rules_param(&rc.rules[RULE_NPS_RESPONSE], RP_NPS_FIRST_LOOKBACK_DAYS) == 7);
    assert_true(rules_param(&rc.rules[RULE_SUPPORT_TICKETS], RP_TICKETS_QUIET_MIN_USERS) == 20);
    assert_true(rules_param(&rc.rules[RULE_LOGIN_CHANGE], RP_LOGIN_CLEAR_MARGIN) == 0.1);
    /* Another rule's parameter is refused, not read by position. */
    assert_true(isnan(rules_param(&rc.rules[RULE_NO_LOGIN], RP_HEALTH_DROP_DAYS)));
    /* Every parameter of the enum names a parameter of its rule. */
    for (int k = 0; k < RULE_BUILTIN_COUNT; k++) {
        const char *const *names = rules_param_names((enum rule_builtin)k);
        for (int i = 0; names[i]; i++)
            assert_false(isnan(rules_param(&rc.rules[k], (enum rule_param)RULE_P(k, i))));
    }
}

int main(int argc, char **argv) {
    (void)argc;
    const char *env = getenv("TEND_PLAN_CASES");
    const char *slash = strrchr(argv[0], '/');
    if (env)
        snprintf(cases_dir, sizeof cases_dir, "%s", env);
    else if (slash && slash - argv[0] < 4000) {
        /* argv[0] is .../build/MODE/tests/test_plan: three levels up. */
        char root[4096];
        snprintf(root, sizeof root, "%.*s/../../../tests/data/plan", (int)(slash - argv[0]),
                 argv[0]);
        DIR *d = opendir(root);
        if (d) {
            closedir(d);
            snprintf(cases_dir, sizeof cases_dir, "%s", root);
        }
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_week_start),
        cmocka_unit_test(test_rule_params_by_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
