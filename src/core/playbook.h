/* playbook.h: a playbook per rule (tend.yaml `playbooks:`, docs/config.md
 * "playbooks").
 *
 * A playbook is the list of steps a CSM works through on a CTA of its rule
 * ("Call the champion", "Review usage together"). The steps are
 * configuration; which are done on which CTA, by whom and when, is stored
 * (store.h, store_cta_step_set) and shown as a checklist on the CTA. A step
 * is known by its id, so retitling or reordering steps keeps what was ticked.
 *
 *   playbooks:
 *     usage_dip:
 *       - id: call
 *         title: Call the champion
 *       - id: review
 *         title: Review usage with the account
 *
 * Pure: loading checks every key (an unknown one is refused with its path),
 * the rule's name against the configured rules and the sizes below. */
#ifndef TEND_CORE_PLAYBOOK_H
#define TEND_CORE_PLAYBOOK_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "core/rules.h"
#include "util/err.h"

#define PLAYBOOK_MAX_STEPS 20
#define PLAYBOOK_ID_BYTES  41 /* [a-z0-9_-], 1 to 40 */
#define PLAYBOOK_TITLE_MAX 200
#define PLAYBOOK_ERR_BYTES 320

struct playbook_step {
    char id[PLAYBOOK_ID_BYTES];
    char *title;
};

struct playbook {
    char rule[RULES_NAME_BYTES];
    struct playbook_step steps[PLAYBOOK_MAX_STEPS];
    int n_steps;
};

struct playbook_set {
    struct playbook *v;
    int n;
};

/* Reads the `playbooks:` section (a cJSON object or NULL) against the
 * configured rules into *out (the caller frees it with playbook_set_free;
 * NULL when the section is absent or empty). On a mistake returns
 * TEND_ERR_INVALID with err (PLAYBOOK_ERR_BYTES) naming the path, e.g.
 * "playbooks.usage_dip[1].titel: unknown setting". */
enum tend_err playbook_set_load(const cJSON *section, const struct rules_config *rc,
                                struct playbook_set **out, char *err);
/* Frees a set; NULL is fine. */
void playbook_set_free(struct playbook_set *set);
/* The playbook of rule, or NULL. */
const struct playbook *playbook_of(const struct playbook_set *set, const char *rule);
/* The step id of a playbook, or NULL. */
const struct playbook_step *playbook_step(const struct playbook *pb, const char *id);

#endif
