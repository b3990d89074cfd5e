/* custom_rule.c: custom rule conditions in sandboxed Lua 5.4 (see custom_rule.h).
 *
 * Each rule owns a lua_State made with a counting allocator. Its stack holds,
 * for the rule's life, five values in fixed slots (rooted there as the
 * registry would root them, and reached without a lookup):
 *   1 names: a global variable's name -> 1-based index into the caller's vars
 *     array, and a variable table's name -> its read-only proxy;
 *   2 fields: a variable table's name -> its keys (key -> 1-based index);
 *   3 env: the rule's _ENV, an empty table whose metatable's __index is
 *     env_index, a C closure over names and the library table;
 *   4 the condition's function, 5 the reason's function or nil.
 * Nothing is built per evaluation. A read of a free name misses env and calls
 * env_index, which looks the name up in names, marks the variable as read and
 * pushes its value straight from the caller's array; libraries come next, and
 * anything else is an error. names is rebuilt only when the variables differ
 * from the previous call (n strcmp's). Writes to globals land in env
 * itself and are cleared after the evaluation; _ENV is set again on every
 * call, so even `_ENV = {}` does not outlive it; library tables are read-only
 * proxies. So nothing a rule does survives its evaluation.
 *
 * The time limit holds for wall time whatever the rule calls. A VM instruction
 * is cheap once strings are capped (the worst, comparing two 64 KiB strings of
 * zero bytes, which strcoll walks a byte at a time, takes 0.3 ms), so a count
 * hook every CUSTOM_RULE_HOOK_STEP instructions reads the clock. A C function
 * can run long in one call, between two hooks, so every function of the
 * string, table and utf8 libraries runs through guard(), which reads the clock
 * first; table.sort, whose one call is n log n comparisons, gets a comparator
 * that reads it every 256 comparisons (or sooner for long strings); and the
 * allocator reads it every ALLOC_CHECK_COUNT allocations or ALLOC_CHECK_BYTES,
 * and past the deadline refuses to grow anything, which ends a C function
 * that is still building (table.concat of 200,000 numbers took 210 ms in one
 * call). What is left unchecked is bounded by the memory and string limits:
 * one table.concat of 200,000 empty strings (4 ms) or table.insert at the front
 * of as many (2 ms). Math and base functions are O(1) or linear in their
 * arguments, and run unguarded. Pattern matching is not there at all: no limit
 * on the input stops a pattern that backtracks exponentially inside one call.
 * Measured worst overruns are in docs/rules.md.
 *
 * Memory past CUSTOM_RULE_MEM_BYTES is allowed, but the allocator then arms the
 * hook to run after the very next instruction, which collects garbage and, if
 * still over, raises an error at a known line; only an allocation past twice
 * the limit is refused outright, and Lua reports that as a memory error without
 * a line (Lua calls no message handler for those).
 *
 * The clock is injected (custom_rule_set_clock; the tests pass fake ones). Its
 * default, CLOCK_MONOTONIC, is the one clock core reads (STYLE.md keeps core
 * clock-free so that results are reproducible): a watchdog that changes no
 * result a legitimate rule gets, since those take microseconds (spending the
 * whole instruction budget, a C call per loop, takes 7-35 ms).
 *
 * Library choices follow docs/research/rules-and-ctas.md section 3: whitelists
 * applied to the real library tables (the string metatable's __index is the
 * real string table, so `("x"):dump()` must be gone too), no pattern matching
 * and no table.move, and our own string.rep (Lua's loops n times even when the
 * result is empty). */
#include "core/custom_rule.h"

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util/mem.h"

enum { SLOT_NAMES = 1, SLOT_FIELDS, SLOT_ENV, SLOT_COND, SLOT_REASON };

#define HOOK_STEP         CUSTOM_RULE_HOOK_STEP
#define MEM_HARD_BYTES    ((size_t)CUSTOM_RULE_MEM_BYTES * 2)
#define MAX_EXACT_INT     9007199254740992.0 /* 2^53 */
#define ALLOC_CHECK_COUNT 64                 /* allocations between two clock reads */
#define ALLOC_CHECK_BYTES (256 << 10)        /* or bytes allocated */
#define SORT_CHECK_WORK   256                /* comparisons (weighted) between two reads */
/* A long string's allocation is its text, a NUL and a header (24 bytes in
 * Lua 5.4); any string of up to CUSTOM_RULE_MAX_STRING_BYTES fits. */
#define STRING_ALLOC_MAX (CUSTOM_RULE_MAX_STRING_BYTES + 64)

struct custom_rule {
    lua_State *L;
    char *name;
    /* Memory, counted by rule_alloc. */
    size_t mem_used;
    bool mem_armed; /* over CUSTOM_RULE_MEM_BYTES: the hook runs next instruction */
    /* The clock the time limit reads. */
    custom_clock_fn now_ns;
    void *clock_arg;
    /* The evaluation under way. */
    bool running;
    bool timed_out;      /* the deadline passed: every growth is refused */
    bool pushing_var;    /* a variable's own string: not held to the string limit */
    bool refused_string; /* a string past CUSTOM_RULE_MAX_STRING_BYTES was refused */
    int refused_line;    /* its line, 0 when unknown */
    unsigned allocs;     /* since the allocator last read the clock */
    size_t alloc_bytes;
    unsigned sort_work; /* since table.sort's comparator last read the clock */
    bool tracking;      /* record reads in seen (the condition's, not the reason's) */
    const char *chunk;  /* "condition" or "reason": which one runs */
    const struct custom_var *vars;
    bool seen[CUSTOM_RULE_MAX_VARS];
    long budget;    /* instructions left */
    int hook_count; /* the count the hook is armed with */
    int64_t deadline_ns;
    int err_line; /* set by on_error; 0 when unknown */
    char msg[64]; /* an error found in C, after the call */
    /* What slots 1 and 2 map: the previous vars array's names (a global's
     * name, or a field's key with its table's name). */
    size_t n_names;
    char *names[CUSTOM_RULE_MAX_VARS];
    char *tables[CUSTOM_RULE_MAX_VARS];
};

static const char *const base_keep[] = {"assert", "error",    "ipairs",   "next",
                                        "pairs",  "select",   "tonumber", "tostring",
                                        "type",   "_VERSION", NULL};
static const char *const string_keep[] = {"byte", "char",    "format", "len",   "lower",
                                          "rep",  "reverse", "sub",    "upper", NULL};
static const char *const table_keep[] = {"concat", "insert", "pack", "remove",
                                         "sort",   "unpack", NULL};
static const char *const math_keep[] = {
    "abs",  "acos",   "asin", "atan", "ceil",       "cos",       "deg",        "exp",  "floor",
    "fmod", "huge",   "log",  "max",  "maxinteger", "min",       "mininteger", "modf", "pi",
    "rad",  "random", "sin",  "sqrt", "tan",        "tointeger", "type",       "ult",  NULL};
static const char *const utf8_keep[] = {"char", "charpattern", "codepoint", "codes",
                                        "len",  "offset",      NULL};
static const char *const keywords[] = {"and",   "break", "do",       "else",  "elseif", "end",
                                       "false", "for",   "function", "goto",  "if",     "in",
                                       "local", "nil",   "not",      "or",    "repeat", "return",
                                       "then",  "true",  "until",    "while", NULL};

static struct custom_rule *rule_of(lua_State *L) {
    return *(struct custom_rule **)lua_getextraspace(L);
}

static bool in_list(const char *s, const char *const *list) {
    for (; *list; list++)
        if (strcmp(s, *list) == 0)
            return true;
    return false;
}

static bool is_ident_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* A Lua name: letters, digits, underscores, not starting with a digit, not a
 * keyword. */
static bool is_identifier(const char *s) {
    if (!*s || (*s >= '0' && *s <= '9'))
        return false;
    for (const char *p = s; *p; p++)
        if (!is_ident_char(*p))
            return false;
    return !in_list(s, keywords);
}

/* Whether word occurs in s as a whole word. */
static bool has_word(const char *s, const char *word) {
    size_t len = strlen(word);
    for (const char *p = strstr(s, word); p; p = strstr(p + 1, word))
        if ((p == s || !is_ident_char(p[-1])) && !is_ident_char(p[len]))
            return true;
    return false;
}

static bool is_blank(const char *s) {
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
            return false;
    return true;
}

/* The default clock: CLOCK_MONOTONIC in nanoseconds. */
static int64_t monotonic_ns(void *arg) {
    (void)arg;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The current line of the innermost frame running the rule's chunk, or 0.
 * Reads the stack only (lua_getinfo "Sl" allocates nothing). */
static int rule_line(lua_State *L, const char *chunk) {
    lua_Debug ar;
    if (chunk == NULL)
        return 0;
    for (int level = 0; lua_getstack(L, level, &ar); level++) {
        lua_getinfo(L, "Sl", &ar);
        if (ar.source[0] == '=' && strcmp(ar.source + 1, chunk) == 0 && ar.currentline > 0)
            return ar.currentline;
    }
    return 0;
}

/* ---- limits ---------------------------------------------------------------- */

static void on_count(lua_State *L, lua_Debug *ar);

static void arm(struct custom_rule *r, int count) {
    lua_sethook(r->L, on_count, LUA_MASKCOUNT, count);
    r->hook_count = count;
}

/* Whether the evaluation's deadline has passed; reads the clock unless it is
 * already known to have. */
static bool past_deadline(struct custom_rule *r) {
    if (!r->timed_out && r->now_ns(r->clock_arg) > r->deadline_ns)
        r->timed_out = true;
    return r->timed_out;
}

/* The lua_Alloc of every rule state (Lua 5.4 manual 4.6). During an
 * evaluation: a new string past the string limit is refused (and its line
 * noted: Lua creates strings only with a consistent stack); the clock is read
 * every ALLOC_CHECK_COUNT allocations or ALLOC_CHECK_BYTES, and past the
 * deadline any growth is refused, which raises a memory error inside whatever
 * C function is running (mapped to the time limit's message). Growth past
 * twice the memory limit is refused always; growth past the limit arms the
 * hook for the next instruction (lua_sethook is safe anywhere: lua.c calls it
 * from a signal handler). Shrinking never fails. */
static void *rule_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    struct custom_rule *r = ud;
    size_t kind = ptr == NULL ? osize : 0; /* a new object's type */
    if (ptr == NULL)
        osize = 0;
    if (nsize == 0) {
        free(ptr);
        r->mem_used -= osize;
        return NULL;
    }
    if (nsize > osize && r->running) {
        if (kind == LUA_TSTRING && nsize > STRING_ALLOC_MAX && !r->pushing_var) {
            r->refused_string = true;
            r->refused_line = rule_line(r->L, r->chunk);
            return NULL;
        }
        r->alloc_bytes += nsize - osize;
        if (++r->allocs >= ALLOC_CHECK_COUNT || r->alloc_bytes >= ALLOC_CHECK_BYTES) {
            r->allocs = 0;
            r->alloc_bytes = 0;
            if (past_deadline(r) && r->hook_count != 1)
                arm(r, 1);
        }
        if (r->timed_out) {
            if (kind == LUA_TSTRING && r->err_line == 0)
                r->err_line = rule_line(r->L, r->chunk);
            return NULL;
        }
    }
    if (nsize > osize && nsize - osize > MEM_HARD_BYTES - r->mem_used)
        return NULL;
    void *p = realloc(ptr, nsize);
    if (p == NULL)
        return nsize <= osize ? ptr : NULL; /* Lua assumes shrinking never fails */
    r->mem_used = r->mem_used - osize + nsize;
    if (r->mem_used > CUSTOM_RULE_MEM_BYTES && r->running && !r->mem_armed) {
        r->mem_armed = true;
        arm(r, 1);
    }
    return p;
}

/* Raises msg as an error with no position of its own: on_error finds the
 * line on the stack, which is right even inside nested functions, where
 * luaL_error's level 1 would name the caller's line. */
static int throw_msg(lua_State *L, const char *msg) {
    lua_pushstring(L, msg);
    return lua_error(L);
}

#define STR_(x)    #x
#define STR(x)     STR_(x)
#define MEM_MSG    "memory limit of 8 MiB exceeded"
#define STRING_MSG "string limit of 64 KiB exceeded"
#define TIME_MSG   "time limit of " STR(CUSTOM_RULE_TIME_MS) " ms exceeded"
_Static_assert(CUSTOM_RULE_MEM_BYTES == 8 << 20, "MEM_MSG states the limit");
_Static_assert(CUSTOM_RULE_MAX_STRING_BYTES == 64 << 10, "STRING_MSG states the limit");

/* Ends the evaluation with the time limit's error if the deadline has passed.
 * The line is noted first: past the deadline even the error's message may
 * not be allocated, and the error then arrives as a bare memory error. */
static void check_deadline(lua_State *L, struct custom_rule *r) {
    if (!past_deadline(r))
        return;
    if (r->err_line == 0)
        r->err_line = rule_line(L, r->chunk);
    throw_msg(L, TIME_MSG);
}

/* The count hook: spends the budget, checks memory once armed, and reads the
 * clock. */
static void on_count(lua_State *L, lua_Debug *ar) {
    (void)ar;
    struct custom_rule *r = rule_of(L);
    r->budget -= r->hook_count;
    if (r->mem_armed && !r->timed_out) {
        lua_gc(L, LUA_GCCOLLECT);
        if (r->mem_used > CUSTOM_RULE_MEM_BYTES)
            throw_msg(L, MEM_MSG);
        r->mem_armed = false;
    }
    if (r->budget <= 0)
        throw_msg(L, "instruction limit of " STR(CUSTOM_RULE_MAX_INSTRUCTIONS) " exceeded");
    check_deadline(L, r);
    /* Lua re-arms a count hook itself; lua_sethook walks every frame (to set
     * its trap), so it is called only when the count changes. */
    int count = r->budget < HOOK_STEP ? (int)r->budget : HOOK_STEP;
    if (count != r->hook_count)
        arm(r, count);
}

/* Every function of the string, table and utf8 libraries: reads the clock,
 * then runs the library's function (upvalue 1, a C function without upvalues
 * of its own) in this very call, so that its errors name it as before. */
static int guard(lua_State *L) {
    check_deadline(L, rule_of(L));
    return lua_tocfunction(L, lua_upvalueindex(1))(L);
}

/* table.sort's comparator: the rule's (upvalue 1) or <, with the clock read
 * every SORT_CHECK_WORK comparisons, a comparison of long strings weighing
 * more (one of two 64 KiB strings of zero bytes takes 0.3 ms). */
static int sort_less(lua_State *L) {
    struct custom_rule *r = rule_of(L);
    size_t la = 0, lb = 0;
    if (lua_type(L, 1) == LUA_TSTRING && lua_type(L, 2) == LUA_TSTRING) {
        lua_tolstring(L, 1, &la);
        lua_tolstring(L, 2, &lb);
    }
    r->sort_work += 1 + (unsigned)((la + lb) >> 8);
    if (r->sort_work >= SORT_CHECK_WORK) {
        r->sort_work = 0;
        check_deadline(L, r);
    }
    if (lua_isnil(L, lua_upvalueindex(1))) {
        lua_pushboolean(L, lua_compare(L, 1, 2, LUA_OPLT));
        return 1;
    }
    lua_settop(L, 2);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, 2, 1);
    return 1;
}

/* table.sort(t [, comp]): Lua's (upvalue 1), with sort_less as comparator. */
static int tab_sort(lua_State *L) {
    check_deadline(L, rule_of(L));
    luaL_checktype(L, 1, LUA_TTABLE);
    if (!lua_isnoneornil(L, 2))
        luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_settop(L, 2);
    lua_pushcclosure(L, sort_less, 1); /* replaces the comparator or nil */
    return lua_tocfunction(L, lua_upvalueindex(1))(L);
}

/* ---- the environment --------------------------------------------------------- */

/* Numbers with an integer value read as Lua integers (see custom_rule.h). */
static void push_number(lua_State *L, double d) {
    if (d >= -MAX_EXACT_INT && d <= MAX_EXACT_INT && d == (double)(int64_t)d)
        lua_pushinteger(L, (lua_Integer)d);
    else
        lua_pushnumber(L, d);
}

/* Pushes variable i's value and, while the condition runs, marks it read. A
 * variable's own string is exempt from the string limit: it is the caller's. */
static void push_var(lua_State *L, struct custom_rule *r, lua_Integer i) {
    const struct custom_var *v = &r->vars[i];
    if (r->tracking)
        r->seen[i] = true;
    if (!v->known) {
        lua_pushnil(L);
    } else if (v->is_string) {
        r->pushing_var = true;
        lua_pushstring(L, v->str);
        r->pushing_var = false;
    } else {
        push_number(L, v->number);
    }
}

/* env's __index(env, key); upvalues: names, library table. */
static int env_index(lua_State *L) {
    struct custom_rule *r = rule_of(L);
    lua_settop(L, 2);
    lua_pushvalue(L, 2);
    int type = lua_rawget(L, lua_upvalueindex(1));
    if (type == LUA_TNUMBER) {
        push_var(L, r, lua_tointeger(L, -1) - 1);
        return 1;
    }
    if (type == LUA_TTABLE) /* a variable table's proxy */
        return 1;
    lua_pushvalue(L, 2);
    if (lua_rawget(L, lua_upvalueindex(2)) != LUA_TNIL)
        return 1;
    if (lua_type(L, 2) == LUA_TSTRING) {
        char name[CUSTOM_RULE_MAX_NAME_BYTES + 1];
        snprintf(name, sizeof name, "%s", lua_tostring(L, 2)); /* a long key, cut */
        lua_pushfstring(L, "unknown name '%s'", name);
        return lua_error(L);
    }
    return throw_msg(L, "unknown name");
}

static int readonly_newindex(lua_State *L) {
    return throw_msg(L, "library tables are read-only");
}

/* A variable table's __index(proxy, key); upvalue: its keys. A missing key
 * is nil: unlike a global, a field that is not there is no typo. */
static int field_index(lua_State *L) {
    lua_settop(L, 2);
    if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNUMBER) {
        lua_pushnil(L);
        return 1;
    }
    push_var(L, rule_of(L), lua_tointeger(L, -1) - 1);
    return 1;
}

static int field_newindex(lua_State *L) {
    return throw_msg(L, "variable tables are read-only");
}

/* The iterator pairs() gives for a variable table: next(proxy, key) over its
 * keys (upvalue 1), each field it gives marked read. */
static int field_next(lua_State *L) {
    lua_settop(L, 2);
    if (lua_next(L, lua_upvalueindex(1)) == 0) {
        lua_pushnil(L);
        return 1;
    }
    lua_Integer i = lua_tointeger(L, -1) - 1;
    lua_pop(L, 1);
    push_var(L, rule_of(L), i);
    return 2;
}

/* A variable table's __pairs(proxy); upvalue: its keys. */
static int field_pairs(lua_State *L) {
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_pushcclosure(L, field_next, 1);
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    return 3;
}

/* Pushes a read-only proxy of the variable table whose keys are at index
 * keys. */
static void push_proxy(lua_State *L, int keys) {
    keys = lua_absindex(L, keys);
    lua_newtable(L);
    lua_createtable(L, 0, 4);
    lua_pushvalue(L, keys);
    lua_pushcclosure(L, field_index, 1);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, field_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pushvalue(L, keys);
    lua_pushcclosure(L, field_pairs, 1);
    lua_setfield(L, -2, "__pairs");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);
}

/* string.rep without Lua's n iterations when the result is empty, and with
 * the string limit checked before anything is allocated. */
static int str_rep(lua_State *L) {
    size_t len, sep_len;
    const char *s = luaL_checklstring(L, 1, &len);
    lua_Integer n = luaL_checkinteger(L, 2);
    const char *sep = luaL_optlstring(L, 3, "", &sep_len);
    if (n <= 0 || len + sep_len == 0) {
        lua_pushliteral(L, "");
        return 1;
    }
    if ((uint64_t)n > CUSTOM_RULE_MAX_STRING_BYTES / (len + sep_len) + 1)
        return throw_msg(L, STRING_MSG);
    size_t total = (size_t)n * len + (size_t)(n - 1) * sep_len;
    if (total > CUSTOM_RULE_MAX_STRING_BYTES)
        return throw_msg(L, STRING_MSG);
    luaL_Buffer b;
    char *p = luaL_buffinitsize(L, &b, total);
    for (lua_Integer i = 0; i < n; i++) {
        memcpy(p, s, len);
        p += len;
        if (sep_len > 0 && i < n - 1) {
            memcpy(p, sep, sep_len);
            p += sep_len;
        }
    }
    luaL_pushresultsize(&b, total);
    return 1;
}

/* Removes from the table at t every field not named in keep. */
static void keep_only(lua_State *L, int t, const char *const *keep) {
    t = lua_absindex(L, t);
    lua_pushnil(L);
    while (lua_next(L, t) != 0) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING || !in_list(lua_tostring(L, -1), keep)) {
            lua_pushvalue(L, -1);
            lua_pushnil(L);
            lua_rawset(L, t); /* clearing a field while traversing is allowed */
        }
    }
}

/* Replaces every C function of the table at t by guard over it (tab_sort for
 * sort). A function with upvalues of its own could not run in guard's call;
 * none in these libraries has any, and one that did would stay unguarded. */
static void guard_all(lua_State *L, int t) {
    t = lua_absindex(L, t);
    lua_pushnil(L);
    while (lua_next(L, t) != 0) {
        bool plain = false;
        if (lua_iscfunction(L, -1)) {
            plain = lua_getupvalue(L, -1, 1) == NULL;
            if (!plain)
                lua_pop(L, 1); /* the upvalue */
        }
        if (plain) {
            bool sort = lua_type(L, -2) == LUA_TSTRING && strcmp(lua_tostring(L, -2), "sort") == 0;
            lua_pushcclosure(L, sort ? tab_sort : guard, 1);
            lua_pushvalue(L, -2);
            lua_insert(L, -2);
            lua_rawset(L, t); /* assigning an existing field while traversing is allowed */
        } else {
            lua_pop(L, 1);
        }
    }
}

/* Opens a library, trims it to keep, guards it if asked and sets lib[name] to
 * a read-only proxy of it. */
static void add_library(lua_State *L, int lib, const char *name, lua_CFunction open,
                        const char *const *keep, bool guarded) {
    luaL_requiref(L, name, open, 0);
    keep_only(L, -1, keep);
    if (strcmp(name, LUA_STRLIBNAME) == 0) {
        lua_pushcfunction(L, str_rep);
        lua_setfield(L, -2, "rep");
    }
    if (guarded)
        guard_all(L, -1);
    lua_newtable(L); /* the proxy */
    lua_createtable(L, 0, 3);
    lua_pushvalue(L, -3);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, readonly_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);
    lua_setfield(L, lib, name);
    lua_pop(L, 1);
}

/* Fills slots 1 (names), 2 (fields) and 3 (env); the stack must be empty.
 * Math and the base functions stay unguarded: each is O(1) or linear in its
 * arguments, which the memory limit bounds. */
static void build_env(lua_State *L) {
    lua_newtable(L); /* 1: names */
    lua_newtable(L); /* 2: fields */
    lua_newtable(L); /* 3: env */
    lua_newtable(L); /* the library table */
    int lib = lua_gettop(L);
    luaL_requiref(L, LUA_GNAME, luaopen_base, 0);
    for (const char *const *f = base_keep; *f; f++) {
        lua_getfield(L, -1, *f);
        lua_setfield(L, lib, *f);
    }
    lua_pop(L, 1);
    add_library(L, lib, LUA_STRLIBNAME, luaopen_string, string_keep, true);
    add_library(L, lib, LUA_TABLIBNAME, luaopen_table, table_keep, true);
    add_library(L, lib, LUA_MATHLIBNAME, luaopen_math, math_keep, false);
    add_library(L, lib, LUA_UTF8LIBNAME, luaopen_utf8, utf8_keep, true);
    lua_createtable(L, 0, 2); /* env's metatable */
    lua_pushvalue(L, SLOT_NAMES);
    lua_pushvalue(L, lib);
    lua_pushcclosure(L, env_index, 2);
    lua_setfield(L, -2, "__index");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, SLOT_ENV);
    lua_settop(L, SLOT_ENV);
}

/* Removes every field of the table at t. */
static void clear_table(lua_State *L, int t) {
    lua_pushnil(L);
    while (lua_next(L, t) != 0) {
        lua_pop(L, 1);
        lua_pushvalue(L, -1);
        lua_pushnil(L);
        lua_rawset(L, t);
    }
}

/* Forgets the names slots 1 and 2 map. */
static void forget_names(struct custom_rule *r) {
    clear_table(r->L, SLOT_NAMES);
    clear_table(r->L, SLOT_FIELDS);
    for (size_t i = 0; i < r->n_names; i++) {
        free(r->names[i]);
        free(r->tables[i]);
    }
    r->n_names = 0;
}

/* Whether two strings, either of which may be NULL, are equal. */
static bool same_text(const char *a, const char *b) {
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* Maps variable i (index in the caller's array) in slots 1 and 2; the stack
 * is restored. Returns NULL, or what is wrong with it. */
static const char *map_var(lua_State *L, const struct custom_var *v, size_t i) {
    int top = lua_gettop(L);
    const char *problem = NULL;
    if (!v->table) {
        if (!is_identifier(v->name))
            problem = "is not a Lua name";
        else if (lua_getfield(L, SLOT_NAMES, v->name) != LUA_TNIL)
            problem = "appears twice";
        else {
            lua_pushinteger(L, (lua_Integer)i + 1);
            lua_setfield(L, SLOT_NAMES, v->name);
        }
        lua_settop(L, top);
        return problem;
    }
    if (!is_identifier(v->table))
        problem = "has a table name that is not a Lua name";
    else if (v->key == NULL)
        problem = "has no key";
    else if (lua_getfield(L, SLOT_FIELDS, v->table) == LUA_TNIL) {
        if (lua_getfield(L, SLOT_NAMES, v->table) != LUA_TNIL) {
            problem = "has a table name that is a variable's";
        } else {
            lua_newtable(L); /* the table's keys */
            lua_pushvalue(L, -1);
            lua_setfield(L, SLOT_FIELDS, v->table);
            push_proxy(L, -1);
            lua_setfield(L, SLOT_NAMES, v->table);
        }
    }
    if (!problem) { /* the table's keys are on top */
        lua_pushstring(L, v->key);
        if (lua_rawget(L, -2) != LUA_TNIL) {
            problem = "has a key that appears twice in its table";
        } else {
            lua_pushstring(L, v->key);
            lua_pushinteger(L, (lua_Integer)i + 1);
            lua_rawset(L, -4);
        }
    }
    lua_settop(L, top);
    return problem;
}

/* Makes slots 1 and 2 map the variables of vars, unless they already do, and
 * checks the array. */
static enum tend_err sync_vars(struct custom_rule *r, const struct custom_var *vars, size_t n,
                               char *err) {
    bool same = n == r->n_names;
    for (size_t i = 0; i < n; i++) {
        const struct custom_var *v = &vars[i];
        if (v->name == NULL) {
            if (err)
                snprintf(err, CUSTOM_RULE_ERR_BYTES, "rule %s: variable %zu has no name", r->name,
                         i);
            return TEND_ERR_INVALID;
        }
        if (v->known && v->is_string && v->str == NULL) {
            if (err)
                snprintf(err, CUSTOM_RULE_ERR_BYTES, "rule %s: variable '%s' has a NULL string",
                         r->name, v->name);
            return TEND_ERR_INVALID;
        }
        if (same && !(same_text(v->table, r->tables[i]) &&
                      same_text(v->table ? v->key : v->name, r->names[i])))
            same = false;
    }
    if (same)
        return TEND_OK;

    forget_names(r);
    for (size_t i = 0; i < n; i++) {
        const char *problem = map_var(r->L, &vars[i], i);
        if (problem) {
            if (err)
                snprintf(err, CUSTOM_RULE_ERR_BYTES, "rule %s: variable '%s' %s", r->name,
                         vars[i].name, problem);
            forget_names(r); /* consistent with n_names: empty */
            return TEND_ERR_INVALID;
        }
        const char *id = vars[i].table ? vars[i].key : vars[i].name;
        r->names[i] = xstrdup(id);
        r->tables[i] = vars[i].table ? xstrdup(vars[i].table) : NULL;
        r->n_names = i + 1;
    }
    return TEND_OK;
}

/* ---- errors ---------------------------------------------------------------- */

/* If msg starts with "CHUNK:LINE: ", the position Lua adds, sets *line and
 * returns the text after it; else returns msg. */
static const char *split_position(const char *msg, const char *chunk, int *line) {
    size_t len = strlen(chunk);
    if (strncmp(msg, chunk, len) != 0 || msg[len] != ':')
        return msg;
    const char *p = msg + len + 1;
    int n = 0;
    for (; *p >= '0' && *p <= '9'; p++)
        if (n < 100000000)
            n = n * 10 + (*p - '0');
    if (p == msg + len + 1 || p[0] != ':' || p[1] != ' ')
        return msg;
    *line = n;
    return p + 2;
}

/* The message handler of every call: records the line in r->err_line and
 * returns the message without Lua's position. */
static int on_error(lua_State *L) {
    struct custom_rule *r = rule_of(L);
    if (r->timed_out) { /* the message will be the time limit's; allocate nothing */
        if (r->err_line == 0)
            r->err_line = rule_line(L, r->chunk);
        lua_settop(L, 1);
        return 1;
    }
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL)
        msg = lua_pushfstring(L, "error object is a %s value", luaL_typename(L, 1));
    int line = 0;
    const char *body = split_position(msg, r->chunk, &line);
    if (strcmp(body, "not enough memory") == 0) /* from lauxlib's buffers */
        body = MEM_MSG;
    r->err_line = line ? line : rule_line(L, r->chunk);
    lua_pushstring(L, body);
    return 1;
}

static void set_error(char *err, const char *name, const char *chunk, int line, const char *msg) {
    if (err == NULL)
        return;
    bool reason = strcmp(chunk, "reason") == 0;
    if (line > 0)
        snprintf(err, CUSTOM_RULE_ERR_BYTES, "rule %s: %sline %d: %s", name,
                 reason ? "reason " : "", line, msg);
    else
        snprintf(err, CUSTOM_RULE_ERR_BYTES, "rule %s: %s%s", name, reason ? "reason: " : "", msg);
}

/* ---- compile ------------------------------------------------------------------ */

/* Loads text as chunk `=CHUNK`: as an expression if it parses as one, else as
 * a chunk if it has the word return. Pushes the function, or on error sets
 * err and pushes nothing. */
static enum tend_err load_text(struct custom_rule *r, const char *chunk, const char *text,
                               char *err) {
    lua_State *L = r->L;
    char chunkname[16];
    snprintf(chunkname, sizeof chunkname, "=%s", chunk);
    size_t len = strlen(text);
    char *expr = xmalloc(len + 8);
    memcpy(expr, "return ", 7);
    memcpy(expr + 7, text, len + 1);
    int status = luaL_loadbufferx(L, expr, len + 7, chunkname, "t");
    free(expr);
    if (status != LUA_OK && has_word(text, "return")) {
        lua_pop(L, 1);
        status = luaL_loadbufferx(L, text, len, chunkname, "t");
    }
    if (status == LUA_OK)
        return TEND_OK;
    const char *msg = lua_tostring(L, -1);
    int line = 0;
    if (msg == NULL || status == LUA_ERRMEM)
        msg = MEM_MSG;
    msg = split_position(msg, chunk, &line);
    set_error(err, r->name, chunk, line, msg);
    lua_pop(L, 1);
    return TEND_ERR_INVALID;
}

static enum tend_err check_text(const char *name, const char *what, const char *text, char *err) {
    if (is_blank(text)) {
        if (err)
            snprintf(err, CUSTOM_RULE_ERR_BYTES, "rule %s: empty %s", name, what);
        return TEND_ERR_INVALID;
    }
    size_t len = strlen(text);
    if (len > CUSTOM_RULE_MAX_SOURCE_BYTES) {
        if (err)
            snprintf(err, CUSTOM_RULE_ERR_BYTES, "rule %s: %s of %zu bytes, over the limit of %d",
                     name, what, len, CUSTOM_RULE_MAX_SOURCE_BYTES);
        return TEND_ERR_LIMIT;
    }
    return TEND_OK;
}

enum tend_err custom_rule_compile(const char *name, const char *condition, const char *reason,
                                  struct custom_rule **out, char *err) {
    if (name == NULL || *name == '\0') {
        if (err)
            snprintf(err, CUSTOM_RULE_ERR_BYTES, "rule: empty name");
        return TEND_ERR_INVALID;
    }
    size_t name_len = strlen(name);
    if (name_len > CUSTOM_RULE_MAX_NAME_BYTES) {
        if (err)
            snprintf(err, CUSTOM_RULE_ERR_BYTES, "rule %.40s...: name of %zu bytes, over %d", name,
                     name_len, CUSTOM_RULE_MAX_NAME_BYTES);
        return TEND_ERR_LIMIT;
    }
    enum tend_err e = check_text(name, "condition", condition ? condition : "", err);
    if (e == TEND_OK && reason)
        e = check_text(name, "reason", reason, err);
    if (e != TEND_OK)
        return e;

    struct custom_rule *r = xcalloc(1, sizeof *r);
    r->name = xstrdup(name);
    r->now_ns = monotonic_ns;
    r->L = lua_newstate(rule_alloc, r);
    if (r->L == NULL) {
        fprintf(stderr, "tend: cannot create a Lua state for rule %s\n", name);
        abort();
    }
    *(struct custom_rule **)lua_getextraspace(r->L) = r;
    build_env(r->L);
    e = load_text(r, "condition", condition, err);
    if (e == TEND_OK) {
        if (reason)
            e = load_text(r, "reason", reason, err);
        else
            lua_pushnil(r->L);
    }
    if (e != TEND_OK) {
        custom_rule_free(r);
        return e;
    }
    *out = r;
    return TEND_OK;
}

/* ---- evaluate ------------------------------------------------------------------- */

/* Calls the function in slot with env as its _ENV; leaves the handler and the
 * result (or message) on the stack. */
static int call_chunk(struct custom_rule *r, int slot, const char *chunk) {
    lua_State *L = r->L;
    r->chunk = chunk;
    r->err_line = 0;
    lua_pushcfunction(L, on_error);
    int handler = lua_gettop(L);
    lua_pushvalue(L, slot);
    lua_pushvalue(L, SLOT_ENV);
    lua_setupvalue(L, -2, 1); /* a chunk's only upvalue is _ENV */
    return lua_pcall(L, 0, 1, handler);
}

/* Copies the string a reason gave, on top of the stack, into a malloced *out;
 * or returns why not, in r->msg (no Lua allocation: this runs unprotected). */
static const char *take_reason(struct custom_rule *r, char **out) {
    lua_State *L = r->L;
    r->err_line = 0; /* a wrong result has no line to blame */
    if (lua_type(L, -1) != LUA_TSTRING) {
        snprintf(r->msg, sizeof r->msg, "gave a %s, not a string", luaL_typename(L, -1));
        return r->msg;
    }
    size_t len;
    const char *s = lua_tolstring(L, -1, &len);
    if (len > CUSTOM_RULE_MAX_REASON_BYTES) {
        snprintf(r->msg, sizeof r->msg, "gave %zu bytes, over the limit of %d", len,
                 CUSTOM_RULE_MAX_REASON_BYTES);
        return r->msg;
    }
    *out = xstrndup(s, len);
    return NULL;
}

enum tend_err custom_rule_eval(struct custom_rule *r, const struct custom_var *vars, size_t n,
                               bool *holds, char **reason_out, bool *read, char *err) {
    if (n > CUSTOM_RULE_MAX_VARS) {
        if (err)
            snprintf(err, CUSTOM_RULE_ERR_BYTES, "rule %s: %zu variables, over the limit of %d",
                     r->name, n, CUSTOM_RULE_MAX_VARS);
        return TEND_ERR_LIMIT;
    }
    enum tend_err e = sync_vars(r, vars, n, err);
    if (e != TEND_OK)
        return e;

    lua_State *L = r->L;
    r->vars = vars;
    memset(r->seen, 0, sizeof r->seen);
    r->budget = CUSTOM_RULE_MAX_INSTRUCTIONS;
    r->deadline_ns = r->now_ns(r->clock_arg) + (int64_t)CUSTOM_RULE_TIME_MS * 1000000;
    r->timed_out = false;
    r->refused_string = false;
    r->refused_line = 0;
    r->allocs = 0;
    r->alloc_bytes = 0;
    r->sort_work = 0;
    r->mem_armed = false;
    r->running = true;
    arm(r, HOOK_STEP);

    bool cond = false, mem_error = false;
    char *reason = NULL;
    r->tracking = true;
    int status = call_chunk(r, SLOT_COND, "condition");
    r->tracking = false;
    const char *fail = NULL; /* the message when status != LUA_OK */
    if (status == LUA_OK) {
        cond = lua_toboolean(L, -1);
        lua_settop(L, SLOT_REASON);
        if (cond && reason_out && !lua_isnil(L, SLOT_REASON)) {
            status = call_chunk(r, SLOT_REASON, "reason");
            if (status == LUA_OK)
                fail = take_reason(r, &reason);
        }
    }
    if (status != LUA_OK && r->timed_out) {
        /* Whatever error followed: past the deadline allocations fail too. */
        fail = TIME_MSG;
        mem_error = true;
    } else if (status == LUA_ERRMEM && r->refused_string) {
        fail = STRING_MSG;
        r->err_line = r->refused_line;
    } else if (status == LUA_ERRMEM) {
        fail = MEM_MSG;
        r->err_line = 0;
    } else if (status != LUA_OK) {
        fail = lua_tostring(L, -1);
        if (fail == NULL)
            fail = "error";
    }
    if (fail) {
        mem_error = mem_error || strcmp(fail, MEM_MSG) == 0 || strcmp(fail, STRING_MSG) == 0;
        set_error(err, r->name, r->chunk, r->err_line, fail);
    }

    r->running = false;
    r->vars = NULL;
    lua_sethook(L, NULL, 0, 0);
    lua_settop(L, SLOT_REASON);
    clear_table(L, SLOT_ENV);
    if (mem_error)
        lua_gc(L, LUA_GCCOLLECT); /* give the next evaluation its memory back */
    if (fail)
        return TEND_ERR_INVALID;

    if (holds)
        *holds = cond;
    if (reason_out)
        *reason_out = reason;
    if (read)
        memcpy(read, r->seen, n * sizeof *read);
    return TEND_OK;
}

void custom_rule_free(struct custom_rule *r) {
    if (r == NULL)
        return;
    if (r->L)
        lua_close(r->L);
    for (size_t i = 0; i < r->n_names; i++) {
        free(r->names[i]);
        free(r->tables[i]);
    }
    free(r->name);
    free(r);
}

bool custom_rule_timed_out(const struct custom_rule *r) {
    return r->timed_out;
}

void custom_rule_set_clock(struct custom_rule *r, custom_clock_fn now_ns, void *arg) {
    r->now_ns = now_ns;
    r->clock_arg = arg;
}
