/* mem.h: allocation that aborts on failure.
 *
 * tend is a service: like Redis, it treats an allocation failure as fatal
 * instead of threading ENOMEM through every caller. What keeps memory bounded is
 * that every size coming from input is capped before anything is allocated for
 * it (see the limits in ingest/segment.h). */
#ifndef TEND_UTIL_MEM_H
#define TEND_UTIL_MEM_H

#include <stddef.h>
#include <stdlib.h> /* free() goes with these */

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
/* Returns a malloced copy of s (which must not be NULL). */
char *xstrdup(const char *s);
/* Returns a malloced, NUL-terminated copy of the n bytes at s. */
char *xstrndup(const char *s, size_t n);
/* Bytes the calling thread has asked of the functions above since it
 * started (xrealloc counts the new size): what an operation allocates, for
 * tests that check memory follows the work, not the data stored. */
unsigned long long mem_thread_allocated(void);

#endif
