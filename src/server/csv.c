/* csv.c: a view's table as CSV (see csv.h). */
#include "server/csv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The tables views carry, in the order a view with several is read. */
static const char *const tables[] = {"accounts", "ctas",   "held",    "rows",   "risk",
                                     "groups",   "rules",  "reports", "models", "items",
                                     "users",    "outbox", "segments"};

static bool is_table(const cJSON *a) {
    return cJSON_IsArray(a) && (!a->child || cJSON_IsObject(a->child));
}

/* The view's table: the first known name with rows (a segment's page has
 * its accounts and its few CTAs), else the first known one, else its first
 * array of objects. */
static const cJSON *find_table(const cJSON *view, const char **name) {
    const cJSON *empty = NULL;
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(view, tables[i]);
        if (is_table(a) && a->child) {
            *name = tables[i];
            return a;
        }
        if (is_table(a) && !empty) {
            empty = a;
            *name = tables[i];
        }
    }
    if (empty)
        return empty;
    const cJSON *a;
    cJSON_ArrayForEach(a, view) {
        if (is_table(a) && a->child) {
            *name = a->string;
            return a;
        }
    }
    return NULL;
}

struct columns {
    char *name[CSV_MAX_COLUMNS];
    int n;
};

static void column_add(struct columns *c, const char *parent, const char *key) {
    if (c->n == CSV_MAX_COLUMNS)
        return;
    size_t len = strlen(key) + (parent ? strlen(parent) + 1 : 0) + 1;
    char *name = malloc(len);
    if (parent)
        snprintf(name, len, "%s.%s", parent, key);
    else
        snprintf(name, len, "%s", key);
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->name[i], name) == 0) {
            free(name);
            return;
        }
    c->name[c->n++] = name;
}

static bool is_scalar(const cJSON *v) {
    return cJSON_IsString(v) || cJSON_IsNumber(v) || cJSON_IsBool(v) || cJSON_IsNull(v);
}

/* The member of row a column names ("parent.member": one level down). */
static const cJSON *cell_of(const cJSON *row, const char *column) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, column);
    if (v)
        return v;
    const char *dot = strchr(column, '.');
    if (!dot)
        return NULL;
    char parent[128];
    size_t n = (size_t)(dot - column);
    if (n >= sizeof parent)
        return NULL;
    memcpy(parent, column, n);
    parent[n] = '\0';
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(row, parent);
    return cJSON_IsObject(p) ? cJSON_GetObjectItemCaseSensitive(p, dot + 1) : NULL;
}

/* Appends text as one CSV field. */
static void put_field(struct buf *out, const char *text, bool guard) {
    bool formula = guard && strchr("=+-@\t\r", text[0]) && text[0];
    bool quote = formula || strpbrk(text, ",\"\r\n") != NULL;
    if (quote)
        buf_putc(out, '"');
    if (formula)
        buf_putc(out, '\'');
    for (const char *p = text; *p; p++) {
        if (*p == '"')
            buf_putc(out, '"');
        buf_putc(out, *p);
    }
    if (quote)
        buf_putc(out, '"');
}

static void put_cell(struct buf *out, const cJSON *v) {
    if (!v || cJSON_IsNull(v) || !is_scalar(v))
        return;
    if (cJSON_IsString(v)) {
        put_field(out, v->valuestring, true);
    } else if (cJSON_IsBool(v)) {
        buf_puts(out, cJSON_IsTrue(v) ? "true" : "false");
    } else {
        char *text = cJSON_PrintUnformatted(v);
        put_field(out, text, false);
        cJSON_free(text);
    }
}

bool csv_of_view(const cJSON *view, struct buf *out, const char **name) {
    const cJSON *table = find_table(view, name);
    if (!table)
        return false;
    struct columns c = {.n = 0};
    const cJSON *row, *m, *k;
    cJSON_ArrayForEach(row, table) {
        cJSON_ArrayForEach(m, row) {
            if (is_scalar(m)) {
                column_add(&c, NULL, m->string);
            } else if (cJSON_IsObject(m)) {
                cJSON_ArrayForEach(k, m) {
                    if (is_scalar(k))
                        column_add(&c, m->string, k->string);
                }
            }
        }
    }
    for (int i = 0; i < c.n; i++) {
        if (i)
            buf_putc(out, ',');
        put_field(out, c.name[i], false);
    }
    buf_puts(out, "\r\n");
    cJSON_ArrayForEach(row, table) {
        for (int i = 0; i < c.n; i++) {
            if (i)
                buf_putc(out, ',');
            put_cell(out, cell_of(row, c.name[i]));
        }
        buf_puts(out, "\r\n");
    }
    for (int i = 0; i < c.n; i++)
        free(c.name[i]);
    return true;
}
