/* cmd_inbox.c: tend inbox list|replay|map: the webhook inbox of the
 * connectors (docs/cli.md, docs/connectors.md).
 *
 *   list    the kept events with their status and reason, newest first;
 *   replay  puts unmapped and failed events back (or one by --id, or those
 *           of --status) and processes them now, with tend.yaml's
 *           connectors: (ingest/inbox.h), so a mapping fix applies to what
 *           arrived before it;
 *   map     fills the mapping table from a CSV of provider_id,account_id
 *           (a Stripe customer, a Zendesk organisation or a HubSpot
 *           company to tend's account id), one upsert per row in one
 *           transaction; a bad row is named by line and nothing is kept. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/config.h"
#include "cli/output.h"
#include "ingest/inbox.h"
#include "ingest/ingest.h"
#include "util/datetime.h"
#include "util/mem.h"

#define CSV_MAX_LINE 4096
#define CSV_MAX_ROWS 1000000

static void usage(FILE *f) {
    fprintf(f,
            "Usage: tend inbox list   [--provider P] [--status S] [--limit N] [--format F]\n"
            "       tend inbox replay [--provider P] [--status S | --id N] [--config FILE]\n"
            "       tend inbox map    --provider P --csv FILE\n"
            "       (each also takes --db PATH and --config FILE)\n\n"
            "The webhook inbox of the connectors (docs/connectors.md). Every event Stripe,\n"
            "Zendesk or HubSpot sends is kept by its event id, processed into tend's events,\n"
            "and kept with its status: done, unmapped (no account for the customer, or an\n"
            "unknown HubSpot owner: fix the mapping, then replay), ignored (a type or change\n"
            "tend does not map) or failed (unreadable, or refused by ingest).\n\n"
            "  list     newest first; --status pending|done|unmapped|ignored|failed,\n"
            "           --limit 1-10000 (default 100), --format table|csv|json\n"
            "  replay   puts back the unmapped and failed events (--status S: those; --id N:\n"
            "           that one) and processes them now with tend.yaml's connectors:\n"
            "  map      fills the mapping table from a CSV with the header\n"
            "           provider_id,account_id (e.g. cus_Nf3...,acme): the provider's id of\n"
            "           a customer, organisation or company, and tend's account id\n\n"
            "  --provider P   stripe, zendesk or hubspot\n"
            "  --db PATH      database (default ./%s)\n",
            DEFAULT_DB);
}

struct opts {
    const char *db, *config, *provider, *status, *csv;
    int64_t id;
    long limit;
    enum out_format format;
};

/* Parses the options after the verb; 0, or an exit code after a message. */
static int parse(int argc, char **argv, struct opts *o) {
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},       {"config", required_argument, NULL, 'c'},
        {"provider", required_argument, NULL, 'p'}, {"status", required_argument, NULL, 's'},
        {"id", required_argument, NULL, 'i'},       {"limit", required_argument, NULL, 'l'},
        {"format", required_argument, NULL, 'f'},   {"csv", required_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
    };
    int c;
    char *end;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            o->db = optarg;
            break;
        case 'c':
            o->config = optarg;
            break;
        case 'p': {
            enum hook_provider p;
            if (!hook_provider_of(optarg, &p))
                return cli_usage_error("inbox",
                                       "--provider must be stripe, zendesk or hubspot, "
                                       "not \"%s\"",
                                       optarg);
            o->provider = optarg;
            break;
        }
        case 's':
            if (strcmp(optarg, "pending") && strcmp(optarg, "done") && strcmp(optarg, "unmapped") &&
                strcmp(optarg, "ignored") && strcmp(optarg, "failed"))
                return cli_usage_error("inbox",
                                       "--status must be pending, done, unmapped, ignored or "
                                       "failed, not \"%s\"",
                                       optarg);
            o->status = optarg;
            break;
        case 'i':
            errno = 0;
            o->id = strtoll(optarg, &end, 10);
            if (errno || *end || o->id < 1)
                return cli_usage_error("inbox", "--id must be an inbox row's id, not \"%s\"",
                                       optarg);
            break;
        case 'l':
            o->limit = strtol(optarg, &end, 10);
            if (*end || o->limit < 1 || o->limit > 10000)
                return cli_usage_error("inbox", "--limit must be from 1 to 10000, not \"%s\"",
                                       optarg);
            break;
        case 'f':
            if (cli_parse_format("inbox", optarg, &o->format))
                return EXIT_USAGE;
            break;
        case 'v':
            o->csv = optarg;
            break;
        case 'h':
            usage(stdout);
            return -1;
        default:
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (optind < argc)
        return cli_usage_error("inbox", "unexpected argument \"%s\"", argv[optind]);
    return 0;
}

static void on_list_row(void *arg, const struct store_inbox_row *r) {
    struct out_table *t = arg;
    char at[32];
    out_row(t);
    out_int(t, r->id);
    out_str(t, r->provider);
    out_str(t, r->event_id);
    out_str(t, r->event_type);
    dt_format_instant(r->received_ms, at);
    out_str(t, at);
    out_str(t, r->status);
    out_str(t, r->reason[0] ? r->reason : NULL);
    out_str(t, r->account[0] ? r->account : NULL);
    out_int(t, r->events);
    out_str(t, r->detail[0] ? r->detail : NULL);
}

static int list(struct store *s, const struct opts *o) {
    static const char *const cols[] = {"id",     "provider", "event_id", "type",   "received_at",
                                       "status", "reason",   "account",  "events", "detail"};
    struct out_table *t = out_new(cols, sizeof cols / sizeof cols[0]);
    if (store_inbox_each(s, o->provider, o->status, o->limit ? o->limit : 100, on_list_row, t)) {
        fprintf(stderr, "tend inbox: %s\n", store_last_error(s));
        out_free(t);
        return EXIT_USAGE;
    }
    out_print(t, o->format, stdout);
    out_free(t);
    return 0;
}

static int replay(struct store *s, const struct opts *o, const struct connectors_config *cc) {
    int64_t n = 0;
    if (store_inbox_requeue(s, o->provider, o->status, o->id, &n)) {
        fprintf(stderr, "tend inbox: %s\n", store_last_error(s));
        return EXIT_USAGE;
    }
    struct ingest *ig = ingest_new(s);
    struct inbox_run run = {0};
    enum tend_err e = inbox_process(ig, s, cc, 0, NULL, NULL, NULL, &run);
    ingest_free(ig);
    if (e) {
        fprintf(stderr, "tend inbox: replay: %s\n", store_last_error(s));
        return EXIT_USAGE;
    }
    printf("tend inbox replay: %lld put back; %lld processed: %lld done, %lld unmapped, %lld "
           "ignored, %lld failed; %lld events stored\n",
           (long long)n, (long long)run.rows, (long long)run.done, (long long)run.unmapped,
           (long long)run.ignored, (long long)run.failed, (long long)run.events);
    return run.unmapped || run.failed ? EXIT_REJECTED : 0;
}

/* Splits one CSV line into two fields (quotes and "" allowed); false when
 * it is not exactly two non-empty fields. */
static bool two_fields(char *line, char *a, char *b, size_t size) {
    char *out[2] = {a, b};
    int field = 0;
    size_t k = 0;
    bool quoted = false;
    for (char *p = line;; p++) {
        if (quoted) {
            if (*p == '\0')
                return false;
            if (*p == '"' && p[1] == '"') {
                p++;
            } else if (*p == '"') {
                quoted = false;
                continue;
            }
        } else if (*p == '"' && k == 0) {
            quoted = true;
            continue;
        } else if (*p == ',' || *p == '\0') {
            out[field][k] = '\0';
            if (!k || (*p == ',' && ++field > 1))
                return false;
            if (*p == '\0')
                return field == 1;
            k = 0;
            continue;
        }
        if (k + 1 >= size)
            return false;
        out[field][k++] = *p;
    }
}

static int map_csv(struct store *s, const struct opts *o) {
    if (!o->provider || !o->csv)
        return cli_usage_error("inbox", "map needs --provider P and --csv FILE");
    FILE *f = strcmp(o->csv, "-") == 0 ? stdin : fopen(o->csv, "r");
    if (!f) {
        fprintf(stderr, "tend inbox: %s: %s\n", o->csv, strerror(errno));
        return EXIT_USAGE;
    }
    char line[CSV_MAX_LINE + 2], a[STORE_INBOX_ID_BYTES], b[STORE_INBOX_ID_BYTES];
    long n = 0, rows = 0;
    int rc = 0;
    int64_t now = dt_now_ms();
    if (store_begin(s, NULL)) {
        fprintf(stderr, "tend inbox: %s\n", store_last_error(s));
        rc = EXIT_USAGE;
        goto done;
    }
    while (fgets(line, sizeof line, f)) {
        n++;
        size_t len = strlen(line);
        if (len > CSV_MAX_LINE && line[len - 1] != '\n') {
            fprintf(stderr, "tend inbox: %s:%ld: longer than %d bytes\n", o->csv, n, CSV_MAX_LINE);
            rc = EXIT_USAGE;
            break;
        }
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (n == 1) {
            if (strcmp(line, "provider_id,account_id") != 0) {
                fprintf(stderr,
                        "tend inbox: %s:1: the header must be provider_id,account_id, not "
                        "\"%.100s\"\n",
                        o->csv, line);
                rc = EXIT_USAGE;
                break;
            }
            continue;
        }
        if (!len)
            continue;
        if (!two_fields(line, a, b, sizeof a)) {
            fprintf(stderr,
                    "tend inbox: %s:%ld: expected two non-empty fields provider_id,account_id "
                    "(each under %d bytes)\n",
                    o->csv, n, STORE_INBOX_ID_BYTES);
            rc = EXIT_USAGE;
            break;
        }
        if (++rows > CSV_MAX_ROWS) {
            fprintf(stderr, "tend inbox: %s: more than %d rows\n", o->csv, CSV_MAX_ROWS);
            rc = EXIT_USAGE;
            break;
        }
        if (store_hook_account_put(s, o->provider, a, b, now)) {
            fprintf(stderr, "tend inbox: %s:%ld: %s\n", o->csv, n, store_last_error(s));
            rc = EXIT_USAGE;
            break;
        }
    }
    if (!rc && n == 0) {
        fprintf(stderr, "tend inbox: %s: empty (the header provider_id,account_id first)\n",
                o->csv);
        rc = EXIT_USAGE;
    }
    if (rc) {
        store_rollback(s);
    } else if (store_commit(s)) {
        fprintf(stderr, "tend inbox: %s\n", store_last_error(s));
        rc = EXIT_USAGE;
    } else {
        printf("tend inbox map: %ld %s ids mapped to accounts; tend inbox replay processes "
               "the events that waited for them\n",
               rows, o->provider);
    }
done:
    if (f != stdin)
        fclose(f);
    return rc;
}

int cmd_inbox(int argc, char **argv) {
    if (argc < 2 || argv[1][0] == '-') {
        if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
            usage(stdout);
            return 0;
        }
        return cli_usage_error("inbox", "give list, replay or map");
    }
    const char *verb = argv[1];
    if (strcmp(verb, "list") && strcmp(verb, "replay") && strcmp(verb, "map"))
        return cli_usage_error("inbox", "unknown action \"%s\" (list, replay or map)", verb);
    struct opts o = {.format = OUT_TABLE};
    int rc = parse(argc - 1, argv + 1, &o);
    if (rc)
        return rc < 0 ? 0 : rc;
    struct tend_config *cfg = xcalloc(1, sizeof *cfg);
    if ((rc = cli_load_config("inbox", o.config, cfg))) {
        free(cfg);
        return rc;
    }
    char db[CLI_DB_BYTES];
    snprintf(db, sizeof db, "%s", cli_db_pick(o.db, cfg));
    struct store *s;
    if (!(rc = cli_open_store(db, &s))) {
        if (strcmp(verb, "list") == 0)
            rc = list(s, &o);
        else if (strcmp(verb, "replay") == 0)
            rc = replay(s, &o, &cfg->connectors);
        else
            rc = map_csv(s, &o);
        store_close(s);
    }
    cli_free_config(cfg);
    free(cfg);
    return rc;
}
