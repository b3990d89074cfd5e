#!/usr/bin/env bash
# Expiry (issue 16, docs/rules.md "Due date and expiry"), against the real
# binary: three accounts whose no_login condition holds for two months,
# evaluated day by day. acc1: no one acts; its CTA expires the day after its
# due date plus ctas.expire_after_days working days (counted here with an
# independent working-day count), says so in its history (by tend) and in a
# message ("Expired"), and stays quiet while the condition holds; a login
# clears it, and when no one logs in for 14 days again a new CTA opens with a
# due date of its own. acc2: a person assigns it
# before the due date: it never expires (overdue is their work). acc3: its
# owner snoozes it: it sleeps, wakes, and is not expired at once. With
# ctas.expire_after_days 0 nothing expires.
. "$(dirname "$0")/lib.sh"

DB="$(db e)"
$PY - "$T/events.jsonl" <<'PY'
import json, sys
with open(sys.argv[1], "w") as f:
    for i in range(1, 4):
        acct = f"acc{i}"
        f.write(json.dumps({"type": "group", "userId": f"u{i}", "groupId": acct,
                            "timestamp": "2026-04-01T00:00:00Z", "messageId": f"g{i}",
                            "traits": {"name": f"Account {i}", "mrr": 2000,
                                       "csm_email": "ann@x.io"}}) + "\n")
        f.write(json.dumps({"type": "track", "userId": f"u{i}", "event": "Signed In",
                            "timestamp": "2026-04-10T12:00:00Z", "messageId": f"l{i}",
                            "context": {"groupId": acct}}) + "\n")
PY
"$TEND" import --db "$DB" "$T/events.jsonl" >/dev/null || not_ok "import"
db_copy e never
cat >"$T/tend.yaml" <<EOF0
rules:
  health_drop: false
  budget: {per_owner_per_week: 0}
delivery:
  max_age_days: 100000
channels:
  log:
    type: log
    path: $T/notifications.log
EOF0
CFG=(--config "$T/tend.yaml")

# The CTAs open on 2026-04-24 (14 days without a login).
"$TEND" eval --db "$DB" "${CFG[@]}" --from 2026-04-24 --to 2026-04-28 --quiet >/dev/null ||
    not_ok "eval to 2026-04-28"
ids=$("$TEND" ctas --db "$DB" --rule no_login --format json | $PY -c '
import json, sys
print(" ".join(str(c["id"]) for c in sorted(json.load(sys.stdin), key=lambda c: c["account_id"])))')
read -r id1 id2 id3 <<<"$ids"
check "each account has a no_login CTA" test -n "$id3"
"$TEND" cta assign "$id2" bob@x.io --db "$DB" --by ann@x.io --on 2026-04-28 >/dev/null ||
    not_ok "assign"
"$TEND" cta snooze "$id3" --until 2026-06-15 --db "$DB" --by ann@x.io --on 2026-04-28 >/dev/null ||
    not_ok "snooze"
out=$("$TEND" eval --db "$DB" "${CFG[@]}" --from 2026-04-29 --to 2026-06-30 2>&1)
echo "$out" | grep -q 'expired' && ok "the daily summary counts expiries" ||
    not_ok "the daily summary counts expiries"

show() { "$TEND" cta show "$1" --db "$DB" --format json; }
for id in "$id1" "$id2" "$id3"; do show "$id" >"$T/cta$id.json"; done
"$TEND" ctas --db "$DB" --status all --rule no_login --format json >"$T/all.json"
got=$($PY - "$T/cta$id1.json" "$T/all.json" <<'PY'
import datetime as dt, json, sys
c = json.load(open(sys.argv[1]))
def workdays_after(d, n):
    while n > 0:
        d += dt.timedelta(days=1)
        if d.weekday() < 5:
            n -= 1
    while d.weekday() >= 5:
        d += dt.timedelta(days=1)
    return d
due = dt.date.fromisoformat(c["due_date"])
want = workdays_after(due, 5) + dt.timedelta(days=1)
hist = c["history"]
exp = [h for h in hist if h["action"] == "expire"]
assert c["status"] == "closed" and c["closed_reason"] == "expired", (c["status"], c.get("closed_reason"))
assert len(exp) == 1 and exp[0]["actor"] == "tend", exp
assert c["closed_date"] == want.isoformat(), (c["closed_date"], want)
assert "no one acted on it" in (exp[0].get("note") or ""), exp
# No new CTA for the key while the condition holds (to 2026-06-30).
others = [x for x in json.load(open(sys.argv[2])) if x["account_id"] == c["account_id"] and x["id"] != c["id"]]
assert not others, others
print("ok", c["due_date"], c["closed_date"])
PY
)
expect_contains "acc1, no one acted: expired the day after due + 5 working days, by tend, noted; no new CTA while the condition holds" "ok " "$got"
got=$($PY -c '
import json, sys
c = json.load(open(sys.argv[1]))
print(c["status"], c["due_date"] < "2026-06-30", any(h["action"] == "expire" for h in c["history"]))' "$T/cta$id2.json")
expect_eq "acc2, assigned by a person: still open past its due date, never expired" "open True False" "$got"
got=$($PY -c '
import json, sys
c = json.load(open(sys.argv[1]))
print(c["status"], any(h["action"] == "expire" for h in c["history"]))' "$T/cta$id3.json")
expect_eq "acc3, snoozed: woke on 2026-06-15 with time left, not expired" "open False" "$got"
"$TEND" deliver --db "$DB" "${CFG[@]}" --digest-now --quiet >/dev/null 2>&1 || not_ok "deliver"
got=$($PY - "$T/notifications.log" "$T/all.json" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
ex = [r for r in rows if r.get("event") == "expire"]
expired = [c for c in json.load(open(sys.argv[2])) if c.get("closed_reason") == "expired"]
print(len(ex), len(expired), all("Expired, no one acted on it" in r["text"] and "Account 1" in r["text"]
                                 and "not open it again while the condition holds" in r["text"] for r in ex))
PY
)
expect_eq "the owner is told once that it expired, and why" "1 1 True" "$got"

# A login clears the condition; 14 days later without one it holds again: a new episode.
printf '%s\n' '{"type":"track","userId":"u1","event":"Signed In","timestamp":"2026-07-01T12:00:00Z","messageId":"l1b","context":{"groupId":"acc1"}}' >"$T/login.jsonl"
"$TEND" import --db "$DB" "$T/login.jsonl" >/dev/null || not_ok "import the login"
"$TEND" eval --db "$DB" "${CFG[@]}" --from 2026-07-01 --to 2026-07-20 --quiet >/dev/null || not_ok "eval July"
got=$("$TEND" ctas --db "$DB" --status all --rule no_login --account acc1 --format json | $PY -c '
import json, sys
r = sorted(json.load(sys.stdin), key=lambda c: c["id"])
print(len(r), r[-1]["status"], r[-1]["opened_date"], r[-1]["due_date"] > r[-1]["opened_date"])')
expect_eq "after a login and 14 days without one, a new CTA opens for acc1 (a new episode)" \
    "2 open 2026-07-15 True" "$got"

printf 'rules:\n  health_drop: false\n  budget: {per_owner_per_week: 0}\nctas:\n  expire_after_days: 0\n' >"$T/never.yaml"
out=$("$TEND" eval --db "$(db never)" --config "$T/never.yaml" --from 2026-04-24 --to 2026-06-30 --quiet 2>&1)
n=$("$TEND" ctas --db "$(db never)" --status all --format json | $PY -c '
import json, sys
r = json.load(sys.stdin)
print(sum(c.get("closed_reason") == "expired" for c in r), sum(c["status"] == "open" for c in r))')
expect_eq "ctas.expire_after_days 0: nothing expires, the three stay open" "0 3" "$n"
printf 'ctas:\n  expire_after_days: -2\n' >"$T/bad.yaml"
out=$("$TEND" eval --db "$(db never)" --config "$T/bad.yaml" --at 2026-06-30 2>&1)
expect_contains "a bad expire_after_days is refused with its path" "ctas.expire_after_days" "$out"
