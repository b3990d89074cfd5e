/* dash_notes.c: the notes section of the account and CTA pages
 * (docs/dashboard.md, "Notes and activities"): the form that records a
 * call, email, meeting, text or note, and the latest notes. Pure: renders
 * the views' "notes" array; the form posts to /accounts/{id}/notes or
 * /ctas/{id}/note, which go back to the page with a notice. */
#include <stdio.h>

#include "server/dash.h"
#include "server/dash_int.h"
#include "server/html.h"

/* The form's text, at most (the server checks again: NOTE_BODY_MAX_BYTES). */
#define FORM_TEXT_MAX 2000

void dash_notes_section(struct buf *b, const struct dash_ctx *ctx, const cJSON *notes,
                        const char *account, long long cta_id) {
    buf_puts(b, "<section class=\"card notes\"><h2>Notes and activities</h2>");
    if (cta_id > 0) {
        buf_printf(b, "<form class=\"note-form\" method=\"post\" action=\"/ctas/%lld/note\">",
                   cta_id);
    } else {
        buf_puts(b, "<form class=\"note-form\" method=\"post\" action=\"/accounts/");
        html_url_part(b, account ? account : "");
        buf_puts(b, "/notes\">");
    }
    dash_put_csrf(b, ctx);
    buf_puts(b, "<input type=\"hidden\" name=\"back\" value=\"");
    html_esc(b, ctx && ctx->path ? ctx->path : "/accounts");
    buf_puts(b, "\"><label>Kind <select name=\"kind\">"
                "<option value=\"call\">call</option><option value=\"email\">email</option>"
                "<option value=\"meeting\">meeting</option><option value=\"text\">text</option>"
                "<option value=\"note\">note</option></select></label>");
    buf_printf(b,
               "<textarea name=\"text\" required maxlength=\"%d\" rows=\"2\" "
               "placeholder=\"What happened (who, what was agreed)\" "
               "aria-label=\"Note text\"></textarea><button type=\"submit\">Record</button></form>",
               FORM_TEXT_MAX);
    if (!cJSON_IsArray(notes) || cJSON_GetArraySize(notes) == 0) {
        buf_puts(b, "<p class=\"muted\">No notes yet.</p></section>\n");
        return;
    }
    buf_puts(b, "<div class=\"table-wrap\"><table class=\"grid\"><thead><tr><th>When</th>"
                "<th>Kind</th><th>By</th><th>CTA</th><th>Text</th></tr></thead><tbody>");
    const cJSON *n;
    cJSON_ArrayForEach(n, notes) {
        buf_puts(b, "<tr><td>");
        html_time(b, get_str(n, "at"), ctx ? ctx->tz : NULL);
        buf_puts(b, "</td><td>");
        html_esc_cut(b, get_str(n, "kind"), CAP_SHORT);
        buf_puts(b, "</td><td>");
        html_esc_cut(b, get_str(n, "by"), CAP_SHORT);
        buf_puts(b, "</td><td>");
        long long c = get_int(n, "cta_id");
        if (c > 0)
            buf_printf(b, "<a href=\"/ctas/%lld\">%lld</a>", c, c);
        else
            buf_puts(b, "<span class=\"muted\">" HTML_DASH "</span>");
        buf_puts(b, "</td><td>");
        html_esc_cut(b, get_str(n, "text"), CAP_REASON);
        buf_puts(b, "</td></tr>\n");
    }
    buf_puts(b, "</tbody></table></div></section>\n");
}
