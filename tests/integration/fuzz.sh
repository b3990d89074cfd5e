#!/usr/bin/env bash
# A short libFuzzer run of the Segment validator (tests/fuzz/fuzz_segment.c)
# under ASan+UBSan: no input may crash it. `make fuzz` runs it longer.
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
if ! make -s build/fuzz/fuzz_segment >"$T/build.log" 2>&1; then
    not_ok "the Segment fuzz harness builds" "$(tail -5 "$T/build.log")"
    exit 0
fi
ok "the Segment fuzz harness builds"
mkdir -p "$T/corpus"
cp tests/fuzz/corpus/* "$T/corpus/"
if build/fuzz/fuzz_segment -max_total_time=15 -max_len=4096 -artifact_prefix="$T/" \
    "$T/corpus" >"$T/fuzz.log" 2>&1; then
    ok "15 s of fuzzing finds no crash ($(grep -o 'Done [0-9]* runs' "$T/fuzz.log"))"
else
    cp "$T"/crash-* "$TEND_TEST_ARTIFACTS/" 2>/dev/null
    not_ok "15 s of fuzzing finds no crash" "$(grep -A5 ERROR "$T/fuzz.log" | head -20)"
fi
