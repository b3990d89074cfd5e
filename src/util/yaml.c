/* yaml.c: YAML to cJSON from libyaml's event API (see yaml.h).
 *
 * The tree is built event by event (yaml_parser_parse), never as libyaml's
 * document first: an alias is refused at the event that names it, and nesting
 * past YAML_MAX_DEPTH at the event that opens it, so neither memory nor time
 * grows beyond the file's size. With the document API, a 386-byte file of
 * nested aliases (each list naming the previous one nine times) expanded to
 * 3.9 GB, and 200,000 levels of [ ran past 120 s (libyaml's scanner walks
 * every open level on each token: quadratic). The file itself is capped at
 * YAML_MAX_FILE_BYTES. A mapping's repeated keys are settled when it closes,
 * by sorting its keys (the last one wins), not by a search per key (a
 * mapping of 100,000 keys would cost 5e9 comparisons). */
#include "util/yaml.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "util/mem.h"

static cJSON *scalar(const yaml_event_t *ev) {
    const char *v = (const char *)ev->data.scalar.value;
    size_t len = ev->data.scalar.length;
    if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return cJSON_CreateString(v);
    if (len == 0 || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 || strcmp(v, "Null") == 0 ||
        strcmp(v, "NULL") == 0)
        return cJSON_CreateNull();
    if (strcmp(v, "true") == 0 || strcmp(v, "True") == 0 || strcmp(v, "TRUE") == 0)
        return cJSON_CreateTrue();
    if (strcmp(v, "false") == 0 || strcmp(v, "False") == 0 || strcmp(v, "FALSE") == 0)
        return cJSON_CreateFalse();
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (end != v && *end == '\0' && errno == 0 &&
        (v[0] == '-' || v[0] == '+' || v[0] == '.' || (v[0] >= '0' && v[0] <= '9')))
        return cJSON_CreateNumber(x);
    return cJSON_CreateString(v);
}

/* An open sequence or mapping. */
struct frame {
    cJSON *node;
    char *key; /* a mapping's key awaiting its value (malloced), else NULL */
};

struct loader {
    const char *name; /* for messages */
    char *err;        /* YAML_ERR_BYTES */
    cJSON *root;      /* owns every node built so far */
    struct frame stack[YAML_MAX_DEPTH + 1];
    int depth; /* open collections */
    bool done;
};

static enum tend_err fail_at(struct loader *ld, const yaml_mark_t *m, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Writes "NAME:LINE:COLUMN: message" into ld->err. */
static enum tend_err fail_at(struct loader *ld, const yaml_mark_t *m, const char *fmt, ...) {
    char what[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(ld->err, YAML_ERR_BYTES, "%s:%zu:%zu: %s", ld->name, m->line + 1, m->column + 1, what);
    return TEND_ERR_INVALID;
}

struct keyed {
    cJSON *item;
    size_t order; /* as read */
};

static int by_key(const void *a, const void *b) {
    const struct keyed *x = a, *y = b;
    int c = strcmp(x->item->string, y->item->string);
    if (c != 0)
        return c;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* Drops every key of mapping obj but the last of each name, in O(n log n). */
static void settle_keys(cJSON *obj) {
    size_t n = 0;
    for (cJSON *c = obj->child; c; c = c->next)
        n++;
    if (n < 2)
        return;
    struct keyed *v = xmalloc(n * sizeof *v);
    size_t i = 0;
    for (cJSON *c = obj->child; c; c = c->next, i++)
        v[i] = (struct keyed){c, i};
    qsort(v, n, sizeof *v, by_key);
    for (i = 0; i + 1 < n; i++)
        if (strcmp(v[i].item->string, v[i + 1].item->string) == 0)
            cJSON_Delete(cJSON_DetachItemViaPointer(obj, v[i].item));
    free(v);
}

/* Places a new node (a scalar, or a collection just opened): as the root, an
 * item of the open sequence, or the value of the open mapping's pending key.
 * In a mapping awaiting a key, a scalar becomes the key (its text as
 * written) and anything else is refused. Takes ownership of node. */
static enum tend_err place(struct loader *ld, cJSON *node, const yaml_event_t *ev) {
    if (ld->depth == 0) {
        ld->root = node;
        return TEND_OK;
    }
    struct frame *f = &ld->stack[ld->depth - 1];
    if (cJSON_IsArray(f->node)) {
        cJSON_AddItemToArray(f->node, node);
        return TEND_OK;
    }
    if (f->key) {
        cJSON_AddItemToObject(f->node, f->key, node);
        free(f->key);
        f->key = NULL;
        return TEND_OK;
    }
    cJSON_Delete(node);
    if (ev->type != YAML_SCALAR_EVENT)
        return fail_at(ld, &ev->start_mark,
                       "a mapping key must be a plain value, not a list or mapping");
    f->key = xstrdup((const char *)ev->data.scalar.value);
    return TEND_OK;
}

/* Applies one event. */
static enum tend_err on_event(struct loader *ld, const yaml_event_t *ev) {
    switch (ev->type) {
    case YAML_ALIAS_EVENT:
        return fail_at(ld, &ev->start_mark, "aliases (*%.40s) are not supported: repeat the value",
                       (const char *)ev->data.alias.anchor);
    case YAML_SCALAR_EVENT:
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT: {
        if (ld->depth > YAML_MAX_DEPTH)
            return fail_at(ld, &ev->start_mark, "nested deeper than %d levels", YAML_MAX_DEPTH);
        bool scalar_ev = ev->type == YAML_SCALAR_EVENT;
        cJSON *node = scalar_ev                               ? scalar(ev)
                      : ev->type == YAML_SEQUENCE_START_EVENT ? cJSON_CreateArray()
                                                              : cJSON_CreateObject();
        if (node == NULL)
            abort(); /* allocation failure aborts (STYLE.md) */
        enum tend_err e = place(ld, node, ev);
        if (e != TEND_OK || scalar_ev)
            return e;
        ld->stack[ld->depth++] = (struct frame){.node = node};
        return TEND_OK;
    }
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT: {
        struct frame *f = &ld->stack[--ld->depth];
        if (ev->type == YAML_MAPPING_END_EVENT)
            settle_keys(f->node);
        return TEND_OK;
    }
    case YAML_DOCUMENT_END_EVENT: /* only the first document is read */
    case YAML_STREAM_END_EVENT:
        ld->done = true;
        return TEND_OK;
    default: /* stream and document starts */
        return TEND_OK;
    }
}

static enum tend_err load(yaml_parser_t *parser, const char *name, cJSON **out, char *err) {
    struct loader ld = {.name = name, .err = err};
    enum tend_err e = TEND_OK;
    while (e == TEND_OK && !ld.done) {
        yaml_event_t ev;
        if (!yaml_parser_parse(parser, &ev)) {
            snprintf(err, YAML_ERR_BYTES, "%s:%zu:%zu: %s", name, parser->problem_mark.line + 1,
                     parser->problem_mark.column + 1,
                     parser->problem ? parser->problem : "bad YAML");
            e = TEND_ERR_INVALID;
            break;
        }
        e = on_event(&ld, &ev);
        yaml_event_delete(&ev);
    }
    for (int i = 0; i < ld.depth; i++)
        free(ld.stack[i].key);
    if (e != TEND_OK) {
        cJSON_Delete(ld.root);
        return e;
    }
    *out = ld.root ? ld.root : cJSON_CreateObject();
    return TEND_OK;
}

/* The size limit's message. */
static enum tend_err too_big(const char *name, char *err) {
    snprintf(err, YAML_ERR_BYTES, "%s: larger than the limit of %d KiB", name,
             YAML_MAX_FILE_BYTES / 1024);
    return TEND_ERR_INVALID;
}

enum tend_err yaml_load_file(const char *path, cJSON **out, char *err) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, YAML_ERR_BYTES, "cannot read %s: %s", path, strerror(errno));
        return TEND_ERR_IO;
    }
    char *text = xmalloc(YAML_MAX_FILE_BYTES + 1);
    size_t len = fread(text, 1, YAML_MAX_FILE_BYTES + 1, f);
    bool failed = ferror(f);
    fclose(f);
    enum tend_err e;
    if (failed) {
        snprintf(err, YAML_ERR_BYTES, "cannot read %s: %s", path, strerror(errno));
        e = TEND_ERR_IO;
    } else if (len > YAML_MAX_FILE_BYTES) {
        e = too_big(path, err);
    } else {
        e = yaml_load_string(text, len, path, out, err);
    }
    free(text);
    return e;
}

enum tend_err yaml_load_string(const char *text, size_t len, const char *name, cJSON **out,
                               char *err) {
    if (len > YAML_MAX_FILE_BYTES)
        return too_big(name, err);
    yaml_parser_t parser;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    enum tend_err e = load(&parser, name, out, err);
    yaml_parser_delete(&parser);
    return e;
}

enum tend_err yaml_error(char *err, size_t size, const char *path, const char *fmt, ...) {
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(err, size, "%s: %s", path, what);
    return TEND_ERR_INVALID;
}

enum tend_err yaml_known_keys(const cJSON *o, const char *path, const char *const *known, char *err,
                              size_t size) {
    const cJSON *kv;
    cJSON_ArrayForEach(kv, o) {
        size_t i;
        for (i = 0; known[i]; i++)
            if (strcmp(kv->string, known[i]) == 0)
                break;
        if (!known[i])
            return yaml_error(err, size, path, "unknown setting \"%s\"", kv->string);
    }
    return TEND_OK;
}

enum tend_err yaml_number(const cJSON *v, const char *path, double lo, double hi, double *out,
                          char *err, size_t size) {
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < lo ||
        v->valuedouble > hi)
        return yaml_error(err, size, path, "must be a number from %g to %g", lo, hi);
    *out = v->valuedouble;
    return TEND_OK;
}
