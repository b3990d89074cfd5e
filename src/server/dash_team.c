/* dash_team.c: the pages of people, the audit log and a one-time link (see
 * dash_team.h). */
#include "server/dash_team.h"

#include <glib.h>
#include <math.h>
#include <string.h>

#include "server/dash_int.h"
#include "server/html.h"

static const char *const roles[] = {"admin", "lead", "csm", "viewer"};

/* A small POST form of one button (and a role select when with_role) for a
 * person's change. */
static void change_form(struct buf *b, const struct dash_ctx *ctx, const char *email,
                        const char *verb, const char *label, const char *role_now) {
    char *enc = g_uri_escape_string(email, NULL, false);
    buf_puts(b, "<form class=\"inline\" method=\"post\" action=\"/users/");
    html_esc(b, enc);
    buf_printf(b, "/%s\">", verb);
    g_free(enc);
    dash_put_csrf(b, ctx);
    if (role_now) {
        buf_puts(b, "<select name=\"role\" aria-label=\"Role\">");
        for (size_t i = 0; i < 4; i++)
            buf_printf(b, "<option%s>%s</option>",
                       strcmp(roles[i], role_now) == 0 ? " selected" : "", roles[i]);
        buf_puts(b, "</select>");
    }
    buf_printf(b, "<button type=\"submit\">%s</button></form>", label);
}

void dash_users_page(struct buf *out, const struct dash_ctx *ctx, const cJSON *view,
                     const char *link) {
    dash_page_open(out, ctx, "Users", NAV_USERS);
    buf_puts(out, "<h1>Users</h1>\n<p><a href=\"/tokens\">API tokens</a></p>\n");
    if (link) {
        buf_puts(out, "<p class=\"card\">One-time link (shown only now): <code class=\"link\">");
        html_esc(out, link);
        buf_puts(out, "</code></p>\n");
    }
    buf_puts(out, "<form class=\"card invite\" method=\"post\" action=\"/users\"><h2>Invite a "
                  "person</h2>");
    dash_put_csrf(out, ctx);
    buf_puts(out, "<label>Email <input type=\"email\" name=\"email\" maxlength=\"320\" "
                  "required></label><label>Name <input name=\"name\" maxlength=\"200\"></label>"
                  "<label>Role <select name=\"role\">");
    for (size_t i = 0; i < 4; i++)
        buf_printf(out, "<option%s>%s</option>", strcmp(roles[i], "csm") == 0 ? " selected" : "",
                   roles[i]);
    buf_puts(out, "</select></label><button type=\"submit\" class=\"primary\">Invite</button>"
                  "</form>\n");
    const cJSON *users = get(view, "users"), *u;
    if (!cJSON_GetArraySize(users)) {
        dash_put_empty(out, "Nobody yet", "Invite the first person above.");
        dash_page_close(out, ctx);
        return;
    }
    buf_puts(out, "<div class=\"table-wrap\"><table class=\"grid users\"><thead><tr><th>Email"
                  "</th><th>Name</th><th>Role</th><th>Status</th><th>From</th><th>Change</th>"
                  "</tr></thead><tbody>\n");
    cJSON_ArrayForEach(u, users) {
        const char *email = get_str(u, "email"), *role = get_str(u, "role");
        const char *source = get_str(u, "source");
        bool disabled = cJSON_IsTrue(get(u, "disabled"));
        bool has_pw = cJSON_IsTrue(get(u, "has_password"));
        buf_puts(out, "<tr><td>");
        html_esc_cut(out, email, CAP_NAME);
        buf_puts(out, "</td><td>");
        html_esc_cut(out, get_str(u, "name"), CAP_NAME);
        buf_puts(out, "</td><td>");
        html_esc(out, role);
        buf_puts(out, "</td><td>");
        buf_puts(out, disabled ? "disabled" : has_pw ? "active" : "invited (no password yet)");
        buf_puts(out, "</td><td>");
        html_esc(out, source);
        buf_puts(out, "</td><td>");
        if (source && strcmp(source, "app") == 0 && email && role) {
            change_form(out, ctx, email, "role", "Change role", role);
            change_form(out, ctx, email, disabled ? "enable" : "disable",
                        disabled ? "Enable" : "Disable", NULL);
            change_form(out, ctx, email, "reset", "Reset password", NULL);
        } else {
            buf_puts(out, "set in tend.yaml");
        }
        buf_puts(out, "</td></tr>\n");
    }
    buf_puts(out, "</tbody></table></div>\n");
    dash_page_close(out, ctx);
}

static void put_json(struct buf *b, const cJSON *v) {
    if (!v || cJSON_IsNull(v)) {
        buf_puts(b, "\xe2\x80\x94"); /* an em dash: nothing */
        return;
    }
    char *t = cJSON_PrintUnformatted(v);
    buf_puts(b, "<code>");
    html_esc_cut(b, t, CAP_REASON);
    buf_puts(b, "</code>");
    cJSON_free(t);
}

void dash_audit_page(struct buf *out, const struct dash_ctx *ctx, const cJSON *view) {
    dash_page_open(out, ctx, "Audit log", NAV_AUDIT);
    long long total = get_int(view, "total");
    buf_printf(out,
               "<h1>Audit log</h1>\n<p class=\"muted\">%lld %s, newest first; entries are "
               "never changed or deleted.</p>\n",
               total < 0 ? 0 : total, total == 1 ? "entry" : "entries");
    const cJSON *entries = get(view, "entries"), *e;
    if (!cJSON_GetArraySize(entries)) {
        dash_put_empty(out, "Nothing yet", "Every action of a person is listed here.");
        dash_page_close(out, ctx);
        return;
    }
    buf_puts(out, "<div class=\"table-wrap\"><table class=\"grid audit\"><thead><tr><th>When</th>"
                  "<th>Who</th><th>Action</th><th>Target</th><th>Before</th><th>After</th></tr>"
                  "</thead><tbody>\n");
    cJSON_ArrayForEach(e, entries) {
        buf_puts(out, "<tr><td>");
        html_esc(out, get_str(e, "at"));
        buf_puts(out, "</td><td>");
        html_esc_cut(out, get_str(e, "actor"), CAP_NAME);
        buf_puts(out, "</td><td>");
        html_esc_cut(out, get_str(e, "action"), CAP_SHORT);
        buf_puts(out, "</td><td>");
        html_esc_cut(out, get_str(e, "target"), CAP_NAME);
        buf_puts(out, "</td><td>");
        put_json(out, get(e, "before"));
        buf_puts(out, "</td><td>");
        put_json(out, get(e, "after"));
        buf_puts(out, "</td></tr>\n");
    }
    buf_puts(out, "</tbody></table></div>\n");
    long long next = get_int(view, "next_before");
    if (next > 0)
        buf_printf(out,
                   "<nav class=\"pager\"><a href=\"/audit?before=%lld\">Older "
                   "entries</a></nav>\n",
                   next);
    dash_page_close(out, ctx);
}

void dash_invite_page(struct buf *out, const char *action, const char *email, const char *error) {
    dash_page_open(out, NULL, "Choose a password", NAV_NONE);
    if (!email) {
        buf_puts(out, "<div class=\"card login\"><h1><span class=\"brand\">tend</span> Link not "
                      "valid</h1><p>This link is not valid: it was used already, it has expired, "
                      "or it was never made. Ask an admin for a new one.</p></div>\n");
        dash_page_close(out, NULL);
        return;
    }
    buf_puts(out, "<form class=\"card login\" method=\"post\" action=\"");
    html_esc(out, action);
    buf_puts(out, "\"><h1><span class=\"brand\">tend</span> Choose a password</h1>");
    if (error) {
        buf_puts(out, "<p class=\"flash error\" role=\"alert\">");
        html_esc_cut(out, error, CAP_REASON);
        buf_puts(out, "</p>");
    }
    buf_puts(out, "<p>For <strong>");
    html_esc_cut(out, email, CAP_NAME);
    buf_puts(out, "</strong>. This link works once.</p><label>Password <input type=\"password\" "
                  "name=\"password\" autocomplete=\"new-password\" minlength=\"10\" "
                  "maxlength=\"1024\" required autofocus></label><label>Again <input "
                  "type=\"password\" name=\"password2\" autocomplete=\"new-password\" "
                  "required></label><button type=\"submit\" class=\"primary\">Set the "
                  "password</button></form>\n");
    dash_page_close(out, NULL);
}

void dash_tokens_page(struct buf *out, const struct dash_ctx *ctx, const cJSON *view,
                      const char *made) {
    dash_page_open(out, ctx, "API tokens", NAV_USERS);
    buf_puts(out, "<h1>API tokens</h1>\n");
    if (made) {
        buf_puts(out, "<p class=\"card\">The new token (shown only now; send it as "
                      "<code>Authorization: Bearer TOKEN</code>): <code class=\"link\">");
        html_esc(out, made);
        buf_puts(out, "</code></p>\n");
    }
    buf_puts(out, "<form class=\"card invite\" method=\"post\" action=\"/tokens\"><h2>Make a "
                  "token</h2>");
    dash_put_csrf(out, ctx);
    buf_puts(out, "<label>Name <input name=\"name\" maxlength=\"100\" required></label>"
                  "<label>Scope <select name=\"scope\"><option>ingest</option>"
                  "<option selected>read</option><option>act</option><option>admin</option>"
                  "</select></label><button type=\"submit\" class=\"primary\">Make</button>"
                  "</form>\n");
    const cJSON *tokens = get(view, "tokens"), *t;
    if (!cJSON_GetArraySize(tokens)) {
        dash_put_empty(out, "No tokens", "Make one above, or list them in tend.yaml.");
        dash_page_close(out, ctx);
        return;
    }
    buf_puts(out, "<div class=\"table-wrap\"><table class=\"grid tokens\"><thead><tr><th>Name"
                  "</th><th>Scope</th><th>From</th><th>Made by</th><th>Status</th><th></th></tr>"
                  "</thead><tbody>\n");
    cJSON_ArrayForEach(t, tokens) {
        const char *name = get_str(t, "name"), *source = get_str(t, "source");
        const char *revoked = get_str(t, "revoked");
        buf_puts(out, "<tr><td>");
        html_esc_cut(out, name, CAP_NAME);
        buf_puts(out, "</td><td>");
        html_esc(out, get_str(t, "scope"));
        buf_puts(out, "</td><td>");
        html_esc(out, source);
        buf_puts(out, "</td><td>");
        html_esc_cut(out, get_str(t, "created_by"), CAP_NAME);
        buf_puts(out, "</td><td>");
        if (revoked) {
            buf_puts(out, "revoked ");
            html_esc(out, revoked);
        } else {
            buf_puts(out, "in use");
        }
        buf_puts(out, "</td><td>");
        if (!revoked && name && source && strcmp(source, "app") == 0) {
            char *enc = g_uri_escape_string(name, NULL, false);
            buf_puts(out, "<form class=\"inline\" method=\"post\" action=\"/tokens/");
            html_esc(out, enc);
            buf_puts(out, "/revoke\">");
            g_free(enc);
            dash_put_csrf(out, ctx);
            buf_puts(out, "<button type=\"submit\">Revoke</button></form>");
        }
        buf_puts(out, "</td></tr>\n");
    }
    buf_puts(out, "</tbody></table></div>\n");
    dash_page_close(out, ctx);
}
