#!/usr/bin/env bash
# A smoke run of every libFuzzer harness of tests/fuzz/ (one per parser:
# docs/development.md, "Fuzzing"), in the asan run only (MODE=asan): each
# harness runs FUZZ_SMOKE_SECONDS (5) on its committed seeds and past
# findings (tests/fuzz/crashes/NAME, run first as regression inputs), under
# ASan and UBSan. No input may crash it or break its invariants. `make fuzz`
# runs them longer.
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
if [ "${MODE:-release}" != asan ]; then
    ok "the fuzz harnesses run in the asan run only (MODE=asan), skipped in MODE=$MODE"
    exit 0
fi
seconds=${FUZZ_SMOKE_SECONDS:-5}
start=$(date +%s)
if ! make -s -j2 fuzz-build >"$T/build.log" 2>&1; then
    not_ok "the fuzz harnesses build (clang, -fsanitize=fuzzer)" "$(grep -v '^  ' "$T/build.log" | tail -10)"
    exit 0
fi
ok "the fuzz harnesses build (clang, -fsanitize=fuzzer) in $(($(date +%s) - start)) s"
for src in tests/fuzz/fuzz_*.c; do
    name=$(basename "$src" .c)
    name=${name#fuzz_}
    out=$(tests/fuzz/run "$name" "$seconds" 2>&1)
    if [ $? -eq 0 ]; then
        ok "fuzz_$name: $seconds s find nothing (${out#*clean: })"
    else
        mkdir -p "$TEND_TEST_ARTIFACTS/fuzz"
        cp "build/fuzz/findings/$name"/* "build/fuzz/$name.log" "$TEND_TEST_ARTIFACTS/fuzz/" 2>/dev/null
        not_ok "fuzz_$name: $seconds s find nothing" "$(echo "$out" | grep -v '^    #' | head -25)"
    fi
done
