/* version.c: the running tend's version (see version.h). */
#include "util/version.h"

static const char *current = "unknown";

void tend_version_set(const char *version) {
    if (version && version[0])
        current = version;
}

const char *tend_version(void) {
    return current;
}
