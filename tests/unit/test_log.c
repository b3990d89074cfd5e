/* test_log.c: unit tests of util/log: every line of tend serve's log is one
 * line, whatever the data in it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/log.h"

static void escape(const char *in, size_t n, size_t size, const char *want) {
    char out[256];
    assert_true(size <= sizeof out);
    size_t len = log_escape(in, n, out, size);
    assert_string_equal(out, want);
    assert_int_equal(len, strlen(want));
}

/* Escapes the literal s (its NUL bytes included, its terminator not). */
#define ESCAPE(s, size, want) escape(s, sizeof(s) - 1, size, want)

static void control_characters_are_escaped(void **state) {
    ESCAPE("a\nb\rc\td", 64, "a\\nb\\rc\\td");
    ESCAPE("\x1b[2J\x7f\x01", 64, "\\x1b[2J\\x7f\\x01");
    ESCAPE("nul\0x", 64, "nul\\x00x");
    ESCAPE("back\\slash", 64, "back\\\\slash");
}

static void printable_text_and_utf8_pass_unchanged(void **state) {
    ESCAPE("tend serve: r\xc3\xa9sum\xc3\xa9 100% ok", 64,
           "tend serve: r\xc3\xa9sum\xc3\xa9 100% ok");
}

static void a_long_text_is_cut_at_a_whole_escape_with_dots(void **state) {
    ESCAPE("abcdefghij", 8, "abcd...");
    ESCAPE("abcdefg", 8, "abcdefg"); /* fits exactly: no dots */
    ESCAPE("ab\ncdefgh", 8, "ab\\n...");
    ESCAPE("abc\n", 6, "abc\\n"); /* the escape fits whole */
    ESCAPE("abc\n", 5, "a...");
    ESCAPE("x", 1, "");
}

/* Runs log_printf with stderr on a pipe; returns what it wrote. */
static char *logged(const char *arg) {
    int p[2];
    assert_int_equal(pipe(p), 0);
    int saved = dup(STDERR_FILENO);
    dup2(p[1], STDERR_FILENO);
    log_printf("tend serve: %s (account x)", arg);
    dup2(saved, STDERR_FILENO);
    close(saved);
    close(p[1]);
    static char buf[LOG_MAX_LINE_BYTES + 64];
    ssize_t n = read(p[0], buf, sizeof buf - 1);
    close(p[0]);
    buf[n > 0 ? n : 0] = '\0';
    return buf;
}

static void one_call_writes_exactly_one_line(void **state) {
    char *out = logged("evil\ntend serve: FORGED\r");
    assert_string_equal(out, "tend serve: evil\\ntend serve: FORGED\\r (account x)\n");
}

static void an_overlong_line_is_cut_and_still_one_line(void **state) {
    char *big = malloc(20000);
    memset(big, '\n', 19999);
    big[19999] = '\0';
    char *out = logged(big);
    size_t len = strlen(out);
    assert_true(len <= LOG_MAX_LINE_BYTES);
    assert_int_equal(out[len - 1], '\n');
    assert_null(memchr(out, '\n', len - 1));
    assert_memory_equal(out + len - 4, "...\n", 4);
    free(big);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(control_characters_are_escaped),
        cmocka_unit_test(printable_text_and_utf8_pass_unchanged),
        cmocka_unit_test(a_long_text_is_cut_at_a_whole_escape_with_dots),
        cmocka_unit_test(one_call_writes_exactly_one_line),
        cmocka_unit_test(an_overlong_line_is_cut_and_still_one_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
