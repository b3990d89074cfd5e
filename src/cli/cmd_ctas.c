/* cmd_ctas.c: tend ctas and tend cta: list CTAs and work on one (SPEC 5).
 *
 *   tend ctas [--status S] [--owner O] [--account A] [--rule R] [--format F]
 *   tend cta show ID
 *   tend cta snooze ID --until DATE
 *   tend cta close ID --reason resolved|not_relevant
 *   tend cta assign ID OWNER
 *   tend cta acknowledge ID
 *
 * A person's action happens on the current day of tend's timeline: the day
 * of the latest evaluation (today, where the schedule runs daily), unless
 * --on says otherwise, so that snoozes and cooldowns count in the same days
 * as the rules. Every action is recorded in the CTA's history with who did
 * it (--by, default $USER). */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/output.h"
#include <math.h>

#include "cli/config.h"
#include "core/cta.h"
#include "core/plan.h"
#include "eval/act.h"
#include "eval/ctas.h"
#include "util/datetime.h"
#include "util/mem.h"

static void usage_ctas(FILE *f) {
    fprintf(f, "Usage: tend ctas [--db PATH] [--status STATUS] [--owner EMAIL] [--account ID]\n"
               "                 [--rule NAME] [--limit N] [--format table|csv|json]\n"
               "       tend ctas --held [--week DATE] [--owner EMAIL] [--limit N] [--format F]\n"
               "\n"
               "Lists CTAs, open and snoozed first, then by priority, value (the most first)\n"
               "and due date. With --held, the CTAs the weekly budget held back instead of\n"
               "opening (rules.budget), newest week first, then by value.\n\n"
               "  --status STATUS  open, snoozed, closed, live (open or snoozed; the default)\n"
               "                   or all\n"
               "  --owner EMAIL    only this owner's\n"
               "  --account ID     only this account's\n"
               "  --rule NAME      only this rule's\n"
               "  --limit N        print only the first N\n"
               "  --held           the held-back CTAs instead\n"
               "  --week DATE      with --held: only the ISO week of DATE\n"
               "  --config PATH    tend.yaml, for the currency of values (rules.value)\n");
}

static void usage_cta(FILE *f) {
    fprintf(f, "Usage: tend cta show ID [--format table|json]\n"
               "       tend cta snooze ID --until DATE\n"
               "       tend cta close ID --reason resolved|not_relevant\n"
               "       tend cta assign ID OWNER\n"
               "       tend cta acknowledge ID\n"
               "Options for all: --db PATH, --by WHO (default $USER), --note TEXT, --on DATE\n"
               "(the day of the action; default the latest evaluation's day, else today).\n");
}

static void date_or_null(struct out_table *t, bool known, int32_t day) {
    char d[16];
    if (!known) {
        out_str(t, NULL);
        return;
    }
    dt_format_date(day, d);
    out_str(t, d);
}

/* ---- tend ctas ------------------------------------------------------------------ */

static const char *const list_cols[] = {
    "id",       "account_id",  "rule",          "subject",       "type",
    "priority", "status",      "owner",         "title",         "reason",
    "due_date", "opened_date", "snoozed_until", "closed_reason", "closed_date",
    "evidence", "value",       "value_text",    "held_out"};

/* A text table shows what fits on a screen; CSV and JSON carry everything. */
static const char *const brief_cols[] = {"id",     "account_id", "rule",     "subject", "priority",
                                         "status", "owner",      "due_date", "value",   "title"};

struct listing {
    struct out_table *t;
    bool brief;
    long limit, n;
    const char *currency;
    int64_t *held; /* the held-out CTAs' ids, ascending (the randomised holdout) */
    size_t n_held;
};

static void on_holdout(void *arg, const struct store_holdout *h) {
    struct listing *l = arg;
    if (!h->held_out)
        return;
    l->held = xrealloc(l->held, (l->n_held + 1) * sizeof *l->held);
    l->held[l->n_held++] = h->cta_id;
}

static bool is_held_out(const struct listing *l, int64_t id) {
    size_t lo = 0, hi = l->n_held;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (l->held[mid] == id)
            return true;
        if (l->held[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

static void value_cell(struct out_table *t, bool known, double value, const char *type,
                       const char *currency) {
    enum cta_type ty = CTA_RISK;
    cta_type_parse(type, &ty);
    char text[64];
    plan_value_text(known ? value : NAN, ty, currency, text, sizeof text);
    out_str(t, text[0] ? text : NULL);
}

static void brief_row(struct out_table *t, const struct store_cta *c, const char *currency) {
    out_row(t);
    out_int(t, c->id);
    out_str(t, c->account);
    out_str(t, c->rule);
    out_str(t, c->subject);
    out_str(t, cta_priority_name((enum cta_priority)c->priority));
    out_str(t, c->status == CTA_CLOSED
                   ? cta_close_reason_name((enum cta_close_reason)c->closed_reason)
                   : cta_status_name((enum cta_status)c->status));
    out_str(t, c->owner);
    date_or_null(t, true, c->due_day);
    value_cell(t, c->has_value, c->value, c->type, currency);
    out_str(t, c->title);
}

static void cta_row(struct out_table *t, const struct store_cta *c, const char *currency,
                    bool held_out) {
    out_row(t);
    out_int(t, c->id);
    out_str(t, c->account);
    out_str(t, c->rule);
    out_str(t, c->subject);
    out_str(t, c->type);
    out_str(t, cta_priority_name((enum cta_priority)c->priority));
    out_str(t, cta_status_name((enum cta_status)c->status));
    out_str(t, c->owner);
    out_str(t, c->title);
    out_str(t, c->reason);
    date_or_null(t, true, c->due_day);
    date_or_null(t, true, c->opened_day);
    date_or_null(t, c->status == CTA_SNOOZED, c->snoozed_until);
    out_str(t, c->has_closed && c->status == CTA_CLOSED
                   ? cta_close_reason_name((enum cta_close_reason)c->closed_reason)
                   : NULL);
    date_or_null(t, c->has_closed && c->status == CTA_CLOSED, c->closed_day);
    out_raw_json(t, c->evidence ? c->evidence : "{}");
    out_num(t, c->value, c->has_value);
    value_cell(t, c->has_value, c->value, c->type, currency);
    out_raw_json(t, held_out ? "true" : "false");
}

static int on_listed(void *arg, const struct store_cta *c) {
    struct listing *l = arg;
    if (l->brief)
        brief_row(l->t, c, l->currency);
    else
        cta_row(l->t, c, l->currency, is_held_out(l, c->id));
    return l->limit > 0 && ++l->n >= l->limit;
}

/* ---- tend ctas --held ---------------------------------------------------------- */

static const char *const held_cols[] = {
    "week",     "day",   "account_id", "account_name", "rule",  "subject", "type",
    "priority", "owner", "value",      "value_text",   "title", "reason"};

static int on_held(void *arg, const struct store_cta_held *h) {
    struct listing *l = arg;
    out_row(l->t);
    date_or_null(l->t, true, h->week);
    date_or_null(l->t, true, h->day);
    out_str(l->t, h->account);
    out_str(l->t, h->account_name);
    out_str(l->t, h->rule);
    out_str(l->t, h->subject);
    out_str(l->t, h->type);
    out_str(l->t, cta_priority_name((enum cta_priority)h->priority));
    out_str(l->t, h->owner);
    out_num(l->t, h->value, h->has_value);
    value_cell(l->t, h->has_value, h->value, h->type, l->currency);
    out_str(l->t, h->title);
    out_str(l->t, h->reason);
    return l->limit > 0 && ++l->n >= l->limit;
}

/* Lists what the weekly budget held back (docs/rules.md, Budget). */
static int list_held(struct store *st, const char *owner, int32_t week, long limit,
                     enum out_format format, const char *currency) {
    struct listing l = {.t = out_new(held_cols, sizeof held_cols / sizeof held_cols[0]),
                        .limit = limit,
                        .currency = currency};
    enum tend_err err = store_ctas_held_each(st, week, owner, on_held, &l);
    if (err)
        fprintf(stderr, "tend ctas: %s\n", store_last_error(st));
    else
        out_print(l.t, format, stdout);
    out_free(l.t);
    return err ? EXIT_USAGE : 0;
}

int cmd_ctas(int argc, char **argv) {
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},     {"status", required_argument, NULL, 's'},
        {"owner", required_argument, NULL, 'o'},  {"account", required_argument, NULL, 'a'},
        {"rule", required_argument, NULL, 'r'},   {"limit", required_argument, NULL, 'l'},
        {"format", required_argument, NULL, 'f'}, {"held", no_argument, NULL, 'H'},
        {"week", required_argument, NULL, 'w'},   {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    const char *db = NULL, *config = NULL;
    bool held = false;
    int32_t week = 0;
    struct store_cta_filter filter = {.status = "live"};
    enum out_format format = OUT_TABLE;
    long limit = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            db = optarg;
            break;
        case 's': {
            if (!cta_status_filter_parse(optarg, &filter.status))
                return cli_usage_error("ctas",
                                       "--status must be open, snoozed, closed, live or all, "
                                       "not \"%s\"",
                                       optarg);
            break;
        }
        case 'o':
            filter.owner = optarg;
            break;
        case 'a':
            filter.account = optarg;
            break;
        case 'r':
            filter.rule = optarg;
            break;
        case 'l':
            limit = strtol(optarg, NULL, 10);
            if (limit <= 0)
                return cli_usage_error("ctas", "--limit must be a positive number");
            break;
        case 'f':
            if (cli_parse_format("ctas", optarg, &format))
                return EXIT_USAGE;
            break;
        case 'H':
            held = true;
            break;
        case 'w':
            if (!dt_parse_date(optarg, strlen(optarg), &week))
                return cli_usage_error("ctas", "--week must be a date (YYYY-MM-DD), not \"%s\"",
                                       optarg);
            week = plan_week_start(week);
            break;
        case 'c':
            config = optarg;
            break;
        case 'h':
            usage_ctas(stdout);
            return 0;
        default:
            usage_ctas(stderr);
            return EXIT_USAGE;
        }
    }
    if (optind < argc)
        return cli_usage_error("ctas", "unexpected argument \"%s\"", argv[optind]);
    if (week && !held)
        return cli_usage_error("ctas", "--week goes with --held");
    /* The configuration only for the currency values are printed in. */
    struct tend_config *cfg = xcalloc(1, sizeof *cfg);
    int rc = cli_load_config("ctas", config, cfg);
    char currency[sizeof cfg->rules.currency];
    snprintf(currency, sizeof currency, "%s", cfg->rules.currency);
    char db_buf[CLI_DB_BYTES];
    snprintf(db_buf, sizeof db_buf, "%s", cli_db_pick(db, cfg));
    db = db_buf;
    if (!rc)
        cli_free_config(cfg);
    free(cfg);
    if (rc)
        return rc;
    struct store *st;
    rc = cli_open_store(db, &st);
    if (rc)
        return rc;
    if (held) {
        rc = list_held(st, filter.owner, week, limit, format, currency);
        store_close(st);
        return rc;
    }
    bool brief = format == OUT_TABLE;
    struct listing l = {.t = brief ? out_new(brief_cols, sizeof brief_cols / sizeof brief_cols[0])
                                   : out_new(list_cols, sizeof list_cols / sizeof list_cols[0]),
                        .brief = brief,
                        .limit = limit,
                        .currency = currency};
    enum tend_err err = store_holdouts_each(st, NULL, on_holdout, &l); /* by CTA id */
    if (!err)
        err = store_ctas_each(st, &filter, on_listed, &l);
    if (err)
        fprintf(stderr, "tend ctas: %s\n", store_last_error(st));
    else
        out_print(l.t, format, stdout);
    out_free(l.t);
    free(l.held);
    store_close(st);
    return err ? EXIT_USAGE : 0;
}

/* ---- tend cta ---------------------------------------------------------------------- */

struct history_print {
    cJSON *json; /* array, or NULL for text */
};

static void on_history(void *arg, const struct store_cta_change *ch) {
    struct history_print *h = arg;
    char d[16];
    dt_format_date(ch->day, d);
    if (h->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "seq", (double)ch->seq);
        cJSON_AddStringToObject(o, "date", d);
        cJSON_AddStringToObject(o, "action", ch->action);
        cJSON_AddStringToObject(o, "actor", ch->actor);
        cJSON_AddStringToObject(o, "status", cta_status_name((enum cta_status)ch->status));
        cJSON_AddStringToObject(o, "priority", cta_priority_name((enum cta_priority)ch->priority));
        if (ch->note)
            cJSON_AddStringToObject(o, "note", ch->note);
        else
            cJSON_AddNullToObject(o, "note");
        cJSON_AddItemToArray(h->json, o);
        return;
    }
    printf("  %s  %-8s %-7s %-6s by %s%s%s\n", d, ch->action,
           cta_status_name((enum cta_status)ch->status),
           cta_priority_name((enum cta_priority)ch->priority), ch->actor, ch->note ? ": " : "",
           ch->note ? ch->note : "");
}

static int show(struct store *st, const struct store_cta *c, enum out_format format) {
    struct store_holdout h;
    bool in_holdout = false;
    if (store_holdout_get(st, c->id, &h, &in_holdout)) {
        fprintf(stderr, "tend cta: %s\n", store_last_error(st));
        return EXIT_USAGE;
    }
    bool held_out = in_holdout && h.held_out;
    if (format == OUT_JSON) {
        struct out_table *t = out_new(list_cols, sizeof list_cols / sizeof list_cols[0]);
        cta_row(t, c, "$", held_out);
        /* One object, with the history: the table's row, then the changes. */
        char *buf = NULL;
        size_t len = 0;
        FILE *mem = open_memstream(&buf, &len);
        out_print(t, OUT_JSON, mem);
        fclose(mem);
        out_free(t);
        cJSON *arr = cJSON_Parse(buf);
        free(buf);
        cJSON *o = cJSON_DetachItemFromArray(arr, 0);
        cJSON_Delete(arr);
        struct history_print hp = {.json = cJSON_AddArrayToObject(o, "history")};
        enum tend_err err = store_cta_history_each(st, c->id, on_history, &hp);
        char *text = cJSON_Print(o);
        puts(text);
        cJSON_free(text);
        cJSON_Delete(o);
        return err ? EXIT_USAGE : 0;
    }
    char due[16], opened[16];
    dt_format_date(c->due_day, due);
    dt_format_date(c->opened_day, opened);
    printf("CTA %lld: %s\n", (long long)c->id, c->title);
    printf("  account   %s\n  rule      %s%s%s\n  type      %s\n  priority  %s\n", c->account,
           c->rule, c->subject[0] ? "  subject " : "", c->subject, c->type,
           cta_priority_name((enum cta_priority)c->priority));
    printf("  status    %s", cta_status_name((enum cta_status)c->status));
    if (c->status == CTA_SNOOZED) {
        char u[16];
        dt_format_date(c->snoozed_until, u);
        printf(" until %s", u);
    } else if (c->status == CTA_CLOSED) {
        char d[16];
        dt_format_date(c->closed_day, d);
        printf(" (%s) on %s", cta_close_reason_name((enum cta_close_reason)c->closed_reason), d);
    }
    printf("\n  owner     %s\n  opened    %s\n  due       %s\n  reason    %s\n  evidence  %s\n",
           c->owner, opened, due, c->reason, c->evidence);
    if (in_holdout)
        printf("  holdout   %s (the account's draw %.4f, the rule's holdout %g%%)\n",
               held_out ? "held out: created, not delivered" : "delivered", h.draw, h.share * 100);
    printf("history:\n");
    struct history_print hp = {0};
    return store_cta_history_each(st, c->id, on_history, &hp) ? EXIT_USAGE : 0;
}

int cmd_cta(int argc, char **argv) {
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"until", required_argument, NULL, 'u'},
        {"reason", required_argument, NULL, 'r'},
        {"by", required_argument, NULL, 'b'},
        {"note", required_argument, NULL, 'n'},
        {"on", required_argument, NULL, 'o'},
        {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *db = cli_db_default(), *reason = NULL, *note = NULL;
    const char *by = getenv("USER");
    int32_t until = 0, on = 0;
    bool has_until = false, has_on = false;
    enum out_format format = OUT_TABLE;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            db = optarg;
            break;
        case 'u':
        case 'o':
            if (!dt_parse_date(optarg, strlen(optarg), c == 'u' ? &until : &on))
                return cli_usage_error("cta", "--%s must be a date YYYY-MM-DD, not \"%s\"",
                                       c == 'u' ? "until" : "on", optarg);
            has_until |= c == 'u';
            has_on |= c == 'o';
            break;
        case 'r':
            reason = optarg;
            break;
        case 'b':
            by = optarg;
            break;
        case 'n':
            note = optarg;
            break;
        case 'f':
            if (cli_parse_format("cta", optarg, &format))
                return EXIT_USAGE;
            break;
        case 'h':
            usage_cta(stdout);
            return 0;
        default:
            usage_cta(stderr);
            return EXIT_USAGE;
        }
    }
    int left = argc - optind;
    const char *verb = left > 0 ? argv[optind] : NULL;
    bool known = verb && (strcmp(verb, "show") == 0 || strcmp(verb, "snooze") == 0 ||
                          strcmp(verb, "close") == 0 || strcmp(verb, "assign") == 0 ||
                          strcmp(verb, "acknowledge") == 0);
    if (!known) {
        usage_cta(stderr);
        return EXIT_USAGE;
    }
    if (left < 2)
        return cli_usage_error("cta", "%s needs a CTA id", verb);
    char *end;
    long long id = strtoll(argv[optind + 1], &end, 10);
    if (*end || id <= 0)
        return cli_usage_error("cta", "\"%s\" is not a CTA id", argv[optind + 1]);
    bool assign = strcmp(verb, "assign") == 0;
    if (left != (assign ? 3 : 2))
        return cli_usage_error(
            "cta", assign ? "assign needs a CTA id and an owner" : "unexpected argument \"%s\"",
            argv[optind + (assign ? 0 : 2)]);
    if (strcmp(verb, "snooze") == 0 && !has_until)
        return cli_usage_error("cta", "snooze needs --until DATE");
    enum cta_close_reason why = CTA_RESOLVED;
    if (strcmp(verb, "close") == 0 && (!reason || !cta_close_reason_parse(reason, &why) ||
                                       (why != CTA_RESOLVED && why != CTA_NOT_RELEVANT)))
        return cli_usage_error("cta", "close needs --reason resolved or --reason not_relevant "
                                      "(auto_resolved and churned are tend's own)");
    if (!by || !*by)
        by = "cli";

    struct store *st;
    int rc = cli_open_store(db, &st);
    if (rc)
        return rc;
    if (strcmp(verb, "show") == 0) {
        struct store_cta cta;
        enum tend_err err = eval_cta_get(st, id, &cta);
        if (err == TEND_ERR_NOTFOUND)
            fprintf(stderr, "tend cta: no CTA %lld\n", id);
        else if (err)
            fprintf(stderr, "tend cta: %s\n", store_last_error(st));
        rc = err ? EXIT_USAGE : show(st, &cta, format);
        if (!err)
            eval_cta_release(&cta);
        store_close(st);
        return rc;
    }
    struct cta_act a = {
        .verb = strcmp(verb, "snooze") == 0  ? CTA_ACT_SNOOZE
                : strcmp(verb, "close") == 0 ? CTA_ACT_CLOSE
                : assign                     ? CTA_ACT_ASSIGN
                                             : CTA_ACT_ACKNOWLEDGE,
        .until = until,
        .reason = why,
        .owner = assign ? argv[optind + 2] : NULL,
        .by = by,
        .note = note,
        .has_on = has_on,
        .on = on,
    };
    char msg[400];
    enum tend_err err = eval_cta_act(st, id, &a, msg, sizeof msg);
    if (err)
        fprintf(stderr, "tend cta: %s\n", msg);
    else
        printf("CTA %lld: %s\n", id, msg);
    store_close(st);
    return err ? EXIT_USAGE : 0;
}
