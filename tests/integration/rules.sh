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
DB="$(db ex)"
"$TEND" import --db "$DB" --accounts "$ROOT/examples/accounts.csv" "$ROOT/examples/saas.jsonl" >/dev/null
check "the examples replay over 50 days" "$TEND" eval --db "$DB" --from 2026-09-01 --to 2026-10-20 --quiet
dups=$(dbq "$DB" "SELECT COUNT(*) FROM (SELECT 1 FROM ctas WHERE status <> 'closed' GROUP BY rule, account_id, subject HAVING COUNT(*) > 1) AS k")
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

# premium_unused and product use (issue 15): a feature event with the
# product counts also when it waited in quarantine for its account; and a
# database from before migration 13 (product use by feature name) gets its
# product use rebuilt from the events when it is opened.
P="$(db products)"
pu() { # pu ACCOUNT DAY [PRODUCT]: a "Chart Built" feature event
    printf '{"type":"track","userId":"u-%s","event":"Chart Built","timestamp":"%sT12:00:00Z","messageId":"pu-%s-%s-%s","context":{"groupId":"%s"},"properties":{%s}}\n' \
        "$1" "$2" "$1" "$2" "${3:-none}" "$1" "${3:+\"product\":\"$3\"}"
}
pg() { # pg ACCOUNT: the group call, premium analytics
    printf '{"type":"group","userId":"u-%s","groupId":"%s","timestamp":"2026-04-01T00:00:00Z","messageId":"pg-%s","traits":{"premium_products":["analytics"]}}\n' "$1" "$1" "$1"
}
{ pu q 2026-06-10 analytics; pg a; pu a 2026-05-01 analytics; pu a 2026-06-10; pg b; pu b 2026-06-10 analytics; } >"$T/p1.jsonl"
pg q >"$T/p2.jsonl"
"$TEND" import --db "$P" "$T/p1.jsonl" >/dev/null
out=$("$TEND" import --db "$P" "$T/p2.jsonl")
expect_contains "q's product event waited for its account, then was attached" "1 earlier quarantined events attached" "$out"
premium() { "$TEND" ctas --db "$1" --status all --rule premium_unused --format csv | tail -n +2 | cut -d, -f2 | sort | paste -sd' '; }
"$TEND" eval --db "$P" --at 2026-06-15 >/dev/null
expect_eq "premium_unused: a's product untagged for 45 days fires; b's and q's (attached) tagged use counts" "a" "$(premium "$P")"
# The same history as a database from before migration 13: product use was
# feature_products. SQLite's history only: PostgreSQL's schema began at
# migration 15 (src/store/pg_schema.c), with product_days.
if [ "$BACKEND" = sqlite ]; then
    O="$(db old)"
    "$TEND" import --db "$O" "$T/p1.jsonl" "$T/p2.jsonl" >/dev/null
    sqlite3 "$O" "DROP TABLE product_days;
        CREATE TABLE feature_products (name_id INTEGER NOT NULL, product TEXT NOT NULL,
          PRIMARY KEY (name_id, product)) WITHOUT ROWID;
        INSERT INTO feature_products SELECT DISTINCT name_id, subject FROM events
          WHERE kind = 0 AND name_id IS NOT NULL AND subject IS NOT NULL;
        ALTER TABLE activity_windows ADD COLUMN names TEXT;
        DROP TABLE models; DROP TABLE risk_by_day;
        DROP TABLE cta_held; DROP INDEX ctas_opened; ALTER TABLE ctas DROP COLUMN value;
        DROP INDEX outbox_sending; ALTER TABLE outbox DROP COLUMN locked_until_ms;
        ALTER TABLE outbox DROP COLUMN gate;
        DROP TABLE leases; DROP TABLE sched_runs; DROP TABLE sched_buckets;
        DROP TABLE customer_messages; DROP TABLE customer_unsubscribes;
        DROP TABLE segment_days; DROP TABLE segment_parts;
        DROP TABLE cta_escalations;
        DROP TABLE hook_inbox; DROP TABLE hook_accounts;
        DROP TABLE notes; DROP TABLE cta_holdouts;
        DROP TABLE cta_steps;
        DROP TABLE team_users; DROP TABLE team_invites; DROP TABLE audit_log; DROP TABLE team_tokens;
        DELETE FROM schema_migrations WHERE version >= 13;"
    "$TEND" eval --db "$O" --at 2026-06-15 >/dev/null
    expect_eq "an older database is migrated: product_days rebuilt from its events" \
        "$(sqlite3 "$P" 'SELECT group_concat(account_id || product || day) FROM product_days')" \
        "$(sqlite3 "$O" 'SELECT group_concat(account_id || product || day) FROM product_days')"
    expect_eq "and its CTAs follow the documented meaning" "a" "$(premium "$O")"
    expect_eq "and feature_products is gone" 0 "$(sqlite3 "$O" "SELECT COUNT(*) FROM sqlite_master WHERE name = 'feature_products'")"
fi
