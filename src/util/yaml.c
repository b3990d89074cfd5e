/* yaml.c: YAML to cJSON with libyaml's document API (see yaml.h). */
#include "util/yaml.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* Limits nesting so a hostile file cannot exhaust the stack. */
#define YAML_MAX_DEPTH 64

static cJSON *scalar(const yaml_node_t *n) {
    const char *v = (const char *)n->data.scalar.value;
    size_t len = n->data.scalar.length;
    if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
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

static cJSON *convert(yaml_document_t *doc, yaml_node_t *n, int depth) {
    if (!n || depth > YAML_MAX_DEPTH)
        return NULL;
    switch (n->type) {
    case YAML_SCALAR_NODE:
        return scalar(n);
    case YAML_SEQUENCE_NODE: {
        cJSON *arr = cJSON_CreateArray();
        for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
             it++) {
            cJSON *c = convert(doc, yaml_document_get_node(doc, *it), depth + 1);
            if (!c) {
                cJSON_Delete(arr);
                return NULL;
            }
            cJSON_AddItemToArray(arr, c);
        }
        return arr;
    }
    case YAML_MAPPING_NODE: {
        cJSON *obj = cJSON_CreateObject();
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
             p++) {
            yaml_node_t *k = yaml_document_get_node(doc, p->key);
            cJSON *v = convert(doc, yaml_document_get_node(doc, p->value), depth + 1);
            if (!k || k->type != YAML_SCALAR_NODE || !v) {
                cJSON_Delete(v);
                cJSON_Delete(obj);
                return NULL;
            }
            const char *key = (const char *)k->data.scalar.value;
            cJSON_DeleteItemFromObjectCaseSensitive(obj, key); /* a repeated key: the last wins */
            cJSON_AddItemToObject(obj, key, v);
        }
        return obj;
    }
    default:
        return NULL;
    }
}

static enum tend_err load(yaml_parser_t *parser, const char *name, cJSON **out, char *err) {
    yaml_document_t doc;
    if (!yaml_parser_load(parser, &doc)) {
        snprintf(err, YAML_ERR_BYTES, "%s:%zu:%zu: %s", name, parser->problem_mark.line + 1,
                 parser->problem_mark.column + 1, parser->problem ? parser->problem : "bad YAML");
        return TEND_ERR_INVALID;
    }
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    cJSON *tree = root ? convert(&doc, root, 0) : cJSON_CreateObject();
    yaml_document_delete(&doc);
    if (!tree) {
        snprintf(err, YAML_ERR_BYTES,
                 "%s: mapping keys must be plain values and nesting at most %d deep", name,
                 YAML_MAX_DEPTH);
        return TEND_ERR_INVALID;
    }
    *out = tree;
    return TEND_OK;
}

enum tend_err yaml_load_file(const char *path, cJSON **out, char *err) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, YAML_ERR_BYTES, "cannot read %s: %s", path, strerror(errno));
        return TEND_ERR_IO;
    }
    yaml_parser_t parser;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_file(&parser, f);
    enum tend_err e = load(&parser, path, out, err);
    yaml_parser_delete(&parser);
    fclose(f);
    return e;
}

enum tend_err yaml_load_string(const char *text, size_t len, const char *name, cJSON **out,
                               char *err) {
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
