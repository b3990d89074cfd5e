/* web_sso.c: single sign-on with an OpenID Connect provider: the
 * authorization code flow with PKCE (docs/dashboard.md, "Single sign-on").
 *
 * GET /sso/start makes a state, a nonce and a PKCE verifier (32 random bytes
 * each), keeps them in a cookie signed with the session key (tend_sso: Path
 * /sso, ten minutes, SameSite=Lax so that it comes back with the provider's
 * redirect) and sends the browser to the provider's authorization endpoint
 * with the state, the nonce and the verifier's S256 challenge.
 * GET /sso/callback checks the cookie's signature and the state (a request
 * that did not start here is refused), exchanges the code at the token
 * endpoint with the verifier and the client's secret, verifies the ID token
 * (oidc.h: RS256 against the provider's JWKS, iss, aud, exp, nonce) and
 * signs in the tend person of the token's email: tend.yaml's or the app's,
 * else, when serve.sso.default_role is set, a new person of that role
 * (written to the audit log); a disabled person is refused. Local passwords
 * keep working beside it.
 *
 * The provider's discovery document and keys are fetched on first use and
 * kept an hour (a key set is fetched again, at most once a minute, for a
 * token whose kid it lacks: the provider rotated its keys). Fetches are
 * blocking libcurl transfers on the request's worker thread, bounded to
 * FETCH_TIMEOUT_S and FETCH_MAX_BYTES, over http(s) only, no redirects. */
#include <curl/curl.h>
#include <glib.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/audit.h"
#include "server/oidc.h"
#include "server/status.h"
#include "server/web_int.h"
#include "util/buf.h"
#include "util/datetime.h"
#include "util/log.h"
#include "util/mem.h"

#define SSO_COOKIE      "tend_sso"
#define SSO_COOKIE_S    600
#define FETCH_TIMEOUT_S 10
#define FETCH_MAX_BYTES OIDC_MAX_JWKS_BYTES
#define KEEP_MS         (3600 * 1000LL)
#define REFETCH_KEYS_MS (60 * 1000LL)
#define RANDOM_BYTES    32
#define MAX_NEXT_BYTES  1000

struct sso_cache {
    pthread_mutex_t lock;
    char *authorize, *token, *jwks_uri; /* from the discovery document */
    int64_t meta_ms;
    char *jwks;
    int64_t jwks_ms;
};

struct sso_cache *web_sso_cache_new(void) {
    struct sso_cache *c = xcalloc(1, sizeof *c);
    pthread_mutex_init(&c->lock, NULL);
    curl_global_init(CURL_GLOBAL_DEFAULT); /* before any worker thread fetches */
    return c;
}

void web_sso_cache_free(struct sso_cache *c) {
    if (!c)
        return;
    free(c->authorize);
    free(c->token);
    free(c->jwks_uri);
    free(c->jwks);
    pthread_mutex_destroy(&c->lock);
    free(c);
    curl_global_cleanup();
}

/* ---- fetching ------------------------------------------------------------- */

struct body {
    struct buf b;
    bool too_big;
};

static size_t on_data(char *p, size_t size, size_t n, void *arg) {
    struct body *body = arg;
    if (body->b.len + size * n > FETCH_MAX_BYTES) {
        body->too_big = true;
        return 0;
    }
    buf_append(&body->b, p, size * n);
    return size * n;
}

/* GETs url (form NULL) or POSTs form to it; the answer's body (malloced)
 * in *out when the status is 200. err: why not (size bytes). */
static bool fetch(const char *url, const char *form, char **out, char *err, size_t size) {
    CURL *e = curl_easy_init();
    struct body body = {0};
    buf_init(&body.b, 0);
    long status = 0;
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_TIMEOUT, (long)FETCH_TIMEOUT_S);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &body);
    struct curl_slist *h = curl_slist_append(NULL, "Accept: application/json");
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    if (form)
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, form);
    CURLcode rc = curl_easy_perform(e);
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(e);
    bool ok = rc == CURLE_OK && status == 200;
    if (body.too_big)
        snprintf(err, size, "%s: the answer is over %d bytes", url, FETCH_MAX_BYTES);
    else if (rc != CURLE_OK)
        snprintf(err, size, "%s: %s", url, curl_easy_strerror(rc));
    else if (!ok)
        snprintf(err, size, "%s: HTTP %ld %.200s", url, status, buf_str(&body.b));
    if (ok)
        *out = buf_steal(&body.b);
    buf_free(&body.b);
    return ok;
}

static bool endpoint_ok(const char *url) {
    return url &&
           (strncmp(url, "https://", 8) == 0 || strncmp(url, "http://127.0.0.1", 16) == 0 ||
            strncmp(url, "http://localhost", 16) == 0 || strncmp(url, "http://[::1]", 12) == 0);
}

/* The provider's endpoints, fetched when not known or older than KEEP_MS;
 * copies (malloced) into the out-parameters. */
static bool metadata(const struct serve_sso *cfg, struct sso_cache *c, char **authorize,
                     char **token, char **jwks_uri, char *err, size_t size) {
    int64_t now = dt_now_ms();
    pthread_mutex_lock(&c->lock);
    bool fresh = c->authorize && now - c->meta_ms < KEEP_MS;
    pthread_mutex_unlock(&c->lock);
    if (!fresh) {
        size_t il = strlen(cfg->issuer);
        while (il && cfg->issuer[il - 1] == '/')
            il--;
        char *url = g_strdup_printf("%.*s/.well-known/openid-configuration", (int)il, cfg->issuer);
        char *text = NULL;
        bool ok = fetch(url, NULL, &text, err, size);
        g_free(url);
        if (!ok)
            return false;
        cJSON *d = cJSON_Parse(text);
        free(text);
        const cJSON *iss = cJSON_GetObjectItemCaseSensitive(d, "issuer");
        const char *a =
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "authorization_endpoint"));
        const char *t = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "token_endpoint"));
        const char *j = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "jwks_uri"));
        if (!cJSON_IsString(iss) || strcmp(iss->valuestring, cfg->issuer) != 0 || !endpoint_ok(a) ||
            !endpoint_ok(t) || !endpoint_ok(j)) {
            snprintf(err, size,
                     "the provider's discovery document does not name issuer %s with https "
                     "authorization, token and jwks endpoints",
                     cfg->issuer);
            cJSON_Delete(d);
            return false;
        }
        pthread_mutex_lock(&c->lock);
        free(c->authorize);
        free(c->token);
        free(c->jwks_uri);
        c->authorize = xstrdup(a);
        c->token = xstrdup(t);
        c->jwks_uri = xstrdup(j);
        c->meta_ms = now;
        pthread_mutex_unlock(&c->lock);
        cJSON_Delete(d);
    }
    pthread_mutex_lock(&c->lock);
    *authorize = xstrdup(c->authorize);
    *token = xstrdup(c->token);
    *jwks_uri = xstrdup(c->jwks_uri);
    pthread_mutex_unlock(&c->lock);
    return true;
}

/* The provider's key set (a malloced copy), fetched when not known, older
 * than KEEP_MS, or when again is set and the last fetch is older than
 * REFETCH_KEYS_MS. */
static bool keys(struct sso_cache *c, const char *jwks_uri, bool again, char **out, char *err,
                 size_t size) {
    int64_t now = dt_now_ms();
    pthread_mutex_lock(&c->lock);
    bool fresh =
        c->jwks && now - c->jwks_ms < KEEP_MS && !(again && now - c->jwks_ms > REFETCH_KEYS_MS);
    pthread_mutex_unlock(&c->lock);
    if (!fresh) {
        char *text = NULL;
        if (!fetch(jwks_uri, NULL, &text, err, size))
            return false;
        pthread_mutex_lock(&c->lock);
        free(c->jwks);
        c->jwks = text;
        c->jwks_ms = now;
        pthread_mutex_unlock(&c->lock);
    }
    pthread_mutex_lock(&c->lock);
    *out = xstrdup(c->jwks);
    pthread_mutex_unlock(&c->lock);
    return true;
}

/* ---- the signed cookie of a sign-in in progress ------------------------------ */

static void random_b64(char out[64]) {
    unsigned char r[RANDOM_BYTES];
    randombytes_buf(r, sizeof r);
    sodium_bin2base64(out, 64, r, sizeof r, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static enum MHD_Result refuse(struct req *r, unsigned status, const char *msg) {
    log_printf("tend serve: single sign-on refused: %s", msg);
    return web_page_error(r, status, msg);
}

enum MHD_Result web_h_sso_start(struct req *r, struct store *unused) {
    (void)unused;
    const struct serve_sso *cfg = web_sso_config(r);
    if (!cfg)
        return web_page_error(r, MHD_HTTP_NOT_FOUND, "Single sign-on is not set up (serve.sso).");
    const char *next = view_param(&r->query, "next");
    if (!next || strlen(next) > MAX_NEXT_BYTES || next[0] != '/' || next[1] == '/' ||
        next[1] == '\\')
        next = "/accounts";
    char err[400], *authorize = NULL, *token = NULL, *jwks_uri = NULL;
    if (!metadata(cfg, web_sso_cache(r), &authorize, &token, &jwks_uri, err, sizeof err))
        return refuse(r, MHD_HTTP_SERVICE_UNAVAILABLE, err);
    char state[64], nonce[64], verifier[64], challenge[OIDC_CHALLENGE_BYTES];
    random_b64(state);
    random_b64(nonce);
    random_b64(verifier);
    oidc_pkce_challenge(verifier, challenge);
    char *next64 = g_base64_encode((const guchar *)next, strlen(next));
    for (char *p = next64; *p; p++) /* base64url, for a cookie */
        *p = *p == '+' ? '-' : *p == '/' ? '_' : *p == '=' ? '~' : *p;
    char *value = g_strdup_printf("%s.%s.%s.%s", state, nonce, verifier, next64);
    char mac[AUTH_CSRF_BYTES];
    auth_mac(web_auth(r), "sso", value, mac);
    char *cookie =
        g_strdup_printf(SSO_COOKIE "=%s.%s; Path=/sso; Max-Age=%d; HttpOnly; "
                                   "SameSite=Lax%s",
                        value, mac, SSO_COOKIE_S, web_secure_cookies(r) ? "; Secure" : "");
    char *e_client = g_uri_escape_string(cfg->client_id, NULL, false);
    char *e_redirect = g_uri_escape_string(cfg->redirect_url, NULL, false);
    char *to = g_strdup_printf("%s%cresponse_type=code&client_id=%s&redirect_uri=%s&scope=openid"
                               "%%20email%%20profile&state=%s&nonce=%s&code_challenge=%s&"
                               "code_challenge_method=S256",
                               authorize, strchr(authorize, '?') ? '&' : '?', e_client, e_redirect,
                               state, nonce, challenge);
    enum MHD_Result ret = web_redirect_to(r, to, cookie);
    g_free(to);
    g_free(e_client);
    g_free(e_redirect);
    g_free(cookie);
    g_free(value);
    g_free(next64);
    free(authorize);
    free(token);
    free(jwks_uri);
    sodium_memzero(verifier, sizeof verifier);
    return ret;
}

/* The parts of a tend_sso cookie, checked against its MAC: state, nonce,
 * verifier, next (into bufs of their sizes); false when missing or forged. */
static bool cookie_parts(struct req *r, char state[64], char nonce[64], char verifier[64],
                         char next[MAX_NEXT_BYTES + 1]) {
    const char *v = MHD_lookup_connection_value(r->c, MHD_COOKIE_KIND, SSO_COOKIE);
    if (!v || strlen(v) > 600)
        return false;
    char *copy = xstrdup(v);
    char *dot = strrchr(copy, '.');
    bool ok = false;
    if (dot) {
        *dot = '\0';
        ok = auth_mac_ok(web_auth(r), "sso", copy, dot + 1);
    }
    gchar **p = ok ? g_strsplit(copy, ".", 5) : NULL;
    ok = ok && g_strv_length(p) == 4 && strlen(p[0]) < 64 && strlen(p[1]) < 64 && strlen(p[2]) < 64;
    if (ok) {
        snprintf(state, 64, "%s", p[0]);
        snprintf(nonce, 64, "%s", p[1]);
        snprintf(verifier, 64, "%s", p[2]);
        for (char *c = p[3]; *c; c++)
            *c = *c == '-' ? '+' : *c == '_' ? '/' : *c == '~' ? '=' : *c;
        gsize n = 0;
        guchar *dec = g_base64_decode(p[3], &n);
        ok = dec && n > 0 && n <= MAX_NEXT_BYTES && dec[0] == '/';
        if (ok) {
            memcpy(next, dec, n);
            next[n] = '\0';
            ok = strlen(next) == n;
        }
        g_free(dec);
    }
    g_strfreev(p);
    free(copy);
    return ok;
}

/* The tend person of an ID token's claims into *u; creates one with the
 * default role when configured. *why: the refusal, when false. */
static bool person_of(struct req *r, struct store *s, const struct oidc_claims *cl,
                      struct auth_user *u, const char **why) {
    const struct serve_sso *cfg = web_sso_config(r);
    if (auth_user_find(web_auth(r), cl->email, web_find_person, s, u))
        return true;
    struct store_team_user t;
    bool found = false;
    if (store_team_user_get(s, cl->email, &t, &found)) {
        *why = store_last_error(s);
        return false;
    }
    if (found) { /* and not found by web_find_person: disabled */
        *why = "Your tend account is disabled: ask an admin.";
        return false;
    }
    if (!cfg->has_default_role) {
        *why = "The provider knows you, but tend does not: ask an admin to invite your email.";
        return false;
    }
    int64_t now = dt_now_ms();
    struct store_team_user n = {.created_ms = now};
    char *low = g_ascii_strdown(cl->email, -1);
    snprintf(n.email, sizeof n.email, "%s", low);
    g_free(low);
    snprintf(n.name, sizeof n.name, "%s", cl->name[0] ? cl->name : n.email);
    snprintf(n.role, sizeof n.role, "%s", perm_role_name(cfg->default_role));
    enum tend_err e = store_begin(s, NULL);
    if (!e)
        e = store_team_user_add(s, &n);
    if (!e) {
        cJSON *after = cJSON_CreateObject();
        cJSON_AddStringToObject(after, "email", n.email);
        cJSON_AddStringToObject(after, "role", n.role);
        cJSON_AddStringToObject(after, "issuer", cfg->issuer);
        cJSON_AddStringToObject(after, "sub", cl->sub);
        char target[400];
        snprintf(target, sizeof target, "user:%s", n.email);
        e = audit_record(s, now, n.email, "user.sso_create", target, NULL, after);
        cJSON_Delete(after);
    }
    if (!e)
        e = store_commit(s);
    if (e) {
        store_rollback(s);
        /* Made a moment ago by another sign-in of the same person: use it. */
        if (e == TEND_ERR_CONFLICT && auth_user_find(web_auth(r), cl->email, web_find_person, s, u))
            return true;
        *why = store_last_error(s);
        return false;
    }
    return auth_user_find(web_auth(r), n.email, web_find_person, s, u);
}

enum MHD_Result web_h_sso_callback(struct req *r, struct store *unused) {
    (void)unused;
    const struct serve_sso *cfg = web_sso_config(r);
    if (!cfg)
        return web_page_error(r, MHD_HTTP_NOT_FOUND, "Single sign-on is not set up (serve.sso).");
    const char *perr = view_param(&r->query, "error");
    if (perr) {
        char msg[300];
        snprintf(msg, sizeof msg, "The provider did not sign you in (%.100s).", perr);
        return refuse(r, MHD_HTTP_FORBIDDEN, msg);
    }
    char state[64], nonce[64], verifier[64], next[MAX_NEXT_BYTES + 1];
    if (!cookie_parts(r, state, nonce, verifier, next))
        return refuse(r, MHD_HTTP_FORBIDDEN,
                      "This sign-in did not start here or took over ten minutes: start again.");
    const char *got = view_param(&r->query, "state"), *code = view_param(&r->query, "code");
    if (!got || strlen(got) != strlen(state) || sodium_memcmp(got, state, strlen(state)) != 0)
        return refuse(r, MHD_HTTP_FORBIDDEN,
                      "This sign-in's state does not match the one it started with: start "
                      "again.");
    if (!code || !code[0] || strlen(code) > 2000)
        return refuse(r, MHD_HTTP_BAD_REQUEST, "The provider sent no code.");
    char err[600], *authorize = NULL, *token_ep = NULL, *jwks_uri = NULL, *answer = NULL,
                   *jwks = NULL;
    enum MHD_Result ret;
    struct store *s = NULL;
    if (!metadata(cfg, web_sso_cache(r), &authorize, &token_ep, &jwks_uri, err, sizeof err)) {
        ret = refuse(r, MHD_HTTP_SERVICE_UNAVAILABLE, err);
        goto out;
    }
    char *e_code = g_uri_escape_string(code, NULL, false);
    char *e_redirect = g_uri_escape_string(cfg->redirect_url, NULL, false);
    char *e_client = g_uri_escape_string(cfg->client_id, NULL, false);
    char *e_secret = g_uri_escape_string(cfg->client_secret, NULL, false);
    char *form = g_strdup_printf("grant_type=authorization_code&code=%s&redirect_uri=%s&"
                                 "client_id=%s&client_secret=%s&code_verifier=%s",
                                 e_code, e_redirect, e_client, e_secret, verifier);
    bool ok = fetch(token_ep, form, &answer, err, sizeof err);
    sodium_memzero(form, strlen(form));
    g_free(form);
    g_free(e_code);
    g_free(e_redirect);
    g_free(e_client);
    g_free(e_secret);
    if (!ok) {
        ret = refuse(r, MHD_HTTP_FORBIDDEN, err);
        goto out;
    }
    cJSON *tok = cJSON_Parse(answer);
    const char *id_token = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(tok, "id_token"));
    struct oidc_claims cl;
    struct oidc_expect x = {.issuer = cfg->issuer,
                            .client_id = cfg->client_id,
                            .nonce = nonce,
                            .now_s = dt_now_ms() / 1000};
    enum tend_err e = TEND_ERR_INVALID;
    snprintf(err, sizeof err, "the provider's answer has no id_token");
    for (int attempt = 0; id_token && attempt < 2; attempt++) {
        free(jwks);
        jwks = NULL;
        if (!keys(web_sso_cache(r), jwks_uri, attempt > 0, &jwks, err, sizeof err)) {
            e = TEND_ERR_IO;
            break;
        }
        e = oidc_verify_id_token(id_token, jwks, &x, &cl, err, sizeof err);
        if (e != TEND_ERR_NOTFOUND)
            break;
    }
    cJSON_Delete(tok);
    if (e) {
        char msg[700];
        snprintf(msg, sizeof msg, "Single sign-on refused: %s.", err);
        ret = refuse(r, MHD_HTTP_FORBIDDEN, msg);
        goto out;
    }
    char serr[STORE_ERR_BYTES];
    if (!(s = web_pool_get(r, serr))) {
        ret = refuse(r, MHD_HTTP_SERVICE_UNAVAILABLE, serr);
        goto out;
    }
    struct auth_user u;
    const char *why = NULL;
    if (!person_of(r, s, &cl, &u, &why)) {
        ret = refuse(r, MHD_HTTP_FORBIDDEN, why);
        goto out;
    }
    int64_t epoch = 0;
    if (store_session_epoch(s, u.email, &epoch)) {
        ret = refuse(r, MHD_HTTP_SERVICE_UNAVAILABLE, store_last_error(s));
        goto out;
    }
    ret = web_session_redirect(r, &u, epoch, next,
                               SSO_COOKIE "=; Path=/sso; Max-Age=0; HttpOnly; SameSite=Lax");
out:
    if (s)
        web_pool_put(r, s);
    sodium_memzero(verifier, sizeof verifier);
    free(authorize);
    free(token_ep);
    free(jwks_uri);
    free(answer);
    free(jwks);
    return ret;
}
