/* fuzz_dash.c: the dashboard's HTML pages (server/dash.h) from hostile views.
 *
 * The input is one byte choosing the page ('a' + n: accounts, account, ctas,
 * cta, rules, delivery, reports, report, login, error, kpis, monthly; any byte works,
 * modulo 12), then the JSON view the REST API would answer with (the seeds
 * are real views of a generated SaaS, trimmed). An "_ctx" member sets the
 * page's context (user, user_name, csrf, tz, flash, flash_error, path: the
 * path and flash come from the request); the login page takes "error" and
 * "next", the error page "status" and "message". Each page is rendered
 * twice: from the view as it is, and with FUZZ_MARKER ("<x>"), quotes and &
 * appended to every string and name but the words the pages branch on
 * (band, status, priority, type, kind, event). A report's "html" is trusted
 * markup tend wrote itself (dash.h), so the harness puts a fixed fragment
 * there. Invariants: no sanitizer report; the marker never appears in a
 * page (every string from a view is escaped); a page out of valid UTF-8 is
 * valid UTF-8 (cuts never split a character); it is a whole document. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "server/dash.h"

#define HOSTILE      " " FUZZ_MARKER "&amp;\"'<"
#define TRUSTED_HTML "<h2 class=\"report-h\">Trusted</h2>"

enum page {
    ACCOUNTS,
    ACCOUNT,
    CTAS,
    CTA,
    RULES,
    DELIVERY,
    REPORTS,
    REPORT,
    LOGIN,
    ERROR,
    KPIS,
    MONTHLY,
    N_PAGES
};

/* Every string but the words the pages branch on; the names inside maps of
 * data (traits, metrics, evidence) too, not those of objects whose members
 * the pages look up by name. */
static const char *const words[] = {"band", "status", "priority", "type", "kind", "event"};
static const char *const maps[] = {"traits", "metrics", "evidence", "params", "counts"};
static const struct fuzz_hostile hostile = {HOSTILE, words, sizeof words / sizeof words[0], maps,
                                            sizeof maps / sizeof maps[0]};

static const char *str(const cJSON *o, const char *name, const char *def) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : cJSON_IsNull(v) ? NULL : def;
}

static void render(enum page page, const cJSON *view, bool utf8_in) {
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(view, "_ctx");
    struct dash_ctx ctx = {
        .user = str(c, "user", "csm@example.com"),
        .user_name = str(c, "user_name", "CSM"),
        .csrf = str(c, "csrf", "0123456789abcdef0123456789abcdef"),
        .tz = str(c, "tz", "Europe/Berlin"),
        .flash = str(c, "flash", NULL),
        .flash_error = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "flash_error")),
        .path = str(c, "path", "/accounts?owner=me&page=2"),
    };
    if (!ctx.user)
        ctx.user = "";
    if (!ctx.csrf)
        ctx.csrf = "";
    if (!ctx.tz)
        ctx.tz = "UTC";
    if (!ctx.path)
        ctx.path = "/";
    struct buf b;
    buf_init(&b, 0);
    switch (page) {
    case ACCOUNTS:
        dash_accounts(&b, &ctx, view);
        break;
    case ACCOUNT:
        dash_account(&b, &ctx, view);
        break;
    case CTAS:
        dash_ctas(&b, &ctx, view);
        break;
    case CTA:
        dash_cta(&b, &ctx, view);
        break;
    case RULES:
        dash_rules(&b, &ctx, view);
        break;
    case DELIVERY:
        dash_delivery(&b, &ctx, view);
        break;
    case REPORTS:
        dash_reports(&b, &ctx, view);
        break;
    case REPORT:
        dash_report(&b, &ctx, view);
        break;
    case LOGIN:
        dash_login(&b, str(view, "error", NULL), str(view, "notice", NULL),
                   str(view, "next", "/accounts"), str(view, "csrf", ""));
        break;
    case ERROR: {
        const cJSON *status = cJSON_GetObjectItemCaseSensitive(view, "status");
        dash_error(&b, &ctx, cJSON_IsNumber(status) ? status->valueint : 404,
                   str(view, "message", "No such page."));
        break;
    }
    case KPIS: /* the KPI board (dash_kpis.c) */
        dash_kpis(&b, &ctx, view);
        break;
    case MONTHLY: /* the monthly CS report (dash_monthly.c) */
        dash_monthly(&b, &ctx, view);
        break;
    case N_PAGES:
        break;
    }
    const char *html = buf_str(&b);
    const char *hit = strstr(html, FUZZ_MARKER);
    if (hit)
        fuzz_fail("page %d shows data's \"" FUZZ_MARKER "\" unescaped: ...%.300s", (int)page,
                  hit - html > 300 ? hit - 300 : html);
    if (utf8_in && !fuzz_utf8_valid(html, b.len))
        fuzz_fail("page %d: invalid UTF-8 out of a valid view", (int)page);
    if (strncmp(html, "<!DOCTYPE html>", 15) != 0 || !strstr(html, "</html>"))
        fuzz_fail("page %d is not a whole document: %.200s", (int)page, html);
    buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > 64 * 1024)
        return 0;
    enum page page = (enum page)((unsigned)(data[0] - 'a') % N_PAGES);
    cJSON *view = cJSON_ParseWithLength((const char *)data + 1, size - 1);
    if (!view)
        return 0;
    if (cJSON_GetObjectItemCaseSensitive(view, "html"))
        cJSON_ReplaceItemInObjectCaseSensitive(view, "html", cJSON_CreateString(TRUSTED_HTML));
    render(page, view, fuzz_json_utf8(view));
    fuzz_json_hostile(view, &hostile, false);
    if (cJSON_GetObjectItemCaseSensitive(view, "html"))
        cJSON_ReplaceItemInObjectCaseSensitive(view, "html", cJSON_CreateString(TRUSTED_HTML));
    render(page, view, fuzz_json_utf8(view));
    cJSON_Delete(view);
    return 0;
}
