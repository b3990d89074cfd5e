/* labels.h: the words and numbers a person reads (docs/dashboard.md, "Words
 * and numbers").
 *
 * One table gives every metric, health component, score field and piece of
 * CTA evidence a human label and a unit: feature_events_prev_28d is
 * "Feature events, previous 28 days" in events. The pages, the messages
 * (notify) and the CLI's table format print the label; CSV and JSON keep
 * the stable column name, which scripts read. Pure: no I/O, no locale (the
 * separators are the English ones, fixed, so that a test can read them). */
#ifndef TEND_CORE_LABELS_H
#define TEND_CORE_LABELS_H

#include <stdbool.h>
#include <stddef.h>

/* How a value of a column reads. */
enum label_unit {
    LU_COUNT,   /* a plain count: "1,234" followed by the unit word */
    LU_DAYS,    /* days */
    LU_MONEY,   /* an amount in the configured currency */
    LU_PERCENT, /* a fraction 0..1 shown as a percentage */
    LU_SCORE,   /* a 0..100 score, one decimal */
    LU_NUMBER,  /* a number without a unit (NPS) */
    LU_DATE,    /* a YYYY-MM-DD day */
    LU_TEXT     /* words */
};

struct label {
    const char *column; /* the stable name */
    const char *text;   /* "Feature events, previous 28 days" */
    const char *unit;   /* the unit word, singular ("event"); "" when none */
    const char *units;  /* plural ("events") */
    enum label_unit kind;
};

/* The label of a stable column name, or NULL when the table has none. */
const struct label *labels_find(const char *column);
/* The label's text, or column itself when the table has none. */
const char *labels_text(const char *column);
/* Every label, for tests and docs: *n gets the count. */
const struct label *labels_all(size_t *n);

/* A churn-risk model's feature name as a person reads it: a column's label
 * ("Logins, last 7 days"), "component_support" as "Support (health
 * component)", a "_missing" indicator as "LABEL: unknown"; any other name
 * as it is. */
void labels_feature(const char *name, char *out, size_t size);
/* "1 notification", "2 notifications", "1,234 events": n with thousands
 * separators and the singular or plural word. */
void labels_count(long long n, const char *one, const char *many, char *out, size_t size);
/* An amount of money, rounded to whole units, with thousands separators and
 * the currency: a symbol ("$", "€", "£") goes before ("$12,345"); an ISO
 * code goes before with a space ("EUR 12,345"), except USD which is "$".
 * currency NULL or "": "$" (USD, the default). "" when v is not finite. */
void labels_money(double v, const char *currency, char *out, size_t size);
/* A value of the column as a person reads it: money with its currency,
 * percentages as "66.7%" (a fraction 0..1 times 100, one decimal), scores
 * with one decimal, counts grouped with their unit word, days as "12 days".
 * Unknown columns: the number rounded to at most two decimals. */
void labels_value(const char *column, double v, const char *currency, char *out, size_t size);
/* v with thousands separators and decimals (0-3) rounded half away from zero. */
void labels_number(double v, int decimals, char *out, size_t size);

#endif
