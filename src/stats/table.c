/* table.c: a CSV table read into regression data (see table.h).
 *
 * The file is read whole before anything is decided, because every decision
 * needs every row: whether a column is numeric, how many levels a text column
 * has, which level is the most frequent. Cells are kept as trimmed,
 * NUL-terminated text back to back in one capped buffer with an offset per
 * cell (a pointer per cell would cost more than the text of a typical cell),
 * and the file is fed to libcsv line by line, as in the accounts import, so
 * an error names the line its record starts on even when a quoted field
 * spans lines. libcsv runs lenient (a stray quote inside a field is kept as
 * text, as pandas does); a quote left open shows up as a wrong field count.
 *
 * Then, in order: the outcome and the chosen columns are looked up; every
 * outcome value is checked (the first bad one is the error); each chosen
 * column is classified over all its non-blank values (numeric, text, or
 * skipped: all blank, an id, too many levels); rows with a blank in the
 * outcome or a used column are dropped; and text columns are one-hot encoded
 * with the levels counted over the rows kept, so the reference level is the
 * most frequent among the rows the fit sees.
 *
 * Limits: a line of at most STATS_TABLE_MAX_LINE_BYTES, at most
 * STATS_TABLE_MAX_CELLS cells in the file and in the encoded table, and
 * STATS_TABLE_MAX_TEXT_BYTES of cell text: beyond them TEND_ERR_LIMIT. */
#include "stats/table.h"

#include <csv.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/buf.h"
#include "util/lines.h"
#include "util/mem.h"

/* ---- reading the file ----------------------------------------------------- */

struct reader {
    const char *path;
    char *err;
    enum tend_err e;    /* the first error; reading stops at it */
    int64_t line;       /* the line being fed to the parser */
    int64_t start_line; /* where the current record started (0: between records) */
    bool have_header;
    char **header;
    size_t n_header;
    struct buf text; /* every data cell, trimmed, NUL-terminated */
    size_t *off;     /* rows * n_header offsets into text */
    size_t n_cells, cap_cells;
    int64_t *row_line; /* the line each data row starts on */
    size_t rows, cap_rows;
    size_t fields; /* fields of the current record */
};

static enum tend_err reader_fail(struct reader *r, enum tend_err e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static enum tend_err reader_fail(struct reader *r, enum tend_err e, const char *fmt, ...) {
    if (r->e)
        return r->e;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err, STATS_ERR_BYTES, fmt, ap);
    va_end(ap);
    r->e = e;
    return e;
}

static bool is_space(char c) {
    return c == ' ' || c == '\t';
}

/* The n bytes at s without the spaces and tabs around them: *start, *len. */
static void trim(const char *s, size_t n, size_t *start, size_t *len) {
    size_t a = 0;
    while (a < n && is_space(s[a]))
        a++;
    while (n > a && is_space(s[n - 1]))
        n--;
    *start = a;
    *len = n - a;
}

static void on_field(void *s, size_t len, void *data) {
    struct reader *r = data;
    if (r->e)
        return;
    const char *p = s ? s : "";
    len = s ? len : 0;
    size_t a, n;
    trim(p, len, &a, &n);
    r->fields++;
    if (!r->have_header) {
        r->header = xrealloc(r->header, (r->n_header + 1) * sizeof *r->header);
        r->header[r->n_header++] = xstrndup(p + a, n);
        return;
    }
    if (r->n_cells >= STATS_TABLE_MAX_CELLS) {
        reader_fail(r, TEND_ERR_LIMIT, "%s:%lld: the table has more than %d cells", r->path,
                    (long long)r->start_line, STATS_TABLE_MAX_CELLS);
        return;
    }
    if (r->n_cells == r->cap_cells) {
        r->cap_cells = r->cap_cells ? r->cap_cells * 2 : 1024;
        r->off = xrealloc(r->off, r->cap_cells * sizeof *r->off);
    }
    r->off[r->n_cells++] = r->text.len;
    if (buf_append(&r->text, p + a, n) || buf_putc(&r->text, '\0'))
        reader_fail(r, TEND_ERR_LIMIT, "%s:%lld: the table has more than %d bytes of text", r->path,
                    (long long)r->start_line, STATS_TABLE_MAX_TEXT_BYTES);
}

/* The header: names must be there and distinct, since --columns picks by
 * name. A UTF-8 byte order mark (Excel writes one) is not part of the name. */
static void take_header(struct reader *r) {
    if (r->n_header && strncmp(r->header[0], "\xEF\xBB\xBF", 3) == 0) {
        char *first = r->header[0];
        memmove(first, first + 3, strlen(first + 3) + 1);
    }
    for (size_t j = 0; j < r->n_header; j++) {
        if (!r->header[j][0]) {
            reader_fail(r, TEND_ERR_INVALID, "%s:%lld: column %zu of the header has no name",
                        r->path, (long long)r->start_line, j + 1);
            return;
        }
        for (size_t i = 0; i < j; i++) {
            if (strcmp(r->header[i], r->header[j]) == 0) {
                reader_fail(r, TEND_ERR_INVALID,
                            "%s:%lld: column \"%s\" appears twice in the header (columns %zu "
                            "and %zu)",
                            r->path, (long long)r->start_line, r->header[j], i + 1, j + 1);
                return;
            }
        }
    }
    r->have_header = true;
}

static void on_record(int c, void *data) {
    struct reader *r = data;
    (void)c;
    if (!r->e && !r->have_header) {
        take_header(r);
    } else if (!r->e && r->fields != r->n_header) {
        /* A quote left open swallows lines up to the next quote or the end. */
        reader_fail(r, TEND_ERR_INVALID, "%s:%lld: %zu fields, the header has %zu%s", r->path,
                    (long long)r->start_line, r->fields, r->n_header,
                    r->line > r->start_line ? " (a quoted field that is not closed?)" : "");
    } else if (!r->e) {
        if (r->rows == r->cap_rows) {
            r->cap_rows = r->cap_rows ? r->cap_rows * 2 : 256;
            r->row_line = xrealloc(r->row_line, r->cap_rows * sizeof *r->row_line);
        }
        r->row_line[r->rows++] = r->start_line;
    }
    r->fields = 0;
    r->start_line = 0;
}

static void reader_free(struct reader *r) {
    for (size_t j = 0; j < r->n_header; j++)
        free(r->header[j]);
    free(r->header);
    buf_free(&r->text);
    free(r->off);
    free(r->row_line);
}

/* Reads the whole file into r (r->e and r->err on failure). */
static void read_file(struct reader *r) {
    FILE *f = fopen(r->path, "rb");
    if (!f) {
        reader_fail(r, TEND_ERR_IO, "cannot open %s: %s", r->path, strerror(errno));
        return;
    }
    struct csv_parser p;
    csv_init(&p, CSV_APPEND_NULL);
    struct line_reader *lr = lines_new(f, STATS_TABLE_MAX_LINE_BYTES);
    const char *line;
    size_t len;
    bool too_long;
    enum tend_err e = TEND_OK;
    while (!r->e && (e = lines_next(lr, &line, &len, &too_long, &r->line)) == TEND_OK) {
        if (too_long) {
            reader_fail(r, TEND_ERR_LIMIT, "%s:%lld: the line is over %d bytes", r->path,
                        (long long)r->line, STATS_TABLE_MAX_LINE_BYTES);
            break;
        }
        /* Records end only at the newline fed after a line, so a record
         * starts on the first non-empty line after one ended (libcsv skips
         * empty lines); a field's callback comes too late to tell, as a
         * quoted field may span lines. */
        if (!r->start_line && len > 0)
            r->start_line = r->line;
        if (csv_parse(&p, line, len, on_field, on_record, r) != len ||
            csv_parse(&p, "\n", 1, on_field, on_record, r) != 1)
            reader_fail(r, TEND_ERR_INVALID, "%s:%lld: CSV: %s", r->path, (long long)r->line,
                        csv_strerror(csv_error(&p)));
    }
    if (!r->e && e == TEND_ERR_IO)
        reader_fail(r, TEND_ERR_IO, "%s: read error after line %lld", r->path, (long long)r->line);
    if (!r->e)
        csv_fini(&p, on_field, on_record, r);
    csv_free(&p);
    lines_free(lr);
    fclose(f);
}

static const char *cell(const struct reader *r, size_t row, size_t col) {
    return r->text.data + r->off[row * r->n_header + col];
}

/* ---- values --------------------------------------------------------------- */

/* A decimal number as a person writes it: [+-]digits[.digits][e[+-]digits]
 * (or .digits), parsed in the C locale. No hex, no inf, no nan, no
 * thousands separators: those make a column text. s is trimmed. */
static bool parse_number(const char *s, double *out) {
    const char *p = s;
    if (*p == '+' || *p == '-')
        p++;
    size_t digits = 0;
    while (*p >= '0' && *p <= '9')
        p++, digits++;
    if (*p == '.') {
        p++;
        while (*p >= '0' && *p <= '9')
            p++, digits++;
    }
    if (!digits)
        return false;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!(*p >= '0' && *p <= '9'))
            return false;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (*p)
        return false;
    double v = strtod(s, NULL);
    if (!isfinite(v))
        return false;
    *out = v;
    return true;
}

/* The outcome of a trimmed, non-blank cell: 1 or 0, false for anything else. */
static bool parse_outcome(const char *s, double *out) {
    static const char *const one[] = {"yes", "true", "churned"};
    static const char *const zero[] = {"no", "false", "renewed"};
    for (size_t i = 0; i < sizeof one / sizeof one[0]; i++) {
        if (strcasecmp(s, one[i]) == 0) {
            *out = 1;
            return true;
        }
        if (strcasecmp(s, zero[i]) == 0) {
            *out = 0;
            return true;
        }
    }
    double v;
    if (parse_number(s, &v) && (v == 0 || v == 1)) {
        *out = v;
        return true;
    }
    return false;
}

/* ---- planning the columns ------------------------------------------------- */

enum col_kind { COL_NUMERIC, COL_TEXT, COL_SKIPPED };

struct plan {
    size_t col; /* in the header */
    enum col_kind kind;
    size_t blanks;        /* rows where it is blank (all rows read) */
    const char **levels;  /* text: distinct values of the rows kept, sorted */
    size_t *counts;       /* and how often each occurs */
    size_t n_levels, ref; /* ref: the most frequent (the first of a tie) */
};

static int by_text(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The distinct non-blank values of column col over the rows where keep is
 * true (keep NULL: every row), sorted, with counts; pointers into r. */
static void count_levels(const struct reader *r, size_t col, const bool *keep, const char ***levels,
                         size_t **counts, size_t *n_levels) {
    const char **v = xmalloc((r->rows ? r->rows : 1) * sizeof *v);
    size_t n = 0;
    for (size_t i = 0; i < r->rows; i++) {
        const char *s = cell(r, i, col);
        if (s[0] && (!keep || keep[i]))
            v[n++] = s;
    }
    qsort(v, n, sizeof *v, by_text);
    size_t *c = xmalloc((n ? n : 1) * sizeof *c);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (m && strcmp(v[m - 1], v[i]) == 0) {
            c[m - 1]++;
        } else {
            v[m] = v[i];
            c[m++] = 1;
        }
    }
    *levels = v;
    *counts = c;
    *n_levels = m;
}

struct loader {
    const char *path;
    struct reader r;
    struct stats_table *t;
    char *err;
    struct plan *plan;
    size_t n_plan;
    size_t outcome;
};

static void add_note(struct stats_table *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void add_note(struct stats_table *t, const char *fmt, ...) {
    struct buf b;
    buf_init(&b, 0);
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&b, fmt, ap);
    va_end(ap);
    t->notes = xrealloc(t->notes, (t->n_notes + 1) * sizeof *t->notes);
    t->notes[t->n_notes++] = buf_steal(&b);
}

static void add_skipped(struct stats_table *t, const char *name) {
    t->skipped = xrealloc(t->skipped, (t->n_skipped + 1) * sizeof *t->skipped);
    t->skipped[t->n_skipped++] = xstrdup(name);
}

/* err = prefix + "the columns are: a, b, ..." cut to fit. */
static enum tend_err fail_with_columns(struct loader *l, const char *prefix) {
    size_t len = (size_t)snprintf(l->err, STATS_ERR_BYTES, "%s; the columns are: ", prefix);
    for (size_t j = 0; j < l->r.n_header && len < STATS_ERR_BYTES; j++) {
        const char *name = l->r.header[j];
        if (len + strlen(name) + 6 >= STATS_ERR_BYTES) {
            snprintf(l->err + len, STATS_ERR_BYTES - len, "...");
            break;
        }
        len += (size_t)snprintf(l->err + len, STATS_ERR_BYTES - len, "%s%s", j ? ", " : "", name);
    }
    return TEND_ERR_INVALID;
}

static bool find_column(const struct reader *r, const char *name, size_t *col) {
    for (size_t j = 0; j < r->n_header; j++) {
        if (strcmp(r->header[j], name) == 0) {
            *col = j;
            return true;
        }
    }
    return false;
}

/* The outcome column and the chosen ones, checked. */
static enum tend_err choose_columns(struct loader *l, const char *outcome,
                                    const char *const *columns, size_t n_columns) {
    char msg[STATS_ERR_BYTES];
    if (!find_column(&l->r, outcome, &l->outcome)) {
        snprintf(msg, sizeof msg, "%s: no column \"%s\" for the outcome", l->path, outcome);
        return fail_with_columns(l, msg);
    }
    size_t n = columns ? n_columns : l->r.n_header - 1;
    l->plan = xcalloc(n ? n : 1, sizeof *l->plan);
    for (size_t i = 0; i < n; i++) {
        size_t col = i < l->outcome ? i : i + 1;
        if (columns && !find_column(&l->r, columns[i], &col)) {
            snprintf(msg, sizeof msg, "%s: no column \"%s\"", l->path, columns[i]);
            return fail_with_columns(l, msg);
        }
        if (columns && col == l->outcome) {
            snprintf(l->err, STATS_ERR_BYTES,
                     "%s: column \"%s\" is the outcome; it cannot also be a factor", l->path,
                     columns[i]);
            return TEND_ERR_INVALID;
        }
        for (size_t m = 0; m < l->n_plan; m++) {
            if (l->plan[m].col == col) {
                snprintf(l->err, STATS_ERR_BYTES, "%s: column \"%s\" is chosen twice", l->path,
                         columns[i]);
                return TEND_ERR_INVALID;
            }
        }
        l->plan[l->n_plan++].col = col;
    }
    return TEND_OK;
}

/* Every non-blank outcome value must be one; blank ones drop their row. */
static enum tend_err read_outcome(struct loader *l, double *y, bool *keep) {
    for (size_t i = 0; i < l->r.rows; i++) {
        const char *s = cell(&l->r, i, l->outcome);
        keep[i] = s[0] != 0;
        if (keep[i] && !parse_outcome(s, &y[i])) {
            snprintf(l->err, STATS_ERR_BYTES,
                     "%s:%lld: column %s: \"%.60s\" is not an outcome (use 1/0, yes/no, "
                     "true/false or churned/renewed)",
                     l->path, (long long)l->r.row_line[i], l->r.header[l->outcome], s);
            return TEND_ERR_INVALID;
        }
    }
    return TEND_OK;
}

/* Numeric, text or skipped, over all the rows read. A column the caller
 * named explicitly is never skipped silently: that is an error. */
static enum tend_err classify(struct loader *l, struct plan *p, bool named) {
    const struct reader *r = &l->r;
    const char *name = r->header[p->col];
    size_t nonblank = 0;
    bool numeric = true;
    for (size_t i = 0; i < r->rows; i++) {
        const char *s = cell(r, i, p->col);
        double v;
        if (!s[0]) {
            p->blanks++;
            continue;
        }
        nonblank++;
        if (numeric && !parse_number(s, &v))
            numeric = false;
    }
    char why[200] = "";
    if (nonblank == 0) {
        snprintf(why, sizeof why, "every value is blank");
    } else if (numeric) {
        p->kind = COL_NUMERIC;
        return TEND_OK;
    } else {
        const char **levels;
        size_t *counts, n_levels;
        count_levels(r, p->col, NULL, &levels, &counts, &n_levels);
        free(levels);
        free(counts);
        if (n_levels == nonblank && nonblank > 1)
            snprintf(why, sizeof why, "text with a different value on each of its %zu rows (an id)",
                     nonblank);
        else if (n_levels > STATS_TABLE_MAX_LEVELS)
            snprintf(why, sizeof why, "text with %zu distinct values, over the limit of %d",
                     n_levels, STATS_TABLE_MAX_LEVELS);
    }
    if (!why[0]) {
        p->kind = COL_TEXT;
        return TEND_OK;
    }
    if (named) {
        snprintf(l->err, STATS_ERR_BYTES, "%s: column %s: %s; it cannot be a factor", l->path, name,
                 why);
        return TEND_ERR_INVALID;
    }
    p->kind = COL_SKIPPED;
    add_note(l->t, "skipped %s: %s", name, why);
    add_skipped(l->t, name);
    return TEND_OK;
}

/* Drops the rows with a blank in a used column (keep already has the blank
 * outcomes off), noting how many per column. */
static void drop_blank_rows(struct loader *l, bool *keep) {
    const struct reader *r = &l->r;
    size_t outcome_blanks = 0;
    for (size_t i = 0; i < r->rows; i++)
        outcome_blanks += !keep[i];
    for (size_t m = 0; m < l->n_plan; m++) {
        if (l->plan[m].kind == COL_SKIPPED || !l->plan[m].blanks)
            continue;
        for (size_t i = 0; i < r->rows; i++) {
            if (!cell(r, i, l->plan[m].col)[0])
                keep[i] = false;
        }
    }
    size_t dropped = 0;
    for (size_t i = 0; i < r->rows; i++)
        dropped += !keep[i];
    l->t->rows_dropped = dropped;
    if (!dropped)
        return;
    struct buf b;
    buf_init(&b, 0);
    buf_printf(&b, "dropped %zu of %zu rows for a blank value (", dropped, r->rows);
    const char *sep = "";
    if (outcome_blanks) {
        buf_printf(&b, "%s: %zu", r->header[l->outcome], outcome_blanks);
        sep = ", ";
    }
    for (size_t m = 0; m < l->n_plan; m++) {
        if (l->plan[m].kind != COL_SKIPPED && l->plan[m].blanks) {
            buf_printf(&b, "%s%s: %zu", sep, r->header[l->plan[m].col], l->plan[m].blanks);
            sep = ", ";
        }
    }
    buf_puts(&b, ")");
    add_note(l->t, "%s", buf_str(&b));
    buf_free(&b);
}

/* Counts each text column's levels over the rows kept and picks the
 * reference; a column left with one level says nothing and is skipped.
 * Returns the number of encoded columns. */
static size_t plan_levels(struct loader *l, const bool *keep) {
    size_t k = 0;
    for (size_t m = 0; m < l->n_plan; m++) {
        struct plan *p = &l->plan[m];
        if (p->kind == COL_NUMERIC)
            k++;
        if (p->kind != COL_TEXT)
            continue;
        const char *name = l->r.header[p->col];
        count_levels(&l->r, p->col, keep, &p->levels, &p->counts, &p->n_levels);
        if (p->n_levels < 2) {
            add_note(l->t, "skipped %s: one value (\"%s\") on every row used", name,
                     p->n_levels ? p->levels[0] : "");
            add_skipped(l->t, name);
            p->kind = COL_SKIPPED;
            continue;
        }
        p->ref = 0;
        for (size_t v = 1; v < p->n_levels; v++) {
            if (p->counts[v] > p->counts[p->ref])
                p->ref = v;
        }
        add_note(l->t, "%s: %zu levels, against \"%s\" (the most frequent, %zu rows)", name,
                 p->n_levels, p->levels[p->ref], p->counts[p->ref]);
        k += p->n_levels - 1;
    }
    return k;
}

/* Fills t->x, t->y and t->names from the plan for the rows kept. */
static void encode(struct loader *l, const bool *keep, const double *y) {
    struct stats_table *t = l->t;
    const struct reader *r = &l->r;
    t->names = xcalloc(t->k ? t->k : 1, sizeof *t->names);
    t->x = xcalloc(t->n * t->k + 1, sizeof *t->x);
    t->y = xmalloc((t->n ? t->n : 1) * sizeof *t->y);
    size_t j = 0;
    for (size_t m = 0; m < l->n_plan; m++) {
        const struct plan *p = &l->plan[m];
        const char *name = r->header[p->col];
        if (p->kind == COL_NUMERIC) {
            t->names[j] = xstrdup(name);
            for (size_t i = 0, row = 0; i < r->rows; i++) {
                if (keep[i])
                    parse_number(cell(r, i, p->col), &t->x[row++ * t->k + j]);
            }
            j++;
        } else if (p->kind == COL_TEXT) {
            /* Column j + slot for level v: the levels but the reference, in order. */
            for (size_t v = 0; v < p->n_levels; v++) {
                if (v == p->ref)
                    continue;
                struct buf b;
                buf_init(&b, 0);
                buf_printf(&b, "%s=%s", name, p->levels[v]);
                t->names[j + v - (v > p->ref)] = buf_steal(&b);
            }
            for (size_t i = 0, row = 0; i < r->rows; i++) {
                if (!keep[i])
                    continue;
                const char *s = cell(r, i, p->col);
                const char **hit = bsearch(&s, p->levels, p->n_levels, sizeof *p->levels, by_text);
                size_t v = (size_t)(hit - p->levels);
                if (v != p->ref)
                    t->x[row * t->k + j + v - (v > p->ref)] = 1;
                row++;
            }
            j += p->n_levels - 1;
        }
    }
    for (size_t i = 0, row = 0; i < r->rows; i++) {
        if (keep[i])
            t->y[row++] = y[i];
    }
}

enum tend_err stats_table_load(const char *path, const char *outcome, const char *const *columns,
                               size_t n_columns, struct stats_table *t, char *err) {
    struct loader l;
    memset(&l, 0, sizeof l);
    l.path = path;
    l.err = err;
    l.r.path = path;
    l.r.err = err;
    buf_init(&l.r.text, STATS_TABLE_MAX_TEXT_BYTES);
    struct stats_table tab;
    memset(&tab, 0, sizeof tab);
    l.t = &tab;
    double *y = NULL;
    bool *keep = NULL;
    enum tend_err e = TEND_OK;

    read_file(&l.r);
    if ((e = l.r.e))
        goto cleanup;
    if (!l.r.have_header) {
        snprintf(err, STATS_ERR_BYTES, "%s: empty, no header row", path);
        e = TEND_ERR_INVALID;
        goto cleanup;
    }
    if ((e = choose_columns(&l, outcome, columns, n_columns)))
        goto cleanup;
    if (l.r.rows == 0) {
        snprintf(err, STATS_ERR_BYTES, "%s: a header and no data rows", path);
        e = TEND_ERR_INVALID;
        goto cleanup;
    }
    tab.rows_read = l.r.rows;
    y = xmalloc(l.r.rows * sizeof *y);
    keep = xmalloc(l.r.rows * sizeof *keep);
    if ((e = read_outcome(&l, y, keep)))
        goto cleanup;
    for (size_t m = 0; m < l.n_plan; m++) {
        if ((e = classify(&l, &l.plan[m], columns != NULL)))
            goto cleanup;
    }
    drop_blank_rows(&l, keep);
    tab.n = l.r.rows - tab.rows_dropped;
    if (tab.n == 0) {
        snprintf(err, STATS_ERR_BYTES, "%s: every row has a blank outcome or factor", path);
        e = TEND_ERR_INVALID;
        goto cleanup;
    }
    tab.k = plan_levels(&l, keep);
    if (tab.k > 0 && tab.n > STATS_TABLE_MAX_CELLS / tab.k) {
        snprintf(err, STATS_ERR_BYTES,
                 "%s: %zu rows of %zu factors (text columns one-hot encoded) are over the "
                 "limit of %d cells",
                 path, tab.n, tab.k, STATS_TABLE_MAX_CELLS);
        e = TEND_ERR_LIMIT;
        goto cleanup;
    }
    encode(&l, keep, y);
    *t = tab;
    memset(&tab, 0, sizeof tab);
cleanup:
    stats_table_free(&tab);
    for (size_t m = 0; m < l.n_plan; m++) {
        free(l.plan[m].levels);
        free(l.plan[m].counts);
    }
    free(l.plan);
    free(y);
    free(keep);
    reader_free(&l.r);
    return e;
}

void stats_table_free(struct stats_table *t) {
    if (!t)
        return;
    for (size_t j = 0; j < t->k && t->names; j++)
        free(t->names[j]);
    free(t->names);
    free(t->x);
    free(t->y);
    for (size_t i = 0; i < t->n_notes; i++)
        free(t->notes[i]);
    free(t->notes);
    for (size_t i = 0; i < t->n_skipped; i++)
        free(t->skipped[i]);
    free(t->skipped);
    memset(t, 0, sizeof *t);
}

void stats_table_data(const struct stats_table *t, struct stats_data *d) {
    *d = (struct stats_data){
        .n = t->n, .k = t->k, .x = t->x, .y = t->y, .names = (const char *const *)t->names};
}
