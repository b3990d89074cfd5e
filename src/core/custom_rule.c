/* custom_rule.c: custom rule conditions in sandboxed Lua 5.4 (see custom_rule.h).
 *
 * Each rule owns a lua_State made with a counting allocator. Its stack holds,
 * for the rule's life, four values in fixed slots (rooted there as the
 * registry would root them, and reached without a lookup):
 *   1 names: variable name -> 1-based index into the caller's vars array;
 *   2 env: the rule's _ENV, an empty table whose metatable's __index is
 *     env_index, a C closure over names and the library table;
 *   3 the condition's function, 4 the reason's function or nil.
 * Nothing is built per evaluation. A read of a free name misses env and calls
 * env_index, which looks the name up in names, marks the variable as read and
 * pushes its value straight from the caller's array; libraries come next, and
 * anything else is an error. names is rebuilt only when the variable names
 * differ from the previous call (n strcmp's). Writes to globals land in env
 * itself and are cleared after the evaluation; _ENV is set again on every
 * call, so even `_ENV = {}` does not outlive it; library tables are read-only
 * proxies. So nothing a rule does survives its evaluation.
 *
 * Limits. A count hook runs every HOOK_STEP instructions and spends the
 * instruction budget; the first time it runs it also starts the wall-clock
 * watchdog (only an evaluation past HOOK_STEP instructions reads the clock).
 * Memory past CUSTOM_RULE_MEM_BYTES is allowed, but the allocator then arms the
 * hook to run after the very next instruction, which collects garbage and, if
 * still over, raises an error at a known line; only an allocation past twice
 * the limit is refused outright, and Lua reports that as a memory error without
 * a line (Lua calls no message handler for those).
 *
 * The watchdog is the one place core reads a clock (STYLE.md keeps core
 * clock-free so that results are reproducible). It should change no result a
 * legitimate rule gets: those take microseconds, and spending the whole
 * instruction budget, a C call per loop, took 14 ms here, a 20-fold margin.
 * It only bounds how long a hostile rule holds the evaluation.
 *
 * Library choices follow docs/research/rules-and-ctas.md section 3: whitelists
 * applied to the real library tables (the string metatable's __index is the
 * real string table, so `("x"):dump()` must be gone too), no pattern matching
 * and no table.move (C loops the hook cannot interrupt), and our own
 * string.rep (Lua's loops n times even when the result is empty). */
#include "core/custom_rule.h"

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util/mem.h"

enum { SLOT_NAMES = 1, SLOT_ENV, SLOT_COND, SLOT_REASON };

#define HOOK_STEP      1000
#define MEM_HARD_BYTES ((size_t)CUSTOM_RULE_MEM_BYTES * 2)
#define MAX_EXACT_INT  9007199254740992.0 /* 2^53 */

struct custom_rule {
    lua_State *L;
    char *name;
    /* Memory, counted by rule_alloc. */
    size_t mem_used;
    bool mem_armed; /* over CUSTOM_RULE_MEM_BYTES: the hook runs next instruction */
    /* The evaluation under way. */
    bool running;
    bool tracking;     /* record reads in seen (the condition's, not the reason's) */
    const char *chunk; /* "condition" or "reason": which one runs */
    const struct custom_var *vars;
    bool seen[CUSTOM_RULE_MAX_VARS];
    long budget;         /* instructions left */
    int hook_count;      /* the count the hook is armed with */
    int64_t deadline_ns; /* 0 until the hook first runs */
    int err_line;        /* set by on_error; 0 when unknown */
    char msg[64];        /* an error found in C, after the call */
    /* The names slot 1 maps: those of the previous vars array. */
    size_t n_names;
    char *names[CUSTOM_RULE_MAX_VARS];
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

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- limits ---------------------------------------------------------------- */

static void on_count(lua_State *L, lua_Debug *ar);

static void arm(struct custom_rule *r, int count) {
    lua_sethook(r->L, on_count, LUA_MASKCOUNT, count);
    r->hook_count = count;
}

/* The lua_Alloc of every rule state (Lua 5.4 manual 4.6). Growth past twice
 * the limit is refused; growth past the limit during an evaluation arms the
 * hook for the next instruction (lua_sethook is safe anywhere: lua.c calls it
 * from a signal handler). */
static void *rule_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    struct custom_rule *r = ud;
    if (ptr == NULL)
        osize = 0; /* osize is then the kind of object */
    if (nsize == 0) {
        free(ptr);
        r->mem_used -= osize;
        return NULL;
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

#define STR_(x) #x
#define STR(x)  STR_(x)
#define MEM_MSG "memory limit of 8 MiB exceeded"
_Static_assert(CUSTOM_RULE_MEM_BYTES == 8 << 20, "MEM_MSG states the limit");

/* The count hook: spends the budget, checks memory once armed, and keeps the
 * wall-clock watchdog. */
static void on_count(lua_State *L, lua_Debug *ar) {
    (void)ar;
    struct custom_rule *r = rule_of(L);
    r->budget -= r->hook_count;
    if (r->mem_armed) {
        lua_gc(L, LUA_GCCOLLECT);
        if (r->mem_used > CUSTOM_RULE_MEM_BYTES)
            throw_msg(L, MEM_MSG);
        r->mem_armed = false;
    }
    if (r->budget <= 0)
        throw_msg(L, "instruction limit of " STR(CUSTOM_RULE_MAX_INSTRUCTIONS) " exceeded");
    int64_t now = now_ns();
    if (r->deadline_ns == 0)
        r->deadline_ns = now + (int64_t)CUSTOM_RULE_TIME_MS * 1000000;
    else if (now > r->deadline_ns)
        throw_msg(L, "time limit of " STR(CUSTOM_RULE_TIME_MS) " ms exceeded");
    arm(r, r->budget < HOOK_STEP ? (int)r->budget : HOOK_STEP);
}

/* ---- the environment --------------------------------------------------------- */

/* Numbers with an integer value read as Lua integers (see custom_rule.h). */
static void push_number(lua_State *L, double d) {
    if (d >= -MAX_EXACT_INT && d <= MAX_EXACT_INT && d == (double)(int64_t)d)
        lua_pushinteger(L, (lua_Integer)d);
    else
        lua_pushnumber(L, d);
}

/* env's __index(env, key); upvalues: names, library table. */
static int env_index(lua_State *L) {
    struct custom_rule *r = rule_of(L);
    lua_settop(L, 2);
    lua_pushvalue(L, 2);
    if (lua_rawget(L, lua_upvalueindex(1)) == LUA_TNUMBER) {
        lua_Integer i = lua_tointeger(L, -1) - 1;
        const struct custom_var *v = &r->vars[i];
        if (r->tracking)
            r->seen[i] = true;
        if (!v->known)
            lua_pushnil(L);
        else if (v->is_string)
            lua_pushstring(L, v->str);
        else
            push_number(L, v->number);
        return 1;
    }
    lua_pushvalue(L, 2);
    if (lua_rawget(L, lua_upvalueindex(2)) != LUA_TNIL)
        return 1;
    if (lua_type(L, 2) == LUA_TSTRING) {
        lua_pushfstring(L, "unknown name '%s'", lua_tostring(L, 2));
        return lua_error(L);
    }
    return throw_msg(L, "unknown name");
}

static int readonly_newindex(lua_State *L) {
    return throw_msg(L, "library tables are read-only");
}

/* string.rep without Lua's n iterations when the result is empty, and with
 * the memory limit checked before anything is allocated. */
static int str_rep(lua_State *L) {
    size_t len, sep_len;
    const char *s = luaL_checklstring(L, 1, &len);
    lua_Integer n = luaL_checkinteger(L, 2);
    const char *sep = luaL_optlstring(L, 3, "", &sep_len);
    if (n <= 0 || len + sep_len == 0) {
        lua_pushliteral(L, "");
        return 1;
    }
    if ((uint64_t)n > MEM_HARD_BYTES / (len + sep_len))
        return throw_msg(L, MEM_MSG);
    size_t total = (size_t)n * len + (size_t)(n - 1) * sep_len;
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

/* Opens a library, trims it to keep and sets lib[name] to a read-only proxy
 * of it. */
static void add_library(lua_State *L, int lib, const char *name, lua_CFunction open,
                        const char *const *keep) {
    luaL_requiref(L, name, open, 0);
    keep_only(L, -1, keep);
    if (strcmp(name, LUA_STRLIBNAME) == 0) {
        lua_pushcfunction(L, str_rep);
        lua_setfield(L, -2, "rep");
    }
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

/* Fills slots 1 (names) and 2 (env); the stack must be empty. */
static void build_env(lua_State *L) {
    lua_newtable(L); /* 1: names */
    lua_newtable(L); /* 2: env */
    lua_newtable(L); /* 3: the library table */
    luaL_requiref(L, LUA_GNAME, luaopen_base, 0);
    for (const char *const *f = base_keep; *f; f++) {
        lua_getfield(L, -1, *f);
        lua_setfield(L, 3, *f);
    }
    lua_pop(L, 1);
    add_library(L, 3, LUA_STRLIBNAME, luaopen_string, string_keep);
    add_library(L, 3, LUA_TABLIBNAME, luaopen_table, table_keep);
    add_library(L, 3, LUA_MATHLIBNAME, luaopen_math, math_keep);
    add_library(L, 3, LUA_UTF8LIBNAME, luaopen_utf8, utf8_keep);
    lua_createtable(L, 0, 2); /* env's metatable */
    lua_pushvalue(L, SLOT_NAMES);
    lua_pushvalue(L, 3);
    lua_pushcclosure(L, env_index, 2);
    lua_setfield(L, -2, "__index");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, SLOT_ENV);
    lua_settop(L, SLOT_ENV);
}

/* Clears what a rule assigned to globals. */
static void clear_env(lua_State *L) {
    lua_pushnil(L);
    while (lua_next(L, SLOT_ENV) != 0) {
        lua_pop(L, 1);
        lua_pushvalue(L, -1);
        lua_pushnil(L);
        lua_rawset(L, SLOT_ENV);
    }
}

/* Makes slot 1 map the names of vars, unless it already does, and checks the
 * array. */
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
        if (same && strcmp(v->name, r->names[i]) != 0)
            same = false;
    }
    if (same)
        return TEND_OK;

    lua_State *L = r->L;
    for (size_t i = 0; i < r->n_names; i++) {
        lua_pushnil(L);
        lua_setfield(L, SLOT_NAMES, r->names[i]);
        free(r->names[i]);
    }
    r->n_names = 0;
    for (size_t i = 0; i < n; i++) {
        const char *problem = NULL;
        if (!is_identifier(vars[i].name))
            problem = "is not a Lua name";
        else if (lua_getfield(L, SLOT_NAMES, vars[i].name) != LUA_TNIL)
            problem = "appears twice";
        if (!problem) {
            lua_pop(L, 1);
            lua_pushinteger(L, (lua_Integer)i + 1);
            lua_setfield(L, SLOT_NAMES, vars[i].name);
            r->names[r->n_names++] = xstrdup(vars[i].name);
            continue;
        }
        lua_settop(L, SLOT_REASON);
        if (err)
            snprintf(err, CUSTOM_RULE_ERR_BYTES, "rule %s: variable '%s' %s", r->name, vars[i].name,
                     problem);
        /* Leave names consistent with n_names: empty. */
        for (size_t j = 0; j < r->n_names; j++) {
            lua_pushnil(L);
            lua_setfield(L, SLOT_NAMES, r->names[j]);
            free(r->names[j]);
        }
        r->n_names = 0;
        return TEND_ERR_INVALID;
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

/* The current line of the innermost frame running the rule's chunk, or 0. */
static int rule_line(lua_State *L, const char *chunk) {
    lua_Debug ar;
    for (int level = 1; lua_getstack(L, level, &ar); level++) {
        lua_getinfo(L, "Sl", &ar);
        if (ar.source[0] == '=' && strcmp(ar.source + 1, chunk) == 0 && ar.currentline > 0)
            return ar.currentline;
    }
    return 0;
}

/* The message handler of every call: records the line in r->err_line and
 * returns the message without Lua's position. */
static int on_error(lua_State *L) {
    struct custom_rule *r = rule_of(L);
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
    r->deadline_ns = 0;
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
    if (status == LUA_ERRMEM) {
        fail = MEM_MSG;
        r->err_line = 0;
    } else if (status != LUA_OK) {
        fail = lua_tostring(L, -1);
        if (fail == NULL)
            fail = "error";
    }
    if (fail) {
        mem_error = strcmp(fail, MEM_MSG) == 0;
        set_error(err, r->name, r->chunk, r->err_line, fail);
    }

    r->running = false;
    r->vars = NULL;
    lua_sethook(L, NULL, 0, 0);
    lua_settop(L, SLOT_REASON);
    clear_env(L);
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
    for (size_t i = 0; i < r->n_names; i++)
        free(r->names[i]);
    free(r->name);
    free(r);
}
