/* owner.c: whose a CTA is (see owner.h). */
#include "eval/owner.h"

#include <strings.h>

static bool same_email(const char *a, const char *b) {
    return a && b && a[0] && strcasecmp(a, b) == 0;
}

struct owner_seen {
    const char *email;
    bool mine;
};

static int on_account(void *arg, const struct store_account_row *row) {
    struct owner_seen *o = arg;
    o->mine = o->mine || same_email(row->f.csm_email, o->email);
    return 1;
}

enum tend_err eval_cta_is_mine(struct store *s, const struct store_cta *c, const char *email,
                               bool *mine) {
    *mine = same_email(c->owner, email);
    if (*mine || !email || !email[0])
        return TEND_OK;
    struct owner_seen o = {.email = email};
    enum tend_err e = store_account_get(s, c->account_id, on_account, &o);
    if (e == TEND_ERR_NOTFOUND)
        e = TEND_OK;
    *mine = o.mine;
    return e;
}
