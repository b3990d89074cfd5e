/* cmd_users.c: tend users --account ID: an account's users with their role
 * and engagement (docs/cli.md), as the account page and
 * GET /api/accounts/ID/users show them (eval/users.h). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/config.h"
#include "cli/output.h"
#include "eval/users.h"
#include "util/datetime.h"
#include "util/mem.h"

static const char *const cols[] = {
    "user",
    "name",
    "role",
    "member",
    "joined",
    "left",
    "last_login",
    "days_since_login",
    "logins_30d",
    "logins_4w",
    "logins_prev_4w",
    "trend",
    "weeks",
    "features_30d",
    "nps",
    "nps_date",
    "replies_90d",
};

static void usage(FILE *f) {
    fprintf(f,
            "Usage: tend users --account ID [--db PATH] [--config FILE] [--at DATE|INSTANT]\n"
            "                  [--format table|csv|json]\n\n"
            "Lists the account's users, members first, by role (champion, admin, billing,\n"
            "user) and engagement: last login, logins in the last 30 days, the last 4 weeks\n"
            "against the 4 before (trend), logins per week over 12 weeks (the oldest first;\n"
            "a sparkline in the table), distinct features used in 30 days, the latest NPS\n"
            "answer and outreach replies in 90 days. The role is the user trait named by\n"
            "rules.champion_risk.role_trait (default role). docs/rules.md, champion_risk.\n\n"
            "  --account ID     the account (its external id)\n"
            "  --db PATH        database (default ./%s)\n"
            "  --config FILE    tend.yaml (for the role trait's name)\n"
            "  --at WHEN        as of this date or instant; default: the end of the latest\n"
            "                   scored day (what the account page shows), else now\n"
            "  --format FORMAT  table (default), csv or json\n",
            DEFAULT_DB);
}

static void opt_str(struct out_table *t, const cJSON *v) {
    out_str(t, cJSON_IsString(v) ? v->valuestring : NULL);
}

static void opt_num(struct out_table *t, const cJSON *v) {
    out_num(t, cJSON_IsNumber(v) ? v->valuedouble : 0, cJSON_IsNumber(v));
}

/* The 12 weeks as a text sparkline (table) or a JSON array (csv, json). */
static void weeks_cell(struct out_table *t, const cJSON *weeks, enum out_format format) {
    if (format != OUT_TABLE) {
        char *s = cJSON_PrintUnformatted(weeks);
        out_raw_json(t, s);
        free(s);
        return;
    }
    static const char *const bars[] = {"\u2581", "\u2582", "\u2583", "\u2584",
                                       "\u2585", "\u2586", "\u2587", "\u2588"};
    double most = 0;
    const cJSON *w;
    cJSON_ArrayForEach(w, weeks) most = w->valuedouble > most ? w->valuedouble : most;
    char line[12 * 4 + 1] = "";
    cJSON_ArrayForEach(w, weeks) {
        int k = most > 0 && w->valuedouble > 0 ? 1 + (int)(w->valuedouble / most * 6.999) : 0;
        strncat(line, k == 0 ? "." : bars[k], sizeof line - strlen(line) - 1);
    }
    out_str(t, line);
}

int cmd_users(int argc, char **argv) {
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"at", required_argument, NULL, 't'},
        {"account", required_argument, NULL, 'a'},
        {"format", required_argument, NULL, 'f'},
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *db = NULL, *account = NULL, *config = NULL;
    int64_t t_ms = 0;
    enum out_format format = OUT_TABLE;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            db = optarg;
            break;
        case 't':
            if (!cli_parse_at(optarg, &t_ms))
                return cli_usage_error("users",
                                       "--at must be a date YYYY-MM-DD or an ISO-8601 instant, "
                                       "not \"%s\"",
                                       optarg);
            break;
        case 'a':
            account = optarg;
            break;
        case 'f':
            if (cli_parse_format("users", optarg, &format))
                return EXIT_USAGE;
            break;
        case 'c':
            config = optarg;
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
        return cli_usage_error("users", "unexpected argument \"%s\"", argv[optind]);
    if (!account)
        return cli_usage_error("users", "--account ID is required");
    struct tend_config *cfg = xcalloc(1, sizeof *cfg);
    int rc = cli_load_config("users", config, cfg);
    char role_trait[sizeof cfg->rules.role_trait], db_buf[CLI_DB_BYTES];
    snprintf(role_trait, sizeof role_trait, "%s", cfg->rules.role_trait);
    snprintf(db_buf, sizeof db_buf, "%s", cli_db_pick(db, cfg));
    if (!rc)
        cli_free_config(cfg);
    free(cfg);
    if (rc)
        return rc;
    struct store *s;
    if ((rc = cli_open_store(db_buf, &s)))
        return rc;
    int64_t id = 0;
    enum tend_err err = store_account_find(s, account, &id);
    if (err == TEND_ERR_NOTFOUND) {
        fprintf(stderr, "tend users: no account \"%s\"\n", account);
        store_close(s);
        return EXIT_USAGE;
    }
    if (!err && !t_ms) {
        int32_t day;
        bool found = false;
        err = store_scores_latest_day(s, &day, &found);
        t_ms = found ? (int64_t)(day + 1) * DT_MS_PER_DAY : dt_now_ms();
    }
    struct eval_users u;
    if (!err)
        err = eval_users_read(s, id, role_trait, t_ms, &u);
    if (err) {
        fprintf(stderr, "tend users: %s\n", store_last_error(s));
        store_close(s);
        return EXIT_USAGE;
    }
    cJSON *arr = eval_users_json(&u.acc);
    struct out_table *t = out_new(cols, sizeof cols / sizeof cols[0]);
    const cJSON *o;
    cJSON_ArrayForEach(o, arr) {
        out_row(t);
        for (size_t k = 0; k < sizeof cols / sizeof cols[0]; k++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, cols[k]);
            if (strcmp(cols[k], "weeks") == 0)
                weeks_cell(t, v, format);
            else if (cJSON_IsBool(v) && format == OUT_TABLE)
                out_str(t, cJSON_IsTrue(v) ? "yes" : "no");
            else if (cJSON_IsBool(v))
                out_raw_json(t, cJSON_IsTrue(v) ? "true" : "false");
            else if (cJSON_IsNumber(v) || !v || cJSON_IsNull(v))
                cJSON_IsNumber(v) ? opt_num(t, v) : out_str(t, NULL);
            else
                opt_str(t, v);
        }
    }
    out_print(t, format, stdout);
    out_free(t);
    cJSON_Delete(arr);
    eval_users_free(&u);
    store_close(s);
    return 0;
}
