/* cmd_import.c: tend import: Segment JSON Lines files and an accounts CSV.
 *
 * Streams each file through a capped line reader (util/lines.h), so memory is
 * flat whatever the file size. Each line is one Segment message or one Segment
 * batch object. Valid messages are stored in transactions of IMPORT_TX
 * messages; a rejected line never stops the import and never costs a valid
 * one. Rejections are reported as FILE:LINE: reason (FILE:LINE: batch[I]:
 * reason inside a batch), the first IMPORT_SHOWN on stderr, all of them in the
 * --errors file. */
#include <cjson/cJSON.h>
#include <csv.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "ingest/ingest.h"
#include "ingest/segment.h"
#include "util/datetime.h"
#include "util/lines.h"
#include "util/mem.h"

#define IMPORT_TX          100000
#define IMPORT_SHOWN       20
#define PROGRESS_MIN_BYTES (16 * 1024 * 1024)

struct import {
    struct ingest *ig;
    FILE *errors;     /* --errors file, or NULL */
    int64_t shown;    /* rejections printed on stderr */
    int64_t in_tx;    /* messages in the open transaction */
    int64_t rejected; /* rejections in all files */
    bool progress;    /* a progress line is on the terminal */
};

static void usage(FILE *f) {
    fprintf(f,
            "Usage: tend import [--db PATH] [--errors OUT] [--accounts FILE.csv] [FILE...]\n\n"
            "Imports Segment messages from JSON Lines files (one message, or one Segment\n"
            "batch object {\"batch\":[...],\"context\":{...}}, per line; - reads stdin) and\n"
            "account traits from a CSV file whose header row starts with account_id.\n\n"
            "  --db PATH          database (default ./%s)\n"
            "  --accounts FILE    CSV of accounts: account_id,name,plan,mrr,seats,...\n"
            "                     (premium_products: keys separated by ';')\n"
            "  --errors OUT       write every rejected line to OUT (the screen shows %d)\n"
            "  --help             this help\n\n"
            "Prints accepted, duplicates, quarantined and rejected counts per file.\n"
            "Exit status: 0 all accepted, 1 some lines rejected (the valid ones are kept),\n"
            "2 usage or I/O error.\n",
            DEFAULT_DB, IMPORT_SHOWN);
}

static void clear_progress(struct import *im) {
    if (im->progress) {
        fputs("\r\033[K", stderr);
        im->progress = false;
    }
}

static void reject(struct import *im, const char *file, int64_t line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void reject(struct import *im, const char *file, int64_t line, const char *fmt, ...) {
    char msg[SEG_ERR_BYTES + 64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    im->rejected++;
    ingest_count_rejected(im->ig, 1);
    if (im->errors)
        fprintf(im->errors, "%s:%lld: %s\n", file, (long long)line, msg);
    if (im->shown < IMPORT_SHOWN) {
        clear_progress(im);
        fprintf(stderr, "%s:%lld: %s\n", file, (long long)line, msg);
    } else if (im->shown == IMPORT_SHOWN) {
        clear_progress(im);
        fprintf(stderr, "(more rejected lines %s)\n",
                im->errors ? "in the --errors file" : "not shown: use --errors OUT");
    }
    im->shown++;
}

/* Commits every IMPORT_TX messages so a crash loses at most one transaction. */
static int maybe_commit(struct import *im) {
    if (++im->in_tx < IMPORT_TX)
        return 0;
    im->in_tx = 0;
    if (ingest_commit(im->ig) || ingest_begin(im->ig))
        return -1;
    return 0;
}

/* Validates and applies one message; -1 on a store error. */
static int import_one(struct import *im, cJSON *item, const cJSON *context, const char *raw,
                      size_t raw_len, const char *file, int64_t line, int index) {
    struct seg_msg m;
    char err[SEG_ERR_BYTES];
    if (segment_parse_msg(item, context, dt_now_ms(), raw, raw_len, &m, err)) {
        if (index >= 0)
            reject(im, file, line, "batch[%d]: %s", index, err);
        else
            reject(im, file, line, "%s", err);
        return 0;
    }
    enum ingest_outcome outcome;
    if (ingest_message(im->ig, &m, &outcome))
        return -1;
    return maybe_commit(im);
}

static bool blank(const char *s, size_t len) {
    for (size_t i = 0; i < len; i++) {
        if (s[i] != ' ' && s[i] != '\t')
            return false;
    }
    return true;
}

/* Applies one line (a message or a batch); -1 on a store error. */
static int import_line(struct import *im, const char *s, size_t len, const char *file,
                       int64_t line) {
    /* The line is NUL-terminated: requiring the NUL right after the value
     * (and whitespace) refuses trailing data, e.g. two messages on one line. */
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(s, len + 1, &end, true);
    if (!root) {
        size_t at = end && end >= s ? (size_t)(end - s) : 0;
        reject(im, file, line, "invalid JSON at byte %zu", at + 1);
        return 0;
    }
    int rc = 0;
    cJSON *batch = cJSON_GetObjectItemCaseSensitive(root, "batch");
    if (batch && !cJSON_GetObjectItemCaseSensitive(root, "type")) {
        if (!cJSON_IsArray(batch)) {
            reject(im, file, line, "batch: must be an array");
        } else {
            const cJSON *context = cJSON_GetObjectItemCaseSensitive(root, "context");
            int i = 0;
            cJSON *item;
            cJSON_ArrayForEach(item, batch) {
                if ((rc = import_one(im, item, context, NULL, 0, file, line, i++)))
                    break;
            }
        }
    } else {
        rc = import_one(im, root, NULL, s, len, file, line, -1);
    }
    cJSON_Delete(root);
    return rc;
}

static void show_progress(struct import *im, const char *file, uint64_t done, uint64_t size,
                          int64_t lines, int64_t started_ms) {
    double secs = (dt_now_ms() - started_ms) / 1000.0;
    fprintf(stderr, "\r\033[K%s: %3.0f%%  %lld lines  %.0f lines/s", file,
            size ? 100.0 * (double)done / (double)size : 0.0, (long long)lines,
            secs > 0 ? lines / secs : 0.0);
    im->progress = true;
}

static void print_summary(const char *file, struct ingest_totals a, struct ingest_totals b,
                          int64_t rejected) {
    printf("%s: %lld accepted, %lld duplicates, %lld quarantined, %lld rejected", file,
           (long long)(b.accepted - a.accepted), (long long)(b.duplicates - a.duplicates),
           (long long)(b.quarantined - a.quarantined), (long long)rejected);
    if (b.attached > a.attached)
        printf(" (%lld earlier quarantined events attached)", (long long)(b.attached - a.attached));
    printf("\n");
}

/* Imports one JSONL file; returns 0, or EXIT_USAGE on an I/O or store error. */
static int import_jsonl(struct import *im, const char *path) {
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "tend import: cannot open %s: %m\n", path);
        return EXIT_USAGE;
    }
    struct stat st;
    uint64_t size = fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
    bool progress = isatty(STDERR_FILENO) && (size == 0 || size >= PROGRESS_MIN_BYTES);
    struct line_reader *r = lines_new(f, SEG_MAX_REQUEST_BYTES);
    struct ingest_totals before = ingest_totals(im->ig);
    int64_t rejected_before = im->rejected;
    int64_t started = dt_now_ms(), last_progress = started;
    int rc = 0;
    if (ingest_begin(im->ig)) {
        rc = -1;
        goto done;
    }
    const char *line;
    size_t len;
    bool too_long;
    int64_t lineno;
    enum tend_err err;
    while ((err = lines_next(r, &line, &len, &too_long, &lineno)) == TEND_OK) {
        if (too_long) {
            reject(im, path, lineno, "line is %zu bytes, over the limit of %d", len,
                   SEG_MAX_REQUEST_BYTES);
            continue;
        }
        if (blank(line, len))
            continue;
        if ((rc = import_line(im, line, len, path, lineno)))
            break;
        if (progress && (lineno & 4095) == 0) {
            int64_t now = dt_now_ms();
            if (now - last_progress >= 500) {
                show_progress(im, path, lines_offset(r), size, lineno, started);
                last_progress = now;
            }
        }
    }
    if (err == TEND_ERR_IO) {
        clear_progress(im);
        fprintf(stderr, "tend import: reading %s: %m\n", path);
        ingest_commit(im->ig); /* keep what was read */
        rc = EXIT_USAGE;
        goto done;
    }
    if (!rc && ingest_commit(im->ig))
        rc = -1;
done:
    clear_progress(im);
    if (rc == -1) {
        ingest_rollback(im->ig);
        fprintf(stderr, "tend import: %s: the database failed, stopping: see above\n", path);
        rc = EXIT_USAGE;
    }
    lines_free(r);
    if (f != stdin)
        fclose(f);
    print_summary(path, before, ingest_totals(im->ig), im->rejected - rejected_before);
    return rc;
}

/* ---- accounts CSV --------------------------------------------------------- */

struct csv_state {
    struct import *im;
    const char *path;
    int64_t line;       /* the line being fed to the parser */
    int64_t start_line; /* where the current record started (0: none yet) */
    int64_t records;    /* records seen, the header included */
    int64_t stored;     /* accounts stored */
    char **header;      /* column names */
    size_t n_header;
    char **fields; /* the current record */
    size_t n_fields, cap_fields;
    int64_t now_ms;
    int failed; /* 1: a store error; 2: the file cannot be read as accounts */
};

static void csv_field(void *s, size_t len, void *data) {
    struct csv_state *cs = data;
    if (!cs->start_line)
        cs->start_line = cs->line;
    if (cs->n_fields == cs->cap_fields) {
        cs->cap_fields = cs->cap_fields ? cs->cap_fields * 2 : 16;
        cs->fields = xrealloc(cs->fields, cs->cap_fields * sizeof *cs->fields);
    }
    cs->fields[cs->n_fields++] = xstrndup(s ? s : "", s ? len : 0);
}

/* The JSON value of a CSV cell for a trait: numbers for mrr and seats when
 * they parse, arrays for premium_products, strings otherwise. */
static cJSON *cell_value(const char *column, const char *cell) {
    if (strcmp(column, "mrr") == 0 || strcmp(column, "seats") == 0) {
        char *end;
        double x = strtod(cell, &end);
        if (!*end)
            return cJSON_CreateNumber(x);
    }
    if (strcmp(column, "premium_products") == 0) {
        cJSON *arr = cell[0] == '[' ? cJSON_Parse(cell) : NULL;
        if (arr)
            return arr;
        arr = cJSON_CreateArray();
        char *copy = xstrdup(cell), *save = NULL;
        for (char *p = strtok_r(copy, ";|", &save); p; p = strtok_r(NULL, ";|", &save)) {
            while (*p == ' ')
                p++;
            if (*p)
                cJSON_AddItemToArray(arr, cJSON_CreateString(p));
        }
        free(copy);
        return arr;
    }
    return cJSON_CreateString(cell);
}

/* Takes the header record: the column names, account_id first. */
static void csv_header(struct csv_state *cs) {
    char *first = cs->n_fields ? cs->fields[0] : NULL;
    if (first && strncmp(first, "\xEF\xBB\xBF", 3) == 0) /* a UTF-8 BOM (Excel) */
        memmove(first, first + 3, strlen(first + 3) + 1);
    if (!first || strcmp(first, "account_id") != 0) {
        reject(cs->im, cs->path, cs->start_line, "header: the first column must be account_id");
        cs->failed = 2;
        return;
    }
    cs->header = cs->fields;
    cs->n_header = cs->n_fields;
    cs->fields = NULL;
    cs->n_fields = cs->cap_fields = 0;
}

/* Applies one data record as account traits. */
static void csv_account(struct csv_state *cs) {
    if (cs->n_fields != cs->n_header) {
        reject(cs->im, cs->path, cs->start_line, "has %zu fields, the header has %zu", cs->n_fields,
               cs->n_header);
        return;
    }
    if (!cs->fields[0][0]) {
        reject(cs->im, cs->path, cs->start_line, "account_id: is required");
        return;
    }
    cJSON *traits = cJSON_CreateObject();
    for (size_t i = 1; i < cs->n_fields; i++) {
        if (cs->fields[i][0])
            cJSON_AddItemToObject(traits, cs->header[i], cell_value(cs->header[i], cs->fields[i]));
    }
    char err[SEG_ERR_BYTES];
    enum tend_err e = ingest_account_traits(cs->im->ig, cs->fields[0], traits, cs->now_ms, err);
    cJSON_Delete(traits);
    if (e == TEND_ERR_INVALID)
        reject(cs->im, cs->path, cs->start_line, "%s", err);
    else if (e)
        cs->failed = 1;
    else
        cs->stored++;
}

static void csv_record(int c, void *data) {
    struct csv_state *cs = data;
    if (!cs->failed) {
        if (++cs->records == 1)
            csv_header(cs);
        else
            csv_account(cs);
    }
    for (size_t i = 0; i < cs->n_fields; i++)
        free(cs->fields[i]);
    cs->n_fields = 0;
    cs->start_line = 0;
    (void)c;
}

/* Imports the accounts CSV; 0, or EXIT_USAGE on an I/O or store error. Lines
 * are fed to the parser one by one, so errors name the line a record starts
 * on, also when a quoted field spans lines or blank lines are skipped. */
static int import_accounts(struct import *im, const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "tend import: cannot open %s: %m\n", path);
        return EXIT_USAGE;
    }
    struct csv_parser p;
    csv_init(&p, CSV_APPEND_NULL);
    struct csv_state cs = {.im = im, .path = path, .now_ms = dt_now_ms()};
    int64_t rejected_before = im->rejected;
    struct ingest_totals before = ingest_totals(im->ig);
    int rc = 0;
    if (ingest_begin(im->ig)) {
        csv_free(&p);
        fclose(f);
        return EXIT_USAGE;
    }
    struct line_reader *r = lines_new(f, SEG_MAX_REQUEST_BYTES);
    const char *line;
    size_t len;
    bool too_long;
    enum tend_err err;
    while (!cs.failed && (err = lines_next(r, &line, &len, &too_long, &cs.line)) == TEND_OK) {
        if (too_long) {
            reject(im, path, cs.line, "line is %zu bytes, over the limit of %d", len,
                   SEG_MAX_REQUEST_BYTES);
            continue;
        }
        if (csv_parse(&p, line, len, csv_field, csv_record, &cs) != len ||
            csv_parse(&p, "\n", 1, csv_field, csv_record, &cs) != 1) {
            reject(im, path, cs.line, "CSV: %s", csv_strerror(csv_error(&p)));
            cs.failed = 2;
        }
    }
    if (!cs.failed)
        csv_fini(&p, csv_field, csv_record, &cs);
    csv_free(&p);
    lines_free(r);
    if (cs.failed == 1 || ingest_commit(im->ig)) {
        ingest_rollback(im->ig);
        fprintf(stderr, "tend import: %s: the database failed, stopping\n", path);
        rc = EXIT_USAGE;
    }
    for (size_t i = 0; i < cs.n_header; i++)
        free(cs.header[i]);
    free(cs.header);
    for (size_t i = 0; i < cs.n_fields; i++)
        free(cs.fields[i]);
    free(cs.fields);
    fclose(f);
    struct ingest_totals after = ingest_totals(im->ig);
    printf("%s: %lld accounts, %lld rejected", path, (long long)(rc ? 0 : cs.stored),
           (long long)(im->rejected - rejected_before));
    if (after.attached > before.attached)
        printf(" (%lld earlier quarantined events attached)",
               (long long)(after.attached - before.attached));
    printf("\n");
    return rc;
}

int cmd_import(int argc, char **argv) {
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"errors", required_argument, NULL, 'e'},
        {"accounts", required_argument, NULL, 'a'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *db = DEFAULT_DB, *errors = NULL, *accounts = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            db = optarg;
            break;
        case 'e':
            errors = optarg;
            break;
        case 'a':
            accounts = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (optind >= argc && !accounts)
        return cli_usage_error("import", "nothing to import: give FILE... or --accounts FILE");

    struct import im = {0};
    if (errors && !(im.errors = fopen(errors, "w"))) {
        fprintf(stderr, "tend import: cannot write %s: %m\n", errors);
        return EXIT_USAGE;
    }
    struct store *store;
    int rc = cli_open_store(db, &store);
    if (rc) {
        if (im.errors)
            fclose(im.errors);
        return rc;
    }
    im.ig = ingest_new(store);
    if (accounts)
        rc = import_accounts(&im, accounts);
    for (int i = optind; !rc && i < argc; i++)
        rc = import_jsonl(&im, argv[i]);
    ingest_free(im.ig);
    store_close(store);
    if (im.errors && fclose(im.errors)) {
        fprintf(stderr, "tend import: writing %s: %m\n", errors);
        rc = EXIT_USAGE;
    }
    if (!rc && im.rejected)
        rc = EXIT_REJECTED;
    return rc;
}
