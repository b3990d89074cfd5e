/* test_csv.c: a view's table as CSV (server/csv.h): one row per element of
 * the view's table under the stable JSON names, RFC 4180 quoting, a text
 * that a spreadsheet would run as a formula defused, numbers as the API
 * writes them, and a view without a table refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "server/csv.h"

static char *csv(const char *json, const char **name) {
    cJSON *v = cJSON_Parse(json);
    assert_non_null(v);
    struct buf b;
    buf_init(&b, 0);
    bool ok = csv_of_view(v, &b, name);
    cJSON_Delete(v);
    if (!ok) {
        buf_free(&b);
        return NULL;
    }
    return buf_steal(&b);
}

static void rows_and_columns_are_the_views(void **state) {
    (void)state;
    const char *name = NULL;
    char *out = csv("{\"total\": 2, \"ctas\": [{\"id\": 1, \"title\": \"a, b\", \"value\": 1234.5,"
                    " \"overdue\": true, \"risk\": null, \"evidence\": {\"days\": 3},"
                    " \"trend\": [1, 2]}, {\"id\": 2, \"title\": \"say \\\"hi\\\"\\nnow\","
                    " \"owner\": \"ann@x\", \"value\": 0.1}]}",
                    &name);
    assert_non_null(out);
    assert_string_equal(name, "ctas");
    assert_string_equal(out, "id,title,value,overdue,risk,evidence.days,owner\r\n"
                             "1,\"a, b\",1234.5,true,,3,\r\n"
                             "2,\"say \"\"hi\"\"\nnow\",0.1,,,,ann@x\r\n");
    free(out);
}

static void formulas_are_defused(void **state) {
    (void)state;
    const char *name = NULL;
    char *out = csv("{\"accounts\": [{\"name\": \"=HYPERLINK(1)\", \"n\": -3},"
                    " {\"name\": \"@x\", \"n\": 2}]}",
                    &name);
    assert_string_equal(name, "accounts");
    assert_string_equal(out, "name,n\r\n\"'=HYPERLINK(1)\",-3\r\n\"'@x\",2\r\n");
    free(out);
}

static void a_view_without_a_table_is_refused(void **state) {
    (void)state;
    const char *name = NULL;
    assert_null(csv("{\"id\": 1, \"history\": [1, 2]}", &name));
    char *out = csv("{\"ctas\": []}", &name); /* an empty table: the header only */
    assert_string_equal(out, "\r\n");
    free(out);
}

/* A segment's page has its accounts and its CTAs: the table with rows wins. */
static void the_table_with_rows_is_the_one_exported(void **state) {
    (void)state;
    const char *name = NULL;
    char *out =
        csv("{\"trend\": [{\"day\": 1}], \"accounts\": [{\"id\": \"a\"}], \"ctas\": []}", &name);
    assert_string_equal(name, "accounts");
    assert_string_equal(out, "id\r\na\r\n");
    free(out);
    out = csv("{\"accounts\": [], \"ctas\": [{\"id\": 7}]}", &name);
    assert_string_equal(name, "ctas");
    assert_string_equal(out, "id\r\n7\r\n");
    free(out);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rows_and_columns_are_the_views),
        cmocka_unit_test(formulas_are_defused),
        cmocka_unit_test(a_view_without_a_table_is_refused),
        cmocka_unit_test(the_table_with_rows_is_the_one_exported),
    };
    return cmocka_run_group_tests_name("csv", tests, NULL, NULL);
}
