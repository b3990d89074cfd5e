/* cmd_model.c: tend model, the churn-risk model (docs/analysis.md, "The
 * churn-risk model").
 *
 *   tend model fit [--horizon DAYS] [--to DATE] [--features metrics|components|both]
 *                  [--format table|json] [--export FILE]
 *   tend model show [--version N] [--format table|json]
 *
 * fit learns the model from the stored outcomes (analysis/model.h), stores it
 * with its card as a new version and adopts it as analysis/model.h says
 * (compared with the adopted model on the rows that model never saw; a new
 * horizon is adopted because the user asked for it); show prints a stored
 * card. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/model.h"
#include "cli/cli.h"
#include "cli/config.h"
#include "cli/output.h"
#include "util/datetime.h"

static void usage(FILE *f) {
    fprintf(f,
            "Usage: tend model fit [--db PATH] [--config tend.yaml] [--horizon DAYS] [--to DATE]\n"
            "                      [--features metrics|components|both] [--format table|json]\n"
            "                      [--export FILE]\n"
            "       tend model show [--db PATH] [--version N] [--format table|json]\n"
            "\n"
            "fit learns the probability that an account churns within --horizon days from\n"
            "weekly account snapshots and their outcomes, checks it on the latest snapshots\n"
            "held out by time, stores it with its card and adopts it unless its AUC is below\n"
            "the adopted model's on the test rows that model never saw (docs/analysis.md).\n"
            "show prints a stored card.\n\n"
            "  --horizon DAYS   churn within this many days of a snapshot (default %d)\n"
            "  --to DATE        the data's last day (default: the last day with events)\n"
            "  --features SET   metrics, components or both (default both)\n"
            "  --export FILE    write the training design (after the transforms) as CSV\n"
            "  --version N      show this model (default: the adopted one)\n"
            "  --config FILE    tend.yaml (health: the components' configuration)\n"
            "  --format FORMAT  table (default) or json\n"
            "  --db PATH        database (default ./%s)\n",
            MODEL_HORIZON_DAYS, DEFAULT_DB);
}

/* ---- printing a card ------------------------------------------------------------ */

static double jnum(const cJSON *o, const char *key) {
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(n) ? n->valuedouble : NAN;
}

static const char *jstr(const cJSON *o, const char *key) {
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(s) ? s->valuestring : "-";
}

static void print_card(const cJSON *c) {
    printf("Churn-risk model v%.0f%s: churn within %.0f days, features %s\n", jnum(c, "version"),
           cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "adopted")) ? " (adopted)" : "",
           jnum(c, "horizon_days"), jstr(c, "features"));
    printf("Snapshots every %.0f days from %s to %s (data to %s): %.0f rows, %.0f churns "
           "(%.0f churned rows); %.0f later snapshot days censored\n",
           jnum(c, "step_days"), jstr(c, "trained_from"), jstr(c, "trained_to"),
           jstr(c, "data_end"), jnum(c, "n_rows"), jnum(c, "n_churns"), jnum(c, "n_churned_rows"),
           jnum(c, "censored_days"));
    printf("Held out by time: trained on %.0f rows (%.0f churned) whose horizon ends before %s, "
           "tested on %.0f rows (%.0f churned) from %s\n",
           jnum(c, "n_train"), jnum(c, "n_train_churned"), jstr(c, "cut_day"), jnum(c, "n_test"),
           jnum(c, "n_test_churned"), jstr(c, "cut_day"));
    printf("  AUC: model %.3f, health score %.3f", jnum(c, "auc_holdout"),
           jnum(c, "auc_health_holdout"));
    printf("\n  Brier score: %.4f (the base rate alone: %.4f)\n", jnum(c, "brier_holdout"),
           jnum(c, "brier_base_rate"));
    const char *cm = jstr(c, "c_method");
    printf("  Penalty C = %g (%s), calibration: %s (held-out figures: %s)\n", jnum(c, "c"),
           strcmp(cm, "default") == 0 ? "the default: the history is too short for "
                                        "cross-validation with the horizon gap"
                                      : "time-ordered cross-validation",
           jstr(c, "calibration_method"), jstr(c, "calibration_holdout_method"));
    const char *notes[] = {"c_note", "calibration_note", "calibration_holdout_note"};
    for (size_t i = 0; i < 3; i++)
        if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(c, notes[i])))
            printf("  %s: %s\n", notes[i], jstr(c, notes[i]));
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(c, "comparison");
    if (cJSON_IsObject(k)) {
        printf("  Adoption: %s", jstr(k, "rule"));
        if (strcmp(jstr(k, "basis"), "rows_unseen_by_previous") == 0)
            printf(" (v%.0f, data to %s; on the %.0f rows it never saw, %.0f churned: AUC %.3f "
                   "for this fit's inputs and penalty fitted on its data, %.3f for v%.0f)",
                   jnum(k, "previous_version"), jstr(k, "previous_data_end"), jnum(k, "rows"),
                   jnum(k, "churned_rows"), jnum(k, "auc_new"), jnum(k, "auc_previous"),
                   jnum(k, "previous_version"));
        printf("\n");
    }
    if (jnum(c, "accounts_sampled") < jnum(c, "accounts"))
        printf("  Accounts: a sample of %.0f of %.0f (by a hash of the account id), every weekly "
               "snapshot day kept\n",
               jnum(c, "accounts_sampled"), jnum(c, "accounts"));

    printf("\nCalibration on the held-out rows (deciles of the predicted probability):\n");
    static const char *const ccols[] = {"bin",    "predicted", "observed", "n",
                                        "events", "ci_low",    "ci_high",  "within"};
    struct out_table *t = out_new(ccols, 8);
    const cJSON *b;
    cJSON_ArrayForEach(b, cJSON_GetObjectItemCaseSensitive(c, "calibration")) {
        double pr = jnum(b, "predicted"), ob = jnum(b, "observed");
        bool within =
            (ob >= jnum(b, "ci_low") && ob <= jnum(b, "ci_high")) || fabs(ob - pr) <= 0.05;
        out_row(t);
        out_int(t, (int64_t)jnum(b, "bin"));
        out_num(t, round(pr * 10000) / 10000, true);
        out_num(t, round(ob * 10000) / 10000, true);
        out_int(t, (int64_t)jnum(b, "n"));
        out_int(t, (int64_t)jnum(b, "events"));
        out_num(t, round(jnum(b, "ci_low") * 10000) / 10000, true);
        out_num(t, round(jnum(b, "ci_high") * 10000) / 10000, true);
        out_str(t, within ? "yes" : "NO");
    }
    out_print(t, OUT_TABLE, stdout);
    out_free(t);

    printf("\nChurn rate by health band on the held-out rows:\n");
    static const char *const bcols[] = {"band", "n", "churn_rate"};
    t = out_new(bcols, 3);
    cJSON_ArrayForEach(b, cJSON_GetObjectItemCaseSensitive(c, "bands")) {
        out_row(t);
        out_str(t, jstr(b, "band"));
        out_int(t, (int64_t)jnum(b, "n"));
        double r = jnum(b, "churn_rate");
        out_num(t, round(r * 10000) / 10000, !isnan(r));
    }
    out_print(t, OUT_TABLE, stdout);
    out_free(t);

    printf("\nCoefficients (log odds per standard deviation of the transformed input):\n");
    static const char *const kcols[] = {"name", "coef", "se", "p"};
    t = out_new(kcols, 4);
    cJSON_ArrayForEach(b, cJSON_GetObjectItemCaseSensitive(c, "coefficients")) {
        out_row(t);
        out_str(t, jstr(b, "name"));
        double v = jnum(b, "coef"), se = jnum(b, "se"), p = jnum(b, "p");
        out_num(t, round(v * 10000) / 10000, true);
        out_num(t, round(se * 10000) / 10000, !isnan(se));
        out_num(t, round(p * 10000) / 10000, !isnan(p));
    }
    out_print(t, OUT_TABLE, stdout);
    out_free(t);
}

struct shown {
    cJSON *card;
};

static void on_model(void *arg, const struct store_model *m) {
    ((struct shown *)arg)->card = model_card_of(m);
}

/* Prints stored model version (0: the adopted one); returns an exit code. */
static int show(struct store *st, int64_t version, enum out_format format) {
    struct shown sh = {0};
    enum tend_err e = store_model_get(st, version, on_model, &sh);
    if (e == TEND_ERR_NOTFOUND) {
        if (version)
            fprintf(stderr, "tend model: no model version %lld\n", (long long)version);
        else
            fprintf(stderr, "tend model: no adopted model yet (fit one with tend model fit)\n");
        return EXIT_USAGE;
    }
    if (e || !sh.card) {
        fprintf(stderr, "tend model: %s\n", e ? store_last_error(st) : "stored card is not JSON");
        cJSON_Delete(sh.card);
        return EXIT_USAGE;
    }
    if (format == OUT_JSON) {
        char *s = cJSON_Print(sh.card);
        puts(s);
        free(s);
    } else {
        print_card(sh.card);
    }
    cJSON_Delete(sh.card);
    return 0;
}

/* ---- the command ------------------------------------------------------------------- */

int cmd_model(int argc, char **argv) {
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : 0;
    }
    bool fit = strcmp(argv[1], "fit") == 0;
    if (!fit && strcmp(argv[1], "show") != 0)
        return cli_usage_error("model", "unknown subcommand \"%s\" (fit or show)", argv[1]);
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},       {"config", required_argument, NULL, 'c'},
        {"horizon", required_argument, NULL, 'H'},  {"to", required_argument, NULL, 'T'},
        {"features", required_argument, NULL, 'e'}, {"format", required_argument, NULL, 'f'},
        {"export", required_argument, NULL, 'x'},   {"version", required_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
    };
    const char *db = NULL, *config = NULL, *export = NULL;
    struct model_options o = {.horizon_days = 0, .features = RISK_F_BOTH};
    int64_t version = 0;
    enum out_format format = OUT_TABLE;
    int c;
    optind = 2;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            db = optarg;
            break;
        case 'c':
            config = optarg;
            break;
        case 'H':
            if (cli_parse_days_count("model", "horizon", optarg, &o.horizon_days))
                return EXIT_USAGE;
            break;
        case 'T':
            if (!dt_parse_date(optarg, strlen(optarg), &o.to))
                return cli_usage_error("model", "--to must be a date YYYY-MM-DD, not \"%s\"",
                                       optarg);
            break;
        case 'e':
            if (!risk_features_parse(optarg, &o.features))
                return cli_usage_error(
                    "model", "--features must be metrics, components or both, not \"%s\"", optarg);
            break;
        case 'f':
            if (cli_parse_format("model", optarg, &format))
                return EXIT_USAGE;
            if (format == OUT_CSV)
                return cli_usage_error("model", "--format must be table or json");
            break;
        case 'x':
            export = optarg;
            break;
        case 'v': {
            char *end;
            long long v = strtoll(optarg, &end, 10);
            if (*end || v < 1)
                return cli_usage_error("model", "--version must be a number >= 1, not \"%s\"",
                                       optarg);
            version = v;
            break;
        }
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (optind < argc)
        return cli_usage_error("model", "unexpected argument \"%s\"", argv[optind]);
    if (!fit && (export || o.to || o.horizon_days || config))
        return cli_usage_error("model", "show takes --version, --format and --db only");
    if (fit && version)
        return cli_usage_error("model", "fit takes no --version (show does)");

    static struct tend_config cfg;
    int rc = cli_load_config("model", config, &cfg);
    db = cli_db_pick(db, &cfg);
    if (rc)
        return rc;
    if (!o.horizon_days)
        o.horizon_days = cfg.model.horizon_days;
    struct store *st;
    if ((rc = cli_open_store(db, &st))) {
        cli_free_config(&cfg);
        return rc;
    }
    if (!fit) {
        rc = show(st, version, format);
    } else {
        o.hc = &cfg.health;
        struct model_result r;
        char err[STATS_ERR_BYTES];
        enum tend_err e = model_fit(st, &o, &r, err);
        if (e) {
            fprintf(stderr, "tend model: %s\n",
                    e == TEND_ERR_INVALID || e == TEND_ERR_IO ? err : store_last_error(st));
            rc = EXIT_USAGE;
        } else if (export && model_export(&r, export, err)) {
            fprintf(stderr, "tend model: %s\n", err);
            rc = EXIT_USAGE;
        } else {
            bool adopted;
            const char *why;
            if (model_store(st, &r, dt_now_ms(), true, &version, &adopted)) {
                fprintf(stderr, "tend model: %s\n", store_last_error(st));
                rc = EXIT_USAGE;
            } else {
                rc = show(st, version, format);
                model_adopt(&r, true, &why);
                char end[16];
                dt_format_date(r.data_end, end);
                if (adopted)
                    fprintf(stderr,
                            "tend model: model v%lld adopted: evaluations score with it from %s "
                            "(the end of its data; earlier days never use it) (%s)\n",
                            (long long)version, end, why);
                else
                    fprintf(stderr, "tend model: model v%lld kept but not adopted: %s\n",
                            (long long)version, why);
                if (r.basis == MB_ROWS)
                    fprintf(stderr,
                            "tend model: compared with v%lld on %zu rows (%zu churned) it never "
                            "saw: AUC %.3f vs %.3f\n",
                            (long long)r.current_version, r.cmp_rows, r.cmp_churned, r.auc_new,
                            r.auc_current);
            }
        }
        model_result_free(&r);
    }
    store_close(st);
    cli_free_config(&cfg);
    return rc;
}
