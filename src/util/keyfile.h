/* keyfile.h: a secret key kept in a file beside the database (DB.session-key).
 *
 * Sessions (server/auth.c) and unsubscribe links (notify/unsub.c) both start
 * from this one file; this is the only code that makes or reads it. The
 * first process to need it makes it whole, then publishes it: the random
 * bytes go to a private temporary file, synced, then linked to the name
 * (link fails if the name exists, so exactly one file ever wins). A process
 * never sees the name with fewer bytes than the key, so several processes
 * starting at once on a new database (tend serve, tend eval) all read the
 * same key; before, a reader could open the winner's file between its
 * creation and its write and fail with "must be 32 bytes". */
#ifndef TEND_UTIL_KEYFILE_H
#define TEND_UTIL_KEYFILE_H

#include <stddef.h>

#include "util/err.h"

/* Reads the len-byte key (len <= 64) at path into key, making it (mode 0600)
 * if the file does not exist. A shorter file is refused (TEND_ERR_IO; err, of
 * err_len bytes, names the file and the fix). */
enum tend_err keyfile_load(const char *path, unsigned char *key, size_t len, char *err,
                           size_t err_len);

#endif
