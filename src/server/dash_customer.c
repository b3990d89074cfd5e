/* dash_customer.c: the account page's "Customer messages" card: what tend
 * wrote (or withheld) to the account's billing contact and who unsubscribed
 * (views_customer.c gives the view's customer_messages and unsubscribes). */
#include <string.h>

#include "server/dash_int.h"
#include "server/html.h"

void dash_account_customer(struct buf *b, const struct dash_ctx *ctx, const cJSON *view) {
    const cJSON *msgs = get(view, "customer_messages");
    const cJSON *unsubs = get(view, "unsubscribes");
    int n = cJSON_IsArray(msgs) ? cJSON_GetArraySize(msgs) : 0;
    int u = cJSON_IsArray(unsubs) ? cJSON_GetArraySize(unsubs) : 0;
    if (n == 0 && u == 0)
        return; /* customer messages off, or none yet: no card */
    buf_puts(b, "<section class=\"card\" id=\"customer-messages\"><h2>Customer messages</h2>");
    if (n) {
        buf_puts(b, "<div class=\"table-wrap\"><table "
                    "class=\"grid\"><thead><tr><th>When</th><th>Message</th>"
                    "<th>To</th><th>Subject</th><th>State</th></tr></thead><tbody>");
        const cJSON *m;
        cJSON_ArrayForEach(m, msgs) {
            buf_puts(b, "<tr><td>");
            html_time(b, get_str(m, "at"), ctx ? ctx->tz : NULL);
            buf_puts(b, "</td><td>");
            html_esc_cut(b, get_str(m, "title"), CAP_SHORT);
            const char *kind = get_str(m, "kind");
            if (kind && strcmp(kind, "payment_failed") != 0)
                buf_printf(b, ", %lld days before", get_int(m, "step"));
            buf_puts(b, "</td><td>");
            const char *to = get_str(m, "to");
            if (to)
                html_esc_cut(b, to, CAP_SHORT);
            else
                buf_puts(b, HTML_DASH);
            buf_puts(b, "</td><td>");
            html_esc_cut(b, get_str(m, "subject"), CAP_NAME);
            buf_puts(b, "</td><td>");
            html_esc_cut(b, get_str(m, "state"), CAP_REASON);
            buf_puts(b, "</td></tr>\n");
        }
        buf_puts(b, "</tbody></table></div>");
    }
    if (u) {
        buf_puts(b, "<h3>Unsubscribed</h3><ul class=\"unsubscribes\">");
        const cJSON *x;
        cJSON_ArrayForEach(x, unsubs) {
            buf_puts(b, "<li>");
            html_esc_cut(b, get_str(x, "contact"), CAP_SHORT);
            buf_puts(b, " from ");
            html_esc_cut(b, get_str(x, "title"), CAP_SHORT);
            buf_puts(b, " since ");
            html_time(b, get_str(x, "at"), ctx ? ctx->tz : NULL);
            buf_puts(b, "</li>");
        }
        buf_puts(b, "</ul>");
    }
    buf_puts(b, "</section>\n");
}
