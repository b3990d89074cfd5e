/* vocab.c: the event names of SPEC 1 and their kinds (see vocab.h). */
#include "core/vocab.h"

#include <string.h>

struct vocab_entry {
    enum event_kind kind;
    const char *name;
    const char *key;
};

/* Track kinds at their own index (vocab_kind_of relies on it). */
static const struct vocab_entry vocab[] = {
    {EV_FEATURE, "feature", "feature"},
    {EV_LOGIN, "Signed In", "login"},
    {EV_NPS, "NPS Survey Responded", "nps"},
    {EV_TICKET_OPENED, "Ticket Opened", "ticket_opened"},
    {EV_TICKET_CLOSED, "Ticket Closed", "ticket_closed"},
    {EV_INVOICE_ISSUED, "Invoice Issued", "invoice_issued"},
    {EV_INVOICE_PAID, "Invoice Paid", "invoice_paid"},
    {EV_PAYMENT_FAILED, "Payment Failed", "payment_failed"},
    {EV_CARD_UPDATED, "Payment Method Updated", "card_updated"},
    {EV_OUTREACH_SENT, "Outreach Sent", "outreach_sent"},
    {EV_OUTREACH_REPLIED, "Outreach Replied", "outreach_replied"},
    {EV_GOAL_SET, "Goal Set", "goal_set"},
    {EV_MILESTONE_DUE, "Onboarding Milestone Due", "milestone_due"},
    {EV_MILESTONE_DONE, "Onboarding Milestone Completed", "milestone_completed"},
    {EV_RENEWED, "Account Renewed", "renewed"},
    {EV_CHURNED, "Account Churned", "churned"},
    {EV_USER_REMOVED, "Account Removed User", "user_removed"},
    {EV_SUB_CHANGED, "Subscription Changed", "subscription_changed"},
    {EV_IDENTIFY, "identify", "identify"},
    {EV_GROUP, "group", "group"},
    {EV_PAGE, "page", "page"},
    {EV_SCREEN, "screen", "screen"},
    {EV_ALIAS, "alias", "alias"},
};

#define N_VOCAB (sizeof vocab / sizeof vocab[0])
_Static_assert(EV_TRACK_LAST == 17, "vocab[] lists every track kind at its index");

enum event_kind vocab_kind_of(const char *name, size_t len) {
    /* Every meaningful name starts with an upper-case ASCII letter: a cheap
     * first test keeps the common lower-case or short feature event fast. */
    if (len == 0 || name[0] < 'A' || name[0] > 'Z')
        return EV_FEATURE;
    for (size_t i = 1; i <= EV_TRACK_LAST; i++) {
        if (vocab[i].name[0] == name[0] && strlen(vocab[i].name) == len &&
            memcmp(vocab[i].name, name, len) == 0)
            return vocab[i].kind;
    }
    return EV_FEATURE;
}

static const struct vocab_entry *entry_of(enum event_kind kind) {
    for (size_t i = 0; i < N_VOCAB; i++) {
        if (vocab[i].kind == kind)
            return &vocab[i];
    }
    return &vocab[0];
}

const char *vocab_kind_name(enum event_kind kind) {
    return entry_of(kind)->name;
}

const char *vocab_kind_key(enum event_kind kind) {
    return entry_of(kind)->key;
}
