/* test_buf_lines.c: unit tests of util/buf (capped growable buffer) and
 * util/lines (capped line reader). Files are tmpfile()s, so the reader sees a
 * real stdio stream with real block reads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/buf.h"
#include "util/lines.h"

#define BLOCK (256 * 1024) /* lines.c reads in blocks of this size */

/* ---- buf ------------------------------------------------------------------ */

static void new_buf_is_empty_and_allocates_nothing(void **state) {
    struct buf b;
    buf_init(&b, 100);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_string_equal(buf_str(&b), "");
    buf_free(&b);
    buf_free(NULL);
}

static void appends_concatenate_and_stay_nul_terminated(void **state) {
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(buf_puts(&b, "ab"), TEND_OK);
    assert_int_equal(buf_putc(&b, 'c'), TEND_OK);
    assert_int_equal(buf_append(&b, "defXYZ", 3), TEND_OK);
    assert_int_equal(b.len, 6);
    assert_string_equal(buf_str(&b), "abcdef");
    assert_int_equal(b.data[6], '\0');
    buf_free(&b);
}

static void binary_bytes_are_kept_including_nul(void **state) {
    struct buf b;
    buf_init(&b, 0);
    const char bytes[] = {'a', '\0', 'b'};
    assert_int_equal(buf_append(&b, bytes, 3), TEND_OK);
    assert_int_equal(b.len, 3);
    assert_memory_equal(b.data, bytes, 3);
    assert_int_equal(b.data[3], '\0');
    buf_free(&b);
}

static void append_up_to_the_cap_is_allowed(void **state) {
    struct buf b;
    buf_init(&b, 10);
    assert_int_equal(buf_puts(&b, "12345"), TEND_OK);
    assert_int_equal(buf_puts(&b, "67890"), TEND_OK);
    assert_int_equal(b.len, 10);
    assert_string_equal(buf_str(&b), "1234567890");
    buf_free(&b);
}

static void append_over_the_cap_fails_and_leaves_content_unchanged(void **state) {
    struct buf b;
    buf_init(&b, 10);
    assert_int_equal(buf_puts(&b, "1234567"), TEND_OK);
    assert_int_equal(buf_puts(&b, "abcd"), TEND_ERR_LIMIT);
    assert_int_equal(b.len, 7);
    assert_string_equal(buf_str(&b), "1234567");
    assert_int_equal(buf_putc(&b, 'x'), TEND_OK);
    assert_int_equal(buf_puts(&b, "yz"), TEND_OK);
    assert_int_equal(buf_putc(&b, '!'), TEND_ERR_LIMIT);
    assert_string_equal(buf_str(&b), "1234567xyz");
    buf_free(&b);
}

static void single_append_larger_than_the_cap_fails_on_an_empty_buf(void **state) {
    struct buf b;
    buf_init(&b, 4);
    assert_int_equal(buf_puts(&b, "hello"), TEND_ERR_LIMIT);
    assert_int_equal(b.len, 0);
    assert_string_equal(buf_str(&b), "");
    /* a huge n must not overflow the check */
    assert_int_equal(buf_append(&b, "x", SIZE_MAX), TEND_ERR_LIMIT);
    assert_int_equal(b.len, 0);
    buf_free(&b);
}

static void printf_over_the_cap_fails_and_leaves_content_unchanged(void **state) {
    struct buf b;
    buf_init(&b, 16);
    assert_int_equal(buf_printf(&b, "%s=%d", "abc", 42), TEND_OK);
    assert_int_equal(buf_printf(&b, "%s", "0123456789abc"), TEND_ERR_LIMIT);
    assert_int_equal(b.len, 6);
    assert_string_equal(buf_str(&b), "abc=42");
    assert_int_equal(buf_printf(&b, "%010d", 7), TEND_OK);
    assert_int_equal(b.len, 16);
    assert_string_equal(buf_str(&b), "abc=420000000007");
    buf_free(&b);
}

static void printf_grows_the_buffer_as_needed(void **state) {
    struct buf b;
    buf_init(&b, 0);
    size_t want_len = 0;
    for (int i = 0; i < 5000; i++) {
        assert_int_equal(buf_printf(&b, "%d,", i), TEND_OK);
        char tmp[16];
        want_len += (size_t)snprintf(tmp, sizeof tmp, "%d,", i);
    }
    assert_int_equal(b.len, want_len);
    assert_int_equal(strlen(b.data), want_len);
    assert_true(b.cap > b.len);
    assert_memory_equal(b.data, "0,1,2,3,", 8);
    assert_string_equal(b.data + want_len - 5, "4999,");
    /* one printf much bigger than the current allocation */
    char big[3000];
    memset(big, 'q', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    struct buf c;
    buf_init(&c, 0);
    assert_int_equal(buf_printf(&c, "<%s>", big), TEND_OK);
    assert_int_equal(c.len, sizeof big + 1);
    assert_int_equal(c.data[0], '<');
    assert_int_equal(c.data[c.len - 1], '>');
    assert_int_equal(c.data[c.len], '\0');
    buf_free(&c);
    buf_free(&b);
}

static void printf_of_empty_string_gives_empty_content(void **state) {
    struct buf b;
    buf_init(&b, 8);
    assert_int_equal(buf_printf(&b, "%s", ""), TEND_OK);
    assert_int_equal(b.len, 0);
    assert_string_equal(buf_str(&b), "");
    buf_free(&b);
}

static void reset_empties_and_keeps_the_cap(void **state) {
    struct buf b;
    buf_init(&b, 8);
    assert_int_equal(buf_puts(&b, "12345678"), TEND_OK);
    buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(buf_str(&b), "");
    assert_int_equal(buf_puts(&b, "abcdefgh"), TEND_OK);
    assert_int_equal(buf_putc(&b, 'i'), TEND_ERR_LIMIT);
    assert_string_equal(buf_str(&b), "abcdefgh");
    buf_free(&b);
}

static void steal_hands_over_the_content_and_empties_the_buf(void **state) {
    struct buf b;
    buf_init(&b, 100);
    assert_int_equal(buf_printf(&b, "hello %s", "world"), TEND_OK);
    char *s = buf_steal(&b);
    assert_string_equal(s, "hello world");
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_string_equal(buf_str(&b), "");
    /* the buffer is reusable, and does not share memory with the stolen string */
    assert_int_equal(buf_puts(&b, "again"), TEND_OK);
    assert_string_equal(buf_str(&b), "again");
    assert_string_equal(s, "hello world");
    free(s);
    buf_free(&b);
}

static void steal_of_an_empty_buf_returns_a_freeable_empty_string(void **state) {
    struct buf b;
    buf_init(&b, 0);
    char *s = buf_steal(&b);
    assert_non_null(s);
    assert_string_equal(s, "");
    free(s);
    buf_free(&b);
}

/* ---- lines ---------------------------------------------------------------- */

/* A temporary file holding the n bytes at data, positioned at its start. */
static FILE *file_of(const char *data, size_t n) {
    FILE *f = tmpfile();
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    rewind(f);
    return f;
}

/* Reads the next line and checks it is the one expected. */
static void expect_line(struct line_reader *r, const char *text, size_t len, bool too_long,
                        int64_t lineno) {
    const char *line = NULL;
    size_t n = 0;
    bool tl = !too_long;
    int64_t no = -1;
    assert_int_equal(lines_next(r, &line, &n, &tl, &no), TEND_OK);
    assert_non_null(line);
    assert_int_equal(tl, too_long);
    assert_int_equal(n, len);
    assert_int_equal(no, lineno);
    if (too_long) {
        assert_string_equal(line, "");
    } else {
        assert_int_equal(strlen(line), len);
        assert_memory_equal(line, text, len);
    }
}

static void expect_line_prefix(struct line_reader *r, char c, size_t len, int64_t lineno) {
    const char *line;
    size_t n;
    bool tl;
    int64_t no;
    assert_int_equal(lines_next(r, &line, &n, &tl, &no), TEND_OK);
    assert_false(tl);
    assert_int_equal(n, len);
    assert_int_equal(no, lineno);
    assert_int_equal(line[n], '\0');
    for (size_t i = 0; i < n; i++) {
        if (line[i] != c)
            fail_msg("line %lld byte %zu is 0x%02x", (long long)lineno, i, (unsigned char)line[i]);
    }
}

static void expect_end(struct line_reader *r) {
    const char *line;
    size_t n;
    bool tl;
    int64_t no;
    assert_int_equal(lines_next(r, &line, &n, &tl, &no), TEND_ERR_NOTFOUND);
    /* and it stays at the end */
    assert_int_equal(lines_next(r, &line, &n, &tl, &no), TEND_ERR_NOTFOUND);
}

static void lines_are_read_in_order_with_their_numbers(void **state) {
    const char data[] = "one\ntwo\nthree\n";
    FILE *f = file_of(data, sizeof data - 1);
    struct line_reader *r = lines_new(f, 100);
    expect_line(r, "one", 3, false, 1);
    expect_line(r, "two", 3, false, 2);
    expect_line(r, "three", 5, false, 3);
    expect_end(r);
    assert_int_equal(lines_offset(r), sizeof data - 1);
    lines_free(r);
    fclose(f);
}

static void crlf_line_endings_are_stripped(void **state) {
    const char data[] = "alpha\r\nbeta\r\n\r\ngamma\r\n";
    FILE *f = file_of(data, sizeof data - 1);
    struct line_reader *r = lines_new(f, 100);
    expect_line(r, "alpha", 5, false, 1);
    expect_line(r, "beta", 4, false, 2);
    expect_line(r, "", 0, false, 3);
    expect_line(r, "gamma", 5, false, 4);
    expect_end(r);
    lines_free(r);
    fclose(f);
}

static void carriage_return_inside_a_line_is_kept(void **state) {
    const char data[] = "a\rb\n\rc\n";
    FILE *f = file_of(data, sizeof data - 1);
    struct line_reader *r = lines_new(f, 100);
    expect_line(r, "a\rb", 3, false, 1);
    expect_line(r, "\rc", 2, false, 2);
    expect_end(r);
    lines_free(r);
    fclose(f);
}

static void last_line_without_newline_is_read(void **state) {
    const char data[] = "first\nlast";
    FILE *f = file_of(data, sizeof data - 1);
    struct line_reader *r = lines_new(f, 100);
    expect_line(r, "first", 5, false, 1);
    expect_line(r, "last", 4, false, 2);
    expect_end(r);
    assert_int_equal(lines_offset(r), sizeof data - 1);
    lines_free(r);
    fclose(f);
}

static void last_line_with_cr_but_no_newline_is_stripped(void **state) {
    const char data[] = "first\r\nlast\r";
    FILE *f = file_of(data, sizeof data - 1);
    struct line_reader *r = lines_new(f, 100);
    expect_line(r, "first", 5, false, 1);
    expect_line(r, "last", 4, false, 2);
    expect_end(r);
    lines_free(r);
    fclose(f);
}

static void empty_lines_are_reported_as_empty(void **state) {
    const char data[] = "\n\nx\n\n";
    FILE *f = file_of(data, sizeof data - 1);
    struct line_reader *r = lines_new(f, 100);
    expect_line(r, "", 0, false, 1);
    expect_line(r, "", 0, false, 2);
    expect_line(r, "x", 1, false, 3);
    expect_line(r, "", 0, false, 4);
    expect_end(r);
    lines_free(r);
    fclose(f);
}

static void empty_file_has_no_lines(void **state) {
    FILE *f = file_of("", 0);
    struct line_reader *r = lines_new(f, 100);
    expect_end(r);
    assert_int_equal(lines_offset(r), 0);
    lines_free(r);
    fclose(f);
    lines_free(NULL);
}

static void line_of_exactly_the_cap_is_kept(void **state) {
    const char data[] = "0123456789\n0123456789\r\nabc\n";
    FILE *f = file_of(data, sizeof data - 1);
    struct line_reader *r = lines_new(f, 10);
    expect_line(r, "0123456789", 10, false, 1);
    expect_line(r, "0123456789", 10, false, 2); /* the \r does not count */
    expect_line(r, "abc", 3, false, 3);
    expect_end(r);
    lines_free(r);
    fclose(f);
}

static void line_over_the_cap_is_too_long_and_the_next_line_is_read(void **state) {
    const char data[] = "short\n01234567890\nafter\n";
    FILE *f = file_of(data, sizeof data - 1);
    struct line_reader *r = lines_new(f, 10);
    expect_line(r, "short", 5, false, 1);
    expect_line(r, NULL, 11, true, 2);
    expect_line(r, "after", 5, false, 3);
    expect_end(r);
    assert_int_equal(lines_offset(r), sizeof data - 1);
    lines_free(r);
    fclose(f);
}

/* A line far longer than the reader's buffer is streamed past: its true length
 * is still reported and the line after it is intact. */
static void huge_line_is_skipped_with_its_true_length(void **state) {
    size_t huge = 3 * BLOCK + 12345;
    size_t n = 6 + huge + 1 + 6;
    char *data = malloc(n);
    memcpy(data, "first\n", 6);
    memset(data + 6, 'x', huge);
    data[6 + huge] = '\n';
    memcpy(data + 6 + huge + 1, "after\n", 6);
    FILE *f = file_of(data, n);
    struct line_reader *r = lines_new(f, 1000);
    expect_line(r, "first", 5, false, 1);
    expect_line(r, NULL, huge, true, 2);
    expect_line(r, "after", 5, false, 3);
    expect_end(r);
    assert_int_equal(lines_offset(r), n);
    lines_free(r);
    fclose(f);
    free(data);
}

static void huge_last_line_without_newline_is_too_long(void **state) {
    size_t huge = BLOCK + 77;
    size_t n = 3 + huge;
    char *data = malloc(n);
    memcpy(data, "ok\n", 3);
    memset(data + 3, 'y', huge);
    FILE *f = file_of(data, n);
    struct line_reader *r = lines_new(f, 64);
    expect_line(r, "ok", 2, false, 1);
    expect_line(r, NULL, huge, true, 2);
    expect_end(r);
    lines_free(r);
    fclose(f);
    free(data);
}

/* The length reported for a too-long line is the line's, without the \r of a
 * CRLF ending, whether the line was still in the buffer or streamed past. */
static void too_long_crlf_line_reports_its_length_without_the_cr(void **state) {
    const char small[] = "0123456789abc\r\nnext\r\n";
    FILE *f = file_of(small, sizeof small - 1);
    struct line_reader *r = lines_new(f, 10);
    expect_line(r, NULL, 13, true, 1);
    expect_line(r, "next", 4, false, 2);
    expect_end(r);
    lines_free(r);
    fclose(f);

    size_t huge = 2 * BLOCK + 3;
    size_t n = huge + 2 + 6;
    char *data = malloc(n);
    memset(data, 'h', huge);
    memcpy(data + huge, "\r\nnext\r\n", 8);
    f = file_of(data, n);
    r = lines_new(f, 10);
    expect_line(r, NULL, huge, true, 1);
    expect_line(r, "next", 4, false, 2);
    expect_end(r);
    lines_free(r);
    fclose(f);
    free(data);
}

static void consecutive_too_long_lines_are_each_reported(void **state) {
    size_t a = BLOCK + 5, b = 2 * BLOCK + 9;
    size_t n = a + 1 + b + 1 + 4;
    char *data = malloc(n);
    memset(data, 'a', a);
    data[a] = '\n';
    memset(data + a + 1, 'b', b);
    data[a + 1 + b] = '\n';
    memcpy(data + a + 1 + b + 1, "end\n", 4);
    FILE *f = file_of(data, n);
    struct line_reader *r = lines_new(f, 100);
    expect_line(r, NULL, a, true, 1);
    expect_line(r, NULL, b, true, 2);
    expect_line(r, "end", 3, false, 3);
    expect_end(r);
    lines_free(r);
    fclose(f);
    free(data);
}

/* Writes line i's text: its number and a filler whose length varies with i. */
static size_t make_line(char *out, int i) {
    int fill = (i * 37) % 300;
    int n = sprintf(out, "line %d:", i);
    for (int k = 0; k < fill; k++)
        out[n++] = (char)('a' + (i + k) % 26);
    out[n] = '\0';
    return (size_t)n;
}

/* About 4 blocks of lines of varying length: many lines straddle a block
 * boundary of the reader, and each must come back whole. */
static void lines_spanning_block_boundaries_are_read_whole(void **state) {
    enum { LINES = 7000 };
    size_t cap = (size_t)LINES * 320;
    char *data = malloc(cap);
    size_t n = 0;
    for (int i = 0; i < LINES; i++) {
        n += make_line(data + n, i);
        data[n++] = (i % 3 == 0) ? '\r' : '\n';
        if (i % 3 == 0)
            data[n++] = '\n';
    }
    assert_true(n > 3 * BLOCK);
    FILE *f = file_of(data, n);
    struct line_reader *r = lines_new(f, 512);
    char want[400];
    for (int i = 0; i < LINES; i++) {
        size_t len = make_line(want, i);
        expect_line(r, want, len, false, i + 1);
    }
    expect_end(r);
    assert_int_equal(lines_offset(r), n);
    lines_free(r);
    fclose(f);
    free(data);
}

/* A line that starts a few bytes before the first block ends and a CRLF split
 * exactly across the boundary. */
static void line_crossing_the_first_block_end_is_read_whole(void **state) {
    size_t first = BLOCK - 4; /* "…\n" then a line starting at BLOCK - 3 */
    size_t n = first + 1 + 12 + 2 + 3;
    char *data = malloc(n);
    memset(data, 'p', first);
    data[first] = '\n';
    memcpy(data + first + 1, "crossing-it!", 12);
    memcpy(data + first + 13, "\r\n", 2);
    memcpy(data + first + 15, "z\r\n", 3);
    FILE *f = file_of(data, n);
    struct line_reader *r = lines_new(f, BLOCK);
    expect_line_prefix(r, 'p', first, 1);
    expect_line(r, "crossing-it!", 12, false, 2);
    expect_line(r, "z", 1, false, 3);
    expect_end(r);
    lines_free(r);
    fclose(f);
    free(data);

    /* the \r the last byte of block one, the \n the first of block two */
    n = BLOCK + 4;
    data = malloc(n);
    memset(data, 'q', BLOCK - 1);
    data[BLOCK - 1] = '\r';
    memcpy(data + BLOCK, "\nab\n", 4);
    f = file_of(data, n);
    r = lines_new(f, BLOCK);
    expect_line_prefix(r, 'q', BLOCK - 1, 1);
    expect_line(r, "ab", 2, false, 2);
    expect_end(r);
    lines_free(r);
    fclose(f);
    free(data);
}

/* With a cap above the block size, a long kept line needs several reads. */
static void line_longer_than_a_block_but_within_the_cap_is_kept(void **state) {
    size_t len = BLOCK + BLOCK / 2;
    size_t n = len + 1 + 2;
    char *data = malloc(n);
    memset(data, 'k', len);
    data[len] = '\n';
    memcpy(data + len + 1, "w\n", 2);
    FILE *f = file_of(data, n);
    struct line_reader *r = lines_new(f, 2 * BLOCK);
    expect_line_prefix(r, 'k', len, 1);
    expect_line(r, "w", 1, false, 2);
    expect_end(r);
    lines_free(r);
    fclose(f);
    free(data);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(new_buf_is_empty_and_allocates_nothing),
        cmocka_unit_test(appends_concatenate_and_stay_nul_terminated),
        cmocka_unit_test(binary_bytes_are_kept_including_nul),
        cmocka_unit_test(append_up_to_the_cap_is_allowed),
        cmocka_unit_test(append_over_the_cap_fails_and_leaves_content_unchanged),
        cmocka_unit_test(single_append_larger_than_the_cap_fails_on_an_empty_buf),
        cmocka_unit_test(printf_over_the_cap_fails_and_leaves_content_unchanged),
        cmocka_unit_test(printf_grows_the_buffer_as_needed),
        cmocka_unit_test(printf_of_empty_string_gives_empty_content),
        cmocka_unit_test(reset_empties_and_keeps_the_cap),
        cmocka_unit_test(steal_hands_over_the_content_and_empties_the_buf),
        cmocka_unit_test(steal_of_an_empty_buf_returns_a_freeable_empty_string),
        cmocka_unit_test(lines_are_read_in_order_with_their_numbers),
        cmocka_unit_test(crlf_line_endings_are_stripped),
        cmocka_unit_test(carriage_return_inside_a_line_is_kept),
        cmocka_unit_test(last_line_without_newline_is_read),
        cmocka_unit_test(last_line_with_cr_but_no_newline_is_stripped),
        cmocka_unit_test(empty_lines_are_reported_as_empty),
        cmocka_unit_test(empty_file_has_no_lines),
        cmocka_unit_test(line_of_exactly_the_cap_is_kept),
        cmocka_unit_test(line_over_the_cap_is_too_long_and_the_next_line_is_read),
        cmocka_unit_test(huge_line_is_skipped_with_its_true_length),
        cmocka_unit_test(huge_last_line_without_newline_is_too_long),
        cmocka_unit_test(too_long_crlf_line_reports_its_length_without_the_cr),
        cmocka_unit_test(consecutive_too_long_lines_are_each_reported),
        cmocka_unit_test(lines_spanning_block_boundaries_are_read_whole),
        cmocka_unit_test(line_crossing_the_first_block_end_is_read_whole),
        cmocka_unit_test(line_longer_than_a_block_but_within_the_cap_is_kept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
