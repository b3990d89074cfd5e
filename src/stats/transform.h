/* transform.h: a column recipe, fitted on the training rows and applied to any
 * row: the features a model sees. Pure: no I/O.
 *
 * Each input column has a transform (identity, or log1p for counts and money,
 * whose effect is multiplicative) and is then standardised with the TRAINING
 * rows' mean and sample standard deviation (n - 1), never with the rows being
 * scored: a row scored later sees the scale the model was fitted on, and a
 * test set's statistics cannot leak into its own features.
 *
 * Missing values (NaN in the input) are never filled silently: a column with
 * missing values in training gets a 0/1 indicator column "NAME_missing" next
 * to it, and the missing value itself becomes 0 (the training mean, after
 * standardising), so the model learns what missingness means through the
 * indicator. A value missing at apply time in a column that had none in
 * training also becomes 0, and is counted (stats_recipe_apply returns the
 * count) so the caller can report it. A value outside the transform's domain
 * (log1p of a value <= -1, an infinity) is treated the same way at apply time
 * and refused at fit time.
 *
 * A column constant over the training rows (or with fewer than two values)
 * has its sd taken as 1: its standardised value is then x - mean, 0 on every
 * training row, and a penalised fit gives it coefficient 0. A column missing
 * on every training row has mean 0 and sd 1.
 *
 * Bounded: at most STATS_RECIPE_MAX_COLUMNS input columns, names shorter than
 * STATS_RECIPE_NAME_BYTES; the recipe is a fixed-size value (no allocation,
 * copy it freely). Output columns are in input order, each followed by its
 * indicator if it has one; their names are fixed at fit time. */
#ifndef TEND_STATS_TRANSFORM_H
#define TEND_STATS_TRANSFORM_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

#define STATS_RECIPE_MAX_COLUMNS 64
#define STATS_RECIPE_NAME_BYTES  64 /* with the NUL; "_missing" must fit too */
#define STATS_MISSING_SUFFIX     "_missing"

enum stats_xform { STATS_X_IDENTITY, STATS_X_LOG1P };

/* An input column: its name, transform, and whether it may be missing
 * (missing_allowed false: a NaN in training is an error naming it). */
struct stats_xform_col {
    const char *name;
    enum stats_xform xform;
    bool missing_allowed;
};

/* A fitted input column. */
struct stats_recipe_col {
    char name[STATS_RECIPE_NAME_BYTES];
    enum stats_xform xform;
    bool missing_allowed;
    double mean, sd;    /* of the transformed training values present */
    bool constant;      /* sd taken as 1 (constant or fewer than 2 values) */
    bool has_indicator; /* some training value was missing */
    size_t n_missing;   /* training rows missing it */
};

struct stats_recipe {
    size_t n_in;  /* input columns */
    size_t n_out; /* output columns: n_in plus the indicators */
    struct stats_recipe_col col[STATS_RECIPE_MAX_COLUMNS];
};

/* Fits the recipe of k columns described by cols on n training rows x
 * (row-major, x[i * k + j], NaN = missing). Errors (err, STATS_ERR_BYTES
 * from stats/logit.h), *out untouched: TEND_ERR_LIMIT for k over
 * STATS_RECIPE_MAX_COLUMNS or a name too long; TEND_ERR_INVALID for k = 0,
 * n = 0, an empty or duplicate name, a NaN in a column without
 * missing_allowed, an infinity, log1p of a value <= -1 (each naming row and
 * column). Copies the names; keeps neither cols nor x. */
enum tend_err stats_recipe_fit(const struct stats_xform_col *cols, size_t k, const double *x,
                               size_t n, struct stats_recipe *out, char *err);

/* The name of output column j (< r->n_out): the input name, or the input
 * name followed by "_missing" for an indicator. Written into buf
 * (STATS_RECIPE_NAME_BYTES + sizeof STATS_MISSING_SUFFIX bytes); returns buf. */
const char *stats_recipe_name(const struct stats_recipe *r, size_t j, char *buf);

/* Transforms one row of r->n_in raw values into r->n_out features in out:
 * (xform(v) - mean) / sd, or 0 and indicator 1 when v is missing. Returns the
 * number of values that were unusable and set to 0 without an indicator to
 * say so (missing in a column that had none missing in training, an
 * infinity, log1p of a value <= -1). */
size_t stats_recipe_apply(const struct stats_recipe *r, const double *row, double *out);

/* stats_recipe_apply on n rows (x row-major n * n_in, out n * n_out);
 * returns the total count of unusable values. */
size_t stats_recipe_apply_rows(const struct stats_recipe *r, const double *x, size_t n,
                               double *out);

#endif
