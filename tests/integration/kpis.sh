#!/usr/bin/env bash
# The KPI board and the monthly CS report (issue 20, part 3; docs/analysis.md
# "The KPI board", "The monthly CS report"). The world of process.sh (four
# owners over ten weeks, process_check.py) plus churns of a fifth of the
# accounts. tend kpis' team series and each KPI's r with churn in the next
# four weeks (over owner-weeks) must equal a Python computation over the
# same tables (kpis_check.py, numpy); more than 12 KPIs, an unknown or a
# repeated one are refused with their path; GET /api/kpis gives the CLI's
# board; tend report monthly writes a printable page with the month's churn.
. "$(dirname "$0")/lib.sh"

DB="$(db k)"
CHK="$ROOT/tests/integration/process_check.py"
KCHK="$ROOT/tests/integration/kpis_check.py"
AT=2026-03-15
cat >"$T/tend.yaml" <<EOF0
rules:
  health_drop: false
  outreach_unresponsive: false
  budget: {per_owner_per_week: 0}
ctas:
  expire_after_days: 5
kpis:
  - overdue_share
  - {kpi: contacts_per_account, title: "Contacts a week per account"}
  - coverage_4w
  - median_days_to_action
  - health_mean
  - red_share
EOF0
$PY "$CHK" drive "$DB" "$T/tend.yaml" "$TEND" "$T/events.jsonl"
"$TEND" import --db "$DB" "$T/events.jsonl" >/dev/null 2>"$T/import.err" || not_ok "import" "$(cat "$T/import.err")"
$PY "$KCHK" churns "$DB" "$T/churns.jsonl" 5
"$TEND" import --db "$DB" "$T/churns.jsonl" >/dev/null 2>"$T/import2.err" || not_ok "import churns" "$(cat "$T/import2.err")"
$PY "$CHK" drive2 "$DB" "$T/tend.yaml" "$TEND" >"$T/drive.out" 2>&1 || not_ok "the owners' weeks" "$(tail -5 "$T/drive.out")"

"$TEND" kpis --db "$DB" --config "$T/tend.yaml" --at $AT --weeks 10 --format json >"$T/kpis.json" 2>"$T/kpis.err" ||
    not_ok "tend kpis runs" "$(cat "$T/kpis.err")"
from=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["from_week"])' "$T/kpis.json")
"$TEND" analyze process --db "$DB" --from "$from" --to $AT --at $AT --format json >"$T/process.json"
$PY "$KCHK" check "$DB" "$T/kpis.json" "$T/process.json" >"$T/check.json" 2>&1 || not_ok "the check runs" "$(tail -5 "$T/check.json")"
got=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["problems"])' "$T/check.json")
figures=$($PY -c 'import json,sys; d=json.load(open(sys.argv[1])); print(", ".join("%s r=%s n=%d" % (k, "%.3f" % v if v is not None else "-", d["pairs"][k]) for k, v in d["r"].items()))' "$T/check.json")
expect_eq "tend kpis: the team's weekly values and r with churn equal the Python computation ($figures)" "[]" "$got"
titles=$($PY -c 'import json,sys; print("|".join(k["title"] for k in json.load(open(sys.argv[1]))["kpis"]))' "$T/kpis.json")
expect_eq "the board keeps tend.yaml's order and titles" \
    "CTAs overdue|Contacts a week per account|Accounts touched in 4 weeks|Days to first action (median)|Health score (mean)|Accounts in the red band" "$titles"
out=$("$TEND" kpis --db "$DB" --config "$T/tend.yaml" --at $AT)
expect_contains "the table shows a trend line" "overdue_share" "$out"

# tend analyze impact's observational view on this world (no holdout: the
# team acts on the CTAs it chooses), against the same tables.
"$TEND" analyze impact --db "$DB" --horizon 28 --acted-within 3 --at $AT --format json >"$T/impact.json" 2>"$T/impact.err" ||
    not_ok "tend analyze impact runs" "$(cat "$T/impact.err")"
$PY "$KCHK" observe "$DB" "$T/impact.json" 28 3 >"$T/observe.json" 2>&1 || not_ok "the observe check runs" "$(tail -5 "$T/observe.json")"
got=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["problems"])' "$T/observe.json")
figures=$($PY -c 'import json,sys; d=json.load(open(sys.argv[1])); print("strata %s; weighted difference %.4f [%.4f, %.4f]" % (d["strata"], d["difference"], d["ci"][0], d["ci"][1]))' "$T/observe.json")
expect_eq "impact's acted-on vs not, by health band: counts, Newcombe intervals and the weighted difference equal Python's ($figures)" "[]" "$got"
out=$("$TEND" analyze impact --db "$DB" --horizon 28 --at $AT)
expect_contains "without a holdout the report says how to set one" "no rule has a holdout yet" "$out"

# The 12-KPI limit and the other mistakes, with the path.
bad() { printf 'kpis:\n%s' "$1" >"$T/bad.yaml"; "$TEND" kpis --db "$DB" --config "$T/bad.yaml" 2>&1; }
out=$(bad "$(for k in ctas_opened acted_share median_days_to_action p90_days_to_action overdue_share closed_by_person_share expired_share contacts_per_account coverage_4w health_mean red_share nps_mean tickets_per_account; do echo "  - $k"; done)")
expect_contains "13 KPIs are refused, naming the section" "kpis: at most 12 KPIs (13 given)" "$out"
out=$(bad "  - overdue_share
  - churn_magic
")
expect_contains "an unknown KPI is named with its place and the known ones" 'kpis[1]: unknown KPI "churn_magic" (known: ctas_opened' "$out"
out=$(bad "  - red_share
  - red_share
")
expect_contains "a KPI listed twice is refused" "kpis[1]: red_share is listed twice" "$out"

# The monthly report.
"$TEND" report monthly --db "$DB" --config "$T/tend.yaml" --month 2026-02 --out "$T/feb.html" 2>"$T/report.err" ||
    not_ok "tend report monthly runs" "$(cat "$T/report.err")"
want=$($PY - "$T/churns.jsonl" <<'PY'
import json, sys
n = sum(1 for l in open(sys.argv[1]) if json.loads(l)["timestamp"].startswith("2026-02"))
print(n, f"{n * 1200:,}")
PY
)
read -r n_feb arr_feb <<<"$want"
html=$(cat "$T/feb.html")
expect_contains "the report is one page with its stylesheet inside" "<style>" "$html"
expect_contains "it names the month" "Customer success report, 2026-02" "$html"
expect_contains "February's churned ARR (arr 1,200 each, $n_feb accounts)" "ARR lost to churn</th><td>$arr_feb" "$html"
expect_contains "NRR and GRR have their marked place" "NRR and GRR come from the revenue outcomes" "$html"
expect_contains "the KPIs are in it" "Contacts a week per account" "$html"
out=$("$TEND" report monthly --db "$DB" --month 2026-13 --out "$T/x.html" 2>&1)
expect_contains "a bad month is refused" '--month must be YYYY-MM, not "2026-13"' "$out"

# The API gives the CLI's board.
TOKEN="kpi-token-$RANDOM$RANDOM$RANDOM"
TOKEN_SHA=$(printf '%s' "$TOKEN" | sha256sum | cut -d' ' -f1)
cat "$T/tend.yaml" >"$T/serve.yaml"
cat >>"$T/serve.yaml" <<EOF0
serve:
  tokens:
    - name: k
      sha256: "$TOKEN_SHA"
EOF0
PORT=$(free_port)
start_serve "$DB" "$PORT" --config "$T/serve.yaml" --no-eval || exit 1
api() { curl -s --max-time 60 -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT$1"; }
api "/api/kpis?weeks=10" >"$T/api.json"
as_of=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["as_of"])' "$T/api.json")
"$TEND" kpis --db "$DB" --config "$T/tend.yaml" --at "$as_of" --weeks 10 --format json >"$T/cli.json"
same=$($PY -c 'import json,sys; a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2])); print(a == b)' "$T/api.json" "$T/cli.json")
expect_eq "GET /api/kpis equals tend kpis as of the same day ($as_of)" True "$same"
got=$(api "/api/reports/monthly?month=2026-02" | $PY -c 'import json,sys; r=json.load(sys.stdin); print(r["month"], r["retention"]["churned_logos"])')
expect_eq "GET /api/reports/monthly?month=2026-02" "2026-02 $n_feb" "$got"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/reports/monthly?month=02-2026")
expect_eq "a bad month: 400" 400 "$code"
kill -TERM "$SERVE_PID"
wait "$SERVE_PID"
expect_eq "SIGTERM stops tend serve with status 0" 0 "$?"
true
