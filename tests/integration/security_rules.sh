#!/usr/bin/env bash
# Hostile custom rules and hostile tend.yaml files against the real binaries
# (issue 15, sections 2 and 4):
#   - a custom rule looping over C library calls (table.sort of 200,000
#     numbers, the report's case: 12.5 s per account, 50 accounts past 120 s)
#     under tend eval: it names the rule, the limit and the account of each of
#     its first 3 time-outs, then stops asking it for the rest of the run
#     (RULE_TIMEOUTS_SUSPEND), so the run ends within 3 x the 250 ms limit plus
#     slack instead of 50 x; the same rule
#     under tend serve while /healthz answers (median of the probes under 1 s)
#     and the RSS stays under 300 MiB;
#   - a trait key that is no Lua name (a-b) first among an account's traits:
#     the traits after it still reach custom rules, and it is traits["a-b"];
#   - a YAML alias bomb (394 bytes; it took 3.9 GB) and 200,000 nested lists
#     (past 120 s) against tend eval --config and tend serve --config: exit 2,
#     the line in the message, peak RSS under 300 MiB.
# No check depends on the machine's speed beyond generous bounds; figures
# (times, latencies, RSS) are printed in the ok lines.
. "$(dirname "$0")/lib.sh"

# Under AddressSanitizer freed memory waits in a quarantine of 256 MiB, which
# the hostile rule (3 MB of table per account) fills: RSS then measures ASan,
# not tend. A 16 MiB quarantine keeps the checks and measures tend.
if [ "${MODE:-release}" = asan ]; then
    export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=16"
fi

DB="$T/rules.db"
TODAY=$(date -u +%F)
LIMIT_MS=250 # CUSTOM_RULE_TIME_MS
N=50

# run_measured OUT RC_FILE CMD...: runs CMD with its stdout and stderr in OUT;
# writes "RC SECONDS PEAK_RSS_KIB" into RC_FILE (peak RSS of the child, from
# getrusage). Bounded at 300 s.
run_measured() {
    local out=$1 rcf=$2
    shift 2
    $PY - "$out" "$rcf" "$@" <<'EOF'
import resource, subprocess, sys, time
out, rcf, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
t0 = time.monotonic()
with open(out, "w") as f:
    try:
        rc = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, timeout=300).returncode
    except subprocess.TimeoutExpired:
        rc = "timeout"
secs = time.monotonic() - t0
kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
open(rcf, "w").write(f"{rc} {secs:.1f} {kib}\n")
EOF
}

# ---- data: N accounts, the trait key a-b first ---------------------------------------
$PY - "$T/events.jsonl" "$N" <<'EOF'
import datetime as dt, json, sys
path, n = sys.argv[1], int(sys.argv[2])
day = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=2)).strftime("%Y-%m-%dT00:00:00Z")
with open(path, "w") as f:
    for i in range(1, n + 1):
        traits = {"a-b": i, "region": "EMEA" if i % 2 else "APAC", "name": f"Account {i}"}
        f.write(json.dumps({"type": "group", "userId": f"u{i}", "groupId": f"acc{i:02d}",
                            "timestamp": day, "messageId": f"g{i}", "traits": traits}) + "\n")
EOF
out=$("$TEND" import --db "$DB" "$T/events.jsonl" 2>&1)
expect_contains "import of $N accounts" "$N accepted" "$out"

# No weekly budget: every EMEA account's CTA must open (the budget has its own test).
RULES='rules:
  budget: {per_owner_per_week: 0}
  custom:
    - name: hostile_sort
      when: |
        local t = {}
        for i = 1, 200000 do t[i] = (i * 7919) % 200003 end
        while true do table.sort(t) end
        return true
    - name: emea
      when: trait_region == "EMEA" and traits["a-b"] > 0'
printf '%s\n' "$RULES" >"$T/eval.yaml"

# ---- tend eval with the hostile rule --------------------------------------------------
SUSPEND=3 # RULE_TIMEOUTS_SUSPEND
bound=$((SUSPEND * LIMIT_MS * 2 / 1000 + 15))
run_measured "$T/eval.out" "$T/eval.rc" "$TEND" eval --db "$DB" --config "$T/eval.yaml" --at "$TODAY"
read -r rc secs kib <"$T/eval.rc"
if [ "$rc" = 0 ] && awk -v s="$secs" -v b="$bound" 'BEGIN { exit !(s < b) }'; then
    ok "tend eval with a table.sort loop over $N accounts ended in $secs s (bound $bound s = $SUSPEND x $LIMIT_MS ms x 2 + 15 s; peak RSS $((kib / 1024)) MiB)"
else
    not_ok "tend eval with a table.sort loop over $N accounts ends within $bound s" \
        "exit $rc after $secs s" "$(tail -5 "$T/eval.out")"
fi
msgs=$(grep -c "rule hostile_sort: line 3: time limit of 250 ms exceeded (account acc" "$T/eval.out")
expect_eq "it names the rule, its line and the limit, with the account, for its $SUSPEND time-outs" "$SUSPEND" "$msgs"
# has NAME TEXT FILE: passes when FILE contains TEXT.
has() {
    if grep -qF -- "$2" "$3"; then ok "$1"; else not_ok "$1" "no \"$2\" in:" "$(head -4 "$3")"; fi
}
has "and counts them" "$SUSPEND custom rule errors" "$T/eval.out"
for a in acc01 acc02 acc03; do
    has "the time-out of $a is named" "time limit of 250 ms exceeded (account $a)" "$T/eval.out"
done
has "then it says the rule is not asked again in this run" \
    "rule hostile_sort: ran out of time on $SUSPEND accounts; not evaluated for the rest of this run" "$T/eval.out"
# The next run asks it again (a fix in tend.yaml, or a passing slowness, is picked up).
"$TEND" eval --db "$DB" --config "$T/eval.yaml" --at "$TODAY" >"$T/eval2.out" 2>&1
msgs=$(grep -c "rule hostile_sort: line 3: time limit of 250 ms exceeded (account acc" "$T/eval2.out")
expect_eq "the next run tries the rule afresh ($SUSPEND time-outs again)" "$SUSPEND" "$msgs"

# ---- traits whatever their keys -------------------------------------------------------
emea=$("$TEND" ctas --db "$DB" --format json | $PY -c '
import json, sys
print(sorted(c["account_id"] for c in json.load(sys.stdin) if c["rule"] == "emea") ==
      [f"acc{i:02d}" for i in range(1, 51, 2)])')
expect_eq "a trait key a-b first does not hide the traits after it: emea fires for the 25 EMEA accounts" \
    True "$emea"
if grep -q "rule emea" "$T/eval.out"; then
    not_ok "the rule reading trait_region and traits[\"a-b\"] never fails" "$(grep "rule emea" "$T/eval.out" | head -3)"
else
    ok "the rule reading trait_region and traits[\"a-b\"] never fails"
fi

# ---- the same rule under tend serve ---------------------------------------------------
SDB="$T/serve.db"
"$TEND" import --db "$SDB" "$T/events.jsonl" >/dev/null
PORT=$(free_port)
printf 'serve:\n  timezone: UTC\n  daily_at: "00:00"\n%s\n' "$RULES" >"$T/serve.yaml"
if start_serve "$SDB" "$PORT" --config "$T/serve.yaml"; then
    # Probe /healthz until the day's evaluation is logged (at most 120 s).
    $PY - "$PORT" "$SERVE_PID" "$T/serve.log" "$T/probes" <<'EOF'
import http.client, sys, time
port, pid, log, out = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
lat, rss, done = [], [], False
deadline = time.monotonic() + 120
while time.monotonic() < deadline:
    t0 = time.monotonic()
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        c.request("GET", "/healthz")
        ok = c.getresponse().status == 200
        c.close()
    except OSError:
        ok = False
    lat.append(time.monotonic() - t0 if ok else float("inf"))
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            rss.append(int(line.split()[1]))
    if "tend serve: evaluated" in open(log).read():
        done = True
        break
    time.sleep(0.2)
hwm = max(int(l.split()[1]) for l in open(f"/proc/{pid}/status") if l.startswith("VmHWM:"))
s = sorted(lat)
with open(out, "w") as f:
    f.write(f"{int(done)} {len(s)} {s[len(s) // 2]:.3f} {s[-1]:.3f} {max(rss) // 1024} {hwm // 1024}\n")
EOF
    read -r done probes median worst rss hwm <"$T/probes"
    if [ "$done" = 1 ]; then
        ok "tend serve evaluated the $N accounts with the hostile rule within 120 s"
    else
        not_ok "tend serve evaluates the $N accounts with the hostile rule within 120 s" \
            "$(tail -3 "$T/serve.log")"
    fi
    if awk -v m="$median" 'BEGIN { exit !(m < 1) }'; then
        ok "/healthz answered meanwhile: median ${median} s, worst ${worst} s over $probes probes"
    else
        not_ok "/healthz answers meanwhile with a median under 1 s" "median $median s, worst $worst s, $probes probes"
    fi
    if [ "$hwm" -lt 300 ]; then
        ok "tend serve's RSS stayed under 300 MiB (peak $hwm MiB, largest sample $rss MiB)"
    else
        not_ok "tend serve's RSS stays under 300 MiB" "peak $hwm MiB"
    fi
    n=$(grep -c "tend serve: rule hostile_sort: line 3: time limit of 250 ms exceeded (account acc" "$T/serve.log")
    expect_eq "serve logs the rule's first $SUSPEND time-outs, with the rule and line" "$SUSPEND" "$n"
    if grep -q "rule hostile_sort: ran out of time on $SUSPEND accounts" "$T/serve.log"; then
        ok "serve logs that the rule is not asked again in that run"
    else
        not_ok "serve logs that the rule is not asked again in that run" "$(tail -3 "$T/serve.log")"
    fi
    # Stop it: SIGTERM, and SIGKILL if an evaluation still holds it after 30 s.
    kill "$SERVE_PID"
    for _ in $(seq 300); do kill -0 "$SERVE_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$SERVE_PID" 2>/dev/null
else
    not_ok "tend serve --config with the hostile rule starts" "$(tail -5 "$T/serve.log")"
fi

# ---- hostile tend.yaml ----------------------------------------------------------------
$PY - "$T/bomb.yaml" "$T/deep.yaml" <<'EOF'
import sys
lines = ["health:", "  weights: {logins: 1}", "x:",
         '  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
prev = "a"
for name in "bcdefghi":
    lines.append("  %s: &%s [%s]" % (name, name, ",".join(["*" + prev] * 9)))
    prev = name
open(sys.argv[1], "w").write("\n".join(lines) + "\n")
n = 200000
open(sys.argv[2], "w").write("health:\n  weights: " + "[" * n + "]" * n + "\n")
EOF
bytes=$(wc -c <"$T/bomb.yaml")
for f in bomb deep; do
    case $f in
    bomb) want="bomb.yaml:5:10: aliases (*a) are not supported" what="an alias bomb of $bytes bytes" ;;
    deep) want="deep.yaml:2:75: nested deeper than 64 levels" what="200,000 nested lists" ;;
    esac
    for cmd in eval serve; do
        args=(--db "$T/$f-$cmd.db" --config "$T/$f.yaml")
        [ "$cmd" = eval ] && args+=(--at "$TODAY")
        [ "$cmd" = serve ] && args+=(--listen "127.0.0.1:$(free_port)")
        run_measured "$T/$f-$cmd.out" "$T/$f-$cmd.rc" "$TEND" "$cmd" "${args[@]}"
        read -r rc secs kib <"$T/$f-$cmd.rc"
        msg=$(cat "$T/$f-$cmd.out")
        if [ "$rc" = 2 ] && [[ "$msg" == *"$want"* ]] && [ "$kib" -lt $((300 * 1024)) ]; then
            ok "tend $cmd --config with $what: exit 2 in $secs s, peak RSS $((kib / 1024)) MiB: $msg"
        else
            not_ok "tend $cmd --config with $what: exit 2, the line, peak RSS under 300 MiB" \
                "exit $rc after $secs s, peak RSS $((kib / 1024)) MiB" "expected: $want" "actual: $msg"
        fi
    done
done
