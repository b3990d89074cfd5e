/* fuzz_config.c: tend.yaml with every section's loader.
 *
 * The input is a whole tend.yaml. It goes through what tend serve and every
 * other command do with --config (cli/config.h: cli_load_config): libyaml
 * into a tree (util/yaml.h), the check of the top-level sections, then
 * health:, rules: and ctas: (with the custom Lua rules compiled), delivery:,
 * channels: and routes:, and serve:; then what tend serve checks before it
 * delivers (notify_config_ready). The *_env settings find
 * TEND_FUZZ_SECRET and TEND_FUZZ_SHORT set. Invariants: no sanitizer report
 * (leaks included: a refused file must free what its loaders allocated),
 * and a bounded run: libFuzzer's -rss_limit_mb and -timeout turn a YAML
 * that costs unbounded memory or time (an alias bomb, deep nesting) into a
 * finding. */
#include <stdlib.h>

#include "cli/config.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    setenv("TEND_FUZZ_SECRET", "fuzz-secret-value-of-at-least-32-characters", 1);
    setenv("TEND_FUZZ_SHORT", "x", 1);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 1024 * 1024) /* room for the deep-nesting input of tests/fuzz/crashes */
        return 0;
    const char *path = fuzz_path("tend.yaml");
    fuzz_write_file(path, data, size);
    static struct tend_config tc;
    if (cli_load_config("fuzz", path, &tc) == 0) {
        char err[NOTIFY_ERR_BYTES];
        notify_config_ready(&tc.notify, err);
        cli_free_config(&tc);
    }
    return 0;
}
