/* transform.c: the column recipe (see transform.h): fitted on training rows,
 * applied to any row with the training statistics only.
 *
 * The recipe is a fixed-size value (64 columns, about 7 KB) rather than an
 * allocated object: it is copied into a model, stored, compared in tests, and
 * freed by nobody. Mean and sd are by two passes over the present values
 * after the transform, so a column of money in the millions loses no digits. */
#include "stats/transform.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "stats/logit.h"

/* Writes the formatted message into err (STATS_ERR_BYTES); returns e. */
static enum tend_err fail(char *err, enum tend_err e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static enum tend_err fail(char *err, enum tend_err e, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, STATS_ERR_BYTES, fmt, ap);
    va_end(ap);
    return e;
}

/* The transformed value of v, NaN when v is missing or outside the
 * transform's domain (an infinity, log1p of a value <= -1). */
static double xform(enum stats_xform x, double v) {
    if (!isfinite(v))
        return NAN;
    if (x == STATS_X_LOG1P)
        return v > -1 ? log1p(v) : NAN;
    return v;
}

static const char *xform_name(enum stats_xform x) {
    return x == STATS_X_LOG1P ? "log1p" : "identity";
}

enum tend_err stats_recipe_fit(const struct stats_xform_col *cols, size_t k, const double *x,
                               size_t n, struct stats_recipe *out, char *err) {
    if (k == 0)
        return fail(err, TEND_ERR_INVALID, "no columns to transform");
    if (k > STATS_RECIPE_MAX_COLUMNS)
        return fail(err, TEND_ERR_LIMIT, "%zu columns: a recipe holds at most %d", k,
                    STATS_RECIPE_MAX_COLUMNS);
    if (n == 0)
        return fail(err, TEND_ERR_INVALID, "no training rows");
    struct stats_recipe r;
    memset(&r, 0, sizeof r);
    r.n_in = k;
    for (size_t j = 0; j < k; j++) {
        const char *name = cols[j].name;
        if (!name || !*name)
            return fail(err, TEND_ERR_INVALID, "column %zu has no name", j + 1);
        if (strlen(name) >= STATS_RECIPE_NAME_BYTES)
            return fail(err, TEND_ERR_LIMIT, "column %zu: the name %.40s... is over %d bytes",
                        j + 1, name, STATS_RECIPE_NAME_BYTES - 1);
        for (size_t i = 0; i < j; i++) {
            if (strcmp(cols[i].name, name) == 0)
                return fail(err, TEND_ERR_INVALID, "column %s appears twice", name);
        }
        struct stats_recipe_col *c = &r.col[j];
        memcpy(c->name, name, strlen(name) + 1);
        c->xform = cols[j].xform;
        c->missing_allowed = cols[j].missing_allowed;
        double sum = 0;
        size_t present = 0;
        for (size_t i = 0; i < n; i++) {
            double v = x[i * k + j];
            if (isnan(v)) {
                if (!c->missing_allowed)
                    return fail(err, TEND_ERR_INVALID,
                                "row %zu, column %s: the value is missing and the column does "
                                "not allow missing values",
                                i + 1, name);
                c->n_missing++;
                continue;
            }
            double t = xform(c->xform, v);
            if (isnan(t))
                return fail(err, TEND_ERR_INVALID,
                            "row %zu, column %s: the value %g is outside the %s transform's "
                            "domain",
                            i + 1, name, v, xform_name(c->xform));
            sum += t;
            present++;
        }
        c->has_indicator = c->n_missing > 0;
        c->mean = present ? sum / (double)present : 0;
        double ss = 0;
        for (size_t i = 0; i < n; i++) {
            double v = x[i * k + j];
            if (isnan(v))
                continue;
            double e = xform(c->xform, v) - c->mean;
            ss += e * e;
        }
        c->sd = present > 1 ? sqrt(ss / (double)(present - 1)) : 0;
        if (!(c->sd > 0)) {
            c->sd = 1;
            c->constant = true;
        }
        r.n_out += 1 + (c->has_indicator ? 1 : 0);
    }
    *out = r;
    return TEND_OK;
}

const char *stats_recipe_name(const struct stats_recipe *r, size_t j, char *buf) {
    size_t at = 0;
    for (size_t c = 0; c < r->n_in; c++) {
        if (at == j) {
            snprintf(buf, STATS_RECIPE_NAME_BYTES + sizeof STATS_MISSING_SUFFIX, "%s",
                     r->col[c].name);
            return buf;
        }
        at++;
        if (r->col[c].has_indicator) {
            if (at == j) {
                snprintf(buf, STATS_RECIPE_NAME_BYTES + sizeof STATS_MISSING_SUFFIX, "%s%s",
                         r->col[c].name, STATS_MISSING_SUFFIX);
                return buf;
            }
            at++;
        }
    }
    buf[0] = '\0';
    return buf;
}

size_t stats_recipe_apply(const struct stats_recipe *r, const double *row, double *out) {
    size_t unusable = 0, at = 0;
    for (size_t c = 0; c < r->n_in; c++) {
        const struct stats_recipe_col *col = &r->col[c];
        double t = xform(col->xform, row[c]);
        bool missing = isnan(row[c]);
        if (isnan(t)) {
            out[at] = 0;
            if (!(missing && col->has_indicator))
                unusable++;
        } else {
            out[at] = (t - col->mean) / col->sd;
        }
        at++;
        if (col->has_indicator)
            out[at++] = missing ? 1 : 0;
    }
    return unusable;
}

size_t stats_recipe_apply_rows(const struct stats_recipe *r, const double *x, size_t n,
                               double *out) {
    size_t unusable = 0;
    for (size_t i = 0; i < n; i++)
        unusable += stats_recipe_apply(r, x + i * r->n_in, out + i * r->n_out);
    return unusable;
}
