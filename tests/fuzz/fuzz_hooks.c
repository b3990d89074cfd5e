/* fuzz_hooks.c: libFuzzer harness for the connectors' webhook payloads
 * (ingest/hooks_map.h), what a verified body goes through in tend serve and
 * a kept event through the inbox worker.
 *
 * The first byte chooses the provider (Stripe, Zendesk, HubSpot); the rest
 * is the body: hook_split, then hook_map of every event with a mapping
 * table that knows every id (so the deepest paths run), and every message
 * validated as ingest validates one. Invariants besides no sanitizer report:
 * a status is one of done, unmapped, ignored, failed; messages and traits
 * only with done; every message names its account and has a messageId
 * derived from the provider's event id. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "fuzz.h"
#include "ingest/hooks_map.h"
#include "ingest/segment.h"

static enum tend_err everyone(void *arg, enum hook_provider p, const char *id,
                              char account[HOOK_ID_BYTES], bool *found) {
    (void)arg, (void)p;
    snprintf(account, HOOK_ID_BYTES, "acct-%.64s", id);
    *found = true;
    return TEND_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > 256 * 1024)
        return 0;
    enum hook_provider p = (enum hook_provider)(data[0] % HOOK_PROVIDERS);
    struct connectors_config cc;
    connectors_config_default(&cc);
    struct hook_owner owner = {"31337", "csm@vendor.test"};
    cc.p[HOOK_HUBSPOT].owners = &owner;
    cc.p[HOOK_HUBSPOT].n_owners = 1;
    struct hook_split_event *ev;
    size_t n;
    char err[HOOK_DETAIL_BYTES];
    if (hook_split(p, (const char *)data + 1, size - 1, &ev, &n, err))
        return 0;
    if (n < 1 || n > HOOK_MAX_EVENTS)
        fuzz_fail("hook_split: %zu events", n);
    struct hook_lookup look = {everyone, NULL};
    for (size_t i = 0; i < n; i++) {
        if (!ev[i].event_id[0] || strlen(ev[i].event_id) >= HOOK_ID_BYTES)
            fuzz_fail("hook_split: event id of %zu bytes", strlen(ev[i].event_id));
        struct hook_result r;
        if (hook_map(p, &cc.p[p], ev[i].payload, &look, &r))
            fuzz_fail("hook_map failed with a look-up that cannot fail");
        bool done = strcmp(r.status, "done") == 0;
        if (!done && strcmp(r.status, "unmapped") && strcmp(r.status, "ignored") &&
            strcmp(r.status, "failed"))
            fuzz_fail("status %s", r.status);
        if (!done && (r.messages || r.traits))
            fuzz_fail("%s with messages or traits", r.status);
        cJSON *m;
        cJSON_ArrayForEach(m, r.messages) {
            const cJSON *ctx = cJSON_GetObjectItemCaseSensitive(m, "context");
            const cJSON *g = cJSON_GetObjectItemCaseSensitive(ctx, "groupId");
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(m, "messageId");
            if (!cJSON_IsString(g) || !g->valuestring[0] || !cJSON_IsString(id) ||
                strncmp(id->valuestring, hook_provider_name(p), strlen(hook_provider_name(p))))
                fuzz_fail("a message without its account or derived messageId");
            struct seg_msg msg;
            char serr[SEG_ERR_BYTES];
            segment_parse_msg(m, NULL, r.ts_ms, NULL, 0, &msg, serr);
        }
        hook_result_free(&r);
    }
    hook_split_free(ev, n);
    return 0;
}
