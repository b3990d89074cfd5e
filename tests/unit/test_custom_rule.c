/* test_custom_rule.c: custom rule conditions in sandboxed Lua (core/custom_rule):
 * conditions and chunks, nil variables, reasons, the evidence of what a
 * condition read, errors with their lines, every forbidden library absent, the
 * instruction, memory and time limits, no state carried between evaluations,
 * and a rule usable again after an error. Error messages are compared whole,
 * since their form ("rule NAME: line N: message") is part of the contract. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/custom_rule.h"
#include "core/health.h"
#include "core/metrics.h"
#include "core/rules.h"

#define NUM(n, v)                                                                                  \
    { .name = (n), .known = true, .number = (v) }
#define NIL(n)                                                                                     \
    { .name = (n) }
#define TXT(n, s)                                                                                  \
    { .name = (n), .known = true, .is_string = true, .str = (s) }
#define COUNT(a)   (sizeof(a) / sizeof((a)[0]))
#define EVAL(r, v) eval_ok((r), (v), COUNT(v))

/* A clock for the time limit that advances step_ns on every read, never
 * sleeping: the tests below then depend on where the clock is read, never on
 * how fast the machine runs. reads counts the reads. */
struct fake_clock {
    int64_t now_ns, step_ns;
    long reads;
};

static int64_t fake_now(void *arg) {
    struct fake_clock *c = arg;
    c->reads++;
    c->now_ns += c->step_ns;
    return c->now_ns;
}

/* The clock of every rule compile_ok gives: standing still, so that no test
 * of something else fails on a slow machine by the time limit. The tests of
 * the time limit set their own. */
static struct fake_clock still_clock;

static struct custom_rule *compile_ok(const char *condition, const char *reason) {
    struct custom_rule *r = NULL;
    char err[CUSTOM_RULE_ERR_BYTES] = "";
    enum tend_err e = custom_rule_compile("r", condition, reason, &r, err);
    if (e != TEND_OK)
        print_error("compile: %s\n", err);
    assert_int_equal(e, TEND_OK);
    assert_non_null(r);
    custom_rule_set_clock(r, fake_now, &still_clock);
    return r;
}

static void compile_fails(const char *condition, const char *reason, enum tend_err want,
                          const char *want_err) {
    struct custom_rule *r = NULL;
    char err[CUSTOM_RULE_ERR_BYTES] = "";
    assert_int_equal(custom_rule_compile("r", condition, reason, &r, err), want);
    assert_null(r);
    assert_string_equal(err, want_err);
}

/* Evaluates, asserting success; returns whether the condition holds. */
static bool eval_ok(struct custom_rule *r, const struct custom_var *v, size_t n) {
    bool holds = false;
    char err[CUSTOM_RULE_ERR_BYTES] = "";
    enum tend_err e = custom_rule_eval(r, v, n, &holds, NULL, NULL, err);
    if (e != TEND_OK)
        print_error("eval: %s\n", err);
    assert_int_equal(e, TEND_OK);
    return holds;
}

/* Evaluates, asserting TEND_ERR_INVALID with exactly want_err. */
static void eval_fails(struct custom_rule *r, const struct custom_var *v, size_t n,
                       const char *want_err) {
    bool holds = false;
    char err[CUSTOM_RULE_ERR_BYTES] = "";
    assert_int_equal(custom_rule_eval(r, v, n, &holds, NULL, NULL, err), TEND_ERR_INVALID);
    assert_string_equal(err, want_err);
}

/* Compiles condition alone, evaluates it without variables, expects want_err. */
static void fails_alone(const char *condition, const char *want_err) {
    struct custom_rule *r = compile_ok(condition, NULL);
    eval_fails(r, NULL, 0, want_err);
    custom_rule_free(r);
}

/* Compiles condition alone and evaluates it without variables. */
static bool holds_alone(const char *condition) {
    struct custom_rule *r = compile_ok(condition, NULL);
    bool holds = eval_ok(r, NULL, 0);
    custom_rule_free(r);
    return holds;
}

static double seconds_since(const struct timespec *t0) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static void test_condition_holds_or_not(void **state) {
    (void)state;
    struct custom_rule *r = compile_ok("seat_utilization < 0.3 and renewal_days_left < 90", NULL);
    struct custom_var at_risk[] = {NUM("seat_utilization", 0.25), NUM("renewal_days_left", 60)};
    struct custom_var busy[] = {NUM("seat_utilization", 0.8), NUM("renewal_days_left", 60)};
    struct custom_var far[] = {NUM("seat_utilization", 0.25), NUM("renewal_days_left", 200)};
    assert_true(EVAL(r, at_risk));
    assert_false(EVAL(r, busy));
    assert_false(EVAL(r, far));
    assert_true(EVAL(r, at_risk)); /* the same rule, many accounts */
    custom_rule_free(r);

    struct custom_var plan[] = {TXT("plan", "enterprise"), NUM("users", 12)};
    r = compile_ok("plan == 'enterprise' and users >= 10 and plan:upper():sub(1, 3) == 'ENT'",
                   NULL);
    assert_true(EVAL(r, plan));
    custom_rule_free(r);
}

static void test_chunk_with_return(void **state) {
    (void)state;
    struct custom_rule *r = compile_ok("local pct = seat_utilization * 100\n"
                                       "if pct < 30 then\n"
                                       "  return true\n"
                                       "end\n"
                                       "return false",
                                       NULL);
    struct custom_var low[] = {NUM("seat_utilization", 0.25)};
    struct custom_var high[] = {NUM("seat_utilization", 0.5)};
    assert_true(EVAL(r, low));
    assert_false(EVAL(r, high));
    custom_rule_free(r);
    /* An expression that merely contains the word return stays an expression. */
    assert_true(holds_alone("(function() return 2 > 1 end)()"));
    assert_false(holds_alone("local returned = 1 return returned > 1"));
}

static void test_truthiness_is_lua_truthiness(void **state) {
    (void)state;
    struct custom_var v[] = {NUM("zero", 0), NIL("unknown"), TXT("empty", "")};
    const char *truthy[] = {"zero", "empty", "true", "'x'", "{}"};
    const char *falsy[] = {"unknown", "false", "nil", "zero == 1"};
    for (size_t i = 0; i < COUNT(truthy); i++) {
        struct custom_rule *r = compile_ok(truthy[i], NULL);
        assert_true(EVAL(r, v));
        custom_rule_free(r);
    }
    for (size_t i = 0; i < COUNT(falsy); i++) {
        struct custom_rule *r = compile_ok(falsy[i], NULL);
        assert_false(EVAL(r, v));
        custom_rule_free(r);
    }
}

static void test_unknown_variable_reads_as_nil(void **state) {
    (void)state;
    struct custom_var v[] = {NUM("seat_utilization", 0.1), NIL("renewal_days_left")};
    struct custom_rule *r = compile_ok("renewal_days_left == nil", NULL);
    assert_true(EVAL(r, v));
    custom_rule_free(r);
    /* The guard the header recommends. */
    r = compile_ok("renewal_days_left ~= nil and renewal_days_left < 90", NULL);
    assert_false(EVAL(r, v));
    custom_rule_free(r);
    /* Unguarded: an error with its line, not a silent false. */
    r = compile_ok("seat_utilization < 0.3 and renewal_days_left < 90", NULL);
    eval_fails(r, v, COUNT(v), "rule r: line 1: attempt to compare nil with number");
    custom_rule_free(r);
}

static void test_reason_formats_numbers(void **state) {
    (void)state;
    struct custom_rule *r = compile_ok(
        "seat_utilization < 0.3",
        "string.format('%d%% of seats used', seat_utilization * 100) .. ', renewal in ' .. "
        "renewal_days_left .. ' days, ratio ' .. seat_utilization .. ' on ' .. plan");
    struct custom_var v[] = {NUM("seat_utilization", 0.25), NUM("renewal_days_left", 60),
                             TXT("plan", "pro")};
    bool holds = false;
    char *reason = NULL;
    char err[CUSTOM_RULE_ERR_BYTES] = "";
    assert_int_equal(custom_rule_eval(r, v, COUNT(v), &holds, &reason, NULL, err), TEND_OK);
    assert_true(holds);
    assert_non_null(reason);
    assert_string_equal(reason, "25% of seats used, renewal in 60 days, ratio 0.25 on pro");
    free(reason);

    /* No reason when the condition does not hold. */
    v[0].number = 0.5;
    reason = (char *)"stale";
    assert_int_equal(custom_rule_eval(r, v, COUNT(v), &holds, &reason, NULL, err), TEND_OK);
    assert_false(holds);
    assert_null(reason);
    custom_rule_free(r);

    /* No reason expression: NULL even when it holds. */
    r = compile_ok("true", NULL);
    reason = (char *)"stale";
    assert_int_equal(custom_rule_eval(r, NULL, 0, &holds, &reason, NULL, err), TEND_OK);
    assert_true(holds);
    assert_null(reason);
    custom_rule_free(r);
}

static void test_reason_errors(void **state) {
    (void)state;
    char err[CUSTOM_RULE_ERR_BYTES] = "";
    bool holds = false;
    char *reason = NULL;
    struct custom_rule *r = compile_ok("true", "42");
    assert_int_equal(custom_rule_eval(r, NULL, 0, &holds, &reason, NULL, err), TEND_ERR_INVALID);
    assert_string_equal(err, "rule r: reason: gave a number, not a string");
    assert_null(reason);
    custom_rule_free(r);

    r = compile_ok("true", "'x' ..\nnothing");
    assert_int_equal(custom_rule_eval(r, NULL, 0, &holds, &reason, NULL, err), TEND_ERR_INVALID);
    assert_string_equal(err, "rule r: reason line 2: unknown name 'nothing'");
    custom_rule_free(r);

    r = compile_ok("true", "('x'):rep(2000)");
    assert_int_equal(custom_rule_eval(r, NULL, 0, &holds, &reason, NULL, err), TEND_ERR_INVALID);
    assert_string_equal(err, "rule r: reason: gave 2000 bytes, over the limit of 1024");
    /* Without reason_out the reason is not evaluated at all. */
    assert_int_equal(custom_rule_eval(r, NULL, 0, &holds, NULL, NULL, err), TEND_OK);
    assert_true(holds);
    custom_rule_free(r);
}

static void test_evidence_marks_what_the_condition_read(void **state) {
    (void)state;
    struct custom_rule *r = compile_ok("a > 1 or b > 1", "'a=' .. a .. ' c=' .. tostring(c)");
    struct custom_var v[] = {NUM("a", 2), NUM("b", 0), NIL("c"), NUM("d", 1)};
    bool read[4] = {false, true, true, true};
    bool holds = false;
    char *reason = NULL;
    char err[CUSTOM_RULE_ERR_BYTES] = "";
    /* a holds: or short-circuits, b is never read; the reason's reads do not count. */
    assert_int_equal(custom_rule_eval(r, v, 4, &holds, &reason, read, err), TEND_OK);
    assert_true(holds);
    assert_string_equal(reason, "a=2 c=nil");
    free(reason);
    assert_true(read[0]);
    assert_false(read[1]);
    assert_false(read[2]);
    assert_false(read[3]);
    /* Now both are read; the flags of the previous call are gone. */
    v[0].number = 0;
    assert_int_equal(custom_rule_eval(r, v, 4, &holds, &reason, read, err), TEND_OK);
    assert_false(holds);
    assert_true(read[0] && read[1]);
    assert_false(read[2] || read[3]);
    custom_rule_free(r);

    /* A nil variable that is read is evidence too; reading it twice is one flag. */
    r = compile_ok("c == nil and c == nil", NULL);
    assert_int_equal(custom_rule_eval(r, v, 4, &holds, NULL, read, err), TEND_OK);
    assert_true(holds);
    assert_false(read[0] || read[1] || read[3]);
    assert_true(read[2]);
    custom_rule_free(r);
}

static void test_syntax_error_names_rule_and_line(void **state) {
    (void)state;
    compile_fails("seat_utilization < 0.3 and\n\n)", NULL, TEND_ERR_INVALID,
                  "rule r: line 3: unexpected symbol near ')'");
    compile_fails("local x = 1\nif x then\nreturn true", NULL, TEND_ERR_INVALID,
                  "rule r: line 3: 'end' expected (to close 'if' at line 2) near <eof>");
    compile_fails("x = 1", NULL, TEND_ERR_INVALID, "rule r: line 1: <eof> expected near '='");
    compile_fails("true", "'a' ..", TEND_ERR_INVALID,
                  "rule r: reason line 1: unexpected symbol near <eof>");
    /* A long name is cut in the message, which still fits the buffer. */
    struct custom_rule *r = NULL;
    char err[CUSTOM_RULE_ERR_BYTES];
    char name[CUSTOM_RULE_MAX_NAME_BYTES + 1];
    memset(name, 'n', CUSTOM_RULE_MAX_NAME_BYTES);
    name[CUSTOM_RULE_MAX_NAME_BYTES] = '\0';
    assert_int_equal(custom_rule_compile(name, "(", NULL, &r, err), TEND_ERR_INVALID);
    assert_true(strlen(err) < CUSTOM_RULE_ERR_BYTES);
    assert_true(strstr(err, ": line 1: unexpected symbol") != NULL);
}

static void test_runtime_error_names_line_in_chunk(void **state) {
    (void)state;
    struct custom_var v[] = {NUM("a", 1), NIL("b")};
    struct custom_rule *r = compile_ok("local x = a + 1\n"
                                       "local y = x * 2\n"
                                       "return y + b > 3",
                                       NULL);
    eval_fails(r, v, COUNT(v),
               "rule r: line 3: attempt to perform arithmetic on a nil value (global 'b')");
    custom_rule_free(r);

    /* error() inside a nested function: the line of the call to error. */
    fails_alone("local function check(x)\n"
                "  if x > 1 then\n"
                "    error('too big')\n"
                "  end\n"
                "end\n"
                "check(2)\n"
                "return true",
                "rule r: line 3: too big");
    /* An error raised by a C function: the line of the call. */
    fails_alone("local s = 'x'\nreturn math.floor(s) > 1",
                "rule r: line 2: bad argument #1 to 'floor' (number expected, got string)");
    fails_alone("error({})", "rule r: line 1: error object is a table value");
    fails_alone("error('no position', 0)", "rule r: line 1: no position");
}

static void test_unknown_name_is_an_error(void **state) {
    (void)state;
    struct custom_var v[] = {NUM("seat_utilization", 0.1)};
    struct custom_rule *r = compile_ok("seat_utilisation < 0.3", NULL);
    eval_fails(r, v, COUNT(v), "rule r: line 1: unknown name 'seat_utilisation'");
    custom_rule_free(r);
    r = compile_ok("local ok = seat_utilization < 0.3\nreturn ok and sqrt(4) == 2", NULL);
    eval_fails(r, v, COUNT(v), "rule r: line 2: unknown name 'sqrt'");
    custom_rule_free(r);
}

static void test_forbidden_names_are_absent(void **state) {
    (void)state;
    const char *absent[] = {
        "os",           "io",        "require", "load",           "loadstring",
        "dofile",       "loadfile",  "pcall",   "xpcall",         "debug",
        "package",      "coroutine", "print",   "collectgarbage", "setmetatable",
        "getmetatable", "rawget",    "rawset",  "rawequal",       "rawlen",
        "_G",           "warn",      "module",  "unpack"};
    for (size_t i = 0; i < COUNT(absent); i++) {
        char cond[64], want[CUSTOM_RULE_ERR_BYTES];
        snprintf(cond, sizeof cond, "%s ~= nil", absent[i]);
        snprintf(want, sizeof want, "rule r: line 1: unknown name '%s'", absent[i]);
        fails_alone(cond, want);
    }
    fails_alone("os.execute('touch /tmp/tend_pwned') == 0", "rule r: line 1: unknown name 'os'");
    fails_alone("io.open('/etc/passwd') ~= nil", "rule r: line 1: unknown name 'io'");
    fails_alone("require('os')", "rule r: line 1: unknown name 'require'");
    fails_alone("load('return 1')()", "rule r: line 1: unknown name 'load'");
    fails_alone("dofile('/etc/passwd')", "rule r: line 1: unknown name 'dofile'");
    fails_alone("pcall(error)", "rule r: line 1: unknown name 'pcall'");
    fails_alone("debug.getinfo(1)", "rule r: line 1: unknown name 'debug'");
    fails_alone("string.dump(function() end)",
                "rule r: line 1: attempt to call a nil value (field 'dump')");
    /* Removed from the string table itself, so string methods lose them too. */
    assert_true(holds_alone("string.dump == nil and ('x').dump == nil"));
    assert_true(holds_alone("string.find == nil and ('x').match == nil and string.gsub == nil "
                            "and string.gmatch == nil"));
    assert_true(holds_alone("table.move == nil and math.randomseed == nil"));
    /* The pattern that backtracks for hours inside one C call cannot run. */
    fails_alone("('a'):rep(30000):find('.-.-.-.-b')",
                "rule r: line 1: attempt to call a nil value (method 'find')");
    /* What remains works. */
    assert_true(holds_alone("math.floor(2.5) == 2 and math.max(1, 3) == 3 and math.random() < 1 "
                            "and string.format('%.1f', 0.25) == '0.2' and ('ab'):len() == 2 "
                            "and table.concat({1, 2}, ',') == '1,2' and utf8.char(72) == 'H' "
                            "and select('#', 1, 2) == 2 and tostring(1) == '1' "
                            "and tonumber('2') == 2 and type(pairs) == 'function' "
                            "and math.type(3) == 'integer'"));
    /* Only text chunks load. */
    compile_fails("\x1bLua return true", NULL, TEND_ERR_INVALID,
                  "rule r: attempt to load a binary chunk (mode is 't')");
}

static void test_infinite_loop_is_stopped(void **state) {
    (void)state;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    fails_alone("while true do end return true",
                "rule r: line 1: instruction limit of 1000000 exceeded");
    fails_alone("local function spin()\n  while true do end\nend\nspin()\nreturn true",
                "rule r: line 2: instruction limit of 1000000 exceeded");
    assert_true(seconds_since(&t0) < 60); /* a guard against a hang, not a speed */
}

static void test_memory_bomb_is_stopped(void **state) {
    (void)state;
    fails_alone("local t = {}\n"
                "local i = 0\n"
                "while true do i = i + 1; t[i] = {i} end\n"
                "return false",
                "rule r: line 3: memory limit of 8 MiB exceeded");
    /* Live memory past the limit fails even when the rule would end at once;
     * the error names the line where it was seen: the next instruction's. */
    fails_alone("local t, s = {}, ('x'):rep(60000)\n"
                "for i = 1, 200 do t[i] = s .. i end\n"
                "return #t > 0",
                "rule r: line 2: memory limit of 8 MiB exceeded");
    /* Unbounded recursion runs out of memory before Lua's stack limit. */
    fails_alone("local function f(n) return f(n + 1) + 1 end\nreturn f(1)",
                "rule r: line 1: memory limit of 8 MiB exceeded");
    /* Large but legitimate garbage is collected, not counted against the rule. */
    assert_true(holds_alone("local n = 0\n"
                            "for i = 1, 400 do n = n + #(('x'):rep(60000) .. i) end\n"
                            "return n > 24000000"));
}

/* Strings a rule makes are at most 64 KiB, so that no single string
 * operation (a comparison strcoll walks a zero byte at a time, utf8.len,
 * lower, tonumber) runs long in one VM instruction. */
static void test_strings_are_capped(void **state) {
    (void)state;
    assert_true(holds_alone("#('x'):rep(65536) == 65536 and #('ab'):rep(21845, ',') == 65534"));
    fails_alone("string.rep('x', 1e9)", "rule r: line 1: string limit of 64 KiB exceeded");
    fails_alone("('x'):rep(65537)", "rule r: line 1: string limit of 64 KiB exceeded");
    fails_alone("('x'):rep(1e9, ',')", "rule r: line 1: string limit of 64 KiB exceeded");
    /* Refused where Lua makes the string: concatenation, table.concat, format. */
    fails_alone("local s = 'x'\nwhile true do s = s .. s end\nreturn true",
                "rule r: line 2: string limit of 64 KiB exceeded");
    fails_alone("local s = ('x'):rep(40000)\nlocal t = {s, s}\nreturn #table.concat(t) > 0",
                "rule r: line 3: string limit of 64 KiB exceeded");
    fails_alone("local s = ('x'):rep(40000)\nreturn #string.format('%s%s', s, s) > 0",
                "rule r: line 2: string limit of 64 KiB exceeded");
    /* A variable's own value is the caller's: it reads whole. */
    char *big = malloc(200001);
    memset(big, 'y', 200000);
    big[200000] = '\0';
    struct custom_var v[] = {TXT("note", big)};
    struct custom_rule *r = compile_ok("#note == 200000 and note:sub(1, 2) == 'yy'", NULL);
    assert_true(EVAL(r, v));
    custom_rule_free(r);
    free(big);
}

/* Evaluates condition with a clock advancing 0.25 ms a read (the first read
 * sets the deadline, which the 1,002nd passes) and expects want_err; returns
 * the reads. */
static long fails_on_fake_clock(const char *condition, const char *want_err) {
    struct fake_clock clock = {.step_ns = 250000};
    struct custom_rule *r = compile_ok(condition, NULL);
    custom_rule_set_clock(r, fake_now, &clock);
    eval_fails(r, NULL, 0, want_err);
    custom_rule_free(r);
    return clock.reads;
}

/* Builds a table t of n distinct-ish integers in few instructions (an
 * instruction loop would itself read the clock every 100). */
#define BUILD_T(n)                                                                                 \
    "local s = ('\\1\\200\\37\\255\\3\\99\\150\\7'):rep(" #n " // 8)\n"                            \
    "local t = {s:byte(1, -1)}\n"

/* The finding: library functions written in C ran unchecked between two
 * hooks, 1,000 instructions apart; a loop of table.sort over 200,000 numbers
 * took 21 s per evaluation (12.5 s in the report). Each hostile C call below,
 * in a loop, ends with the time limit at its line. */
static void test_time_limit_holds_across_c_calls(void **state) {
    (void)state;
    static const char *const loops[] = {
        BUILD_T(4000) "while true do table.sort(t) end\nreturn true",
        BUILD_T(4000) "while true do table.sort(t, math.ult) end\nreturn true",
        BUILD_T(4000) "while true do table.sort(t, function(a, b) return a > b end) end\n"
                      "return true",
        "while true do local x = ('x'):rep(60000) end\nreturn true",
        BUILD_T(4000) "while true do local x = table.concat(t, ',') end\nreturn true",
        BUILD_T(4000) "while true do table.insert(t, 1, 0) end\nreturn true",
        BUILD_T(4000) "while true do local x = select('#', table.unpack(t)) end\nreturn true",
        "local s = ('\\0'):rep(60000)\nwhile true do local x = utf8.len(s) end\nreturn true",
        "local a, b = ('\\0'):rep(60000), ('\\0'):rep(60000)\n"
        "while true do local x = a < b end\nreturn true",
        "local s = ('\\0'):rep(60000)\nwhile true do local x = s:lower() end\nreturn true",
    };
    for (size_t i = 0; i < COUNT(loops); i++) {
        int line = 1; /* the loop's */
        for (const char *p = loops[i]; p < strstr(loops[i], "while"); p++)
            line += *p == '\n';
        char want[CUSTOM_RULE_ERR_BYTES];
        snprintf(want, sizeof want, "rule r: line %d: time limit of 250 ms exceeded", line);
        long reads = fails_on_fake_clock(loops[i], want);
        /* The 1,002nd read ends it: not one read more. */
        assert_int_equal(reads, 1002);
    }
}

/* Within one long C call the clock is read too: table.sort's comparisons
 * and table.concat's allocations. A clock that never passes the deadline
 * counts the reads of the one call. */
static void test_clock_is_read_inside_one_c_call(void **state) {
    (void)state;
    static const char *const setups[] = {
        BUILD_T(60000),
        "local t = {}\nfor i = 1, 20000 do t[i] = i + 0.5 end\n",
    };
    static const char *const calls[] = {"table.sort(t)\n",
                                        "local x = #table.concat(t, '', 1, 8000)\n"};
    static const long at_least[] = {1000, 100};
    for (size_t i = 0; i < COUNT(setups); i++) {
        long reads[2];
        for (int with_call = 0; with_call < 2; with_call++) {
            char text[1024];
            snprintf(text, sizeof text, "%s%sreturn true", setups[i], with_call ? calls[i] : "");
            struct fake_clock clock = {.step_ns = 0};
            struct custom_rule *r = compile_ok(text, NULL);
            custom_rule_set_clock(r, fake_now, &clock);
            assert_true(eval_ok(r, NULL, 0));
            custom_rule_free(r);
            reads[with_call] = clock.reads;
        }
        print_message("%.*s: %ld clock reads in one call\n", (int)strcspn(calls[i], "\n"), calls[i],
                      reads[1] - reads[0]);
        assert_true(reads[1] - reads[0] >= at_least[i]);
    }
    /* And one call past the deadline stops inside: the sort never returns. */
    fails_on_fake_clock(BUILD_T(60000) "table.sort(t)\nreturn true",
                        "rule r: line 3: time limit of 250 ms exceeded");
}

/* The same on the real clock: each hostile loop ends close to the 250 ms
 * limit (the bound here only guards against a hang: machines are slow). */
static void test_time_limit_on_the_real_clock(void **state) {
    (void)state;
    static const char *const loops[] = {
        "local t = {}\nfor i = 1, 200000 do t[i] = (i * 7919) % 200003 end\n"
        "while true do table.sort(t) end\nreturn true",
        "local a, b = ('\\0'):rep(60000), ('\\0'):rep(60000)\n"
        "local c = 0\nwhile true do local x = a < b end\nreturn true",
        BUILD_T(60000) "while true do local x = table.concat(t, '', 1, 20000) end\nreturn true",
    };
    for (size_t i = 0; i < COUNT(loops); i++) {
        struct custom_rule *r = NULL; /* with the default clock: the process's */
        assert_int_equal(custom_rule_compile("r", loops[i], NULL, &r, NULL), TEND_OK);
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        bool holds;
        char err[CUSTOM_RULE_ERR_BYTES] = "";
        assert_int_equal(custom_rule_eval(r, NULL, 0, &holds, NULL, NULL, err), TEND_ERR_INVALID);
        double s = seconds_since(&t0);
        print_message("hostile loop %zu: %.0f ms: %s\n", i, s * 1000, err);
        assert_non_null(strstr(err, "time limit of 250 ms exceeded"));
        assert_true(s < 10);
        custom_rule_free(r);
    }
}

static void test_string_rep_of_nothing_is_quick(void **state) {
    (void)state;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_true(holds_alone("string.rep('', 1e15) == '' and ('x'):rep(0) == '' "
                            "and (''):rep(1e15, '') == '' and ('ab'):rep(3, ',') == 'ab,ab,ab' "
                            "and ('ab'):rep(1) == 'ab'"));
    assert_true(seconds_since(&t0) < 30); /* Lua's rep would loop 1e15 times: days */
}

static void test_state_is_not_carried_between_evaluations(void **state) {
    (void)state;
    /* Assigning a variable's global lasts for this evaluation only. */
    struct custom_var v[] = {NIL("count")};
    struct custom_rule *r = compile_ok("count = (count or 0) + 1; return count > 1", NULL);
    for (int i = 0; i < 3; i++)
        assert_false(EVAL(r, v));
    custom_rule_free(r);

    /* Without such a variable the first read is an unknown name, every time. */
    r = compile_ok("count = (count or 0) + 1; return count > 1", NULL);
    for (int i = 0; i < 3; i++)
        eval_fails(r, NULL, 0, "rule r: line 1: unknown name 'count'");
    custom_rule_free(r);

    /* A global assigned in one evaluation is gone in the next. */
    struct custom_var first[] = {NUM("a", 1)}, second[] = {NUM("a", 2)};
    r = compile_ok("if a == 1 then g = true end\nreturn g", NULL);
    assert_true(EVAL(r, first));
    eval_fails(r, second, 1, "rule r: line 2: unknown name 'g'");
    custom_rule_free(r);

    /* Replacing _ENV does not outlive the evaluation either. */
    struct custom_var seen[] = {NIL("seen")};
    r = compile_ok("if seen then return true end\n_ENV = {seen = true}\nreturn false", NULL);
    for (int i = 0; i < 3; i++)
        assert_false(EVAL(r, seen));
    custom_rule_free(r);

    /* Libraries are read-only, so they cannot carry anything. */
    fails_alone("math.pi = 3 return true", "rule r: line 1: library tables are read-only");
    fails_alone("string.x = 1 return true", "rule r: line 1: library tables are read-only");
    r = compile_ok("if a == 1 then math.pi = 3 end\nreturn math.pi > 3.14", NULL);
    eval_fails(r, first, 1, "rule r: line 1: library tables are read-only");
    assert_true(EVAL(r, second));
    custom_rule_free(r);
}

static void test_rule_is_usable_after_an_error(void **state) {
    (void)state;
    struct custom_rule *r =
        compile_ok("if mode == 'loop' then while true do end end\n"
                   "if mode == 'bomb' then local t = {} for i = 1, 1e8 do t[i] = {} end end\n"
                   "if mode == 'fail' then error('asked to') end\n"
                   "return users > 10",
                   "'users: ' .. users");
    struct custom_var v[] = {TXT("mode", "loop"), NUM("users", 20)};
    bool holds = false;
    bool read[2] = {false, false};
    char *reason = (char *)"untouched";
    char err[CUSTOM_RULE_ERR_BYTES] = "";
    const char *modes[] = {"loop", "bomb", "fail"};
    const char *want[] = {"rule r: line 1: instruction limit of 1000000 exceeded",
                          "rule r: line 2: memory limit of 8 MiB exceeded",
                          "rule r: line 3: asked to"};
    for (int round = 0; round < 2; round++) {
        for (size_t i = 0; i < COUNT(modes); i++) {
            v[0].str = modes[i];
            assert_int_equal(custom_rule_eval(r, v, 2, &holds, &reason, read, err),
                             TEND_ERR_INVALID);
            assert_string_equal(err, want[i]);
            /* Outputs untouched on error. */
            assert_false(holds);
            assert_false(read[0] || read[1]);
            assert_string_equal(reason, "untouched");
        }
        v[0].str = "normal";
        assert_int_equal(custom_rule_eval(r, v, 2, &holds, &reason, read, err), TEND_OK);
        assert_true(holds);
        assert_true(read[0] && read[1]);
        assert_string_equal(reason, "users: 20");
        free(reason);
        reason = (char *)"untouched";
        holds = false;
        read[0] = read[1] = false;
    }
    custom_rule_free(r);
}

static void test_variables_are_checked_and_remapped(void **state) {
    (void)state;
    struct custom_rule *r = compile_ok("a - b", NULL);
    char err[CUSTOM_RULE_ERR_BYTES] = "";
    bool holds;
    struct custom_var many[CUSTOM_RULE_MAX_VARS + 1];
    memset(many, 0, sizeof many);
    assert_int_equal(custom_rule_eval(r, many, CUSTOM_RULE_MAX_VARS + 1, &holds, NULL, NULL, err),
                     TEND_ERR_LIMIT);
    assert_string_equal(err, "rule r: 257 variables, over the limit of 256");

    struct custom_var dash[] = {NUM("a-b", 1)}, keyword[] = {NUM("end", 1)},
                      twice[] = {NUM("a", 1), NUM("a", 2)}, nostr[] = {TXT("a", NULL)},
                      noname[] = {NUM(NULL, 1)};
    eval_fails(r, dash, 1, "rule r: variable 'a-b' is not a Lua name");
    eval_fails(r, keyword, 1, "rule r: variable 'end' is not a Lua name");
    eval_fails(r, twice, 2, "rule r: variable 'a' appears twice");
    eval_fails(r, nostr, 1, "rule r: variable 'a' has a NULL string");
    eval_fails(r, noname, 1, "rule r: variable 0 has no name");

    /* The same names in another order, then other names: values follow names. */
    struct custom_var ab[] = {NUM("a", 5), NUM("b", 5)}, ba[] = {NUM("b", 1), NUM("a", 5)},
                      abc[] = {NUM("c", 0), NUM("a", 2), NUM("b", 2)};
    custom_rule_free(r);
    r = compile_ok("a - b > 0", NULL);
    assert_false(EVAL(r, ab));
    assert_true(EVAL(r, ba));
    assert_false(EVAL(r, abc));
    abc[2].number = 1;
    assert_true(EVAL(r, abc));
    custom_rule_free(r);

    /* All the variables a full account has. */
    struct custom_var full[CUSTOM_RULE_MAX_VARS];
    char names[CUSTOM_RULE_MAX_VARS][8];
    for (int i = 0; i < CUSTOM_RULE_MAX_VARS; i++) {
        snprintf(names[i], sizeof names[i], "m%d", i);
        full[i] = (struct custom_var){.name = names[i], .known = true, .number = i};
    }
    r = compile_ok("m0 + m255 == 255 and m10 == 10", NULL);
    assert_true(eval_ok(r, full, CUSTOM_RULE_MAX_VARS));
    custom_rule_free(r);
}

#define FIELD(t, k, v)                                                                             \
    { .name = "traits." k, .table = (t), .key = (k), .known = true, .number = (v) }

/* Variables in a table: any text as key, nil for a missing one, pairs, the
 * evidence per field, read-only, and the array checked. */
static void test_variables_in_a_table(void **state) {
    (void)state;
    struct custom_var v[] = {
        FIELD("traits", "a-b", 1),
        NUM("trait_region_code", 7),
        FIELD("traits", "region code", 7),
        {.name = "traits.name",
         .table = "traits",
         .key = "name",
         .known = true,
         .is_string = true,
         .str = "Acme"},
        {.name = "traits.gone", .table = "traits", .key = "gone"},
    };
    bool read[COUNT(v)], holds = false;
    char err[CUSTOM_RULE_ERR_BYTES] = "";
    struct custom_rule *r =
        compile_ok("traits['a-b'] == 1 and traits.name == 'Acme' and traits.missing == nil", NULL);
    assert_int_equal(custom_rule_eval(r, v, COUNT(v), &holds, NULL, read, err), TEND_OK);
    assert_true(holds);
    /* What the condition read is its evidence, field by field. */
    assert_true(read[0] && read[3]);
    assert_false(read[1] || read[2] || read[4]);
    custom_rule_free(r);
    /* pairs lists every field (and reads them all), an unknown one with the
     * value nil; # of the table is 0. */
    r = compile_ok("local n, sum = 0, 0\n"
                   "for k, x in pairs(traits) do\n"
                   "  n = n + 1\n"
                   "  if type(x) == 'number' then sum = sum + x end\n"
                   "end\n"
                   "return n == 4 and sum == 8 and #traits == 0",
                   NULL);
    assert_int_equal(custom_rule_eval(r, v, COUNT(v), &holds, NULL, read, err), TEND_OK);
    assert_true(holds);
    custom_rule_free(r);
    /* Read-only; not a global of its own; the global beside it still is. */
    r = compile_ok("trait_region_code == 7 and traits['region code'] == 7", NULL);
    assert_true(EVAL(r, v));
    custom_rule_free(r);
    r = compile_ok("local t = traits\nt.x = 1\nreturn true", NULL);
    eval_fails(r, v, COUNT(v), "rule r: line 2: variable tables are read-only");
    custom_rule_free(r);
    r = compile_ok("name == nil", NULL);
    eval_fails(r, v, COUNT(v), "rule r: line 1: unknown name 'name'");
    custom_rule_free(r);

    /* The array is checked. */
    r = compile_ok("true", NULL);
    struct custom_var badtable[] = {{.name = "x", .table = "a-b", .key = "k"}},
                      nokey[] = {{.name = "x", .table = "traits"}},
                      twice[] = {FIELD("traits", "k", 1), FIELD("traits", "k", 2)},
                      clash[] = {NUM("traits", 1), FIELD("traits", "k", 2)};
    eval_fails(r, badtable, 1, "rule r: variable 'x' has a table name that is not a Lua name");
    eval_fails(r, nokey, 1, "rule r: variable 'x' has no key");
    eval_fails(r, twice, 2,
               "rule r: variable 'traits.k' has a key that appears twice in its table");
    eval_fails(r, clash, 2, "rule r: variable 'traits.k' has a table name that is a variable's");
    /* And the rule is fine with a good array again. */
    assert_true(EVAL(r, v));
    custom_rule_free(r);
}

struct found {
    int fired, errors;
    char error[RULES_ERR_BYTES];
};

static void on_finding(void *arg, const struct rule_finding *f) {
    struct found *x = arg;
    if (f->rule >= RULE_BUILTIN_COUNT)
        x->fired++;
}

static void on_rule_error(void *arg, int rule, const char *message, bool timed_out) {
    struct found *x = arg;
    (void)rule;
    x->errors++;
    snprintf(x->error, sizeof x->error, "%s", message);
}

/* The finding: a trait key that is no Lua name (a-b) ended the loop that
 * gives traits to custom rules, so the traits after it vanished and a rule
 * reading one failed for that account ("unknown name 'trait_region'"). Every
 * scalar trait reaches the rule now, whatever its key. */
static void test_every_trait_reaches_custom_rules(void **state) {
    (void)state;
    cJSON *rules =
        cJSON_Parse("{\"custom\": [{\"name\": \"t\", \"when\": \"trait_region == 'EMEA' and "
                    "traits['a-b'] == 1 and traits.region == 'EMEA' and trait_vip == 1 and "
                    "traits['x y'] == 2 and traits.list == nil and traits.seats == 12\"}]}");
    cJSON *traits = cJSON_Parse("{\"a-b\": 1, \"list\": [1, 2], \"region\": \"EMEA\", "
                                "\"x y\": 2, \"vip\": true, \"nothing\": null, \"seats\": 12, "
                                "\"seats\": 99}");
    assert_non_null(rules);
    assert_non_null(traits);
    struct rules_config c;
    char err[RULES_ERR_BYTES] = "";
    enum tend_err e = rules_config_load(rules, NULL, &c, err);
    if (e)
        print_error("%s\n", err);
    assert_int_equal(e, TEND_OK);
    struct metrics m;
    memset(&m, 0, sizeof m);
    struct health_score h;
    memset(&h, 0, sizeof h);
    struct rule_input in = {.m = &m, .h = &h, .traits = traits};
    struct found x = {0};
    rules_evaluate(&c, &in, on_finding, on_rule_error, &x);
    if (x.errors)
        print_error("%s\n", x.error);
    assert_int_equal(x.errors, 0);
    assert_int_equal(x.fired, 1);
    rules_config_release(&c);
    cJSON_Delete(rules);
    cJSON_Delete(traits);
}

static void test_compile_checks_its_input(void **state) {
    (void)state;
    compile_fails("", NULL, TEND_ERR_INVALID, "rule r: empty condition");
    compile_fails(" \n ", NULL, TEND_ERR_INVALID, "rule r: empty condition");
    compile_fails(NULL, NULL, TEND_ERR_INVALID, "rule r: empty condition");
    compile_fails("true", "", TEND_ERR_INVALID, "rule r: empty reason");
    static char big[CUSTOM_RULE_MAX_SOURCE_BYTES + 2];
    memset(big, ' ', sizeof big - 1);
    big[0] = '1';
    compile_fails(big, NULL, TEND_ERR_LIMIT,
                  "rule r: condition of 16385 bytes, over the limit of "
                  "16384");
    struct custom_rule *r = NULL;
    char err[CUSTOM_RULE_ERR_BYTES] = "";
    assert_int_equal(custom_rule_compile("", "true", NULL, &r, err), TEND_ERR_INVALID);
    assert_string_equal(err, "rule: empty name");
    assert_int_equal(custom_rule_compile(NULL, "true", NULL, &r, err), TEND_ERR_INVALID);
    assert_null(r);
    custom_rule_free(NULL);
}

int main(void) {
    /* A limit that stops working must fail the run, not hang it. The run
     * burns about 45 s of CPU (the hostile loops on a fake clock): the
     * deadline leaves room for a loaded machine (tests/run runs tests side
     * by side), and stays under TEST_TIMEOUT. */
    alarm(600);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_condition_holds_or_not),
        cmocka_unit_test(test_chunk_with_return),
        cmocka_unit_test(test_truthiness_is_lua_truthiness),
        cmocka_unit_test(test_unknown_variable_reads_as_nil),
        cmocka_unit_test(test_reason_formats_numbers),
        cmocka_unit_test(test_reason_errors),
        cmocka_unit_test(test_evidence_marks_what_the_condition_read),
        cmocka_unit_test(test_syntax_error_names_rule_and_line),
        cmocka_unit_test(test_runtime_error_names_line_in_chunk),
        cmocka_unit_test(test_unknown_name_is_an_error),
        cmocka_unit_test(test_forbidden_names_are_absent),
        cmocka_unit_test(test_infinite_loop_is_stopped),
        cmocka_unit_test(test_memory_bomb_is_stopped),
        cmocka_unit_test(test_strings_are_capped),
        cmocka_unit_test(test_time_limit_holds_across_c_calls),
        cmocka_unit_test(test_clock_is_read_inside_one_c_call),
        cmocka_unit_test(test_time_limit_on_the_real_clock),
        cmocka_unit_test(test_string_rep_of_nothing_is_quick),
        cmocka_unit_test(test_state_is_not_carried_between_evaluations),
        cmocka_unit_test(test_rule_is_usable_after_an_error),
        cmocka_unit_test(test_variables_are_checked_and_remapped),
        cmocka_unit_test(test_compile_checks_its_input),
        cmocka_unit_test(test_variables_in_a_table),
        cmocka_unit_test(test_every_trait_reaches_custom_rules),
    };
    return cmocka_run_group_tests_name("custom_rule", tests, NULL, NULL);
}
