/* version.h: the version of the running tend, for the pages and /metrics.
 *
 * Only main.o is compiled with the version string (the Makefile's VERSION
 * and what git describe said of the tree, so a commit rebuilds one object,
 * not the library); main() hands it over here at start, and the server reads
 * it back. Unit tests, which have no main.o, read "unknown". */
#ifndef TEND_UTIL_VERSION_H
#define TEND_UTIL_VERSION_H

/* Records the version (a string that lives for the process). */
void tend_version_set(const char *version);
/* "0.1.0 (v0.1.0-12-gabc1234)", or "unknown" before tend_version_set. */
const char *tend_version(void);

#endif
