/* mem.c: aborting allocators (see mem.h). */
#include "util/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What this thread asked of the allocators (mem_thread_allocated). */
static _Thread_local unsigned long long thread_allocated;

unsigned long long mem_thread_allocated(void) {
    return thread_allocated;
}

static void out_of_memory(size_t n) {
    fprintf(stderr, "tend: out of memory allocating %zu bytes\n", n);
    abort();
}

void *xmalloc(size_t n) {
    thread_allocated += n;
    void *p = malloc(n ? n : 1);
    if (!p)
        out_of_memory(n);
    return p;
}

void *xcalloc(size_t count, size_t size) {
    thread_allocated += (unsigned long long)count * size;
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p)
        out_of_memory(count * size);
    return p;
}

void *xrealloc(void *p, size_t n) {
    thread_allocated += n;
    void *q = realloc(p, n ? n : 1);
    if (!q)
        out_of_memory(n);
    return q;
}

char *xstrdup(const char *s) {
    return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n) {
    char *p = xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}
