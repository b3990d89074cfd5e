#!/usr/bin/env bash
# tend analyze impact against a planted effect (issue 20, Must show 3;
# docs/analysis.md "Impact"). 6,000 accounts, each with a login 20 days
# before D0, so no_login opens a CTA for every one on D0; the rule has a
# randomised holdout of 40%. impact_sim.py then plays the world: it reads
# tend's CTAs (delivered or held out), checks every arm against the
# documented draw, and writes Account Churned events whose churn time is
# exponential, the held-out hazard giving 30% churn within 90 days:
#
#   A. delivering halves the hazard: true difference 1-0.7^0.5-0.30 = -13.7
#      points. tend's 95% interval must cover it, and the estimate, the
#      interval and the ARR must equal an independent Python computation
#      (counts from the CTAs and the events written; statsmodels' Newcombe
#      interval).
#   B. delivering does nothing: the interval must cover 0.
#
# Held-out CTAs must reach no channel (no notification), delivered ones do.
# Fixed seeds: the same run gives the same numbers, printed in the ok lines.
. "$(dirname "$0")/lib.sh"

SIM="$ROOT/tests/integration/impact_sim.py"
D0=2026-03-02
AT=2026-06-10 # D0 + 100: every account's 90 days have passed
N=6000
cat >"$T/tend.yaml" <<EOF0
rules:
  health_drop: false
  budget: {per_owner_per_week: 0}
  no_login: {holdout: "40%", holdout_seed: 7}
delivery:
  max_age_days: 100000
channels:
  log:
    type: log
    path: $T/notifications.log
EOF0

# scenario NAME EFFECT SEED: a world; prints the check's JSON into $T/NAME.check.
scenario() {
    local name=$1 effect=$2 seed=$3 DB
    DB="$(db "$name")"
    $PY "$SIM" events "$T/$name.events.jsonl" $N "$seed" $D0
    "$TEND" import --db "$DB" "$T/$name.events.jsonl" >/dev/null 2>"$T/$name.import.err" ||
        not_ok "$name: import" "$(cat "$T/$name.import.err")"
    "$TEND" eval --db "$DB" --config "$T/tend.yaml" --at $D0 >"$T/$name.eval.out" 2>&1 ||
        not_ok "$name: eval" "$(tail -5 "$T/$name.eval.out")"
    "$TEND" ctas --db "$DB" --rule no_login --format json >"$T/$name.ctas.json"
    read -r mismatched true_diff n_ctas < <($PY "$SIM" plant "$T/$name.ctas.json" \
        "$T/$name.churns.jsonl" "$effect" "$seed" $D0 0.4 7)
    expect_eq "$name: a no_login CTA for each of the $N accounts" "$N" "$n_ctas"
    expect_eq "$name: each CTA's arm is the documented draw (seed 7, account, rule) < 40%" 0 "$mismatched"
    # The held-out CTAs reach no channel; the delivered ones do.
    dbq "$DB" "SELECT DISTINCT cta_id FROM notifications" >"$T/$name.notified"
    got=$($PY - "$T/$name.ctas.json" "$T/$name.notified" <<'PY'
import json, sys
ctas = [c for c in json.load(open(sys.argv[1])) if c["rule"] == "no_login"]
notified = {int(x) for x in open(sys.argv[2]).read().split()}
held = [c for c in ctas if c["held_out"]]
print(len(held), sum(c["id"] in notified for c in held),
      sum(c["id"] in notified for c in ctas if not c["held_out"]), len(ctas) - len(held))
PY
)
    read -r n_held held_notified delivered_notified n_delivered <<<"$got"
    if [ "$held_notified" = 0 ] && [ "$delivered_notified" = "$n_delivered" ] &&
        [ "$n_held" -gt $((N * 35 / 100)) ] && [ "$n_held" -lt $((N * 45 / 100)) ]; then
        ok "$name: $n_held held out (of $N, 40%): none notified; all $n_delivered delivered ones notified"
    else
        not_ok "$name: held-out CTAs reach no channel" "held $n_held, of them notified $held_notified;" \
            "delivered $n_delivered, notified $delivered_notified"
    fi
    "$TEND" import --db "$DB" "$T/$name.churns.jsonl" >/dev/null 2>"$T/$name.import2.err" ||
        not_ok "$name: import the churns" "$(cat "$T/$name.import2.err")"
    "$TEND" analyze impact --db "$DB" --rule no_login --horizon 90 --at $AT --format json \
        >"$T/$name.impact.json" 2>"$T/$name.impact.err" ||
        not_ok "$name: tend analyze impact runs" "$(cat "$T/$name.impact.err")"
    $PY "$SIM" check "$T/$name.impact.json" "$T/$name.ctas.json" "$T/$name.churns.jsonl" \
        "$T/$name.events.jsonl" "$true_diff" 90 $D0 >"$T/$name.check" 2>&1 ||
        not_ok "$name: the Python check runs" "$(tail -5 "$T/$name.check")"
    LAST_DB=$DB
}

field() { $PY -c "import json,sys; print(json.load(open(sys.argv[1]))$2)" "$1"; }

scenario halved 0.5 11
p=$(field "$T/halved.check" '["problems"]')
expect_eq "A: tend's counts, difference, Newcombe interval and ARR equal the independent Python computation (statsmodels)" "[]" "$p"
summary=$($PY -c 'import json,sys; d=json.load(open(sys.argv[1])); print("difference %.4f, 95%% CI [%.4f, %.4f], planted %.4f, ARR kept %.0f" % (d["difference"], d["ci"][0], d["ci"][1], d["true"], d["arr_kept"]))' "$T/halved.check")
if [ "$(field "$T/halved.check" '["covers_true"]')" = True ] && [ "$(field "$T/halved.check" '["covers_zero"]')" = False ]; then
    ok "A: delivering halves the hazard: the interval covers the planted difference and excludes 0 ($summary)"
else
    not_ok "A: the interval covers the planted effect" "$(cat "$T/halved.check")"
fi
out=$("$TEND" analyze impact --db "$LAST_DB" --rule no_login --at $AT)
expect_contains "A: the table says what the interval is" "95% interval, Newcombe" "$out"
expect_contains "A: and the ARR it implies" "ARR kept by delivering" "$out"
expect_contains "A: and warns about the observational view" "CSMs choose which CTAs to act on" "$out"
csv=$("$TEND" analyze impact --db "$LAST_DB" --at $AT --format csv | head -1)
expect_contains "A: csv has a row per rule" "rule,holdout_share,delivered," "$csv"
out=$("$TEND" analyze impact --db "$LAST_DB" --rule usage_dip --at $AT 2>&1)
expect_contains "a rule without a holdout is named, with how to set one" "rule usage_dip has no CTAs in a holdout" "$out"
# Before the horizon has passed, the accounts are pending, not counted as staying.
n=$("$TEND" analyze impact --db "$LAST_DB" --rule no_login --at 2026-04-01 --format json |
    $PY -c 'import json,sys; r=json.load(sys.stdin)["rules"][0]; print(r["pending"], r["delivered"]["accounts"])')
expect_eq "A: as of 30 days after D0 every account is pending (its 90 days have not passed)" "$N 0" "$n"

# A holdout written as a bare number is refused with its path.
printf 'rules:\n  no_login: {holdout: 0.1}\n' >"$T/bad.yaml"
out=$("$TEND" eval --db "$LAST_DB" --config "$T/bad.yaml" --at $D0 2>&1)
rc=$?
expect_eq "a holdout without %: exit 2" 2 "$rc"
expect_contains "naming the setting and the form" "rules.no_login.holdout: must be a percentage from 0% to 50%, written like 10%" "$out"
printf 'rules:\n  no_login: {holdout: "60%%"}\n' >"$T/bad.yaml"
out=$("$TEND" eval --db "$LAST_DB" --config "$T/bad.yaml" --at $D0 2>&1)
expect_contains "a holdout over 50% is refused" "rules.no_login.holdout: must be a percentage" "$out"

scenario no_effect 1.0 12
p=$(field "$T/no_effect.check" '["problems"]')
expect_eq "B: tend equals the independent Python computation" "[]" "$p"
summary=$($PY -c 'import json,sys; d=json.load(open(sys.argv[1])); print("difference %.4f, 95%% CI [%.4f, %.4f]" % (d["difference"], d["ci"][0], d["ci"][1]))' "$T/no_effect.check")
if [ "$(field "$T/no_effect.check" '["covers_zero"]')" = True ]; then
    ok "B: delivering does nothing: the interval covers 0 ($summary)"
else
    not_ok "B: the interval covers 0" "$(cat "$T/no_effect.check")"
fi
