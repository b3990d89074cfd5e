/* cmd_risk.c: tend risk, the accounts by revenue at risk (docs/cli.md).
 *
 *   tend risk [--at DATE] [--format table|csv|json] [--limit N]
 *
 * Reads the p_churn every evaluation stored (risk_by_day) for the day (the
 * latest scored day on or before --at) and lists every scored account by
 * arr_at_risk = p_churn x ARR, largest first, with the three inputs that
 * moved its score most, in words. The table stops at 25 rows unless --limit
 * says otherwise; csv and json list every row unless --limit is given. The
 * rows are risk_rows_json()'s, the same as GET /api/risk. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/output.h"
#include "eval/risk.h"
#include "util/buf.h"
#include "util/datetime.h"

#define TABLE_ROWS 25

static void usage(FILE *f) {
    fprintf(f,
            "Usage: tend risk [--db PATH] [--at DATE] [--format table|csv|json] [--limit N]\n"
            "\n"
            "Every account scored by the churn-risk model on a day (the latest scored day on\n"
            "or before --at), by revenue at risk (p_churn x ARR, ARR = 12 x MRR), with the\n"
            "three inputs that moved each score most. Scores are stored by every evaluation\n"
            "(tend eval, tend serve) once a model is adopted (tend model fit).\n\n"
            "  --at DATE        the day (default: the latest scored day)\n"
            "  --limit N        at most N rows (default: %d in a table, all in csv and json;\n"
            "                   0: all)\n"
            "  --format FORMAT  table (default), csv or json\n"
            "  --db PATH        database (default ./%s)\n",
            TABLE_ROWS, DEFAULT_DB);
}

static const char *jstr(const cJSON *o, const char *key) {
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(s) ? s->valuestring : NULL;
}

static void put_num(struct out_table *t, const cJSON *o, const char *key, double scale) {
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, key);
    out_num(t, cJSON_IsNumber(n) ? round(n->valuedouble * scale) / scale : 0, cJSON_IsNumber(n));
}

int cmd_risk(int argc, char **argv) {
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},     {"at", required_argument, NULL, 't'},
        {"format", required_argument, NULL, 'f'}, {"limit", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    const char *db = cli_db_default();
    int32_t day = INT32_MAX;
    int64_t limit = -1;
    enum out_format format = OUT_TABLE;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            db = optarg;
            break;
        case 't':
            if (!dt_parse_date(optarg, strlen(optarg), &day))
                return cli_usage_error("risk", "--at must be a date YYYY-MM-DD, not \"%s\"",
                                       optarg);
            break;
        case 'f':
            if (cli_parse_format("risk", optarg, &format))
                return EXIT_USAGE;
            break;
        case 'n': {
            char *end;
            long long v = strtoll(optarg, &end, 10);
            if (*end || !*optarg || v < 0)
                return cli_usage_error("risk", "--limit must be a number >= 0, not \"%s\"", optarg);
            limit = v;
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
        return cli_usage_error("risk", "unexpected argument \"%s\"", argv[optind]);
    if (limit < 0)
        limit = format == OUT_TABLE ? TABLE_ROWS : 0;
    struct store *st;
    int rc = cli_open_store(db, &st);
    if (rc)
        return rc;
    cJSON *rows;
    int32_t got;
    bool found;
    if (risk_rows_json(st, day, 0, &rows, &got, &found)) {
        fprintf(stderr, "tend risk: %s\n", store_last_error(st));
        store_close(st);
        return EXIT_USAGE;
    }
    if (!found) {
        fprintf(stderr,
                "tend risk: no churn-risk scores stored%s: fit a model (tend model fit), then "
                "evaluate (tend eval --at DATE)\n",
                day == INT32_MAX ? "" : " on or before that day");
        cJSON_Delete(rows);
        store_close(st);
        return EXIT_USAGE;
    }
    int total = cJSON_GetArraySize(rows);
    if (format == OUT_JSON) {
        while (limit > 0 && cJSON_GetArraySize(rows) > limit)
            cJSON_DeleteItemFromArray(rows, cJSON_GetArraySize(rows) - 1);
        char *s = cJSON_Print(rows);
        puts(s);
        free(s);
    } else {
        static const char *const cols[] = {"account_id", "name",        "owner", "p_churn",
                                           "arr",        "arr_at_risk", "band",  "drivers"};
        struct out_table *t = out_new(cols, 8);
        const cJSON *r;
        int64_t n = 0;
        cJSON_ArrayForEach(r, rows) {
            if (limit > 0 && n++ >= limit)
                break;
            out_row(t);
            out_str(t, jstr(r, "account_id"));
            out_str(t, jstr(r, "name"));
            out_str(t, jstr(r, "owner"));
            put_num(t, r, "p_churn", 10000);
            put_num(t, r, "arr", 100);
            put_num(t, r, "arr_at_risk", 100);
            out_str(t, jstr(r, "band"));
            struct buf words;
            buf_init(&words, 0);
            const cJSON *d;
            cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(r, "drivers")) {
                const cJSON *w = cJSON_GetObjectItemCaseSensitive(d, "words");
                const cJSON *k = cJSON_GetObjectItemCaseSensitive(d, "contribution");
                if (cJSON_IsString(w) && cJSON_IsNumber(k))
                    buf_printf(&words, "%s%s (%s risk)", buf_str(&words)[0] ? "; " : "",
                               w->valuestring, k->valuedouble > 0 ? "raises" : "lowers");
            }
            out_str(t, buf_str(&words));
            buf_free(&words);
        }
        out_print(t, format, stdout);
        out_free(t);
        if (format == OUT_TABLE) {
            char d[16];
            dt_format_date(got, d);
            fprintf(stderr, "tend risk: %s, %d accounts scored%s\n", d, total,
                    limit > 0 && total > limit ? " (--limit 0 lists all)" : "");
        }
    }
    cJSON_Delete(rows);
    store_close(st);
    return 0;
}
