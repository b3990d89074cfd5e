/* prescan.h: a look at a JSON request body without building it.
 *
 * Before tend parses an ingest body into a tree (cJSON spends ~64 bytes per
 * value, so a 500 KB body of `0,0,0,...` becomes 16 MiB), it wants two answers
 * that must not cost that: the body's "writeKey" (a client without a key must
 * not make the server build anything) and how many messages "batch" holds (a
 * batch over the limit is refused before it is parsed). prescan_body walks
 * the top-level object once, in O(n) time and O(1) memory, skipping every
 * value but those two.
 *
 * It does not validate: cJSON does that later and names the position of an
 * error. prescan only says whether it could read the top level as an object.
 * Keys are compared after decoding their escapes, as cJSON does
 * ("b\u0061tch" is "batch"), up to a decoded NUL, as cJSON's C strings are;
 * the first occurrence of a key counts, as with cJSON_GetObjectItem. The
 * caller checks again on the tree after parsing, so a disagreement could only
 * refuse a request, never let one through. Pure: no I/O, no allocation. */
#ifndef TEND_SERVER_PRESCAN_H
#define TEND_SERVER_PRESCAN_H

#include <stdbool.h>
#include <stddef.h>

struct prescan {
    bool object;           /* the top level reads as an object */
    const char *write_key; /* "writeKey"'s value token in the body (quotes included), or NULL */
    size_t write_key_len;
    bool batch_array;   /* "batch" is there and is an array */
    size_t batch_items; /* its elements */
};

/* Scans the len bytes at s (not necessarily NUL-terminated). Fills *out;
 * on a body it cannot read, out->object is false and nothing else is set. */
void prescan_body(const char *s, size_t len, struct prescan *out);

/* Decodes the JSON string token at tok (len bytes, quotes included) into out
 * (size bytes, NUL-terminated), stopping at a decoded NUL as a C string
 * would. False when tok is not one well-formed string token or its text does
 * not fit. */
bool prescan_string(const char *tok, size_t len, char *out, size_t size);

#endif
