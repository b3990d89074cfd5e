/* cmd_segments.c: tend segments, every group's figures on a day
 * (docs/cli.md, docs/dashboard.md "Segments").
 *
 *   tend segments [--at DATE] [--by segment|plan|owner] [--format table|csv|json]
 *
 * Reads the groups the daily evaluation stored (segment_days) for the day
 * (the latest evaluated day on or before --at), of one kind (default
 * segment), one row per group by name. The rows are seg_rows_json()'s, the
 * same as GET /v1/segments. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/output.h"
#include "eval/segments_json.h"
#include "util/datetime.h"

static void usage(FILE *f) {
    fprintf(f,
            "Usage: tend segments [--db PATH] [--at DATE] [--by segment|plan|owner]\n"
            "                     [--format table|csv|json]\n"
            "\n"
            "Every segment (the accounts' segment trait), plan or owner (csm_email) with its\n"
            "figures on a day, as the daily evaluation (tend eval, tend serve) stored them:\n"
            "accounts, ARR, health mean and accounts by band, logins and feature events in 7\n"
            "days per user active in 30, the mean NPS of its accounts, tickets, open CTAs.\n\n"
            "  --at DATE        the day (default: the latest evaluated day)\n"
            "  --by KIND        segment (default), plan or owner\n"
            "  --format FORMAT  table (default), csv or json\n"
            "  --db PATH        database (default ./%s)\n",
            DEFAULT_DB);
}

static void put(struct out_table *t, const cJSON *o, const char *key, double scale) {
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, key);
    out_num(t, cJSON_IsNumber(n) ? round(n->valuedouble * scale) / scale : 0, cJSON_IsNumber(n));
}

int cmd_segments(int argc, char **argv) {
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},     {"at", required_argument, NULL, 't'},
        {"format", required_argument, NULL, 'f'}, {"by", required_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    const char *db = cli_db_default();
    int32_t day = INT32_MAX;
    enum seg_kind kind = SEG_BY_SEGMENT;
    enum out_format format = OUT_TABLE;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            db = optarg;
            break;
        case 't':
            if (!dt_parse_date(optarg, strlen(optarg), &day))
                return cli_usage_error("segments", "--at must be a date YYYY-MM-DD, not \"%s\"",
                                       optarg);
            break;
        case 'b':
            if (!seg_kind_parse(optarg, &kind))
                return cli_usage_error("segments",
                                       "--by must be segment, plan or owner, not \"%s\"", optarg);
            break;
        case 'f':
            if (cli_parse_format("segments", optarg, &format))
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
        return cli_usage_error("segments", "unexpected argument \"%s\"", argv[optind]);
    struct store *st;
    int rc = cli_open_store(db, &st);
    if (rc)
        return rc;
    cJSON *rows;
    int32_t got;
    bool found;
    if (seg_rows_json(st, (int)kind, day, &rows, &got, &found)) {
        fprintf(stderr, "tend segments: %s\n", store_last_error(st));
        cJSON_Delete(rows);
        store_close(st);
        return EXIT_USAGE;
    }
    if (!found) {
        fprintf(stderr,
                "tend segments: no segments stored%s: evaluate first (tend eval --at DATE)\n",
                day == INT32_MAX ? "" : " on or before that day");
        cJSON_Delete(rows);
        store_close(st);
        return EXIT_USAGE;
    }
    if (format == OUT_JSON) {
        char *s = cJSON_Print(rows);
        puts(s);
        free(s);
    } else {
        static const char *const cols[] = {"by",
                                           "name",
                                           "day",
                                           "accounts",
                                           "arr",
                                           "health",
                                           "red",
                                           "yellow",
                                           "green",
                                           "logins_per_active",
                                           "features_per_active",
                                           "nps",
                                           "tickets_30d",
                                           "tickets_open",
                                           "open_ctas"};
        static const char *const keys[] = {"accounts",
                                           "arr",
                                           "health_mean",
                                           "red",
                                           "yellow",
                                           "green",
                                           "logins_per_active_user",
                                           "feature_events_per_active_user",
                                           "nps",
                                           "tickets_30d",
                                           "tickets_open",
                                           "open_ctas"};
        static const double scale[] = {1, 100, 10, 1, 1, 1, 100, 100, 10, 1, 1, 1};
        struct out_table *t = out_new(cols, sizeof cols / sizeof cols[0]);
        const cJSON *r;
        cJSON_ArrayForEach(r, rows) {
            out_row(t);
            out_str(t, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "by")));
            out_str(t, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "name")));
            out_str(t, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "day")));
            for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
                put(t, r, keys[i], scale[i]);
        }
        out_print(t, format, stdout);
        out_free(t);
    }
    cJSON_Delete(rows);
    store_close(st);
    return 0;
}
