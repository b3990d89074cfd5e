/* test_yaml.c: tend.yaml's reader (util/yaml): scalars to JSON types, aliases
 * refused at their line, nesting refused past 64 levels at its line (and a
 * 200,000-level file refused without its cost), the file size limit, mapping
 * keys, repeated keys, and documents. Error messages are compared whole: the
 * file, line and column are the contract. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/yaml.h"

/* Loads text, expecting success. */
static cJSON *load_ok(const char *text) {
    cJSON *root = NULL;
    char err[YAML_ERR_BYTES] = "";
    enum tend_err e = yaml_load_string(text, strlen(text), "tend.yaml", &root, err);
    if (e != TEND_OK)
        print_error("%s\n", err);
    assert_int_equal(e, TEND_OK);
    assert_non_null(root);
    return root;
}

/* Loads text, expecting TEND_ERR_INVALID with exactly want. */
static void load_fails(const char *text, const char *want) {
    cJSON *root = NULL;
    char err[YAML_ERR_BYTES] = "";
    assert_int_equal(yaml_load_string(text, strlen(text), "tend.yaml", &root, err),
                     TEND_ERR_INVALID);
    assert_null(root);
    assert_string_equal(err, want);
}

static void test_scalars_become_json_types(void **state) {
    (void)state;
    cJSON *root = load_ok("a: 1.5\nb: \"1.5\"\nc: true\nd: ~\ne: text\nf: [x, 2]\ng: {h: -3}\n"
                          "i:\ns: 'x: y'\n");
    assert_true(cJSON_IsNumber(cJSON_GetObjectItem(root, "a")));
    assert_true(cJSON_GetObjectItem(root, "a")->valuedouble == 1.5);
    assert_string_equal(cJSON_GetObjectItem(root, "b")->valuestring, "1.5");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(root, "c")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(root, "d")));
    assert_string_equal(cJSON_GetObjectItem(root, "e")->valuestring, "text");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(root, "f")), 2);
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(root, "g"), "h")->valueint, -3);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(root, "i")));
    assert_string_equal(cJSON_GetObjectItem(root, "s")->valuestring, "x: y");
    cJSON_Delete(root);
}

static void test_empty_file_and_documents(void **state) {
    (void)state;
    cJSON *root = load_ok("");
    assert_true(cJSON_IsObject(root) && root->child == NULL);
    cJSON_Delete(root);
    root = load_ok("# only a comment\n");
    assert_true(cJSON_IsObject(root) && root->child == NULL);
    cJSON_Delete(root);
    /* Only the first document is read, as before. */
    root = load_ok("---\na: 1\n---\nb: 2\n");
    assert_non_null(cJSON_GetObjectItem(root, "a"));
    assert_null(cJSON_GetObjectItem(root, "b"));
    cJSON_Delete(root);
}

/* The finding: aliases were expanded by libyaml's document API, so 386 bytes
 * of nested aliases took 3.9 GB. An alias is refused at its line; anchors
 * alone are harmless. */
static void test_aliases_are_refused_at_their_line(void **state) {
    (void)state;
    load_fails("base: &b {x: 1}\nrules:\n  no_login: *b\n",
               "tend.yaml:3:13: aliases (*b) are not supported: repeat the value");
    load_fails("base: &b {x: 1}\nother:\n  <<: *b\n",
               "tend.yaml:3:7: aliases (*b) are not supported: repeat the value");
    char bomb[1024] = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
    for (char c = 'b'; c <= 'i'; c++) {
        size_t n = strlen(bomb);
        snprintf(bomb + n, sizeof bomb - n,
                 "%c: &%c [*%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c]\n", c, c, c - 1, c - 1,
                 c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1);
    }
    load_fails(bomb, "tend.yaml:2:8: aliases (*a) are not supported: repeat the value");
    cJSON *root = load_ok("a: &x 1\nb: 2\n");
    assert_int_equal(cJSON_GetObjectItem(root, "a")->valueint, 1);
    cJSON_Delete(root);
}

/* Builds "a: 1\nk: " then n nested flow lists: on line 2, the list at depth
 * d (the root mapping is depth 0) opens at column 3 + d. */
static char *nested(size_t n) {
    char *text = malloc(2 * n + 16);
    strcpy(text, "a: 1\nk: ");
    size_t at = strlen(text);
    memset(text + at, '[', n);
    memset(text + at + n, ']', n);
    strcpy(text + at + 2 * n, "\n");
    return text;
}

static void test_nesting_is_refused_past_64_at_its_line(void **state) {
    (void)state;
    char *text = nested(YAML_MAX_DEPTH); /* the innermost list at depth 64 */
    cJSON *root = load_ok(text);
    cJSON_Delete(root);
    free(text);
    text = nested(YAML_MAX_DEPTH + 1);
    load_fails(text, "tend.yaml:2:68: nested deeper than 64 levels");
    free(text);
    /* A scalar counts as a level too (a key as well); so does a block mapping. */
    char scalar[160] = "a: 1\nk: "; /* the innermost list at 64 holds a scalar, at 65 */
    memset(scalar + 8, '[', YAML_MAX_DEPTH);
    scalar[8 + YAML_MAX_DEPTH] = '1';
    memset(scalar + 9 + YAML_MAX_DEPTH, ']', YAML_MAX_DEPTH);
    load_fails(scalar, "tend.yaml:2:68: nested deeper than 64 levels");
    char block[64 * 70 + 16] = "", *p = block;
    for (int d = 0; d <= YAML_MAX_DEPTH; d++)
        p += sprintf(p, "%*sk%d:\n", d, "", d);
    sprintf(p, "%*sx: 1\n", YAML_MAX_DEPTH + 1, "");
    load_fails(block, "tend.yaml:65:65: nested deeper than 64 levels");
}

static long max_rss_kib(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* The finding: 200,000 levels (a 400 KB file) ran past 120 s, libyaml's
 * scanner walking every open level on each token. Refused at level 65, the
 * rest of the file is never scanned; its peak memory is the file's. */
static void test_200000_levels_are_refused_cheaply(void **state) {
    (void)state;
    char *text = nested(200000);
    long before = max_rss_kib();
    load_fails(text, "tend.yaml:2:68: nested deeper than 64 levels");
    long grown = max_rss_kib() - before;
    print_message("200,000 levels refused; peak RSS grew by %ld KiB\n", grown);
    assert_true(grown < 16 * 1024);
    free(text);
}

static void test_file_size_is_capped(void **state) {
    (void)state;
    char path[] = "/tmp/test_yaml_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    /* Exactly the limit: comments and one setting, loads. */
    fputs("a: 1\n", f);
    for (size_t n = 5; n < YAML_MAX_FILE_BYTES; n++)
        fputc(n + 1 == YAML_MAX_FILE_BYTES ? '\n' : n % 80 == 5 ? '#' : 'x', f);
    fflush(f);
    cJSON *root = NULL;
    char err[YAML_ERR_BYTES] = "";
    assert_int_equal(yaml_load_file(path, &root, err), TEND_OK);
    assert_int_equal(cJSON_GetObjectItem(root, "a")->valueint, 1);
    cJSON_Delete(root);
    /* One byte more is refused, naming the limit. */
    fputc('\n', f);
    fclose(f);
    root = NULL;
    assert_int_equal(yaml_load_file(path, &root, err), TEND_ERR_INVALID);
    assert_null(root);
    char want[YAML_ERR_BYTES];
    snprintf(want, sizeof want, "%s: larger than the limit of 1024 KiB", path);
    assert_string_equal(err, want);
    unlink(path);
    assert_int_equal(yaml_load_file(path, &root, err), TEND_ERR_IO);
}

static void test_mapping_keys(void **state) {
    (void)state;
    load_fails("a: 1\n[x]: 2\n",
               "tend.yaml:2:1: a mapping key must be a plain value, not a list or mapping");
    load_fails("a: 1\n? {b: 1}\n: 2\n",
               "tend.yaml:2:3: a mapping key must be a plain value, not a list or mapping");
    /* A repeated key: the last wins, where it was last written. */
    cJSON *root = load_ok("a: 1\nb: 2\na: 3\n");
    assert_int_equal(cJSON_GetArraySize(root), 2);
    assert_string_equal(root->child->string, "b");
    assert_int_equal(cJSON_GetObjectItem(root, "a")->valueint, 3);
    cJSON_Delete(root);
    /* Many keys, each twice: settled when the mapping closes. */
    size_t n = 30000;
    char *text = malloc(n * 2 * 24 + 1), *p = text;
    for (size_t pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < n; i++)
            p += sprintf(p, "k%zu: %zu\n", i, pass * n + i);
    root = load_ok(text);
    assert_int_equal(cJSON_GetArraySize(root), (int)n);
    assert_int_equal(cJSON_GetObjectItem(root, "k7")->valueint, (int)n + 7);
    cJSON_Delete(root);
    free(text);
}

static void test_syntax_errors_name_line_and_column(void **state) {
    (void)state;
    load_fails("health:\n  weights: [1, 2\n", "tend.yaml:3:1: did not find expected ',' or ']'");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scalars_become_json_types),
        cmocka_unit_test(test_empty_file_and_documents),
        cmocka_unit_test(test_aliases_are_refused_at_their_line),
        cmocka_unit_test(test_nesting_is_refused_past_64_at_its_line),
        cmocka_unit_test(test_200000_levels_are_refused_cheaply),
        cmocka_unit_test(test_file_size_is_capped),
        cmocka_unit_test(test_mapping_keys),
        cmocka_unit_test(test_syntax_errors_name_line_and_column),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
