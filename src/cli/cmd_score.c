/* cmd_score.c: tend score: health scores per account and day (SPEC 4).
 *
 *   tend score --at D               compute and store every account's score for D
 *   tend score --from D1 --to D2    fill the history day by day
 *   tend score --account ID --explain [--at D]   explain one score
 *
 * A day's score is computed as of the end of that day (T = D+1 00:00Z) and is a
 * pure function of the data before T: recomputing a stored day gives the
 * stored value (with the same configuration). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/config.h"
#include "cli/output.h"
#include "core/health.h"
#include "eval/eval.h"
#include "util/datetime.h"
#include "util/mem.h"

static void usage(FILE *f) {
    fprintf(
        f,
        "Usage: tend score [--db PATH] [--config tend.yaml] --at DATE [--limit N]\n"
        "       tend score [--db PATH] [--config tend.yaml] --from DATE --to DATE\n"
        "       tend score [--db PATH] [--config tend.yaml] --account ID --explain [--at DATE]\n"
        "\n"
        "Computes health scores (five components and the overall score with its band)\n"
        "as of the end of each day and stores them per account and day with the\n"
        "configuration version that produced them.\n\n"
        "  --at DATE        the day to score (default: today, UTC); prints the accounts,\n"
        "                   riskiest first, with the trend against 7 and 30 days earlier\n"
        "                   (from stored scores) and the component that drags each down\n"
        "  --from, --to     score every day from one date to the other, inclusive\n"
        "  --account ID     only this account\n"
        "  --explain        with --account: show each component's inputs, values, curve\n"
        "                   scores, weights and contributions, and the trend (computed\n"
        "                   if not stored); nothing is stored\n"
        "  --limit N        print only the first N accounts\n"
        "  --config FILE    tend.yaml (health: weights, components, bands); default:\n"
        "                   the documented defaults (docs/health.md)\n"
        "  --format FORMAT  table (default), csv or json\n"
        "  --db PATH        database (default ./%s)\n",
        DEFAULT_DB);
}

/* ---- computing ------------------------------------------------------------ */

struct scored {
    int64_t id;
    char *account_id;
    struct health_score score;
};

struct scoring {
    const struct health_config *config;
    struct store *store;
    int32_t day;
    bool save;
    bool explain; /* keep churned accounts, to say why they have no score */
    struct scored *v;
    size_t n, cap;
    enum tend_err err;
};

static int on_metrics(void *arg, int64_t id, const char *account_id, const struct metrics *m) {
    struct scoring *s = arg;
    struct health_score h;
    health_compute(s->config, m, &h);
    if (m->churned && !s->explain)
        return 0; /* a former customer: no score, no row */
    if (s->save) {
        struct store_score sc;
        eval_score_row(s->config, s->day, &h, &sc);
        if ((s->err = store_score_put(s->store, id, &sc)))
            return 1;
    }
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 256;
        s->v = xrealloc(s->v, s->cap * sizeof *s->v);
    }
    s->v[s->n].id = id;
    s->v[s->n].account_id = xstrdup(account_id);
    s->v[s->n].score = h;
    s->n++;
    return 0;
}

static void scoring_free(struct scoring *s) {
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i].account_id);
    free(s->v);
    s->v = NULL;
    s->n = s->cap = 0;
}

/* Scores every account (or one) for day; stores when save. */
static enum tend_err score_day(struct store *st, const struct health_config *c, int32_t day,
                               const char *account, bool save, struct scoring *out) {
    memset(out, 0, sizeof *out);
    out->explain = !save;
    out->config = c;
    out->store = st;
    out->day = day;
    out->save = save;
    enum tend_err err = TEND_OK;
    if (save && (err = store_begin(st, NULL)))
        return err;
    err = eval_metrics(st, (int64_t)(day + 1) * DT_MS_PER_DAY, account, on_metrics, out);
    if (!err)
        err = out->err;
    if (save && err)
        store_rollback(st);
    else if (save)
        err = store_commit(st);
    return err;
}

/* ---- printing ------------------------------------------------------------- */

static int by_risk(const void *x, const void *y) {
    const struct scored *a = x, *b = y;
    if (a->score.has_score != b->score.has_score)
        return a->score.has_score ? -1 : 1;
    if (a->score.has_score && a->score.overall != b->score.overall)
        return a->score.overall < b->score.overall ? -1 : 1;
    return strcmp(a->account_id, b->account_id);
}

static void print_day(struct store *st, struct scoring *s, long limit, enum out_format format) {
    static const char *const cols[] = {"account_id", "score",     "band",    "logins",
                                       "adoption",   "sentiment", "support", "financial",
                                       "trend_7d",   "trend_30d", "weakest"};
    qsort(s->v, s->n, sizeof *s->v, by_risk);
    /* The trends: 7 and 30 days back, from stored scores (none if unreadable). */
    struct eval_day_scores back[2];
    eval_day_scores_load(st, s->day - 7, NULL, &back[0]);
    eval_day_scores_load(st, s->day - 30, NULL, &back[1]);
    struct out_table *t = out_new(cols, sizeof cols / sizeof cols[0]);
    for (size_t i = 0; i < s->n && (limit <= 0 || (long)i < limit); i++) {
        const struct health_score *h = &s->v[i].score;
        out_row(t);
        out_str(t, s->v[i].account_id);
        out_num(t, h->overall, h->has_score);
        out_str(t, health_band_name(h->band));
        for (int c = 0; c < HC_COUNT; c++)
            out_num(t, h->components[c].score, h->components[c].has_data);
        for (int b = 0; b < 2; b++) {
            double before;
            bool known = h->has_score && eval_day_score(&back[b], s->v[i].id, &before);
            out_num(t, known ? h->overall - before : 0, known);
        }
        enum health_component w = health_weakest(h);
        out_str(t, w < HC_COUNT ? health_component_name(w) : NULL);
    }
    out_print(t, format, stdout);
    out_free(t);
    for (int b = 0; b < 2; b++) {
        eval_day_scores_free(&back[b]);
    }
}

/* ---- explain -------------------------------------------------------------- */

static void explain_json(const char *account, int32_t day, const struct health_config *c,
                         const struct health_score *h, const struct health_score *h7,
                         const struct health_score *h30) {
    char date[16];
    dt_format_date(day, date);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "account_id", account);
    cJSON_AddStringToObject(o, "day", date);
    cJSON_AddStringToObject(o, "config_version", c->version);
    if (h->has_score)
        cJSON_AddNumberToObject(o, "score", h->overall);
    else
        cJSON_AddNullToObject(o, "score");
    cJSON_AddStringToObject(o, "band", health_band_name(h->band));
    const struct health_score *before[2] = {h7, h30};
    const char *names[2] = {"score_7d_ago", "score_30d_ago"};
    for (int k = 0; k < 2; k++) {
        if (before[k]->has_score)
            cJSON_AddNumberToObject(o, names[k], before[k]->overall);
        else
            cJSON_AddNullToObject(o, names[k]);
    }
    cJSON *comps = cJSON_AddArrayToObject(o, "components");
    for (int i = 0; i < HC_COUNT; i++) {
        const struct health_component_result *r = &h->components[i];
        cJSON *cj = cJSON_CreateObject();
        cJSON_AddStringToObject(cj, "name", health_component_name((enum health_component)i));
        cJSON_AddBoolToObject(cj, "has_data", r->has_data);
        if (r->has_data)
            cJSON_AddNumberToObject(cj, "score", r->score);
        else
            cJSON_AddNullToObject(cj, "score");
        cJSON_AddNumberToObject(cj, "weight", r->weight);
        cJSON_AddNumberToObject(cj, "effective_weight", r->effective_weight);
        cJSON_AddNumberToObject(cj, "contribution", r->contribution);
        cJSON *fs = cJSON_AddArrayToObject(cj, "inputs");
        for (int k = 0; k < r->n_factors; k++) {
            const struct health_factor_result *fr = &r->factors[k];
            cJSON *fj = cJSON_CreateObject();
            cJSON_AddStringToObject(fj, "input", fr->input);
            if (fr->known) {
                cJSON_AddNumberToObject(fj, "value", fr->value);
                cJSON_AddNumberToObject(fj, "score", fr->score);
            } else {
                cJSON_AddNullToObject(fj, "value");
                cJSON_AddNullToObject(fj, "score");
            }
            cJSON_AddNumberToObject(fj, "weight", fr->weight);
            cJSON_AddItemToArray(fs, fj);
        }
        cJSON_AddItemToArray(comps, cj);
    }
    char *text = cJSON_Print(o);
    puts(text);
    cJSON_free(text);
    cJSON_Delete(o);
}

static void print_trend(const char *label, const struct health_score *now,
                        const struct health_score *then) {
    if (!then->has_score) {
        printf("  %s: no score\n", label);
        return;
    }
    printf("  %s: %.1f (%s%.1f)\n", label, then->overall,
           now->overall - then->overall >= 0 ? "+" : "", now->overall - then->overall);
}

static void explain_text(const char *account, int32_t day, const struct health_config *c,
                         const struct health_score *h, const struct health_score *h7,
                         const struct health_score *h30) {
    char date[16];
    dt_format_date(day, date);
    bool any = false;
    for (int i = 0; i < HC_COUNT; i++)
        any |= h->components[i].has_data;
    if (!h->has_score) {
        printf("%s as of %s: no score (%s)  config %s\n", account, date,
               any ? "no component with a weight above 0 has data"
                   : "not known yet, churned, or no component has data",
               c->version);
        if (!any)
            return;
    } else {
        printf("%s as of %s: %.1f (%s)  config %s\n", account, date, h->overall,
               health_band_name(h->band), c->version);
        print_trend("7 days earlier", h, h7);
        print_trend("30 days earlier", h, h30);
    }
    printf("\n%-10s %7s %7s %10s %13s\n", "component", "score", "weight", "effective",
           "contribution");
    for (int i = 0; i < HC_COUNT; i++) {
        const struct health_component_result *r = &h->components[i];
        const char *name = health_component_name((enum health_component)i);
        if (r->has_data)
            printf("%-10s %7.1f %7.2f %10.3f %13.2f%s\n", name, r->score, r->weight,
                   r->effective_weight, r->contribution,
                   r->weight > 0 ? "" : "  weight 0: scored, not counted");
        else
            printf("%-10s %7s %7.2f %10s %13s  no data: drops out, its weight goes to the rest\n",
                   name, "-", r->weight, "-", "-");
        for (int k = 0; k < r->n_factors; k++) {
            const struct health_factor_result *fr = &r->factors[k];
            if (fr->known)
                printf("    %-22s %12.4g -> %5.1f  x %.2f%s\n", fr->input, fr->value, fr->score,
                       fr->weight, fr->weight > 0 ? "" : "  (weight 0: not counted)");
            else
                printf("    %-22s %12s    (unknown: left out)\n", fr->input, "-");
        }
    }
    if (h->has_score)
        printf("%-10s %7.1f %7s %10s %13.2f\n", "overall", h->overall, "", "", h->overall);
}

static int explain(struct store *st, const struct health_config *c, const char *account,
                   int32_t day, enum out_format format) {
    struct health_score h[3];
    int32_t days[3] = {day, day - 7, day - 30};
    for (int k = 0; k < 3; k++) {
        struct scoring s;
        enum tend_err err = score_day(st, c, days[k], account, false, &s);
        if (err == TEND_ERR_NOTFOUND) {
            fprintf(stderr, "tend score: no account \"%s\"\n", account);
            return EXIT_USAGE;
        }
        if (err) {
            fprintf(stderr, "tend score: %s\n", store_last_error(st));
            return EXIT_USAGE;
        }
        if (s.n == 1)
            h[k] = s.v[0].score;
        else
            memset(&h[k], 0, sizeof h[k]); /* not known yet that day: no score */
        scoring_free(&s);
    }
    if (format == OUT_JSON)
        explain_json(account, day, c, &h[0], &h[1], &h[2]);
    else
        explain_text(account, day, c, &h[0], &h[1], &h[2]);
    return 0;
}

/* ---- main ----------------------------------------------------------------- */

int cmd_score(int argc, char **argv) {
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"config", required_argument, NULL, 'c'},
        {"at", required_argument, NULL, 't'},
        {"from", required_argument, NULL, 'F'},
        {"to", required_argument, NULL, 'T'},
        {"account", required_argument, NULL, 'a'},
        {"explain", no_argument, NULL, 'x'},
        {"limit", required_argument, NULL, 'l'},
        {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *db = NULL, *config = NULL, *account = NULL;
    struct cli_days days;
    cli_days_init(&days);
    bool do_explain = false;
    long limit = 0;
    enum out_format format = OUT_TABLE;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            db = optarg;
            break;
        case 'c':
            config = optarg;
            break;
        case 't':
        case 'F':
        case 'T':
            if (cli_days_option("score", c == 't' ? "at" : c == 'F' ? "from" : "to", optarg, &days))
                return EXIT_USAGE;
            break;
        case 'a':
            account = optarg;
            break;
        case 'x':
            do_explain = true;
            break;
        case 'l':
            limit = strtol(optarg, NULL, 10);
            if (limit <= 0)
                return cli_usage_error("score", "--limit must be a positive number");
            break;
        case 'f':
            if (cli_parse_format("score", optarg, &format))
                return EXIT_USAGE;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (optind < argc)
        return cli_usage_error("score", "unexpected argument \"%s\"", argv[optind]);
    int32_t first, last;
    if (cli_days_range("score", &days, &first, &last))
        return EXIT_USAGE;
    bool has_from = days.has_from;
    if (do_explain && (!account || has_from))
        return cli_usage_error("score", "--explain needs --account and one day (--at)");

    static struct tend_config cfg; /* large: the rules' settings */
    int rc = cli_load_config("score", config, &cfg);
    db = cli_db_pick(db, &cfg);
    if (rc)
        return rc;
    struct store *st;
    if ((rc = cli_open_store(db, &st))) {
        cli_free_config(&cfg);
        return rc;
    }
    if (do_explain) {
        rc = explain(st, &cfg.health, account, days.at, format);
        store_close(st);
        cli_free_config(&cfg);
        return rc;
    }
    int refreshed;
    if (eval_refresh_rollups(st, &refreshed)) {
        fprintf(stderr, "tend score: %s\n", store_last_error(st));
        store_close(st);
        cli_free_config(&cfg);
        return EXIT_USAGE;
    }
    for (int32_t day = first; day <= last; day++) {
        struct scoring s;
        enum tend_err err = score_day(st, &cfg.health, day, account, true, &s);
        if (err) {
            if (err == TEND_ERR_NOTFOUND)
                fprintf(stderr, "tend score: no account \"%s\"\n", account);
            else
                fprintf(stderr, "tend score: %s\n", store_last_error(st));
            scoring_free(&s);
            store_close(st);
            cli_free_config(&cfg);
            return EXIT_USAGE;
        }
        if (!has_from)
            print_day(st, &s, limit, format);
        else if (day == last) {
            char a[16], b[16];
            dt_format_date(first, a);
            dt_format_date(last, b);
            printf("scored %zu accounts for %d days, %s to %s (config %s)\n", s.n, last - first + 1,
                   a, b, cfg.health.version);
        }
        scoring_free(&s);
    }
    store_close(st);
    cli_free_config(&cfg);
    return 0;
}
