/* status.h: the one table from tend errors to HTTP status codes.
 *
 * Every handler of tend serve (ingest in http.c, the REST API and pages in
 * web.c) answers an enum tend_err with the status this table gives, so the
 * same error is the same status on every endpoint (docs/api.md):
 *   TEND_OK 200; INVALID, USAGE 400; AUTH 401; NOTFOUND 404; CONFLICT 409;
 *   LIMIT 413; IO, DB, BUSY 503 (with Retry-After). */
#ifndef TEND_SERVER_STATUS_H
#define TEND_SERVER_STATUS_H

#include "util/err.h"

/* The HTTP status code for err. */
unsigned http_status_of(enum tend_err err);

/* Seconds a 503 asks the client to wait (Retry-After). */
#define HTTP_RETRY_AFTER_S "5"

#endif
