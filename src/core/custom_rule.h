/* custom_rule.h: custom rule conditions in sandboxed Lua 5.4 (SPEC 5).
 *
 * A custom rule is a condition written in Lua over named variables (metrics of
 * one account), and optionally a reason: a Lua expression giving the text of
 * the CTA. Each rule is compiled once into its own lua_State and evaluated
 * once per account. Nothing is rebuilt per call: variables are looked up
 * lazily, by a metamethod, from the caller's array. Measured (release build):
 * 0.33 us per evaluation of a three-term condition among 40 variables, 0.46 us
 * with a string.format reason; 10,000 accounts cost 3-5 ms per rule.
 *
 * What a rule can use: the base functions assert, error, ipairs, next, pairs,
 * select, tonumber, tostring, type; the libraries math (not randomseed),
 * string (byte, char, format, len, lower, rep, reverse, sub, upper), table
 * (not move) and utf8. Library tables are read-only. Nothing else exists: no
 * io, os, package, require, debug, coroutine, load, dofile, pcall, print,
 * setmetatable, rawget, collectgarbage, string.dump, and no pattern matching
 * (find, match, gmatch, gsub), since C functions run without the instruction
 * limit and a pattern can backtrack for hours (docs/research/rules-and-ctas.md
 * section 3). Chunks load as text only.
 *
 * Limits per evaluation (each ends it with an error, never a crash or hang):
 * CUSTOM_RULE_MAX_INSTRUCTIONS Lua instructions; CUSTOM_RULE_MEM_BYTES of
 * memory in the rule's state (one allocation may go past it up to twice that,
 * and then fails at once); CUSTOM_RULE_TIME_MS of wall time, a watchdog for
 * C functions fed huge strings, which the instruction count does not see.
 *
 * Names: reading a name that is neither a variable, nor a library, nor
 * assigned earlier in the same evaluation is an error ("unknown name 'foo'"),
 * so a typo never reads as nil. A variable passed with known = false reads as
 * nil, and comparing nil raises "attempt to compare nil with number": guard
 * unknowns with `x ~= nil and x < 3`. A rule may assign globals, but every
 * evaluation starts from the same clean environment: nothing carries over.
 * A variable shadows a library of the same name.
 * A number with an integer value (|x| <= 2^53) reads as a Lua integer, so
 * that `"in " .. days .. " days"` says "in 30 days", not "in 30.0 days".
 *
 * Errors read "rule NAME: line N: message" (N counted in the condition's text)
 * or "rule NAME: reason line N: message" (in the reason's). The memory limit
 * is noticed at the instruction after the allocation that passed it, and that
 * instruction's line is named (in a loop, the loop's line). Without a line
 * to blame the form is "rule NAME: message" ("rule NAME: reason: message"):
 * a single allocation past twice the memory limit, a reason that gave no
 * string.
 *
 * Not thread-safe per rule: one struct custom_rule is used by one thread at a
 * time; distinct rules share nothing. */
#ifndef TEND_CORE_CUSTOM_RULE_H
#define TEND_CORE_CUSTOM_RULE_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

#define CUSTOM_RULE_ERR_BYTES        256
#define CUSTOM_RULE_MAX_VARS         64
#define CUSTOM_RULE_MAX_NAME_BYTES   128       /* a rule's name */
#define CUSTOM_RULE_MAX_SOURCE_BYTES 16384     /* a condition or reason text */
#define CUSTOM_RULE_MAX_REASON_BYTES 1024      /* the string a reason gives */
#define CUSTOM_RULE_MAX_INSTRUCTIONS 1000000   /* per evaluation */
#define CUSTOM_RULE_MEM_BYTES        (8 << 20) /* per rule state */
#define CUSTOM_RULE_TIME_MS          250       /* per evaluation */

/* One variable a condition can read: a number, a string, or nil (unknown). */
struct custom_var {
    const char *name; /* a Lua identifier, not a keyword; unique in the array */
    bool known;       /* false: the variable is nil */
    bool is_string;   /* true: str, else number */
    double number;
    const char *str; /* not NULL when known and is_string */
};

struct custom_rule; /* opaque: one compiled rule with its own lua_State */

/* Compiles a rule once. condition is a Lua expression (e.g.
 * "seat_utilization < 0.3 and renewal_days_left < 90") or, if it does not parse
 * as one and contains the word `return`, a chunk whose first returned value is
 * the condition. reason may be NULL or a Lua expression giving a string (e.g.
 * 'string.format("%d%% of seats used", seat_utilization * 100)').
 * On success *out gets the rule (free it with custom_rule_free). On a syntax
 * error returns TEND_ERR_INVALID with err (CUSTOM_RULE_ERR_BYTES, may be NULL)
 * = "rule NAME: line N: message" or "rule NAME: reason line N: message";
 * TEND_ERR_LIMIT for a name or text over the limits above. *out is untouched
 * on error. The strings are copied; the caller keeps ownership. */
enum tend_err custom_rule_compile(const char *name, const char *condition, const char *reason,
                                  struct custom_rule **out, char *err);

/* Evaluates the rule with vars (n <= CUSTOM_RULE_MAX_VARS, else
 * TEND_ERR_LIMIT). *holds is the condition's truth (Lua truthiness: nil/false
 * are false). *reason_out: when the rule has a reason expression and the
 * condition holds, a malloced string (caller frees), else NULL; the reason is
 * not evaluated when reason_out is NULL. read (array of n bools, may be NULL)
 * gets, for each variable, whether the condition read it: the rule's
 * evidence (reads by the reason do not count). On a runtime error (error(),
 * arithmetic on nil, unknown name, instruction, memory or time limit, reason
 * not a string or over CUSTOM_RULE_MAX_REASON_BYTES) returns TEND_ERR_INVALID
 * with err "rule NAME: line N: message"; a malformed vars array (bad name,
 * duplicate, NULL string) also gives TEND_ERR_INVALID. Outputs are untouched
 * on error, and the rule can be evaluated again. vars are only read during
 * the call. */
enum tend_err custom_rule_eval(struct custom_rule *r, const struct custom_var *vars, size_t n,
                               bool *holds, char **reason_out, bool *read, char *err);

/* Frees the rule and its lua_State; accepts NULL. */
void custom_rule_free(struct custom_rule *r);

#endif
