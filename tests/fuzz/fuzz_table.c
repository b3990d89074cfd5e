/* fuzz_table.c: the CSV table of `tend analyze --table` (stats/table.h),
 * and the regression it feeds (stats/logit.h).
 *
 * The input is the CSV file. It is loaded with the outcome column "outcome"
 * and every other column, then with --columns plan,age; what loads is
 * fitted (the fit caps the rows it takes here: a few hundred rows of
 * hostile numbers are enough to reach its corners). Invariants besides no
 * sanitizer report: a loaded table holds finite numbers, 0/1 outcomes,
 * n * k values and a name per column; a fit that succeeds has finite
 * coefficients and p-values in [0, 1] (or NaN where the standard error is
 * undefined), and an AUC in [0, 1]. */
#include <math.h>
#include <stdlib.h>

#include "fuzz.h"
#include "stats/logit.h"
#include "stats/table.h"

#define FIT_MAX_ROWS 400
#define FIT_MAX_COLS 24

static void check_table(const struct stats_table *t) {
    for (size_t j = 0; j < t->k; j++)
        if (!t->names[j] || !t->names[j][0])
            fuzz_fail("column %zu has no name", j);
    for (size_t i = 0; i < t->n; i++) {
        if (t->y[i] != 0 && t->y[i] != 1)
            fuzz_fail("row %zu has the outcome %g", i, t->y[i]);
        for (size_t j = 0; j < t->k; j++)
            if (!isfinite(t->x[i * t->k + j]))
                fuzz_fail("row %zu column %s is %g", i, t->names[j], t->x[i * t->k + j]);
    }
    if (t->rows_read < t->n + t->rows_dropped)
        fuzz_fail("%zu rows read but %zu kept and %zu dropped", t->rows_read, t->n,
                  t->rows_dropped);
}

static void fit(const struct stats_table *t) {
    if (t->n > FIT_MAX_ROWS || t->k > FIT_MAX_COLS)
        return;
    struct stats_data d;
    stats_table_data(t, &d);
    struct stats_fit f = {0};
    char err[STATS_ERR_BYTES];
    for (int scale = STATS_OWN_SCALE; scale <= STATS_PER_STD_DEV; scale++) {
        if (stats_logit_fit(&d, (enum stats_scale)scale, &f, err))
            continue;
        for (size_t i = 0; i < f.n_coefs; i++) {
            const struct stats_coef *c = &f.coefs[i];
            if (!isfinite(c->coef))
                fuzz_fail("coefficient %s is %g", c->name, c->coef);
            if (!isnan(c->p) && (c->p < 0 || c->p > 1))
                fuzz_fail("p-value of %s is %g", c->name, c->p);
        }
        double *score = malloc((t->n ? t->n : 1) * sizeof *score);
        for (size_t i = 0; i < t->n; i++)
            score[i] = stats_logit_predict(&f, &t->x[i * t->k]);
        double auc = stats_auc(score, t->y, t->n);
        if (!isnan(auc) && (auc < 0 || auc > 1))
            fuzz_fail("AUC %g", auc);
        free(score);
        stats_fit_free(&f);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 64 * 1024)
        return 0;
    const char *path = fuzz_path("table.csv");
    fuzz_write_file(path, data, size);
    static const char *const picked[] = {"plan", "age"};
    char err[STATS_ERR_BYTES];
    for (int pass = 0; pass < 2; pass++) {
        struct stats_table t = {0};
        if (stats_table_load(path, "outcome", pass ? picked : NULL, pass ? 2 : 0, &t, err))
            continue;
        check_table(&t);
        fit(&t);
        stats_table_free(&t);
    }
    return 0;
}
