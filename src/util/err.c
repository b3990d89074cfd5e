/* err.c: descriptions of enum tend_err. */
#include "util/err.h"

const char *tend_strerror(enum tend_err err) {
    switch (err) {
    case TEND_OK:
        return "ok";
    case TEND_ERR_INVALID:
        return "invalid input";
    case TEND_ERR_LIMIT:
        return "over a limit";
    case TEND_ERR_NOTFOUND:
        return "not found";
    case TEND_ERR_IO:
        return "input/output error";
    case TEND_ERR_DB:
        return "database error";
    case TEND_ERR_USAGE:
        return "usage error";
    case TEND_ERR_AUTH:
        return "not authorised";
    case TEND_ERR_CONFLICT:
        return "refused by the current state";
    case TEND_ERR_BUSY:
        return "busy, try again later";
    }
    return "unknown error";
}
