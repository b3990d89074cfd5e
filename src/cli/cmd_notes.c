/* cmd_notes.c: tend notes: record and list notes and activities (call,
 * email, meeting, text, note) on a CTA or an account (docs/cli.md, "tend
 * notes").
 *
 *   tend notes add (--cta ID | --account ID) --kind KIND --text TEXT [--by WHO]
 *   tend notes list [--account ID] [--cta ID] [--limit N] [--format F]
 *
 * Recording goes through eval_note_add (eval/notes.h), the one function the
 * API and the dashboard call too: a note on a CTA is also an entry of its
 * history, by its author. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/output.h"
#include "eval/notes.h"
#include "util/datetime.h"

static void usage(FILE *f) {
    fprintf(f,
            "Usage: tend notes add (--cta ID | --account ID) --kind KIND --text TEXT [--by WHO]\n"
            "       tend notes list [--account ID] [--cta ID] [--limit N]\n"
            "                       [--format table|csv|json]\n"
            "\n"
            "Records a note or activity on a CTA or an account, or lists them, newest first.\n"
            "  --kind KIND   call, email, meeting, text (outreach) or note\n"
            "  --text TEXT   what happened, at most 2000 bytes\n"
            "  --by WHO      who did it (default $USER)\n"
            "  --db PATH     the database\n");
}

static const char *const cols[] = {"id", "at", "account_id", "cta_id", "kind", "by", "text"};

struct listing {
    struct out_table *t;
};

static int on_note(void *arg, const struct store_note *n) {
    struct listing *l = arg;
    char at[40];
    dt_format_instant(n->at_ms, at);
    out_row(l->t);
    out_int(l->t, n->id);
    out_str(l->t, at);
    out_str(l->t, n->account);
    if (n->cta_id)
        out_int(l->t, n->cta_id);
    else
        out_str(l->t, NULL);
    out_str(l->t, n->kind);
    out_str(l->t, n->actor);
    out_str(l->t, n->body);
    return 0;
}

int cmd_notes(int argc, char **argv) {
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},      {"cta", required_argument, NULL, 'c'},
        {"account", required_argument, NULL, 'a'}, {"kind", required_argument, NULL, 'k'},
        {"text", required_argument, NULL, 't'},    {"by", required_argument, NULL, 'b'},
        {"limit", required_argument, NULL, 'l'},   {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    const char *db = cli_db_default(), *account = NULL, *kind = NULL, *text = NULL;
    const char *by = getenv("USER");
    long long cta = 0;
    long limit = 100;
    enum out_format format = OUT_TABLE;
    int c;
    char *end;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            db = optarg;
            break;
        case 'c':
            cta = strtoll(optarg, &end, 10);
            if (*end || cta <= 0)
                return cli_usage_error("notes", "--cta must be a CTA id, not \"%s\"", optarg);
            break;
        case 'a':
            account = optarg;
            break;
        case 'k':
            kind = optarg;
            break;
        case 't':
            text = optarg;
            break;
        case 'b':
            by = optarg;
            break;
        case 'l':
            limit = strtol(optarg, &end, 10);
            if (*end || limit <= 0 || limit > 100000)
                return cli_usage_error("notes", "--limit must be a number from 1 to 100000");
            break;
        case 'f':
            if (cli_parse_format("notes", optarg, &format))
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
    const char *verb = optind < argc ? argv[optind] : NULL;
    if (!verb || (strcmp(verb, "add") != 0 && strcmp(verb, "list") != 0)) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (optind + 1 < argc)
        return cli_usage_error("notes", "unexpected argument \"%s\"", argv[optind + 1]);
    bool add = strcmp(verb, "add") == 0;
    if (add && (cta > 0) == (account != NULL))
        return cli_usage_error("notes", "add needs either --cta ID or --account ID");
    if (add && (!kind || !text))
        return cli_usage_error("notes", "add needs --kind and --text");
    if (!by || !*by)
        by = "cli";
    struct store *st;
    int rc = cli_open_store(db, &st);
    if (rc)
        return rc;
    if (add) {
        struct note_input n = {
            .cta_id = cta, .account = account, .kind = kind, .body = text, .by = by};
        int64_t id = 0;
        char msg[400];
        enum tend_err err = eval_note_add(st, &n, &id, msg, sizeof msg);
        if (err)
            fprintf(stderr, "tend notes: %s\n", msg);
        else
            printf("note %lld: %s\n", (long long)id, msg);
        store_close(st);
        return err ? (err == TEND_ERR_DB ? EXIT_USAGE : EXIT_REJECTED) : 0;
    }
    struct store_note_filter f = {.cta_id = cta, .limit = (int)limit};
    enum tend_err err = TEND_OK;
    if (account && (err = store_account_find(st, account, &f.account_id))) {
        if (err == TEND_ERR_NOTFOUND)
            fprintf(stderr, "tend notes: no account %s\n", account);
        else
            fprintf(stderr, "tend notes: %s\n", store_last_error(st));
        store_close(st);
        return EXIT_USAGE;
    }
    struct listing l = {.t = out_new(cols, sizeof cols / sizeof cols[0])};
    err = store_notes_each(st, &f, on_note, &l);
    if (err)
        fprintf(stderr, "tend notes: %s\n", store_last_error(st));
    else
        out_print(l.t, format, stdout);
    out_free(l.t);
    store_close(st);
    return err ? EXIT_USAGE : 0;
}
