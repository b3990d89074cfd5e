/* output.c: table, CSV and JSON printing (see output.h). */
#include "cli/output.h"

#include "core/labels.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>

#include "util/mem.h"

enum cell_type { CELL_EMPTY, CELL_STR, CELL_NUM, CELL_JSON };

struct cell {
    enum cell_type type;
    char *text;
};

struct out_table {
    const char *const *cols;
    size_t n_cols;
    struct cell *cells; /* rows * n_cols */
    size_t rows, cap_rows, filled;
};

bool out_parse_format(const char *s, enum out_format *out) {
    if (strcmp(s, "table") == 0)
        *out = OUT_TABLE;
    else if (strcmp(s, "csv") == 0)
        *out = OUT_CSV;
    else if (strcmp(s, "json") == 0)
        *out = OUT_JSON;
    else
        return false;
    return true;
}

struct out_table *out_new(const char *const *cols, size_t n_cols) {
    struct out_table *t = xcalloc(1, sizeof *t);
    t->cols = cols;
    t->n_cols = n_cols;
    return t;
}

void out_free(struct out_table *t) {
    if (!t)
        return;
    for (size_t i = 0; i < t->rows * t->n_cols; i++)
        free(t->cells[i].text);
    free(t->cells);
    free(t);
}

void out_row(struct out_table *t) {
    if (t->rows == t->cap_rows) {
        t->cap_rows = t->cap_rows ? t->cap_rows * 2 : 64;
        t->cells = xrealloc(t->cells, t->cap_rows * t->n_cols * sizeof *t->cells);
    }
    memset(t->cells + t->rows * t->n_cols, 0, t->n_cols * sizeof *t->cells);
    t->rows++;
    t->filled = 0;
}

static void put(struct out_table *t, enum cell_type type, char *text) {
    if (t->rows == 0 || t->filled >= t->n_cols) {
        free(text);
        return;
    }
    struct cell *c = &t->cells[(t->rows - 1) * t->n_cols + t->filled++];
    c->type = text ? type : CELL_EMPTY;
    c->text = text;
}

void out_str(struct out_table *t, const char *s) {
    put(t, CELL_STR, s ? xstrdup(s) : NULL);
}

void out_int(struct out_table *t, int64_t v) {
    char b[32];
    snprintf(b, sizeof b, "%lld", (long long)v);
    put(t, CELL_NUM, xstrdup(b));
}

void out_num(struct out_table *t, double v, bool known) {
    if (!known) {
        put(t, CELL_EMPTY, NULL);
        return;
    }
    /* Plain decimal, at most 4 decimals, no exponent, no trailing zeros:
     * 49.9, 1200, 0.25, 33.3333 (docs/metrics.md). Whole numbers, most
     * cells, skip the float formatting. */
    char b[64];
    if (v == (double)(int64_t)v && v > -1e15 && v < 1e15) {
        snprintf(b, sizeof b, "%lld", (long long)v);
        put(t, CELL_NUM, xstrdup(b));
        return;
    }
    snprintf(b, sizeof b, "%.4f", v);
    char *dot = strchr(b, '.');
    if (dot) {
        char *end = b + strlen(b) - 1;
        while (end > dot && *end == '0')
            *end-- = '\0';
        if (end == dot)
            *end = '\0';
    }
    if (strcmp(b, "-0") == 0)
        strcpy(b, "0");
    put(t, CELL_NUM, xstrdup(b));
}

void out_raw_json(struct out_table *t, const char *json) {
    put(t, CELL_JSON, json ? xstrdup(json) : NULL);
}

static void print_csv_field(const char *s, FILE *f) {
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void pad(size_t n, FILE *f) {
    static const char spaces[] = "                                ";
    for (; n >= sizeof spaces - 1; n -= sizeof spaces - 1)
        fwrite(spaces, 1, sizeof spaces - 1, f);
    fwrite(spaces, 1, n, f);
}

/* A cell as a terminal shows it: C0 control characters and DEL, which data
 * may hold in free text (an NPS comment, a name), are written as \n, \t or
 * \xNN, so a value can neither break the table's lines nor send the terminal
 * an escape sequence. Malloced. CSV and JSON keep the value as it is. */
static char *shown(const char *s) {
    size_t n = 0;
    for (const char *p = s; *p; p++)
        n += ((unsigned char)*p < 0x20 || *p == 0x7f) ? 4 : 1;
    char *out = xmalloc(n + 1), *o = out;
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '\n' || c == '\t' || c == '\r') {
            *o++ = '\\';
            *o++ = c == '\n' ? 'n' : c == '\t' ? 't' : 'r';
        } else if (c < 0x20 || c == 0x7f) {
            o += sprintf(o, "\\x%02x", c);
        } else {
            *o++ = (char)c;
        }
    }
    *o = '\0';
    return out;
}

/* Display width in columns of UTF-8 text (code points; good enough for names). */
static size_t width(const char *s) {
    size_t w = 0;
    for (; *s; s++)
        w += ((unsigned char)*s & 0xC0) != 0x80;
    return w;
}

void out_print(const struct out_table *t, enum out_format format, FILE *f) {
    const struct cell *cells = t->cells;
    if (format == OUT_CSV) {
        for (size_t c = 0; c < t->n_cols; c++) {
            if (c)
                fputc(',', f);
            print_csv_field(t->cols[c], f);
        }
        fputc('\n', f);
        for (size_t r = 0; r < t->rows; r++) {
            for (size_t c = 0; c < t->n_cols; c++) {
                if (c)
                    fputc(',', f);
                const struct cell *x = &cells[r * t->n_cols + c];
                if (x->text)
                    print_csv_field(x->text, f);
            }
            fputc('\n', f);
        }
        return;
    }
    if (format == OUT_JSON) {
        cJSON *arr = cJSON_CreateArray();
        for (size_t r = 0; r < t->rows; r++) {
            cJSON *o = cJSON_CreateObject();
            for (size_t c = 0; c < t->n_cols; c++) {
                const struct cell *x = &cells[r * t->n_cols + c];
                cJSON *v;
                switch (x->type) {
                case CELL_NUM:
                    v = cJSON_CreateRaw(x->text);
                    break;
                case CELL_STR:
                    v = cJSON_CreateString(x->text);
                    break;
                case CELL_JSON:
                    v = cJSON_Parse(x->text);
                    if (!v)
                        v = cJSON_CreateString(x->text);
                    break;
                default:
                    v = cJSON_CreateNull();
                }
                cJSON_AddItemToObject(o, t->cols[c], v);
            }
            cJSON_AddItemToArray(arr, o);
        }
        char *s = cJSON_Print(arr);
        fputs(s, f);
        fputc('\n', f);
        cJSON_free(s);
        cJSON_Delete(arr);
        return;
    }
    /* The table is for people: each column under its label, money with its
     * currency, percentages and scores rounded (core/labels.h); CSV and JSON
     * above keep the stable names and the exact numbers. */
    size_t *w = xcalloc(t->n_cols, sizeof *w);
    char **text = xcalloc(t->rows * t->n_cols + 1, sizeof *text);
    for (size_t c = 0; c < t->n_cols; c++)
        w[c] = width(labels_text(t->cols[c]));
    for (size_t i = 0; i < t->rows * t->n_cols; i++) {
        size_t c = i % t->n_cols;
        const struct label *l = labels_find(t->cols[c]);
        if (l && cells[i].type == CELL_NUM && cells[i].text &&
            (l->kind == LU_MONEY || l->kind == LU_PERCENT || l->kind == LU_SCORE ||
             l->kind == LU_NUMBER)) {
            char v[96];
            labels_value(t->cols[c], strtod(cells[i].text, NULL), NULL, v, sizeof v);
            text[i] = xstrdup(v);
        } else {
            text[i] = shown(cells[i].text ? cells[i].text : "");
        }
        size_t x = width(text[i]);
        if (x > w[c])
            w[c] = x;
    }
    for (size_t c = 0; c < t->n_cols; c++)
        fprintf(f, "%s%-*s", c ? "  " : "", c + 1 < t->n_cols ? (int)w[c] : 0,
                labels_text(t->cols[c]));
    fputc('\n', f);
    for (size_t r = 0; r < t->rows; r++) {
        for (size_t c = 0; c < t->n_cols; c++) {
            const struct cell *x = &cells[r * t->n_cols + c];
            const char *s = text[r * t->n_cols + c];
            size_t n = w[c] - width(s);
            if (c)
                fputs("  ", f);
            if (x->type == CELL_NUM) {
                pad(n, f);
                fputs(s, f);
            } else {
                fputs(s, f);
                if (c + 1 < t->n_cols)
                    pad(n, f);
            }
        }
        fputc('\n', f);
    }
    for (size_t i = 0; i < t->rows * t->n_cols; i++)
        free(text[i]);
    free(text);
    free(w);
}

cJSON *out_json_number(double v) {
    return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull();
}
