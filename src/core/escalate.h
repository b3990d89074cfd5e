/* escalate.h: escalation of CTAs nobody acts on (docs/delivery.md,
 * Escalation), as pure decisions.
 *
 * A live CTA can escalate at two levels, each at most once:
 * - level 1, "unacted": nobody acted on it (a snooze, close or assign, with
 *   or without a note: any entry of its history by someone other than
 *   tend) within unacted_hours of its opening;
 * - level 2, "overdue": it is still open overdue_days after its due date.
 * An escalation raises the CTA one priority step (where there is one), and
 * tells the owner's manager (escalation.managers, else escalation.contact).
 * The thresholds are the CTA's current priority's. Hours count business
 * hours (escalation.business_hours: local start and end, working days,
 * holidays, in serve.timezone) unless the priority's clock is "wall" (high
 * by default): a CTA opened on a Friday evening at medium does not escalate
 * before Monday, one at high does on Saturday.
 *
 * Nothing here reads a clock, the store or a time-zone file: the caller
 * passes now and the zone as a function from an instant to its UTC offset
 * (eval/escalate.c gives glib's GTimeZone of serve.timezone), so the
 * business-hours arithmetic, DST changes included, is tested alone. */
#ifndef TEND_CORE_ESCALATE_H
#define TEND_CORE_ESCALATE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/cta.h"
#include "util/err.h"

#define ESC_ERR_BYTES    320
#define ESC_MAX_MANAGERS 1000 /* entries of escalation.managers */
#define ESC_MAX_HOLIDAYS 400  /* dates of escalation.business_hours.holidays */
#define ESC_MAX_HOURS    8760 /* a year: the largest unacted_hours */
#define ESC_MAX_DAYS     365  /* the largest overdue_days */
#define ESC_PER_PASS     200  /* the default max_per_pass */

enum esc_level { ESC_UNACTED = 1, ESC_OVERDUE = 2 };

/* The thresholds of one priority; < 0: that level never escalates. */
struct esc_priority {
    double unacted_hours;
    int overdue_days;
    bool wall_clock; /* hours and days count round the clock, every day */
};

struct esc_manager {
    char *owner, *manager;
};

struct esc_config {
    bool enabled;                 /* the escalation section is present and not disabled */
    struct esc_priority prio[3];  /* by enum cta_priority */
    int start_minute, end_minute; /* business hours, local, minutes after midnight */
    bool days[7];                 /* working days, Monday first */
    int32_t *holidays;            /* local dates (day numbers), ascending; malloced */
    size_t n_holidays;
    struct esc_manager *managers; /* malloced */
    size_t n_managers;
    char *contact;    /* the default escalation contact; NULL: none */
    int max_per_pass; /* CTAs escalated by one pass at most; the rest wait for the next */
};

/* The defaults (docs/config.md): off; when on, high 4 wall-clock hours and
 * 1 day overdue, medium 16 business hours and 2, low 5 overdue only;
 * 09:00-17:00 Monday to Friday, no holidays, no managers, no contact. */
void esc_config_default(struct esc_config *c);
/* Loads tend.yaml's escalation section (NULL: the defaults, off). On a
 * mistake returns TEND_ERR_INVALID with "escalation.PATH: problem" in err
 * (ESC_ERR_BYTES); c is then released. Unknown keys are refused. */
enum tend_err esc_config_load(const cJSON *section, struct esc_config *c, char *err);
void esc_config_release(struct esc_config *c);
/* The manager of owner: its managers entry, else the contact; NULL: none. */
const char *esc_manager_of(const struct esc_config *c, const char *owner);

/* A time zone: the UTC offset, in seconds, in force at an instant. */
struct esc_zone {
    int32_t (*offset_s)(void *arg, int64_t utc_ms);
    void *arg;
};

/* The instant the business hours of c reach `hours` after from_ms: business
 * hours are counted from from_ms (skipping nights, days off and holidays),
 * 0 hours giving the first business instant at or after from_ms. Local
 * times a DST change skips or repeats are read as glib does (the first
 * instant after a gap, the earlier of a repeat); a business day is as long
 * as its hours are in real time. Bounded: gives INT64_MAX past ten years. */
int64_t esc_business_add(const struct esc_config *c, const struct esc_zone *z, int64_t from_ms,
                         double hours);

/* The local date (day number) of an instant, and the instant a local date
 * and minute of day begin. */
int32_t esc_local_day(const struct esc_zone *z, int64_t utc_ms);
int64_t esc_local_instant(const struct esc_zone *z, int32_t day, int minute);

/* What the planner needs of one open CTA. */
struct esc_cta {
    int64_t id;
    enum cta_priority priority;
    int32_t opened_day, due_day;
    int64_t open_ms;      /* its opening in its history (0: unknown; the end of opened_day) */
    int64_t first_act_ms; /* the first entry by a person (0: none) */
    unsigned levels_done; /* bit 1 << level for each level escalated already */
};

/* One escalation that is due. */
struct esc_due {
    enum esc_level level;
    int64_t deadline_ms;
    enum cta_priority from, to; /* to == from: already the highest */
    char reason[160];           /* "not acted on for 16 business hours" ... */
};

/* The escalations of x due at now_ms (at most one per level, level 1
 * first); returns how many were written into out (room for 2). */
int esc_plan(const struct esc_config *c, const struct esc_zone *z, const struct esc_cta *x,
             int64_t now_ms, struct esc_due out[2]);

/* "unacted", "overdue". */
const char *esc_level_name(enum esc_level l);

#endif
