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
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/config.h"
#include "eval/eval.h"
#include "ingest/ingest.h"
#include "ingest/mapping.h"
#include "ingest/segment.h"
#include "ingest/text.h"
#include "util/datetime.h"
#include "util/lines.h"
#include "util/mem.h"

#define IMPORT_TX          100000
#define IMPORT_SHOWN       20
#define PROGRESS_MIN_BYTES (16 * 1024 * 1024)

struct import {
    struct store *store;
    struct ingest *ig;
    FILE *errors;                /* --errors file, or NULL */
    int64_t shown;               /* rejections printed on stderr */
    int64_t in_tx;               /* messages in the open transaction */
    int64_t rejected;            /* rejections in all files */
    bool progress;               /* a progress line is on the terminal */
    const struct event_map *map; /* events: of --config's tend.yaml */
};

static void usage(FILE *f) {
    fprintf(f,
            "Usage: tend import [--db PATH] [--config tend.yaml] [--errors OUT]\n"
            "                   [--accounts FILE.csv] [FILE...]\n\n"
            "Imports Segment messages from JSON Lines files (one message, or one Segment\n"
            "batch object {\"batch\":[...],\"context\":{...}}, per line; - reads stdin) and\n"
            "account traits from a CSV file whose header row starts with account_id.\n\n"
            "  --db PATH          database (default ./%s)\n"
            "  --accounts FILE    CSV of accounts: account_id,name,plan,mrr,seats,...\n"
            "                     (premium_products: keys separated by ';'; an as_of\n"
            "                     column dates the row's traits, default: now)\n"
            "  --config FILE      tend.yaml: its events: section maps your event names\n"
            "                     to tend's (aliases, property renames, ignore)\n"
            "  --errors OUT       write every rejected line to OUT (the screen shows %d)\n"
            "  --help             this help\n\n"
            "Prints accepted, duplicates, quarantined and rejected counts per file (and\n"
            "ignored, aliased and renamed ones when events: maps any).\n"
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

static bool blank(const char *s, size_t len) {
    for (size_t i = 0; i < len; i++) {
        if (s[i] != ' ' && s[i] != '\t')
            return false;
    }
    return true;
}

/* ---- the parser thread ------------------------------------------------------
 *
 * A JSONL file is read, parsed and validated on a second thread, in chunks of
 * up to CHUNK_LINES lines, while the main thread stores the previous chunk:
 * on two cores the two halves of the work overlap. Chunks are handed over in
 * file order through a ring of CHUNK_SLOTS; a chunk owns its cJSON trees, the
 * validated messages that point into them and the rejection notes, and is
 * cleared by the parser when it reuses the slot. Only the main thread touches
 * the store and the report. */

#define CHUNK_LINES 2048
#define CHUNK_SLOTS 3

struct reject_note {
    int64_t line;
    char *msg; /* malloced */
};

struct chunk {
    bool full;     /* handed to the main thread, not yet given back */
    bool last;     /* nothing follows this chunk */
    bool io_error; /* reading failed after this chunk's lines */
    int64_t last_line;
    uint64_t offset; /* bytes read through the chunk */
    cJSON **roots;
    size_t n_roots, cap_roots;
    struct seg_msg *msgs;
    size_t n_msgs, cap_msgs;
    struct reject_note *rejects;
    size_t n_rejects, cap_rejects;
    const struct event_map *map;       /* events: of tend.yaml (read-only) */
    int64_t ignored, aliased, renamed; /* what map did to the chunk's messages */
};

struct parser {
    struct line_reader *r;
    const struct event_map *map;
    int64_t skipped_lines; /* blank lines read before r started (starts_as_array) */
    uint64_t skipped_bytes;
    struct chunk slots[CHUNK_SLOTS];
    pthread_mutex_t lock;
    pthread_cond_t changed;
    bool stop; /* the main thread gave up: finish now */
};

static void chunk_clear(struct chunk *c) {
    for (size_t i = 0; i < c->n_msgs; i++)
        cJSON_free(c->msgs[i].body_json);
    for (size_t i = 0; i < c->n_roots; i++)
        cJSON_Delete(c->roots[i]);
    for (size_t i = 0; i < c->n_rejects; i++)
        free(c->rejects[i].msg);
    c->n_msgs = c->n_roots = c->n_rejects = 0;
    c->ignored = c->aliased = c->renamed = 0;
    c->last = c->io_error = false;
}

static void chunk_free(struct chunk *c) {
    chunk_clear(c);
    free(c->roots);
    free(c->msgs);
    free(c->rejects);
}

static void note_reject(struct chunk *c, int64_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void note_reject(struct chunk *c, int64_t line, const char *fmt, ...) {
    if (c->n_rejects == c->cap_rejects) {
        c->cap_rejects = c->cap_rejects ? c->cap_rejects * 2 : 16;
        c->rejects = xrealloc(c->rejects, c->cap_rejects * sizeof *c->rejects);
    }
    char msg[SEG_ERR_BYTES + 64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    c->rejects[c->n_rejects].line = line;
    c->rejects[c->n_rejects].msg = xstrdup(msg);
    c->n_rejects++;
}

/* Validates one message of a line into the chunk. */
static void parse_msg(struct chunk *c, cJSON *item, const cJSON *context, const char *raw,
                      size_t raw_len, int64_t now, int64_t line, int index) {
    if (c->n_msgs == c->cap_msgs) {
        c->cap_msgs = c->cap_msgs ? c->cap_msgs * 2 : CHUNK_LINES;
        c->msgs = xrealloc(c->msgs, c->cap_msgs * sizeof *c->msgs);
    }
    struct seg_msg *m = &c->msgs[c->n_msgs];
    char err[SEG_ERR_BYTES];
    /* events: of tend.yaml first, so that validation sees tend's names. The
     * dedup key of a message without messageId stays the hash of the line as
     * written (raw), so a re-import is still recognised. */
    struct map_result mr;
    enum tend_err me = event_map_apply(c->map, item, &mr, err);
    if (!me && mr.action == MAP_IGNORED) {
        c->ignored++;
        return;
    }
    if (me || segment_parse_msg(item, context, now, raw, raw_len, m, err)) {
        if (index >= 0)
            note_reject(c, line, "batch[%d]: %s", index, err);
        else
            note_reject(c, line, "%s", err);
        return;
    }
    segment_serialize_body(m);
    c->aliased += mr.aliased;
    c->renamed += mr.renamed > 0;
    c->n_msgs++;
}

/* Parses one line (a message or a batch) into the chunk. */
static void parse_line(struct chunk *c, const char *s, size_t len, int64_t now, int64_t line) {
    /* The line is NUL-terminated: requiring the NUL right after the value
     * (and whitespace) refuses trailing data, e.g. two messages on one line. */
    const char *end = NULL;
    cJSON *root = text_parse_json(s, len, &end);
    if (!root) {
        size_t at = end && end >= s ? (size_t)(end - s) : 0;
        note_reject(c, line, "invalid JSON at byte %zu", at + 1);
        return;
    }
    if (c->n_roots == c->cap_roots) {
        c->cap_roots = c->cap_roots ? c->cap_roots * 2 : CHUNK_LINES;
        c->roots = xrealloc(c->roots, c->cap_roots * sizeof *c->roots);
    }
    c->roots[c->n_roots++] = root;
    cJSON *batch = cJSON_GetObjectItemCaseSensitive(root, "batch");
    if (batch && !cJSON_GetObjectItemCaseSensitive(root, "type")) {
        if (!cJSON_IsArray(batch)) {
            note_reject(c, line, "batch: must be an array");
            return;
        }
        const cJSON *context = cJSON_GetObjectItemCaseSensitive(root, "context");
        int i = 0;
        cJSON *item;
        cJSON_ArrayForEach(item, batch) {
            parse_msg(c, item, context, NULL, 0, now, line, i++);
        }
    } else {
        parse_msg(c, root, NULL, s, len, now, line, -1);
    }
}

/* Fills c with the next lines of the file. */
static void fill_chunk(struct parser *p, struct chunk *c) {
    int64_t now = dt_now_ms();
    const char *line;
    size_t len;
    bool too_long;
    int64_t lineno;
    for (int n = 0; n < CHUNK_LINES; n++) {
        enum tend_err err = lines_next(p->r, &line, &len, &too_long, &lineno);
        if (err) {
            c->last = true;
            c->io_error = err == TEND_ERR_IO;
            break;
        }
        lineno += p->skipped_lines;
        c->last_line = lineno;
        if (too_long)
            note_reject(c, lineno, "line is %zu bytes, over the limit of %d", len,
                        SEG_MAX_REQUEST_BYTES);
        else if (!blank(line, len))
            parse_line(c, line, len, now, lineno);
    }
    c->offset = p->skipped_bytes + lines_offset(p->r);
}

static void *parser_main(void *arg) {
    struct parser *p = arg;
    for (int k = 0;; k = (k + 1) % CHUNK_SLOTS) {
        struct chunk *c = &p->slots[k];
        pthread_mutex_lock(&p->lock);
        while (c->full && !p->stop)
            pthread_cond_wait(&p->changed, &p->lock);
        bool stop = p->stop;
        pthread_mutex_unlock(&p->lock);
        if (stop)
            break;
        chunk_clear(c);
        c->map = p->map;
        fill_chunk(p, c);
        pthread_mutex_lock(&p->lock);
        c->full = true;
        pthread_cond_broadcast(&p->changed);
        pthread_mutex_unlock(&p->lock);
        if (c->last)
            break;
    }
    return NULL;
}

/* Stores one chunk's messages and reports its rejections; -1 on a store error. */
static int store_chunk(struct import *im, const char *path, const struct chunk *c) {
    for (size_t i = 0; i < c->n_rejects; i++)
        reject(im, path, c->rejects[i].line, "%s", c->rejects[i].msg);
    ingest_count_mapped(im->ig, c->ignored, c->aliased, c->renamed);
    if (ingest_prefetch(im->ig, c->msgs, c->n_msgs))
        return -1;
    for (size_t i = 0; i < c->n_msgs; i++) {
        enum ingest_outcome outcome;
        if (ingest_message(im->ig, &c->msgs[i], &outcome) || maybe_commit(im))
            return -1;
    }
    return 0;
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
    if (b.ignored > a.ignored)
        printf(", %lld ignored", (long long)(b.ignored - a.ignored));
    if (b.attached > a.attached)
        printf(" (%lld earlier quarantined events attached)", (long long)(b.attached - a.attached));
    if (b.aliased > a.aliased || b.renamed > a.renamed)
        printf(" (events: %lld aliased, %lld with properties renamed)",
               (long long)(b.aliased - a.aliased), (long long)(b.renamed - a.renamed));
    printf("\n");
}

/* Reads the blank bytes at the start of f (spaces, tabs, line ends) and says
 * whether the first other byte is '[': a JSON array, which is not JSON Lines
 * (every line of it would be rejected on its own, or the whole file at once
 * as one line over the size limit). The byte is pushed back, so nothing but
 * blanks is consumed; *lines and *bytes count what was, so that line numbers
 * and progress stay the file's. Works on pipes: no seeking. */
static bool starts_as_array(FILE *f, int64_t *lines, uint64_t *bytes) {
    int ch;
    *lines = 0;
    *bytes = 0;
    while ((ch = getc(f)) == ' ' || ch == '\t' || ch == '\r' || ch == '\n') {
        *lines += ch == '\n';
        (*bytes)++;
    }
    if (ch == EOF)
        return false;
    ungetc(ch, f);
    return ch == '[';
}

/* Imports one JSONL file; returns 0, or EXIT_USAGE on an I/O or store error,
 * or for a JSON array (refused whole, once, with how to convert it). */
static int import_jsonl(struct import *im, const char *path) {
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "tend import: cannot open %s: %m\n", path);
        return EXIT_USAGE;
    }
    int64_t skipped_lines;
    uint64_t skipped_bytes;
    if (starts_as_array(f, &skipped_lines, &skipped_bytes)) {
        /* The converted file's name: x.json -> x.jsonl, else x -> x.jsonl. */
        bool in = f == stdin;
        const char *src = in ? "in.json" : path;
        size_t n = strlen(src);
        int stem = n > 5 && strcmp(src + n - 5, ".json") == 0 ? (int)(n - 5) : (int)n;
        fprintf(stderr,
                "tend import: %s is a JSON array, but tend reads JSON Lines: one message (or "
                "one batch object) per line. Nothing of it was imported. Convert it with\n"
                "  jq -c '.[]' %s > %.*s.jsonl\n"
                "and import that (docs/ingest.md).\n",
                in ? "stdin" : path, src, stem, src);
        if (!in)
            fclose(f);
        return EXIT_USAGE;
    }
    struct stat st;
    uint64_t size = fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
    bool progress = isatty(STDERR_FILENO) && (size == 0 || size >= PROGRESS_MIN_BYTES);
    struct ingest_totals before = ingest_totals(im->ig);
    int64_t rejected_before = im->rejected;
    int64_t started = dt_now_ms(), last_progress = started;
    int rc = 0;
    if (ingest_begin(im->ig)) {
        if (f != stdin)
            fclose(f);
        fprintf(stderr, "tend import: %s: the database failed, stopping: %s\n", path,
                store_last_error(im->store));
        return EXIT_USAGE;
    }

    struct parser p = {.r = lines_new(f, SEG_MAX_REQUEST_BYTES),
                       .map = im->map,
                       .skipped_lines = skipped_lines,
                       .skipped_bytes = skipped_bytes};
    pthread_mutex_init(&p.lock, NULL);
    pthread_cond_init(&p.changed, NULL);
    pthread_t thread;
    if (pthread_create(&thread, NULL, parser_main, &p) != 0) {
        fprintf(stderr, "tend import: cannot start the parser thread\n");
        abort();
    }
    bool io_error = false;
    for (int k = 0;; k = (k + 1) % CHUNK_SLOTS) {
        struct chunk *c = &p.slots[k];
        pthread_mutex_lock(&p.lock);
        while (!c->full)
            pthread_cond_wait(&p.changed, &p.lock);
        pthread_mutex_unlock(&p.lock);
        rc = store_chunk(im, path, c);
        bool last = c->last;
        io_error = c->io_error;
        if (progress) {
            int64_t now = dt_now_ms();
            if (now - last_progress >= 500) {
                show_progress(im, path, c->offset, size, c->last_line, started);
                last_progress = now;
            }
        }
        pthread_mutex_lock(&p.lock);
        c->full = false;
        if (rc)
            p.stop = true;
        pthread_cond_broadcast(&p.changed);
        pthread_mutex_unlock(&p.lock);
        if (rc || last)
            break;
    }
    pthread_join(thread, NULL);
    for (int k = 0; k < CHUNK_SLOTS; k++)
        chunk_free(&p.slots[k]);
    pthread_mutex_destroy(&p.lock);
    pthread_cond_destroy(&p.changed);
    lines_free(p.r);

    if (!rc && ingest_commit(im->ig))
        rc = -1;
    clear_progress(im);
    if (rc == -1) {
        ingest_rollback(im->ig);
        fprintf(stderr, "tend import: %s: the database failed, stopping: %s\n", path,
                store_last_error(im->store));
        rc = EXIT_USAGE;
    } else if (io_error) {
        fprintf(stderr, "tend import: reading %s failed; what was read before is kept\n", path);
        rc = EXIT_USAGE;
    }
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
    /* A NUL would cut the cell silently; marked, the ingest text checks name it. */
    cs->fields[cs->n_fields++] = text_copy_marking_nul(s ? s : "", s ? len : 0);
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
    /* as_of, if present, is when the row's traits took effect (default: now). */
    int64_t as_of = cs->now_ms;
    cJSON *traits = cJSON_CreateObject();
    for (size_t i = 1; i < cs->n_fields; i++) {
        const char *cell = cs->fields[i];
        if (strcmp(cs->header[i], "as_of") == 0) {
            if (cell[0] && !dt_parse_instant(cell, strlen(cell), &as_of)) {
                char quoted[256];
                reject(cs->im, cs->path, cs->start_line,
                       "as_of: not an ISO-8601 date or date-time: %s",
                       text_quote(cell, 40, quoted, sizeof quoted));
                cJSON_Delete(traits);
                return;
            }
        } else if (cell[0]) {
            cJSON_AddItemToObject(traits, cs->header[i], cell_value(cs->header[i], cell));
        }
    }
    char err[SEG_ERR_BYTES];
    enum tend_err e = ingest_account_traits(cs->im->ig, cs->fields[0], traits, as_of, err);
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
        fprintf(stderr, "tend import: %s: the database failed, stopping: %s\n", path,
                store_last_error(im->store));
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
        {"db", required_argument, NULL, 'd'},       {"errors", required_argument, NULL, 'e'},
        {"accounts", required_argument, NULL, 'a'}, {"config", required_argument, NULL, 'g'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
    };
    const char *db = NULL, *errors = NULL, *accounts = NULL, *config = NULL;
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
        case 'g':
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
    if (optind >= argc && !accounts)
        return cli_usage_error("import", "nothing to import: give FILE... or --accounts FILE");

    static struct tend_config tc;
    int rc = cli_load_config("import", config, &tc);
    if (rc)
        return rc;
    db = cli_db_pick(db, &tc);
    struct import im = {.map = &tc.events};
    if (errors && !(im.errors = fopen(errors, "w"))) {
        fprintf(stderr, "tend import: cannot write %s: %m\n", errors);
        cli_free_config(&tc);
        return EXIT_USAGE;
    }
    struct store *store;
    rc = cli_open_store(db, &store);
    if (rc) {
        if (im.errors)
            fclose(im.errors);
        cli_free_config(&tc);
        return rc;
    }
    im.store = store;
    im.ig = ingest_new(store);
    if (accounts)
        rc = import_accounts(&im, accounts);
    for (int i = optind; !rc && i < argc; i++)
        rc = import_jsonl(&im, argv[i]);
    /* What was stored is committed; the daily rollups only make metrics fast.
     * On PostgreSQL they are left stale for the next evaluation (tend eval,
     * tend score, a node's scheduler: any node may take the stale days), so
     * that an import is only the ingest: rebuilding them took the server
     * about as long as storing the events (docs/store.md). */
    int days;
    bool rollups = strcmp(store_backend_name(store), "pg") != 0;
    if (!rc && rollups && eval_refresh_rollups(store, &days)) {
        fprintf(stderr, "tend import: rolling up daily activity failed (metrics stay right): %s\n",
                store_last_error(store));
    }
    ingest_free(im.ig);
    store_close(store);
    cli_free_config(&tc);
    if (im.errors && fclose(im.errors)) {
        fprintf(stderr, "tend import: writing %s: %m\n", errors);
        rc = EXIT_USAGE;
    }
    if (!rc && im.rejected)
        rc = EXIT_REJECTED;
    return rc;
}
