/* err.h: the one error enum of tend.
 *
 * Every fallible function returns an enum tend_err (TEND_OK is 0) and writes its
 * results through out-parameters, which it leaves untouched on error. Library and
 * database error codes never cross a module boundary: each module maps its own to
 * these. The HTTP layer maps these to status codes in one table (server/http.c). */
#ifndef TEND_UTIL_ERR_H
#define TEND_UTIL_ERR_H

enum tend_err {
    TEND_OK = 0,
    TEND_ERR_INVALID,  /* input that breaks a rule: bad JSON, wrong type, bad value */
    TEND_ERR_LIMIT,    /* input over a published limit (size, count) */
    TEND_ERR_NOTFOUND, /* the thing asked for does not exist */
    TEND_ERR_IO,       /* a file or socket operation failed */
    TEND_ERR_DB,       /* the store failed (disk full, corrupt, locked too long) */
    TEND_ERR_USAGE,    /* a command line or configuration mistake */
    TEND_ERR_AUTH,     /* missing or wrong credentials */
};

/* A short, static English description of err; never NULL. */
const char *tend_strerror(enum tend_err err);

#endif
