/* dash_cockpit.c: the cockpit's list of CTAs at scale (GET /ctas, see
 * dash_ctas.c for the page around it and docs/dashboard.md "The cockpit").
 *
 * One compact row a CTA (about 25 to a screen instead of 4 cards): a
 * checkbox for the bulk actions, priority, title, the account's name with
 * its health and churn risk, owner, due day, value with its currency. The
 * filters are a GET form, so every filter, the sort and the page live in
 * the URL (a link can be shared, the back button works). The bulk form is
 * one POST form holding the CSRF token; the rows' checkboxes join it with
 * the form= attribute, so the page needs no script (the CSP allows none). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/labels.h"
#include "server/dash.h"
#include "server/dash_int.h"
#include "server/html.h"

/* The cockpit's filters, read back from the request's URL. */
struct cockpit_filters {
    char *priority, *type, *rule, *segment, *overdue, *value_min, *value_max, *sort, *per_page,
        *owner, *status, *account;
};

static void filters_read(const struct dash_ctx *ctx, struct cockpit_filters *f) {
    f->priority = dash_query_value(ctx, "priority", 0);
    f->type = dash_query_value(ctx, "type", 0);
    f->rule = dash_query_value(ctx, "rule", 0);
    f->segment = dash_query_value(ctx, "segment", 0);
    f->overdue = dash_query_value(ctx, "overdue", 0);
    f->value_min = dash_query_value(ctx, "value_min", 0);
    f->value_max = dash_query_value(ctx, "value_max", 0);
    f->sort = dash_query_value(ctx, "sort", 0);
    f->per_page = dash_query_value(ctx, "per_page", 0);
    f->owner = dash_query_value(ctx, "owner", 0);
    f->status = dash_query_value(ctx, "status", 0);
    f->account = dash_query_value(ctx, "account", 0);
}

static void filters_free(struct cockpit_filters *f) {
    char **all[] = {&f->priority,  &f->type, &f->rule,     &f->segment, &f->overdue, &f->value_min,
                    &f->value_max, &f->sort, &f->per_page, &f->owner,   &f->status,  &f->account};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        free(*all[i]);
        *all[i] = NULL;
    }
}

static void put_option(struct buf *b, const char *value, const char *label, const char *current) {
    buf_puts(b, "<option value=\"");
    html_esc(b, value);
    buf_putc(b, '"');
    if (current && !strcmp(current, value))
        buf_puts(b, " selected");
    buf_putc(b, '>');
    html_esc_cut(b, label, CAP_SHORT);
    buf_puts(b, "</option>");
}

/* A <select> of fixed choices ({value, label} pairs, "" first = any). */
static void put_select(struct buf *b, const char *name, const char *label,
                       const char *const (*choices)[2], size_t n, const char *current) {
    buf_printf(b, "<label>%s <select name=\"%s\">", label, name);
    for (size_t i = 0; i < n; i++)
        put_option(b, choices[i][0], choices[i][1], current);
    buf_puts(b, "</select></label>");
}

/* A <select> of a facet's names (view.facets.NAME: [{name, count}]). */
static void put_facet(struct buf *b, const char *name, const char *label, const char *any,
                      const cJSON *facet, const char *current) {
    buf_printf(b, "<label>%s <select name=\"%s\">", label, name);
    put_option(b, "", any, current);
    bool seen = !current || !current[0];
    const cJSON *item, *items = cJSON_IsArray(facet) ? facet : NULL;
    cJSON_ArrayForEach(item, items) {
        const char *v = get_str(item, "name");
        if (!v)
            continue;
        char text[200];
        snprintf(text, sizeof text, "%.150s (%lld)", v, get_int(item, "count"));
        put_option(b, v, text, current);
        seen = seen || (current && !strcmp(current, v));
    }
    if (!seen) /* a filter that now matches nothing stays visible */
        put_option(b, current, current, current);
    buf_puts(b, "</select></label>");
}

static void put_hidden(struct buf *b, const char *name, const char *value) {
    if (!value || !value[0])
        return;
    buf_printf(b, "<input type=\"hidden\" name=\"%s\" value=\"", name);
    html_esc(b, value);
    buf_puts(b, "\">");
}

static void put_text_input(struct buf *b, const char *name, const char *label, const char *type,
                           const char *value, const char *extra) {
    buf_printf(b, "<label>%s <input type=\"%s\" name=\"%s\" %s value=\"", label, type, name,
               extra ? extra : "");
    html_esc(b, value);
    buf_puts(b, "\"></label>");
}

/* The filter form: GET /ctas with every filter as a query parameter. */
static void cockpit_filters(struct buf *b, const cJSON *view, const struct cockpit_filters *f) {
    static const char *const priorities[][2] = {
        {"", "Any priority"}, {"high", "High"}, {"medium", "Medium"}, {"low", "Low"}};
    static const char *const types[][2] = {{"", "Any type"},
                                           {"risk", "Risk"},
                                           {"expansion", "Expansion"},
                                           {"opportunity", "Opportunity"},
                                           {"lifecycle", "Lifecycle"}};
    static const char *const overdue[][2] = {
        {"", "Overdue or not"}, {"yes", "Overdue only"}, {"no", "Not overdue"}};
    static const char *const sorts[][2] = {{"", "Most urgent"},
                                           {"value", "Highest value"},
                                           {"due", "Due soonest"},
                                           {"age", "Oldest first"},
                                           {"-age", "Newest first"}};
    const cJSON *facets = get(view, "facets");
    buf_puts(b, "<form class=\"filters cockpit-filters\" method=\"get\" action=\"/ctas\" "
                "role=\"search\">");
    put_hidden(b, "owner", f->owner);
    put_hidden(b, "status", f->status);
    put_hidden(b, "account", f->account);
    put_hidden(b, "per_page", f->per_page);
    put_select(b, "priority", "Priority", priorities, 4, f->priority);
    put_select(b, "type", "Type", types, 5, f->type);
    put_facet(b, "rule", "Rule", "Any rule", get(facets, "rules"), f->rule);
    put_text_input(b, "segment", "Segment", "text", f->segment, "size=\"10\"");
    put_select(b, "overdue", "Overdue", overdue, 3, f->overdue);
    put_text_input(b, "value_min", "Value from", "number", f->value_min, "min=\"0\" step=\"any\"");
    put_text_input(b, "value_max", "to", "number", f->value_max, "min=\"0\" step=\"any\"");
    put_select(b, "sort", "Sort", sorts, 5, f->sort);
    buf_puts(b, "<button type=\"submit\">Apply</button>");
    bool any = (f->priority && *f->priority) || (f->type && *f->type) || (f->rule && *f->rule) ||
               (f->segment && *f->segment) || (f->overdue && *f->overdue) ||
               (f->value_min && *f->value_min) || (f->value_max && *f->value_max) ||
               (f->sort && *f->sort);
    if (any) {
        buf_puts(b, "<a class=\"clear\" href=\"/ctas");
        if (f->owner && *f->owner) {
            buf_puts(b, "?owner=");
            html_url_part(b, f->owner);
        }
        buf_puts(b, "\">Clear</a>");
    }
    buf_puts(b, "</form>\n");
}

/* The bulk form: the rows' checkboxes (form="bulk") choose the CTAs. */
static void cockpit_bulk(struct buf *b, const struct dash_ctx *ctx) {
    buf_puts(b, "<form id=\"bulk\" class=\"bulk\" method=\"post\" action=\"/ctas/bulk\">");
    dash_put_csrf(b, ctx);
    buf_puts(b, "<input type=\"hidden\" name=\"back\" value=\"");
    html_esc(b, ctx && ctx->path ? ctx->path : "/ctas");
    buf_puts(b, "\"><span class=\"bulk-label\">With the ticked CTAs:</span>"
                "<label>Snooze until <input type=\"date\" name=\"until\"></label>"
                "<button type=\"submit\" name=\"action\" value=\"snooze\">Snooze</button>"
                "<label>or assign to <input type=\"text\" name=\"owner\" inputmode=\"email\" "
                "placeholder=\"email\" size=\"18\"></label>"
                "<button type=\"submit\" name=\"action\" value=\"assign\">Reassign</button>"
                "<input type=\"text\" name=\"note\" maxlength=\"500\" placeholder=\"note "
                "(optional)\" aria-label=\"Note\" size=\"16\"></form>\n");
}

/* The risk, a fraction, as a rounded percentage ("37%"). */
static void put_risk(struct buf *b, const cJSON *v) {
    if (!cJSON_IsNumber(v)) {
        buf_puts(b, "<span class=\"muted\">" HTML_DASH "</span>");
        return;
    }
    double p = v->valuedouble * 100;
    buf_printf(b, "<span class=\"risk%s\">%.0f%%</span>", p >= 50 ? " high" : "", round(p));
}

/* One CTA as one table row. */
static void cockpit_row(struct buf *b, const cJSON *c, const char *currency) {
    long long id = get_int(c, "id");
    const char *priority = get_str(c, "priority");
    bool overdue = cJSON_IsTrue(get(c, "overdue"));
    const char *status = get_str(c, "status");
    bool live = status && (!strcmp(status, "open") || !strcmp(status, "snoozed"));
    buf_printf(b, "<tr id=\"cta-%lld\" class=\"cta-row%s\"><td class=\"pick\">", id,
               overdue ? " overdue" : "");
    if (live)
        buf_printf(b,
                   "<input type=\"checkbox\" name=\"id\" value=\"%lld\" form=\"bulk\" "
                   "aria-label=\"Pick CTA %lld\">",
                   id, id);
    buf_puts(b, "</td><td><span class=\"prio ");
    dash_put_class_word(b, priority);
    buf_puts(b, "\">");
    html_esc_cut(b, priority ? priority : "?", CAP_SHORT);
    buf_printf(b, "</span></td><td class=\"title\"><a href=\"/ctas/%lld\"", id);
    const char *reason = get_str(c, "reason");
    if (reason && *reason) { /* the reason as the link's tooltip: the row stays one line */
        buf_puts(b, " title=\"");
        html_esc_cut(b, reason, CAP_REASON);
        buf_putc(b, '"');
    }
    buf_putc(b, '>');
    const char *title = get_str(c, "title");
    html_esc_cut(b, title && *title ? title : get_str(c, "rule"), CAP_NAME);
    buf_puts(b, "</a>");
    if (status && strcmp(status, "open") != 0) {
        buf_puts(b, " ");
        dash_cta_status(b, c);
    }
    buf_puts(b, "</td><td class=\"name\">");
    dash_put_account_link(b, get_str(c, "account_id"), get_str(c, "account_name"));
    buf_puts(b, "</td><td class=\"num score\">");
    const cJSON *health = get(c, "health");
    if (cJSON_IsNumber(health))
        buf_printf(b, "<strong>%.1f</strong> ", health->valuedouble);
    dash_put_band_pill(b, get_str(c, "health_band"));
    buf_puts(b, "</td><td class=\"num\">");
    put_risk(b, get(c, "risk"));
    buf_puts(b, "</td><td class=\"owner\">");
    const char *owner = get_str(c, "owner");
    if (owner && *owner)
        html_esc_cut(b, owner, CAP_SHORT);
    else
        buf_puts(b, "<span class=\"muted\">unassigned</span>");
    buf_printf(b, "</td><td class=\"due%s\">", overdue ? " overdue" : "");
    html_date(b, get_str(c, "due_date"));
    if (overdue)
        buf_puts(b, " <strong>overdue</strong>");
    buf_puts(b, "</td><td class=\"num value\">");
    const cJSON *value = get(c, "value");
    if (cJSON_IsNumber(value)) {
        char money[64];
        labels_money(value->valuedouble, currency, money, sizeof money);
        html_esc(b, money);
    } else {
        buf_puts(b, "<span class=\"muted\">" HTML_DASH "</span>");
    }
    buf_puts(b, "</td></tr>\n");
}

void dash_put_csv_link(struct buf *b, const struct dash_ctx *ctx, const char *base) {
    static const char *const drop[] = {"format", NULL};
    char path[512];
    if (!base) { /* the page's own path (percent-encoded by the web layer) */
        const char *p = ctx && ctx->path ? ctx->path : "/";
        int n = (int)strcspn(p, "?");
        snprintf(path, sizeof path, "%.*s", n, p);
        base = path;
    }
    buf_puts(b, "<a class=\"export\" download href=\"");
    dash_put_href_query(b, base, ctx, drop, "format=csv");
    buf_puts(b, "\">Export CSV</a>");
}

void dash_put_export(struct buf *b, const struct dash_ctx *ctx) {
    buf_puts(b, "<p class=\"export-line\">");
    dash_put_csv_link(b, ctx, NULL);
    buf_puts(b, "</p>\n");
}

void dash_cockpit_list(struct buf *out, const struct dash_ctx *ctx, const cJSON *view) {
    struct cockpit_filters f;
    filters_read(ctx, &f);
    const char *currency = get_str(view, "currency");
    cockpit_filters(out, view, &f);
    const cJSON *ctas = get(view, "ctas");
    long long shown = cJSON_IsArray(ctas) ? cJSON_GetArraySize(ctas) : 0;
    long long total = get_int(view, "total");
    long long page = get_int(view, "page"), per_page = get_int(view, "per_page");
    if (page < 1)
        page = 1;
    if (per_page < 1)
        per_page = shown > 0 ? shown : 1;
    if (shown == 0) {
        bool mine = !f.owner || !*f.owner || !strcmp(f.owner, "me");
        if (mine && total == 0 && page == 1)
            dash_put_empty(out, "Nothing to do",
                           "No CTAs here are assigned to you. <a href=\"/ctas?owner=all\">See "
                           "everyone&#39;s CTAs</a>.");
        else
            dash_put_empty(out, "No CTAs", "No CTA matches these filters on this page.");
        if (total > 0)
            dash_put_pages(out, ctx, "/ctas", total, page, per_page, shown);
        filters_free(&f);
        return;
    }
    cockpit_bulk(out, ctx);
    buf_puts(out, "<div class=\"table-wrap\"><table class=\"grid cockpit\"><thead><tr>"
                  "<th><span class=\"sr\">Pick</span></th><th>Priority</th><th>CTA</th>"
                  "<th>Account</th><th class=\"num\">Health score</th>"
                  "<th class=\"num\">Churn risk</th><th>Owner</th><th>Due</th>"
                  "<th class=\"num\">Value</th></tr></thead><tbody>\n");
    const cJSON *c;
    cJSON_ArrayForEach(c, ctas) {
        cockpit_row(out, c, currency);
    }
    buf_puts(out, "</tbody></table></div>\n<div class=\"under-table\">");
    dash_put_pages(out, ctx, "/ctas", total, page, per_page, shown);
    dash_put_csv_link(out, ctx, "/ctas");
    buf_puts(out, "</div>\n");
    filters_free(&f);
}

void dash_cta_playbook(struct buf *out, const struct dash_ctx *ctx, const cJSON *view) {
    const cJSON *pb = get(view, "playbook");
    if (!cJSON_IsObject(pb))
        return;
    long long id = get_int(view, "id");
    const char *status = get_str(view, "status");
    bool live = status && strcmp(status, "closed") != 0;
    buf_printf(out,
               "<section class=\"card playbook\"><h2>Playbook <span class=\"sub\">%lld of "
               "%lld done</span></h2><ol class=\"steps\">",
               get_int(pb, "done"), get_int(pb, "total"));
    const cJSON *st, *steps = get(pb, "steps");
    if (!cJSON_IsArray(steps))
        steps = NULL;
    cJSON_ArrayForEach(st, steps) {
        bool done = cJSON_IsTrue(get(st, "done"));
        const char *step = get_str(st, "id");
        buf_printf(out, "<li class=\"step%s\" id=\"step-", done ? " done" : "");
        dash_put_class_word(out, step);
        buf_puts(out, "\">");
        if (live) {
            buf_printf(out, "<form method=\"post\" action=\"/ctas/%lld/step\">", id);
            dash_put_csrf(out, ctx);
            buf_puts(out, "<input type=\"hidden\" name=\"back\" value=\"");
            html_esc(out, ctx && ctx->path ? ctx->path : "/ctas");
            buf_puts(out, "\"><input type=\"hidden\" name=\"step\" value=\"");
            html_esc(out, step);
            buf_printf(out,
                       "\"><input type=\"hidden\" name=\"done\" value=\"%s\">"
                       "<button type=\"submit\" class=\"tick\" aria-pressed=\"%s\" "
                       "aria-label=\"%s\">%s</button></form>",
                       done ? "0" : "1", done ? "true" : "false",
                       done ? "Mark not done" : "Mark done",
                       done ? "\xe2\x98\x91" : "\xe2\x98\x90");
        } else {
            buf_puts(out, done ? "\xe2\x98\x91 " : "\xe2\x98\x90 ");
        }
        buf_puts(out, "<span class=\"step-title\">");
        html_esc_cut(out, get_str(st, "title"), CAP_REASON);
        buf_puts(out, "</span>");
        if (get_str(st, "by")) {
            buf_puts(out, "<span class=\"muted step-by\">");
            buf_puts(out, done ? "done by " : "undone by ");
            html_esc_cut(out, get_str(st, "by"), CAP_SHORT);
            buf_puts(out, ", ");
            html_time(out, get_str(st, "at"), ctx ? ctx->tz : NULL);
            buf_puts(out, "</span>");
        }
        buf_puts(out, "</li>");
    }
    buf_puts(out, "</ol></section>\n");
}

/* The cockpit's rules, appended to /static/tend.css (web.c): rows of one
 * line, a bulk bar, the playbook checklist, the export link and the
 * portfolio header of the accounts page. */
const char dash_cockpit_css[] =
    "\n/* the cockpit (dash_cockpit.c) */\n"
    ".grid.cockpit th, .grid.cockpit td { padding: 5px 8px; white-space: nowrap; }\n"
    ".grid.cockpit td.title { max-width: 360px; overflow: hidden; text-overflow: ellipsis; }\n"
    ".grid.cockpit td.name { max-width: 220px; overflow: hidden; text-overflow: ellipsis; }\n"
    ".grid.cockpit tr.overdue td.due { color: var(--red); }\n"
    ".grid.cockpit td.pick { width: 28px; }\n"
    ".risk.high { color: var(--red); font-weight: 600; }\n"
    ".sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }\n"
    ".cockpit-filters input[type=number] { width: 90px; }\n"
    ".bulk { display: flex; flex-wrap: wrap; align-items: center; gap: 8px 12px; margin: 0 0 "
    "10px;\n"
    "  padding: 8px 12px; background: var(--surface); border: 1px solid var(--line);\n"
    "  border-radius: 8px; }\n"
    ".bulk .bulk-label { font-weight: 600; }\n"
    ".under-table { display: flex; align-items: center; justify-content: space-between; gap: 12px; "
    "}\n"
    ".under-table .pages { flex: 1; }\n"
    "a.export { font-size: 13px; white-space: nowrap; }\n"
    ".steps { list-style: none; margin: 0; padding: 0; }\n"
    ".steps .step { display: flex; align-items: center; gap: 8px; padding: 4px 0; }\n"
    ".steps .step form { display: inline; margin: 0; }\n"
    ".steps .tick { font-size: 18px; line-height: 1; padding: 0 4px; background: none; border: 0;\n"
    "  cursor: pointer; }\n"
    ".steps .step.done .step-title { text-decoration: line-through; color: var(--muted); }\n"
    ".steps .step-by { font-size: 12px; }\n"
    ".portfolio { display: flex; flex-wrap: wrap; gap: 10px; margin: 0 0 14px; }\n"
    ".portfolio .tile { background: var(--surface); border: 1px solid var(--line);\n"
    "  border-radius: 8px; padding: 8px 14px; min-width: 150px; }\n"
    ".portfolio .tile .n { display: block; font-size: 18px; font-weight: 650; }\n"
    ".portfolio .tile.red .n { color: var(--red); }\n"
    ".portfolio .tile.yellow .n { color: var(--yellow); }\n"
    ".portfolio .tile.green .n { color: var(--green); }\n"
    ".portfolio .tile .what { font-size: 12px; color: var(--muted); }\n"
    ".foot .version { margin-left: 8px; }\n"
    ".export-line { text-align: right; margin: 6px 0 0; }\n";
