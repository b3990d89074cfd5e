/* err.h: the one error enum of tend.
 *
 * Every fallible function returns an enum tend_err (TEND_OK is 0) and writes its
 * results through out-parameters, which it leaves untouched on error. Library and
 * database error codes never cross a module boundary: each module maps its own to
 * these. The HTTP layer maps these to status codes in one table (server/status.c),
 * noted here beside each error. */
#ifndef TEND_UTIL_ERR_H
#define TEND_UTIL_ERR_H

enum tend_err {
    TEND_OK = 0,
    TEND_ERR_INVALID,  /* input that breaks a rule: bad JSON, wrong type, bad value (400) */
    TEND_ERR_LIMIT,    /* input over a published limit (size, count) (413) */
    TEND_ERR_NOTFOUND, /* the thing asked for does not exist (404) */
    TEND_ERR_IO,       /* a file or socket operation failed (503) */
    TEND_ERR_DB,       /* the store failed (disk full, corrupt, locked too long) (503) */
    TEND_ERR_USAGE,    /* a command line or configuration mistake; a bad parameter (400) */
    TEND_ERR_AUTH,     /* missing or wrong credentials (401) */
    TEND_ERR_CONFLICT, /* valid, but the current state refuses it: a closed CTA (409) */
    TEND_ERR_BUSY,     /* over a capacity for now (memory, queue): try again later (503) */
};

/* A short, static English description of err; never NULL. */
const char *tend_strerror(enum tend_err err);

#endif
