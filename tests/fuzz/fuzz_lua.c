/* fuzz_lua.c: custom rules in sandboxed Lua (core/custom_rule.h).
 *
 * The input is a rule's condition, optionally followed by a NUL byte and its
 * reason expression: what tend.yaml's rules.custom gives. Each input is
 * compiled, then evaluated three times over a fixed set of variables (with
 * the reason and the evidence, without, and with again: globals a rule
 * assigns must not leak into the next evaluation and break it).
 * Invariants besides no sanitizer report or crash:
 * - an evaluation ends within CUSTOM_RULE_TIME_MS plus FUZZ_SLACK_MS of wall
 *   time, whatever the rule calls (the time limit must hold for C library
 *   functions too);
 * - errors name the rule ("rule fuzz: ..."), and a reason is within its
 *   limit. (Results may differ between evaluations: math.random exists.) */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/custom_rule.h"
#include "fuzz.h"

/* Slack over the limit for a loaded machine and the sanitizers. */
#define FUZZ_SLACK_MS 1000

static const struct custom_var vars[] = {
    {.name = "seats", .known = true, .number = 40},
    {.name = "seat_utilization", .known = true, .number = 0.25},
    {.name = "mrr", .known = true, .number = 1250.5},
    {.name = "days_since_login", .known = true, .number = 12},
    {.name = "renewal_days_left", .known = false},
    {.name = "plan", .known = true, .is_string = true, .str = "enterprise"},
    {.name = "segment", .known = true, .is_string = true, .str = "<x>&\"'\n"},
    {.name = "nps", .known = true, .number = -1e300},
};
#define N_VARS (sizeof vars / sizeof vars[0])

static int64_t now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* One timed evaluation, and checks of what it gave. */
static void eval_once(struct custom_rule *r, const char *cond, bool with_reason, bool *holds) {
    char *reason = NULL;
    bool read[N_VARS];
    char err[CUSTOM_RULE_ERR_BYTES] = "";
    int64_t start = now_ms();
    enum tend_err e = custom_rule_eval(r, vars, N_VARS, holds, with_reason ? &reason : NULL,
                                       with_reason ? read : NULL, err);
    int64_t took = now_ms() - start;
    if (took > CUSTOM_RULE_TIME_MS + FUZZ_SLACK_MS)
        fuzz_fail(
            "evaluating the rule took %lld ms, over the limit of %d ms (+%d ms slack): %.200s "
            "(%s)",
            (long long)took, CUSTOM_RULE_TIME_MS, FUZZ_SLACK_MS, cond, e ? err : "no error");
    if (e && strncmp(err, "rule fuzz", 9) != 0)
        fuzz_fail("an evaluation error does not name the rule: \"%s\"", err);
    if (reason && strlen(reason) > CUSTOM_RULE_MAX_REASON_BYTES)
        fuzz_fail("a reason of %zu bytes passed the limit", strlen(reason));
    free(reason);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > CUSTOM_RULE_MAX_SOURCE_BYTES + 256)
        return 0;
    char *cond, *reason;
    bool has_reason = fuzz_split(data, size, &cond, &reason);
    struct custom_rule *r = NULL;
    char err[CUSTOM_RULE_ERR_BYTES] = "";
    int64_t start = now_ms();
    enum tend_err e = custom_rule_compile("fuzz", cond, has_reason ? reason : NULL, &r, err);
    if (now_ms() - start > CUSTOM_RULE_TIME_MS + FUZZ_SLACK_MS)
        fuzz_fail("compiling the rule took %lld ms", (long long)(now_ms() - start));
    if (e) {
        if (r)
            fuzz_fail("a failed compile gave a rule");
        if (strncmp(err, "rule fuzz", 9) != 0)
            fuzz_fail("a compile error does not name the rule: \"%s\"", err);
    } else {
        bool holds = false;
        eval_once(r, cond, true, &holds);
        eval_once(r, cond, false, &holds);
        eval_once(r, cond, true, &holds);
    }
    custom_rule_free(r);
    free(cond);
    free(reason);
    return 0;
}
