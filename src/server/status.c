/* status.c: the one table from tend errors to HTTP status codes (see status.h). */
#include "server/status.h"

unsigned http_status_of(enum tend_err err) {
    switch (err) {
    case TEND_OK:
        return 200;
    case TEND_ERR_INVALID:
    case TEND_ERR_USAGE:
        return 400;
    case TEND_ERR_AUTH:
        return 401;
    case TEND_ERR_NOTFOUND:
        return 404;
    case TEND_ERR_CONFLICT:
        return 409;
    case TEND_ERR_LIMIT:
        return 413;
    case TEND_ERR_IO:
    case TEND_ERR_DB:
    case TEND_ERR_BUSY:
        return 503;
    }
    return 500;
}
