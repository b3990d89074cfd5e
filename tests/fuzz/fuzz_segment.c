/* fuzz_segment.c: libFuzzer harness for Segment message validation.
 *
 * Feeds arbitrary bytes through what a JSONL line or an HTTP body goes
 * through: cJSON, then segment_parse_msg() for the message or for every item
 * of a batch. Any crash, sanitizer report or leak is a bug. Build and run with
 * `make fuzz` (clang with -fsanitize=fuzzer). */
#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ingest/segment.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > SEG_MAX_REQUEST_BYTES)
        return 0;
    cJSON *root = cJSON_ParseWithLength((const char *)data, size);
    if (!root)
        return 0;
    struct seg_msg m;
    char err[SEG_ERR_BYTES];
    cJSON *batch = cJSON_GetObjectItemCaseSensitive(root, "batch");
    if (cJSON_IsArray(batch)) {
        const cJSON *context = cJSON_GetObjectItemCaseSensitive(root, "context");
        cJSON *item;
        cJSON_ArrayForEach(item, batch) {
            segment_parse_msg(item, context, 0, NULL, 0, &m, err);
        }
    } else {
        segment_parse_msg(root, NULL, 0, (const char *)data, size, &m, err);
    }
    cJSON_Delete(root);
    return 0;
}
