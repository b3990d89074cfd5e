#!/usr/bin/env bash
# SPEC 5 rules and CTAs (issue 4 must show 1 and 2), data-driven: every
# built-in rule firing, just not firing at each threshold edge, and
# auto-resolving; the CTA life cycle (no duplicates, snooze, cooldown, reopen,
# escalation), custom Lua rules and configuration errors. The cases are data
# in tests/integration/rules_cases.py (format in its docstring); this script
# runs them and then replays the examples as a smoke test.
. "$(dirname "$0")/lib.sh"

timeout 900 $PY "$ROOT/tests/integration/rules_cases.py" "$TEND" "$T" || not_ok "rules_cases.py ran to the end" "exit $?"

# The examples replayed day by day: at most one live CTA per key, the same
# CTAs from a replay from scratch, and the listing's filters agree.
DB="$T/ex.db"
"$TEND" import --db "$DB" --accounts "$ROOT/examples/accounts.csv" "$ROOT/examples/saas.jsonl" >/dev/null
check "the examples replay over 50 days" "$TEND" eval --db "$DB" --from 2026-09-01 --to 2026-10-20 --quiet
dups=$(sqlite3 "$DB" "SELECT COUNT(*) FROM (SELECT 1 FROM ctas WHERE status <> 'closed' GROUP BY rule, account_id, subject HAVING COUNT(*) > 1)")
expect_eq "no key has two open or snoozed CTAs" 0 "$dups"
listing() { "$TEND" ctas --db "$DB" --status all --format csv "$@" | tail -n +2 | cut -d, -f2-8 | sort; }
before=$(listing)
out=$("$TEND" eval --db "$DB" --at 2026-10-20)
expect_contains "evaluating the last day again changes nothing" "opened 0, raised 0, woke 0, resolved 0" "$out"
"$TEND" eval --db "$DB" --from 2026-09-01 --to 2026-10-20 --quiet --rebuild >/dev/null
expect_eq "--rebuild replays to the same CTAs" "$before" "$(listing)"
all=$("$TEND" ctas --db "$DB" --status all --format json | $PY -c 'import json,sys; print(len(json.load(sys.stdin)))')
live=$("$TEND" ctas --db "$DB" --format json | $PY -c 'import json,sys; r=json.load(sys.stdin); assert all(c["status"] != "closed" for c in r); print(len(r))')
closed=$("$TEND" ctas --db "$DB" --status closed --format json | $PY -c 'import json,sys; r=json.load(sys.stdin); assert all(c["status"] == "closed" for c in r); print(len(r))')
expect_eq "live (the default) and closed make up all" "$all" "$((live + closed))"
n=$("$TEND" ctas --db "$DB" --status all --rule no_login --account acme --format json |
    $PY -c 'import json,sys; r=json.load(sys.stdin); assert all(c["rule"] == "no_login" and c["account_id"] == "acme" for c in r); print(len(r))')
expect_eq "--rule and --account filter" 1 "$n"
"$TEND" cta show 99999 --db "$DB" >/dev/null 2>"$T/err"
expect_eq "an unknown CTA id exits 2" 2 "$?"
expect_contains "and names it" "no CTA 99999" "$(cat "$T/err")"
