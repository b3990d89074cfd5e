#!/usr/bin/env bash
# generate.sh: tend generate (issue 3, "Generator"; docs/generate.md).
#
# Determinism per seed, the command line, that tend import takes every
# message (0 rejected, nothing left in quarantine), that every message type
# and SPEC 1 event appears, the density of a mid-market SaaS, and that the
# churners' logins fade before they leave.
source "$(dirname "$0")/lib.sh"

# run ARGS...: runs tend; sets RC, OUT (stdout) and ERR (stderr).
run() {
    "$TEND" "$@" >"$T/out" 2>"$T/err"
    RC=$?
    OUT=$(cat "$T/out")
    ERR=$(cat "$T/err")
}

# ---- 1. the command line -------------------------------------------------------
run generate --help
expect_eq "--help exits 0" 0 "$RC"
for opt in --accounts --days --seed --end --out; do
    expect_contains "--help lists $opt" "$opt" "$OUT"
done

# bad ARGS... EXPECTED: exit 2, the message on stderr, nothing on stdout.
bad() {
    local want=${*: -1}
    run generate "${@:1:$#-1}"
    if [ "$RC" = 2 ] && [[ "$ERR" == *"$want"* ]] && [ -z "$OUT" ]; then
        ok "bad arguments: ${*:1:$#-1}"
    else
        not_ok "bad arguments: ${*:1:$#-1}" "rc $RC (want 2)" "stderr: $ERR" "stdout bytes: ${#OUT}"
    fi
}
bad --days 10 "--accounts N is required"
bad --accounts 10 "--days D is required"
bad --accounts 0 --days 10 "--accounts must be an integer from 1 to 1000000"
bad --accounts 12x --days 10 "--accounts must be an integer"
bad --accounts 10 --days 0 "--days must be an integer from 1 to 3660"
bad --accounts 10 --days 10 --seed -1 "--seed must be an integer"
bad --accounts 10 --days 10 --end 2027-02-29 "--end must be a date YYYY-MM-DD"
bad --accounts 10 --days 10 extra "unexpected argument \"extra\""
bad --accounts 10 --days 10 --bogus "unrecognized option"
run generate --accounts 5 --days 5 --out /dev/full
expect_eq "a write error exits 2 naming the file" "2 yes" \
    "$RC $([[ "$ERR" == *"writing /dev/full"* ]] && echo yes)"

# ---- 2. determinism ---------------------------------------------------------
f=$T/a.jsonl
run generate --accounts 50 --days 120 --out "$f"
expect_eq "generate: exit 0, nothing on stdout with --out" "0 " "$RC $OUT"
summary=$ERR
if [[ "$summary" =~ ^tend\ generate:\ 50\ accounts\ .*\ users,\ [0-9]+\ events,\ [0-9]+\ churned ]] &&
    [ "$(wc -l <"$T/err")" = 1 ]; then
    ok "stderr: one summary line (accounts, users, events, churned)"
else
    not_ok "stderr: one summary line (accounts, users, events, churned)" "$summary"
fi
sum1=$(sha256sum <"$f")
"$TEND" generate --accounts 50 --days 120 --seed 1 2>/dev/null >"$T/b.jsonl"
expect_eq "same seed (1, the default): identical sha256, stdout and --out alike" "$sum1" \
    "$(sha256sum <"$T/b.jsonl")"
"$TEND" generate --accounts 50 --days 120 --seed 2 2>/dev/null >"$T/c.jsonl"
if [ "$sum1" != "$(sha256sum <"$T/c.jsonl")" ]; then
    ok "different seed: different output"
else
    not_ok "different seed: different output"
fi

# ---- 3. tend takes all of it ----------------------------------------------------
db=$T/a.db
run import --db "$db" "$f"
events=$(wc -l <"$f")
expect_eq "import: exit 0, every line accepted, 0 quarantined, 0 rejected" \
    "0 $f: $events accepted, 0 duplicates, 0 quarantined, 0 rejected" "$RC $OUT"
expect_eq "status: quarantine 0 at the end" 0 "$(status_count "$db" quarantine)"
expect_eq "status: messages.rejected 0" 0 "$(status_count "$db" messages.rejected)"
missing=""
for kind in login nps ticket_opened ticket_closed invoice_issued invoice_paid payment_failed \
    card_updated outreach_sent outreach_replied goal_set milestone_due milestone_completed \
    renewed churned user_removed subscription_changed feature identify group page screen alias; do
    [ "$(status_count "$db" "events.$kind")" -gt 0 ] || missing="$missing $kind"
done
expect_eq "status: events.<kind> > 0 for every message type and SPEC 1 event" "" "$missing"

# events per account per year within 20 % of 2,500
density=$((events * 365 / (50 * 120)))
if [ "$density" -ge 2000 ] && [ "$density" -le 3000 ]; then
    ok "density: $density events per account per year (2,500 +- 20 %)"
else
    not_ok "density: $density events per account per year (2,500 +- 20 %)"
fi

# The file itself: timestamps in order, messageIds unique, the window right,
# the routing mix of SPEC 1 (context.groupId, properties.account_id, neither).
shape=$($PY - "$f" <<'EOF'
import json, sys
prev, ids, n, routes = "", set(), 0, {"group": 0, "prop": 0, "none": 0}
first = last = None
for line in open(sys.argv[1]):
    m = json.loads(line)
    n += 1
    ts = m["timestamp"]
    if ts < prev:
        sys.exit("line %d: %s before %s" % (n, ts, prev))
    prev = ts
    first = first or ts
    last = ts
    ids.add(m["messageId"])
    if m["type"] == "track":
        if "groupId" in m.get("context", {}):
            routes["group"] += 1
        elif "account_id" in m.get("properties", {}):
            routes["prop"] += 1
        else:
            routes["none"] += 1
if len(ids) != n:
    sys.exit("%d messageIds for %d messages" % (len(ids), n))
if not (first.startswith("2026-07-04") and last < "2026-11-01"):
    sys.exit("window %s .. %s, want [2026-07-04, 2026-11-01)" % (first, last))
t = sum(routes.values())
if not (routes["group"] > 0.7 * t and routes["prop"] > 0.05 * t and 0 < routes["none"] < 0.1 * t):
    sys.exit("routing mix %r" % routes)
print("ok")
EOF
)
expect_eq "file: sorted by timestamp, unique messageIds, window [end - days, end), routing mix" \
    ok "$shape"

# --end moves the window (here over a leap day).
"$TEND" generate --accounts 3 --days 2 --end 2024-03-01 2>/dev/null >"$T/leap.jsonl"
days=$(grep -o '"timestamp":"[0-9-]*' "$T/leap.jsonl" | cut -c14- | sort -u | tr '\n' ' ')
expect_eq "--end 2024-03-01 --days 2: events on 2024-02-28 and 2024-02-29" \
    "2024-02-28 2024-02-29 " "$days"

# ---- 4. the churn signal ----------------------------------------------------------
# Churn comes from latent causes (docs/generate.md, "Why accounts churn"); the
# reason on "Account Churned" fits the strongest cause (with 25 % noise).
# Logins: the last 4 weeks before the outcome against 4 weeks four months
# earlier; payments: failures and card updates before an involuntary churn.
"$TEND" generate --accounts 200 --days 365 --seed 3 2>/dev/null >"$T/year.jsonl"
signal=$($PY - "$T/year.jsonl" <<'EOF'
import datetime as dt, json, re, sys
user_acct, logins, outcome, pay = {}, {}, {}, {}
acct_re = re.compile(r'"(?:groupId|account_id)":"([^"]+)"')
ts_re = re.compile(r'"timestamp":"(\d{4}-\d\d-\d\d)')
user_re = re.compile(r'"userId":"([^"]+)"')
first = None
wanted = ('"event":"Signed In"', '"event":"Account Churned"', '"event":"Account Renewed"',
          '"event":"Payment Failed"', '"event":"Payment Method Updated"')
for line in open(sys.argv[1]):
    if '"type":"identify"' in line:
        m = json.loads(line)["traits"]
        user_acct[user_re.search(line).group(1)] = (
            m.get("company_id") or (m.get("company") or {}).get("id") or m.get("accountExternalId"))
        continue
    kind = next((w for w in wanted if w in line), None)
    d = dt.date.fromisoformat(ts_re.search(line).group(1)).toordinal()
    first = first or d
    if kind is None:
        continue
    a = acct_re.search(line)
    a = a.group(1) if a else user_acct[user_re.search(line).group(1)]
    if kind == wanted[0]:
        logins.setdefault(a, []).append(d)
    elif kind in wanted[1:3]:
        reason = json.loads(line)["properties"].get("reason") if kind == wanted[1] else None
        outcome.setdefault(a, []).append((d, kind == wanted[1], reason))
    else:
        pay.setdefault(a, []).append((d, kind == wanted[3]))
def faded(a, d):
    last4 = sum(1 for x in logins.get(a, []) if d - 28 <= x < d)
    base = sum(1 for x in logins.get(a, []) if d - 140 <= x < d - 112)
    return last4 < 0.6 * base
usage = ("poor adoption", "missing features", "champion left", "switched to competitor")
u_n = u_f = r_n = r_f = inv_n = inv_ok = 0
for a, outs in outcome.items():
    for d, churned, reason in outs:
        if churned and reason == "payment failed":
            inv_n += 1
            p = sorted(x for x in pay.get(a, []) if d - 100 <= x[0] <= d)
            fails = [x for x, failed in p if failed]
            inv_ok += bool(fails) and not any(x >= fails[0] and not failed for x, failed in p)
        if d - 140 < first:
            continue
        if churned and reason in usage:
            u_n += 1
            u_f += faded(a, d)
        elif not churned:
            r_n += 1
            r_f += faded(a, d)
print(u_f, u_n, r_f, r_n, inv_ok, inv_n)
EOF
)
read -r u_f u_n r_f r_n inv_ok inv_n <<<"$signal"
if [ "${u_n:-0}" -ge 4 ] && [ $((u_f * 10)) -ge $((u_n * 6)) ]; then
    ok "churn signal: $u_f of $u_n churners citing adoption, a champion or a competitor logged in less"
else
    not_ok "churn signal: at least 60 % of the usage-cause churners fade" "$signal"
fi
if [ "${r_n:-0}" -ge 20 ] && [ "${r_f:-0}" -ge 1 ] && [ $((r_f * u_n)) -lt $((u_f * r_n)) ]; then
    ok "false alarms: $r_f of $r_n renewing accounts faded as much, a smaller share"
else
    not_ok "false alarms: some renewing accounts fade too, fewer than the churners" "$signal"
fi
if [ "${inv_n:-0}" -ge 1 ] && [ "$inv_ok" = "$inv_n" ]; then
    ok "involuntary churn: $inv_n churned after a failed payment never fixed by a card update"
else
    not_ok "involuntary churn: each 'payment failed' churn follows an unfixed failure" "$signal"
fi
