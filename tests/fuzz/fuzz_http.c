/* fuzz_http.c: tend serve's HTTP server, in process, over real TCP.
 *
 * Once per process the harness sets up what `tend serve` sets up (see
 * cmd_serve.c), through the public API only (server/http.h, server/web.h,
 * server/auth.h), so it keeps working while the server's insides change: a
 * temporary SQLite database holding a small generated SaaS (tend generate,
 * import and eval, run as the CLI runs them), a tend.yaml with a write key,
 * a user, an API token and a session key, then the libmicrohttpd server with
 * the dashboard and REST API on a free 127.0.0.1 port. No scheduler runs
 * (as with --no-eval).
 *
 * Each input is the raw bytes a client writes on a fresh TCP connection,
 * which the harness then half-closes; it reads the answer until the server
 * closes (within ANSWER_MS). "@SESSION@" in the input stands for a valid
 * session cookie of the user and "@CSRF@" for its CSRF token, so inputs can
 * get past sign-in; the seeds are ingest POSTs (Basic auth and body write
 * key, batches), sign-in, dashboard forms with cookies, CTA actions, API GETs
 * with query strings and Bearer tokens, pipelined, chunked and HTTP/1.0
 * requests.
 *
 * Invariants besides no sanitizer report (in the server's threads too):
 * - whatever the server writes is a sequence of well-formed HTTP/1.x
 *   responses: a status line with a 1xx-5xx code, header lines of
 *   "Name: value" (no control characters: nothing from the request can split
 *   a header), a blank line, and a body that is exactly its Content-Length
 *   or its chunks, never cut short before the server closes cleanly (one
 *   defect of libmicrohttpd 0.9.75 itself is let through: see
 *   check_answer);
 * - an HTML answer never carries FUZZ_MARKER ("<x>") unescaped, wherever the
 *   marker came from (the request itself, or data an earlier input stored);
 * - the server closes the connection within ANSWER_MS of the half-close. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cli/config.h"
#include "fuzz.h"
#include "server/auth.h"
#include "server/http.h"
#include "server/web.h"
#include "util/datetime.h"

#define ANSWER_MS     30000
#define MAX_ANSWER    (8 << 20)
#define WRITE_KEY     "fuzzkey"
#define API_TOKEN     "tend_fuzz_api_token_0123456789abcdef"
#define USER_EMAIL    "csm@example.com"
#define USER_PASSWORD "secret"

int tend_cli_main(int argc, char **argv); /* main.c's main, renamed in the fuzz build */

static struct tend_config tc;
static struct store *store;
static struct auth *auth;
static struct web *web;
static struct http_server *server;
static struct view_env env;
static struct http_config hc;
static char listen_addr[64];
static struct sockaddr_in addr;
static char *session;
static char csrf[AUTH_CSRF_BYTES];

/* ---- setting up --------------------------------------------------------------------------- */

static void run_cli(const char *const *args) {
    int argc = 0;
    char *argv[16];
    for (; args[argc]; argc++)
        argv[argc] = (char *)args[argc];
    argv[argc] = NULL;
    optind = 0;
    int rc = tend_cli_main(argc, argv);
    if (rc != 0 && rc != 1)
        fuzz_fail("setting up: tend %s exited %d", args[1], rc);
}

/* A port nobody listens on now (the server binds it right after). */
static int free_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) ||
        getsockname(fd, (struct sockaddr *)&a, &len))
        fuzz_fail("setting up: no free port: %s", strerror(errno));
    close(fd);
    return ntohs(a.sin_port);
}

static void write_config(const char *path) {
    char hash[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str(hash, USER_PASSWORD, strlen(USER_PASSWORD), crypto_pwhash_OPSLIMIT_MIN,
                          crypto_pwhash_MEMLIMIT_MIN))
        abort();
    unsigned char sum[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(sum, (const unsigned char *)API_TOKEN, strlen(API_TOKEN));
    char hex[2 * sizeof sum + 1];
    sodium_bin2hex(hex, sizeof hex, sum, sizeof sum);
    setenv("TEND_FUZZ_SESSION_KEY", "fuzz-session-key-of-at-least-32-characters", 1);
    char yaml[4096];
    int n = snprintf(yaml, sizeof yaml,
                     "rules:\n"
                     "  custom:\n"
                     "    - name: fuzz_custom\n"
                     "      when: seats ~= nil and seats > 1\n"
                     "      title: Many seats\n"
                     "      reason: string.format(\"%%d seats\", seats)\n"
                     "serve:\n"
                     "  timezone: Europe/Berlin\n"
                     "  write_keys: [" WRITE_KEY "]\n"
                     "  users:\n"
                     "    - {email: " USER_EMAIL ", name: CSM <x>, password_hash: \"%s\"}\n"
                     "  tokens:\n"
                     "    - {name: fuzz <x>, sha256: %s}\n"
                     "  session_key_env: TEND_FUZZ_SESSION_KEY\n",
                     hash, hex);
    fuzz_write_file(path, yaml, (size_t)n);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    signal(SIGPIPE, SIG_IGN);
    if (sodium_init() < 0)
        abort();
    char db[4096], cfg[4096], jsonl[4096], key[4096], at[16], from[16];
    snprintf(db, sizeof db, "%s", fuzz_path("tend.db"));
    snprintf(cfg, sizeof cfg, "%s", fuzz_path("tend.yaml"));
    snprintf(jsonl, sizeof jsonl, "%s", fuzz_path("saas.jsonl"));
    snprintf(key, sizeof key, "%s", fuzz_path("tend.db.session-key"));
    write_config(cfg);
    int32_t today = dt_day_of_ms(dt_now_ms());
    dt_format_date(today, at);
    dt_format_date(today - 7, from);
    char end[16];
    dt_format_date(today + 1, end);
    run_cli((const char *[]){"tend", "generate", "--accounts", "6", "--days", "60", "--end", end,
                             "--out", jsonl, NULL});
    run_cli((const char *[]){"tend", "import", "--db", db, jsonl, NULL});
    run_cli((const char *[]){"tend", "eval", "--db", db, "--config", cfg, "--from", from, "--to",
                             at, "--quiet", NULL});
    remove(jsonl);

    if (cli_load_config("fuzz", cfg, &tc))
        fuzz_fail("setting up: the configuration");
    char err[STORE_ERR_BYTES > HTTP_ERR_BYTES ? STORE_ERR_BYTES : HTTP_ERR_BYTES];
    if (store_open(db, &store, err) || auth_new(&tc.serve, key, &auth, err))
        fuzz_fail("setting up: %s", err);
    env = (struct view_env){.hc = &tc.health, .rc = &tc.rules};
    struct web_options wo = {.db = db, .auth = auth, .env = &env, .timezone = tc.serve.timezone};
    web = web_new(&wo);
    for (int attempt = 0; !server; attempt++) {
        int port = free_port();
        snprintf(listen_addr, sizeof listen_addr, "127.0.0.1:%d", port);
        hc = (struct http_config){.listen = listen_addr,
                                  .write_keys = (const char *const *)tc.serve.write_keys,
                                  .n_write_keys = tc.serve.n_write_keys,
                                  .web = web};
        int fd = -1;
        if ((http_listen(listen_addr, &fd, err) || http_start(store, &hc, fd, &server, err)) &&
            attempt == 20)
            fuzz_fail("setting up: %s", err);
        addr = (struct sockaddr_in){.sin_family = AF_INET,
                                    .sin_port = htons((uint16_t)port),
                                    .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    }
    int64_t epoch;
    if (store_session_epoch(store, tc.serve.users[0].email, &epoch))
        fuzz_fail("setting up: the session epoch: %s", store_last_error(store));
    session = auth_session_new(auth, &tc.serve.users[0], epoch, dt_now_ms());
    auth_csrf(auth, session, csrf);
    return 0;
}

/* ---- one connection ------------------------------------------------------------------------ */

static int64_t mono_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* The number of threads of this process (/proc/self/status), or -1. */
static int thread_count(void) {
    FILE *f = fopen("/proc/self/status", "re");
    char line[256];
    int n = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "Threads: %d", &n) == 1)
            break;
    if (f)
        fclose(f);
    return n;
}

/* Sends req, half-closes, and reads what comes back into *out (malloced)
 * until the server closes. *clean: it closed with a FIN (not a reset).
 * Returns once the thread that served the connection (if the server spent
 * one on it) has ended too: LeakSanitizer, which libFuzzer runs after an
 * input, took what a thread frees as it exits (glib's per-thread caches)
 * for a leak when it looked while the thread was ending. */
static size_t exchange(const char *req, size_t len, char **out, bool *clean) {
    int threads = thread_count();
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        fuzz_fail("no socket: %s", strerror(errno));
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr)) {
        /* Interrupted (libFuzzer's timers signal the process): the connection
         * goes on; wait for it. */
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        int e = errno, so = 0;
        socklen_t sl = sizeof so;
        while (e == EINTR && poll(&p, 1, ANSWER_MS) < 0 && errno == EINTR)
            ;
        if (e != EINTR || getsockopt(fd, SOL_SOCKET, SO_ERROR, &so, &sl) || so)
            fuzz_fail("cannot connect to the server: %s", strerror(e != EINTR ? e : so));
    }
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    for (size_t sent = 0; sent < len;) {
        ssize_t n = send(fd, req + sent, len - sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break; /* the server answered early and closed: read what it said */
        sent += (size_t)n;
    }
    shutdown(fd, SHUT_WR);
    size_t cap = 65536, got = 0;
    char *buf = malloc(cap + 1);
    int64_t deadline = mono_ms() + ANSWER_MS;
    *clean = false;
    for (;;) {
        int64_t left = deadline - mono_ms();
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int ready = left > 0 ? poll(&p, 1, (int)left) : 0;
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready == 0)
            fuzz_fail("the server did not close the connection within %d ms of the request "
                      "(%zu bytes answered): %.300s",
                      ANSWER_MS, got, req);
        if (got == cap) {
            if (cap >= MAX_ANSWER)
                fuzz_fail("an answer of over %d bytes", MAX_ANSWER);
            cap *= 2;
            buf = realloc(buf, cap + 1);
        }
        ssize_t n = recv(fd, buf + got, cap - got, 0);
        if (n == 0) {
            *clean = true;
            break;
        }
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            break; /* a reset: what came before it may be cut */
        }
        got += (size_t)n;
    }
    close(fd);
    for (int64_t until = mono_ms() + 2000; threads > 0 && thread_count() > threads;) {
        if (mono_ms() > until)
            break; /* a thread that stays (a new pool's): not ours to wait for */
        usleep(200);
    }
    buf[got] = '\0';
    *out = buf;
    return got;
}

/* ---- the answer's checks ---------------------------------------------------------------- */

static bool is_tchar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* The line at p (without its CRLF), or NULL when no CRLF follows in [p, end). */
static const char *line_end(const char *p, const char *end) {
    for (const char *q = p; q + 1 < end; q++)
        if (q[0] == '\r' && q[1] == '\n')
            return q;
    return NULL;
}

static bool starts_with_ci(const char *s, size_t n, const char *prefix) {
    size_t k = strlen(prefix);
    return n >= k && strncasecmp(s, prefix, k) == 0;
}

/* Checks the bytes the server wrote (see the file's comment). cut: the
 * stream may end early (a reset); may_head: a HEAD request may have been
 * sent, so a response may come without its body. */
static void check_answer(const char *a, size_t len, bool cut, bool may_head, const char *req) {
    const char *p = a, *end = a + len;
#define BAD(...)                                                                                   \
    do {                                                                                           \
        if (cut)                                                                                   \
            return;                                                                                \
        fuzz_fail(__VA_ARGS__);                                                                    \
    } while (0)
    while (p < end) {
        const char *start = p;
        const char *eol = line_end(p, end);
        if (!eol)
            BAD("a status line cut short: %.200s (request: %.300s)", p, req);
        size_t n = (size_t)(eol - p);
        if (n < 13 || strncmp(p, "HTTP/1.", 7) != 0 || (p[7] != '0' && p[7] != '1') ||
            p[8] != ' ' || p[9] < '1' || p[9] > '5' || p[10] < '0' || p[10] > '9' || p[11] < '0' ||
            p[11] > '9' || p[12] != ' ')
            fuzz_fail("not an HTTP status line: %.*s (request: %.300s)", (int)n, p, req);
        int status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
        for (size_t i = 13; i < n; i++)
            if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
                fuzz_fail("a control character in the status line: %.*s", (int)n, p);
        p = eol + 2;
        long long length = -1;
        bool chunked = false, html = false;
        for (;;) {
            eol = line_end(p, end);
            if (!eol)
                BAD("headers cut short: %.200s (request: %.300s)", p, req);
            n = (size_t)(eol - p);
            if (n == 0)
                break;
            size_t name = 0;
            while (name < n && is_tchar(p[name]))
                name++;
            if (name == 0 || name == n || p[name] != ':')
                fuzz_fail("not a header line: %.*s (request: %.300s)", (int)n, p, req);
            const char *v = p + name + 1;
            size_t vn = n - name - 1;
            for (size_t i = 0; i < vn; i++)
                if (((unsigned char)v[i] < 0x20 && v[i] != '\t') || v[i] == 0x7f)
                    fuzz_fail("a control character in a header: %.*s", (int)n, p);
            while (vn && (*v == ' ' || *v == '\t'))
                v++, vn--;
            if (starts_with_ci(p, name, "Content-Length") && name == 14) {
                if (length >= 0)
                    fuzz_fail("two Content-Length headers");
                char *e;
                length = strtoll(v, &e, 10);
                if (e == v || (size_t)(e - v) != vn || length < 0)
                    fuzz_fail("Content-Length \"%.*s\"", (int)vn, v);
            } else if (starts_with_ci(p, name, "Transfer-Encoding") && name == 17) {
                chunked = starts_with_ci(v, vn, "chunked");
            } else if (starts_with_ci(p, name, "Content-Type") && name == 12) {
                html = starts_with_ci(v, vn, "text/html");
            }
            p = eol + 2;
        }
        p = eol + 2;
        /* libmicrohttpd 0.9.75 (Debian 12) writes the status line and headers
         * of its own error answers twice (a malformed or too large
         * Content-Length: 400, 413), before one body. Not tend's code; the
         * copy is skipped when it is exactly the same bytes. */
        size_t hdr = (size_t)(p - start);
        if (status >= 400 && (size_t)(end - p) >= hdr && memcmp(p, start, hdr) == 0)
            p += hdr;
        const char *body = p;
        size_t body_len = 0;
        bool next_is_response = (size_t)(end - p) >= 7 && strncmp(p, "HTTP/1.", 7) == 0;
        if (status < 200 || status == 204 || status == 304) {
            /* no body */
        } else if (may_head && (p == end || next_is_response)) {
            /* the answer to a HEAD request */
        } else if (chunked) {
            for (;;) {
                eol = line_end(p, end);
                if (!eol)
                    BAD("a chunk size cut short (request: %.300s)", req);
                char *e;
                unsigned long long size = strtoull(p, &e, 16);
                if (e == p || (e != eol && *e != ';'))
                    fuzz_fail("a bad chunk size: %.*s", (int)(eol - p), p);
                p = eol + 2;
                if (size == 0) {
                    eol = line_end(p, end);
                    if (!eol)
                        BAD("the last chunk cut short (request: %.300s)", req);
                    p = eol + 2; /* no trailers are sent */
                    break;
                }
                if ((size_t)(end - p) < size + 2)
                    BAD("a chunk cut short (request: %.300s)", req);
                if (p[size] != '\r' || p[size + 1] != '\n')
                    fuzz_fail("a chunk not ended by CRLF");
                p += size + 2;
            }
            body_len = (size_t)(p - body);
        } else if (length >= 0) {
            if ((size_t)(end - p) < (size_t)length)
                BAD("a body of %zu bytes, Content-Length %lld (request: %.300s)", (size_t)(end - p),
                    length, req);
            body_len = (size_t)length;
            p += length;
        } else {
            body_len = (size_t)(end - p); /* to the close */
            p = end;
        }
        if (html && memmem(body, body_len, FUZZ_MARKER, strlen(FUZZ_MARKER)))
            fuzz_fail("an HTML answer shows \"" FUZZ_MARKER "\" unescaped (request: %.500s)", req);
    }
#undef BAD
}

/* ---- the harness ---------------------------------------------------------------------------- */

/* That the set-up works as the seeds assume: the server answers a
 * half-closed request, the API token and the session cookie sign in. If
 * the server's insides change so that one of these no longer holds, the
 * harness says so instead of fuzzing a server that refuses everything. */
static void check_setup(void) {
    static const char *const probes[][2] = {
        {"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", "/healthz"},
        {"GET /api/rules HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " API_TOKEN "\r\n\r\n",
         "/api/rules with the API token"},
        {"GET /accounts HTTP/1.1\r\nHost: x\r\nCookie: tend_session=@SESSION@\r\n\r\n",
         "/accounts with the session cookie"},
    };
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
        char *req = fuzz_replace(probes[i][0], "@SESSION@", session);
        char *answer;
        bool clean;
        exchange(req, strlen(req), &answer, &clean);
        if (strncmp(answer, "HTTP/1.1 200 ", 13) != 0)
            fuzz_fail("setting up: GET %s does not answer 200 to a half-closed connection: "
                      "%.200s",
                      probes[i][1], answer);
        free(answer);
        free(req);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static bool checked;
    if (!checked) {
        check_setup();
        checked = true;
    }
    if (size > 64 * 1024)
        return 0;
    char *raw = fuzz_strndup(data, size);
    /* The placeholders are replaced up to the first NUL byte; the rest is
     * sent as it is. */
    size_t head = strlen(raw);
    char *a = fuzz_replace(raw, "@SESSION@", session);
    char *b = fuzz_replace(a, "@CSRF@", csrf);
    size_t blen = strlen(b);
    char *req = malloc(blen + (size - head) + 1);
    memcpy(req, b, blen);
    memcpy(req + blen, data + head, size - head);
    size_t len = blen + (size - head);
    req[len] = '\0';
    char *answer;
    bool clean;
    size_t got = exchange(req, len, &answer, &clean);
    check_answer(answer, got, !clean, memmem(req, len, "HEAD", 4) != NULL, req);
    free(answer);
    free(req);
    free(b);
    free(a);
    free(raw);
    return 0;
}
