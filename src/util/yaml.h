/* yaml.h: reading tend's YAML configuration as a JSON tree.
 *
 * tend.yaml is parsed with libyaml and turned into a cJSON tree (mappings
 * become objects, sequences arrays; plain scalars that read as numbers,
 * true/false or null become those, everything else and every quoted scalar a
 * string), so each part of tend validates its section of the configuration
 * the same way it validates JSON input. Aliases (*name) are refused, as is
 * nesting deeper than YAML_MAX_DEPTH and a file over YAML_MAX_FILE_BYTES:
 * tend.yaml has no use for them, and each let a small file take gigabytes or
 * minutes (yaml.c). Only the first document of a stream is read. */
#ifndef TEND_UTIL_YAML_H
#define TEND_UTIL_YAML_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "util/err.h"

#define YAML_ERR_BYTES      256
#define YAML_MAX_DEPTH      64        /* nested lists and mappings */
#define YAML_MAX_FILE_BYTES (1 << 20) /* 1 MiB */

/* Parses the YAML file at path into *out (a cJSON tree the caller deletes;
 * an empty file gives an empty object). On failure returns TEND_ERR_IO (cannot
 * read) or TEND_ERR_INVALID with "PATH:LINE:COLUMN: problem" in err (a
 * syntax error, an alias, nesting past YAML_MAX_DEPTH, a collection as a
 * mapping key), or "PATH: larger than the limit of 1024 KiB". Memory and time
 * are linear in the file's size. */
enum tend_err yaml_load_file(const char *path, cJSON **out, char *err);
/* The same for YAML text in memory; name is used in error messages. */
enum tend_err yaml_load_string(const char *text, size_t len, const char *name, cJSON **out,
                               char *err);

/* For the sections' loaders: writes "PATH: message" into err (size bytes)
 * and returns TEND_ERR_INVALID. */
enum tend_err yaml_error(char *err, size_t size, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The error above, "PATH: unknown setting \"KEY\"", for the first key of
 * mapping o not in known (NULL-terminated); TEND_OK when all are known. */
enum tend_err yaml_known_keys(const cJSON *o, const char *path, const char *const *known, char *err,
                              size_t size);
/* Reads a finite number from lo to hi into *out; otherwise the error above,
 * "PATH: must be a number from LO to HI". */
enum tend_err yaml_number(const cJSON *v, const char *path, double lo, double hi, double *out,
                          char *err, size_t size);

#endif
