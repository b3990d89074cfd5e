/* fuzz.h: what the libFuzzer harnesses of tests/fuzz/ share.
 *
 * Each harness is one file, fuzz_NAME.c, defining LLVMFuzzerTestOneInput
 * (and, where it needs one-time setup, LLVMFuzzerInitialize); `make fuzz`
 * builds them against the project's objects compiled with clang and
 * -fsanitize=fuzzer-no-link,address,undefined (docs/development.md,
 * "Fuzzing"). A sanitizer report, a crash or a failed invariant (fuzz_fail)
 * is a finding: libFuzzer writes the input as crash-* and stops.
 *
 * tests/fuzz/run starts the harnesses with -close_fd_mask=3, so what tend
 * prints on stdout and stderr (rejections, usage errors) does not drown
 * libFuzzer's status; libFuzzer and the sanitizers write to a copy of
 * stderr, and so does fuzz_fail. */
#ifndef TEND_FUZZ_H
#define TEND_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

/* The marker the output checks look for: data carrying it must never come
 * out of an HTML or Slack renderer unescaped. No renderer writes it itself. */
#define FUZZ_MARKER "<x>"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Reports a broken invariant (printf-style, with the input's context) where
 * the sanitizers report, then aborts: libFuzzer keeps the input. */
void fuzz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* A private directory for the process's files, made once: under
 * $FUZZ_TMPDIR, else /dev/shm (SQLite's fsync costs nothing there), else
 * $TMPDIR or /tmp; removed at exit. Returns "DIR/name" in a static buffer
 * that the next call overwrites. */
const char *fuzz_path(const char *name);
/* Writes len bytes to path (replacing it); aborts on an I/O error. */
void fuzz_write_file(const char *path, const void *data, size_t len);

/* The input as a NUL-terminated string (malloced; embedded NULs kept). */
char *fuzz_strndup(const uint8_t *data, size_t size);
/* Splits data at the first NUL byte: *a (malloced, up to it), *b (malloced,
 * after it; "" when there is none). Returns whether there was one. */
bool fuzz_split(const uint8_t *data, size_t size, char **a, char **b);

/* Whether the len bytes at s are valid UTF-8 (no overlongs, surrogates or
 * code points past U+10FFFF). */
bool fuzz_utf8_valid(const char *s, size_t len);
/* The number of code points of a valid UTF-8 string. */
size_t fuzz_utf8_chars(const char *s);

/* s with each occurrence of from replaced by to (malloced). */
char *fuzz_replace(const char *s, const char *from, const char *to);

/* s followed by suffix (malloced). */
char *fuzz_concat(const char *s, const char *suffix);

/* Whether every string and member name of the tree j (and its siblings)
 * is valid UTF-8. */
bool fuzz_json_utf8(const cJSON *j);

/* How a renderer harness makes a view hostile: suffix is appended to every
 * string value but those of the members named in words (values the
 * renderers branch on, left alone so the same branches are reached), and to
 * the member names inside the objects named in maps (maps of data such as
 * traits or evidence, whose names are shown). */
struct fuzz_hostile {
    const char *suffix;
    const char *const *words;
    size_t n_words;
    const char *const *maps;
    size_t n_maps;
};
/* Applies h to j and its siblings, recursively; names: whether j's own
 * member names get the suffix (true inside a map). */
void fuzz_json_hostile(cJSON *j, const struct fuzz_hostile *h, bool names);

#endif
