/* keyfile.c: a secret key file made once, whole (see keyfile.h). */
#include "util/keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Makes path from a fresh temporary file (path.tmp.XXXXXX) holding len random
 * bytes. Losing the race (EEXIST) is success: the winner's file is whole. */
static enum tend_err make(const char *path, size_t len, char *err, size_t err_len) {
    char tmp[4200];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path) >= (int)sizeof tmp) {
        snprintf(err, err_len, "%s: the path is too long", path);
        return TEND_ERR_IO;
    }
    int fd = mkostemp(tmp, O_CLOEXEC); /* mode 0600 */
    if (fd < 0) {
        snprintf(err, err_len, "%s: cannot make the session key: %s", path, strerror(errno));
        return TEND_ERR_IO;
    }
    unsigned char fresh[64];
    bool ok = len <= sizeof fresh;
    if (ok) {
        randombytes_buf(fresh, len);
        ok = write(fd, fresh, len) == (ssize_t)len && fsync(fd) == 0;
        sodium_memzero(fresh, sizeof fresh);
    }
    int saved = errno;
    close(fd);
    if (ok && link(tmp, path) != 0 && errno != EEXIST) {
        saved = errno;
        ok = false;
    }
    unlink(tmp);
    if (!ok) {
        snprintf(err, err_len, "%s: cannot write the session key: %s", path, strerror(saved));
        return TEND_ERR_IO;
    }
    return TEND_OK;
}

enum tend_err keyfile_load(const char *path, unsigned char *key, size_t len, char *err,
                           size_t err_len) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        enum tend_err e = make(path, len, err, err_len);
        if (e)
            return e;
        fd = open(path, O_RDONLY | O_CLOEXEC); /* ours, or the winner's */
    }
    if (fd < 0) {
        snprintf(err, err_len, "%s: cannot open the session key: %s", path, strerror(errno));
        return TEND_ERR_IO;
    }
    ssize_t n = read(fd, key, len);
    close(fd);
    if (n != (ssize_t)len) {
        sodium_memzero(key, len);
        snprintf(err, err_len,
                 "%s: the session key must be %zu bytes (delete it to make a new one)", path, len);
        return TEND_ERR_IO;
    }
    return TEND_OK;
}
