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
 * (find, match, gmatch, gsub): a pattern can backtrack for hours inside one C
 * call (docs/research/rules-and-ctas.md section 3). Chunks load as text only.
 *
 * Limits per evaluation (each ends it with an error, never a crash or hang):
 * CUSTOM_RULE_MAX_INSTRUCTIONS Lua instructions; CUSTOM_RULE_MEM_BYTES of
 * memory in the rule's state (one allocation may go past it up to twice that,
 * and then fails at once); strings of at most CUSTOM_RULE_MAX_STRING_BYTES
 * (the variables' own values excepted); CUSTOM_RULE_TIME_MS of wall time,
 * whatever the rule calls. The time limit is read from the rule's clock
 * (custom_rule_set_clock) before every library call of string, table and utf8,
 * in table.sort's comparisons, every CUSTOM_RULE_HOOK_STEP instructions and
 * every few allocations; a C function still running at the deadline fails at
 * its next allocation. Measured overrun past the limit: docs/rules.md.
 *
 * Variables in a table: a variable with a table (custom_var.table) is not a
 * global but the field table[key] of a read-only table, so that any text can
 * be a key (traits["a-b"]); a missing key reads as nil; pairs(table) lists the
 * fields. Reading a field marks that variable read, as for a global.
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
#include <stdint.h>

#include "util/err.h"

#define CUSTOM_RULE_ERR_BYTES        256
#define CUSTOM_RULE_MAX_VARS         256
#define CUSTOM_RULE_MAX_NAME_BYTES   128        /* a rule's name */
#define CUSTOM_RULE_MAX_SOURCE_BYTES 16384      /* a condition or reason text */
#define CUSTOM_RULE_MAX_REASON_BYTES 1024       /* the string a reason gives */
#define CUSTOM_RULE_MAX_INSTRUCTIONS 1000000    /* per evaluation */
#define CUSTOM_RULE_MEM_BYTES        (8 << 20)  /* per rule state */
#define CUSTOM_RULE_TIME_MS          250        /* per evaluation */
#define CUSTOM_RULE_MAX_STRING_BYTES (64 << 10) /* a string a rule makes */
#define CUSTOM_RULE_HOOK_STEP        100        /* instructions between two clock reads */

/* One variable a condition can read: a number, a string, or nil (unknown).
 * Fields not set must be zero (NULL, false). */
struct custom_var {
    /* Without table: the global's name, a Lua name (not a keyword), unique in
     * the array. With table: only a label for the caller (e.g. evidence). */
    const char *name;
    /* NULL, or the Lua name of a read-only table the variable is a field of:
     * it is read as table[key] (key any text, unique in that table), and is
     * no global of its own. A table's name must not be a global's. */
    const char *table;
    const char *key;
    bool known;     /* false: the variable is nil */
    bool is_string; /* true: str, else number */
    double number;
    const char *str; /* not NULL when known and is_string */
};

struct custom_rule; /* opaque: one compiled rule with its own lua_State */

/* The clock the time limit reads: monotonic nanoseconds; arg is passed back. */
typedef int64_t (*custom_clock_fn)(void *arg);

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

/* Sets the clock rule r's time limit reads (tests pass a fake one). A rule
 * starts with the process's monotonic clock: the one clock core reads, a
 * watchdog that changes no result a legitimate rule gets (those take
 * microseconds). now_ns must not be NULL. */
void custom_rule_set_clock(struct custom_rule *r, custom_clock_fn now_ns, void *arg);

/* Whether r's latest evaluation ended at the time limit (false before the
 * first). The caller may stop asking a rule that keeps running out of time. */
bool custom_rule_timed_out(const struct custom_rule *r);

/* Frees the rule and its lua_State; accepts NULL. */
void custom_rule_free(struct custom_rule *r);

#endif
