/* dash_int.h: what the dashboard's page files share, and nobody else.
 *
 * dash.c holds the frame of every page (head, navigation, flash notice,
 * footer); dash_model.c (the risk ranking and the model card) draws its pages
 * inside the same frame through these calls. */
#ifndef TEND_SERVER_DASH_INT_H
#define TEND_SERVER_DASH_INT_H

#include "server/dash.h"
#include "util/buf.h"

/* The navigation entry a page is under (aria-current in the top bar). */
enum dash_nav {
    NAV_NONE,
    NAV_ACCOUNTS,
    NAV_RISK,
    NAV_CTAS,
    NAV_RULES,
    NAV_MODEL,
    NAV_DELIVERY,
    NAV_REPORTS
};

/* Appends the document's head, the top navigation (when ctx is set) and the
 * flash notice, up to the open <main>. title is outside text (escaped). */
void dash_page_open(struct buf *b, const struct dash_ctx *ctx, const char *title, enum dash_nav at);
/* Closes <main>, appends the footer (when ctx is set) and ends the document. */
void dash_page_close(struct buf *b, const struct dash_ctx *ctx);
/* Appends an empty state: a title and a sentence, both trusted markup. */
void dash_put_empty(struct buf *b, const char *title, const char *html);

#endif
