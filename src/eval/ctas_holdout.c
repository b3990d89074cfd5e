/* ctas_holdout.c: the randomised holdout in an evaluation (core/holdout.h,
 * docs/analysis.md "Impact").
 *
 * When a CTA of a rule with a holdout opens, the account's draw for the rule
 * is recorded with the CTA (store_holdout_put), held out or not: the record
 * is what tend analyze impact compares, and it is the only thing that says
 * later whether the CTA is delivered. Every notification of a CTA (its
 * open, raise, wake, resolve, expire) asks the record, so a held-out CTA
 * reaches no channel for its whole life, even if the rule's holdout is
 * changed or removed meanwhile; a CTA of a rule that had no holdout when it
 * opened has no record and is delivered as always. A CTA the weekly budget
 * held back has no id yet: its draw is computed, not read. */
#include <string.h>

#include "core/holdout.h"
#include "eval/ctas_int.h"

/* The settings of the rule named name; NULL when none (a rule since
 * removed from tend.yaml). */
static const struct rule_settings *rule_of(const struct rules_config *rc, const char *name) {
    for (int i = 0; name && i < rc->n_rules; i++)
        if (strcmp(rc->rules[i].name, name) == 0)
            return &rc->rules[i];
    return NULL;
}

enum tend_err ctas_holdout_record(struct engine *e, const struct store_cta *c,
                                  const char *account) {
    const struct rule_settings *r = rule_of(e->rc, c->rule);
    if (!r || r->holdout <= 0)
        return TEND_OK;
    double draw = holdout_draw(r->holdout_seed, account, c->rule);
    struct store_holdout h = {.cta_id = c->id,
                              .account_id = c->account_id,
                              .rule = c->rule,
                              .day = c->opened_day,
                              .share = r->holdout,
                              .draw = draw,
                              .held_out = holdout_held(r->holdout, draw)};
    return store_holdout_put(e->s, &h);
}

enum tend_err ctas_holdout_of(struct engine *e, const struct store_cta *c, const char *account,
                              bool *held) {
    *held = false;
    if (c->id > 0) {
        struct store_holdout h;
        bool found = false;
        enum tend_err err = store_holdout_get(e->s, c->id, &h, &found);
        if (!err && found)
            *held = h.held_out;
        return err;
    }
    const struct rule_settings *r = rule_of(e->rc, c->rule);
    if (r && r->holdout > 0 && account)
        *held = holdout_held(r->holdout, holdout_draw(r->holdout_seed, account, c->rule));
    return TEND_OK;
}
