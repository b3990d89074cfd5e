/* dash_users.c: the users section of an account's page (see dash_users.h).
 *
 * One row per user: members first (champion, admin, billing, user, then no
 * role), then former members, greyed, with the day they left. The 12 weeks
 * of logins are bars of an inline SVG scaled to the user's busiest week, so
 * a champion going quiet shows as bars that stop; colours are SVG
 * attributes, not styles (the dashboard's CSP allows no inline style). */
#include "server/dash_users.h"

#include <math.h>
#include <stdio.h>

#include "server/dash_int.h"
#include "server/html.h"

#define BAR_W 6
#define BAR_H 20
#define WEEKS 12
#define BLUE  "#2e90fa"
#define TRACK "#eaecf0"
#define MUTED "#98a2b3"

/* The 12 weeks' logins as bars, the newest on the right. */
static void put_weeks(struct buf *b, const cJSON *weeks, bool member) {
    double v[WEEKS] = {0}, most = 0;
    int n = 0;
    const cJSON *w;
    cJSON_ArrayForEach(w, weeks) {
        if (n == WEEKS)
            break;
        v[n] = cJSON_IsNumber(w) && w->valuedouble > 0 ? w->valuedouble : 0;
        most = v[n] > most ? v[n] : most;
        n++;
    }
    buf_printf(b,
               "<svg class=\"spark logins\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
               "role=\"img\" aria-label=\"logins per week, 12 weeks, oldest first:",
               WEEKS * BAR_W, BAR_H, WEEKS * BAR_W, BAR_H);
    for (int i = 0; i < n; i++)
        buf_printf(b, " %.0f", v[i]);
    buf_puts(b, "\">");
    for (int i = 0; i < n; i++) {
        double h = most > 0 ? ceil(v[i] / most * (BAR_H - 2)) : 0;
        buf_printf(b, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"1\" fill=\"%s\"/>", i * BAR_W,
                   BAR_H - 1, BAR_W - 1, TRACK);
        if (h > 0)
            buf_printf(b, "<rect x=\"%d\" y=\"%.0f\" width=\"%d\" height=\"%.0f\" fill=\"%s\"/>",
                       i * BAR_W, BAR_H - 1 - h, BAR_W - 1, h, member ? BLUE : MUTED);
    }
    buf_puts(b, "</svg>");
}

static void put_count(struct buf *b, const cJSON *o, const char *key) {
    const cJSON *v = get(o, key);
    if (cJSON_IsNumber(v))
        buf_printf(b, "%.0f", v->valuedouble);
    else
        buf_puts(b, HTML_DASH);
}

void dash_account_users(struct buf *b, const cJSON *users) {
    if (!users)
        return;
    buf_puts(b, "<section class=\"card users\" id=\"users\"><h2>Users</h2>");
    if (!cJSON_IsArray(users) || cJSON_GetArraySize(users) == 0) {
        buf_puts(b, "<p class=\"muted\">No users are members of this account.</p></section>\n");
        return;
    }
    buf_puts(b, "<div class=\"table-wrap\"><table class=\"grid users\"><thead><tr><th>User</th>"
                "<th>Role</th><th>Last login</th><th class=\"num\">Logins 30d</th>"
                "<th class=\"num\">Last 4 weeks</th><th>12 weeks</th>"
                "<th class=\"num\">Features 30d</th><th class=\"num\">NPS</th>"
                "<th class=\"num\">Replies 90d</th></tr></thead><tbody>");
    const cJSON *u;
    cJSON_ArrayForEach(u, users) {
        bool member = cJSON_IsTrue(get(u, "member"));
        const char *role = get_str(u, "role");
        buf_puts(b, member ? "<tr>" : "<tr class=\"former\">");
        buf_puts(b, "<td>");
        html_esc_cut(b, get_str(u, "user"), CAP_SHORT);
        const char *name = get_str(u, "name");
        if (name && *name) {
            buf_puts(b, "<br><span class=\"muted\">");
            html_esc_cut(b, name, CAP_SHORT);
            buf_puts(b, "</span>");
        }
        if (!member) {
            buf_puts(b, "<br><span class=\"muted\">left ");
            html_date(b, get_str(u, "left"));
            buf_puts(b, "</span>");
        }
        buf_puts(b, "</td><td>");
        if (role && *role) {
            buf_puts(b, "<span class=\"pill role ");
            dash_put_class_word(b, role);
            buf_puts(b, "\">");
            html_esc_cut(b, role, CAP_SHORT);
            buf_puts(b, "</span>");
        } else {
            buf_puts(b, "<span class=\"muted\">" HTML_DASH "</span>");
        }
        buf_puts(b, "</td><td>");
        const char *last = get_str(u, "last_login");
        if (last) {
            html_date(b, last);
            const cJSON *d = get(u, "days_since_login");
            if (cJSON_IsNumber(d))
                buf_printf(b, " <span class=\"muted\">(%.0f days)</span>", d->valuedouble);
        } else {
            buf_puts(b, "<span class=\"muted\">none in 12 weeks</span>");
        }
        buf_puts(b, "</td><td class=\"num\">");
        put_count(b, u, "logins_30d");
        buf_puts(b, "</td><td class=\"num\">");
        put_count(b, u, "logins_4w");
        const cJSON *trend = get(u, "trend");
        if (cJSON_IsNumber(trend) && isfinite(trend->valuedouble))
            buf_printf(b, " <span class=\"muted\">(%+.0f%%)</span>", trend->valuedouble * 100);
        buf_puts(b, "</td><td>");
        put_weeks(b, get(u, "weeks"), member);
        buf_puts(b, "</td><td class=\"num\">");
        put_count(b, u, "features_30d");
        buf_puts(b, "</td><td class=\"num\">");
        put_count(b, u, "nps");
        buf_puts(b, "</td><td class=\"num\">");
        put_count(b, u, "replies_90d");
        buf_puts(b, "</td></tr>\n");
    }
    buf_puts(b, "</tbody></table></div></section>\n");
}
