#!/usr/bin/env bash
# tend analyze process against an independent computation (issue 20, part 3;
# docs/analysis.md "Process"). process_check.py plays a team of four owners
# over ten weeks: 160 accounts whose no_login CTAs open on spread days, each
# day some open CTAs get a note (call, email or a plain note), a snooze or a
# close by their owner, some accounts a note of their own, plus Outreach
# Sent events from another tool; one owner stops acting in the last three
# weeks. Then every cell of every row of `tend analyze process --format json`
# (team and owners, each week: CTAs opened, acted on, days to the first
# action, closes by reason, overdue, contacts, coverage, and the p-chart and
# XmR limits and signals) must equal the Python computation over the same
# tables (accounts, ctas, cta_history, notes, events).
. "$(dirname "$0")/lib.sh"

DB="$(db p)"
CHK="$ROOT/tests/integration/process_check.py"
cat >"$T/tend.yaml" <<EOF0
rules:
  health_drop: false
  outreach_unresponsive: false
  budget: {per_owner_per_week: 0}
ctas:
  expire_after_days: 5
EOF0
$PY "$CHK" drive "$DB" "$T/tend.yaml" "$TEND" "$T/events.jsonl"
"$TEND" import --db "$DB" "$T/events.jsonl" >/dev/null 2>"$T/import.err" ||
    not_ok "import" "$(cat "$T/import.err")"
t0=$(date +%s)
if $PY "$CHK" drive2 "$DB" "$T/tend.yaml" "$TEND" >"$T/drive.out" 2>&1; then
    ok "ten weeks of evaluations and the owners' actions through tend cta and tend notes ($(($(date +%s) - t0)) s)"
else
    not_ok "the owners' weeks" "$(tail -5 "$T/drive.out")"
fi
"$TEND" analyze process --db "$DB" --from 2026-01-05 --to 2026-03-15 --format json \
    >"$T/process.json" 2>"$T/process.err" || not_ok "tend analyze process runs" "$(cat "$T/process.err")"
$PY "$CHK" check "$DB" "$T/process.json" >"$T/check.json" 2>&1 ||
    not_ok "the Python check runs" "$(tail -5 "$T/check.json")"
got=$($PY -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["problems"])' "$T/check.json")
figures=$($PY -c 'import json,sys; d=json.load(open(sys.argv[1])); print("%d rows, %d cells; signals: %s" % (d["rows"], d["cells"], ", ".join(d["signals"]) or "none"))' "$T/check.json")
expect_eq "every cell of tend analyze process equals the Python computation ($figures)" "[]" "$got"
sig=$($PY -c 'import json,sys; d=json.load(open(sys.argv[1])); print(any(s.startswith("csm3@x.io") and s.split()[1] >= "2026-02-23" for s in d["signals"]))' "$T/check.json")
expect_eq "csm3's last three weeks without action stand out of the control limits" "True" "$sig"
# The check itself notices a wrong cell.
$PY - "$T/process.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["rows"][3]["acted"] += 1
json.dump(d, open(sys.argv[1] + ".bad", "w"))
PY
bad=$($PY "$CHK" check "$DB" "$T/process.json.bad" | $PY -c 'import json,sys; print(len(json.load(sys.stdin)["problems"]))')
expect_eq "the check notices one changed cell" 1 "$bad"
out=$("$TEND" analyze process --db "$DB" --from 2026-01-05 --to 2026-03-15)
expect_contains "the table marks the weeks outside the limits" "outside its control limits" "$out"
expect_contains "and shows the team" "(team)" "$out"
csv=$("$TEND" analyze process --db "$DB" --owner csm0@x.io --format csv)
n=$(printf '%s\n' "$csv" | tail -n +2 | cut -d, -f1 | sort -u | tr '\n' ' ')
expect_eq "--owner keeps the team's rows and the owner's" "(team) csm0@x.io " "$n"
out=$("$TEND" analyze process --db "$DB" --from 2026-03-01 --to 2026-01-01 2>&1)
expect_contains "a backwards range is refused" "--from must be on or before --to" "$out"
