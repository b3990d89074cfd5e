#!/usr/bin/env bash
# tend analyze survival (issue 20, part 2): Kaplan-Meier curves with
# Greenwood's standard errors and log-log bands, and the Cox fit with Efron's
# ties, held to statsmodels (SurvfuncRight, PHReg(ties="efron")) to 1e-4
# relative on coefficients, standard errors, p-values, survival and its se:
# on generated tables with whole-day times (many ties), on the Stanford heart
# transplant data that Debian's python3-statsmodels ships
# (statsmodels.datasets.heart, read offline), and on the store's own landmark
# cohort of generated accounts (its --export read by the oracle).
. "$(dirname "$0")/lib.sh"

CHECK="$ROOT/tests/integration/survival_check.py"

# oracle NAME COMMAND...: ok with the checker's own line (what matched, the
# largest difference) when COMMAND exits 0.
oracle() {
    local name=$1 out
    shift
    if out=$("$@" 2>&1); then ok "$name: ${out#ok: }"; else not_ok "$name" "$out"; fi
}

# survival NAME ARGS...: tend analyze survival, stdout to $T/NAME.out and
# stderr to $T/NAME.err; sets RC.
survival() {
    local name=$1
    shift
    "$TEND" analyze survival "$@" >"$T/$name.out" 2>"$T/$name.err"
    RC=$?
}

# ---- tables -----------------------------------------------------------------

for seed in 1 2; do
    $PY "$CHECK" gen-surv "$T/gen$seed.csv" "$seed"
    survival gen$seed --table "$T/gen$seed.csv" --time days --event churned --format json
    expect_eq "generated table $seed: exit 0" 0 "$RC"
    oracle "generated table $seed (400 rows, whole days: tied events): KM and Cox as statsmodels" \
        $PY "$CHECK" surv "$T/gen$seed.csv" days churned "$T/gen$seed.out"
done
ties=$($PY -c 'import json,sys; print(max(p["events"] for p in json.load(open(sys.argv[1]))["km"]["points"]))' "$T/gen1.out")
if [ "$ties" -ge 3 ]; then ok "the generated data has tied event times (up to $ties on one day)"; else not_ok "ties" "$ties"; fi

$PY "$CHECK" heart "$T/heart.csv"
expect_eq "the heart data loads offline from python3-statsmodels (69 patients)" 70 "$(wc -l <"$T/heart.csv")"
survival heart --table "$T/heart.csv" --time survival --event censors --format json
expect_eq "heart: exit 0" 0 "$RC"
oracle "heart (statsmodels.datasets.heart): KM and Cox on age as statsmodels" \
    $PY "$CHECK" surv "$T/heart.csv" survival censors "$T/heart.out"

survival picked --table "$T/gen1.csv" --time days --event churned --columns x2,x1 --format json
oracle "--columns picks the covariates in its order" \
    $PY "$CHECK" surv "$T/gen1.csv" days churned "$T/picked.out" x2,x1

survival text --table "$T/heart.csv" --time survival --event censors --svg "$T/heart.svg"
expect_contains "the table format: the curve at checkpoints with its band" "83.7% [72.5, 90.6]" \
    "$(cat "$T/text.out")"
expect_contains "and the hazard ratio of age" "age " "$(grep -A2 'Cox proportional' "$T/text.out")"

# Bad input: a clear error and exit 2.
survival noevent --table "$T/heart.csv" --time survival
expect_eq "--table without --event exits 2" 2 "$RC"
expect_contains "saying what is missing" "--table needs --time COLUMN and --event COLUMN" "$(cat "$T/noevent.err")"
survival notime --table "$T/heart.csv" --time nope --event censors
expect_eq "an unknown --time column exits 2" 2 "$RC"
expect_contains "naming it and the columns there are" "--time nope: no numeric column of that name; the numeric columns are: survival, age" "$(cat "$T/notime.err")"
awk -F, 'NR == 1 { print; next } { $1 = ($1 == 15 ? -15 : $1); print }' OFS=, "$T/heart.csv" >"$T/neg.csv"
survival neg --table "$T/neg.csv" --time survival --event censors
expect_eq "a negative time exits 2" 2 "$RC"
expect_contains "naming the row" "row 1: time -15" "$(cat "$T/neg.err")"
$PY -c 'import pandas as pd, sys; d = pd.read_csv(sys.argv[1]); d["age2"] = d.age * 2; d.to_csv(sys.argv[2], index=False)' \
    "$T/heart.csv" "$T/coll.csv"
survival coll --table "$T/coll.csv" --time survival --event censors
expect_eq "collinear covariates exit 2" 2 "$RC"
expect_contains "saying so" "collinear" "$(cat "$T/coll.err")"

# ---- the store -----------------------------------------------------------------

DB=$(db surv)
"$TEND" generate --accounts 300 --days 365 --seed 1 --end 2026-11-01 --out "$T/saas.jsonl" 2>/dev/null
# One segment named as an attack on the report's HTML: it must show escaped.
sed 's|"segment":"enterprise"|"segment":"<script>alert(1)</script>"|' "$T/saas.jsonl" >"$T/hostile.jsonl"
"$TEND" import --db "$DB" "$T/hostile.jsonl" >/dev/null
survival store --db "$DB" --landmark 2026-05-01 --at 2026-10-31 --format json \
    --export "$T/cohort.csv" --svg "$T/band.svg"
expect_eq "analyze survival on the store: exit 0" 0 "$RC"
oracle "the landmark cohort: every curve (band, segment, plan) and the Cox fit as statsmodels" \
    $PY "$CHECK" surv-store "$T/cohort.csv" "$T/store.out"
check "the cohort: customers on the landmark, followed to --at (no time past 183 days), churns counted" \
    $PY - "$T/store.out" "$T/cohort.csv" <<'PY'
import json, sys
import pandas as pd
r = json.load(open(sys.argv[1]))
d = pd.read_csv(sys.argv[2])
assert r["landmark"] == "2026-05-01" and r["at"] == "2026-10-31", r
assert r["accounts"] >= 200 and r["churned"] >= 5, (r["accounts"], r["churned"])
assert d.time_days.max() <= 183 and d.time_days.min() > 0, d.time_days.describe()
assert (d[d.churned == 0].time_days == 183).all(), "censored at --at"
assert r["accounts"] + r["left_out"]["not_a_customer"] + r["left_out"]["short_history"] <= 300
names = [c["name"] for c in r["cox"]["coefficients"]]
assert "tenure_days" in names and "days_since_login" in names, names
PY
check "the SVG chart is well-formed, with both axes labelled with units and a legend per band" \
    $PY - "$T/band.svg" "$T/store.out" <<'PY'
import json, sys
import xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
texts = [t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text")]
assert any("days since 2026-05-01" in t for t in texts), texts
assert any("not yet churned (%" in t for t in texts), texts
for band in json.load(open(sys.argv[2]))["band"]:
    assert band in texts, (band, texts)
PY
# The kept report (issue 20, Must show 2): one per run on the store, its
# title and summary, the curves as inline SVG, the Cox table with the JSON's
# factors and hazard ratios (rounded to 4 significant digits).
expect_eq "the run on the store kept one report" 1 "$(dbq "$DB" "SELECT count(*) FROM reports")"
expect_contains "and says where to see it" "report 1 kept: /reports/1" "$(cat "$T/store.err")"
expect_eq "its title: the grouping, the landmark and the end" \
    "analyze|Survival by band, 2026-05-01 to 2026-10-31" \
    "$(dbq "$DB" "SELECT kind, title FROM reports WHERE id = 1")"
dbq "$DB" "SELECT summary FROM reports WHERE id = 1" >"$T/report1.summary"
dbq "$DB" "SELECT body FROM reports WHERE id = 1" >"$T/report1.html"
check "its summary: cohort size, churns, landmark and end as the JSON" \
    $PY - "$T/report1.summary" "$T/store.out" <<'PY'
import json, sys
s = open(sys.argv[1]).read().strip()
r = json.load(open(sys.argv[2]))
want = "%d accounts (customers on 2026-05-01, the landmark) followed to 2026-10-31: %d churned" % (
    r["accounts"], r["churned"])
assert s == want, (s, want)
PY
check "its HTML: the curves by band as inline SVG, each band's row, the Cox table's factors and hazard ratios as the JSON" \
    $PY - "$T/report1.html" "$T/store.out" <<'PY'
import json, sys
from html.parser import HTMLParser
body = open(sys.argv[1]).read()
r = json.load(open(sys.argv[2]))
assert "<?xml" not in body, "an XML prolog inside HTML"
assert body.count("<svg") == 1 and "</svg>" in body, "one inline SVG"
class Rows(HTMLParser):
    def __init__(self):
        super().__init__(); self.rows = []; self.row = None; self.cell = None
    def handle_starttag(self, tag, a):
        if tag == "tr": self.row = []
        elif tag in ("td", "th") and self.row is not None: self.cell = ""
    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None:
            self.row.append(self.cell.strip()); self.cell = None
        elif tag == "tr" and self.row is not None:
            self.rows.append(self.row); self.row = None
    def handle_data(self, d):
        if self.cell is not None: self.cell += d
p = Rows(); p.feed(body)
rows = {row[0]: row for row in p.rows}
for band, km in r["band"].items():
    assert band in rows and rows[band][1] == str(km["n"]) and rows[band][2] == str(km["events"]), (band, rows.get(band))
assert "left at 180 days" in rows["group"] and "left at 365 days" not in rows["group"], rows["group"]
assert rows["factor"][:2] == ["factor", "hazard ratio"], rows["factor"]
worst = 0
for c in r["cox"]["coefficients"]:
    assert c["name"] in rows, c["name"]
    shown = float(rows[c["name"]][1])
    rel = abs(shown - c["hazard_ratio"]) / c["hazard_ratio"]
    assert rel < 1e-3, (c["name"], shown, c["hazard_ratio"])
    worst = max(worst, rel)
assert "fewer than 10 per factor" in body
print("%d factors, hazard ratios within %.1e relative" % (len(r["cox"]["coefficients"]), worst))
PY
survival seg --db "$DB" --landmark 2026-05-01 --at 2026-10-31 --by segment --html "$T/seg.html"
expect_eq "--by segment keeps a second report" "Survival by segment, 2026-05-01 to 2026-10-31" \
    "$(dbq "$DB" "SELECT title FROM reports WHERE id = 2")"
dbq "$DB" "SELECT body FROM reports WHERE id = 2" >"$T/report2.html"
check "a segment named <script>: escaped in the chart and the table (kept and --html), never markup" \
    $PY - "$T/report2.html" "$T/seg.html" <<'PY'
import sys
for f in sys.argv[1:]:
    body = open(f).read()
    assert "<script" not in body.lower(), f
    assert body.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 2, f  # legend and table row
PY
survival tablenorep --table "$T/heart.csv" --time survival --event censors
expect_eq "--table keeps no report" 2 "$(dbq "$DB" "SELECT count(*) FROM reports")"
survival tablehtml --table "$T/heart.csv" --time survival --event censors --html "$T/x.html"
expect_eq "--table with --html exits 2" 2 "$RC"

survival bytable --db "$DB" --landmark 2026-05-01 --at 2026-10-31 --by plan
expect_contains "--by plan: a row per plan" "starter" "$(cat "$T/bytable.out")"
expect_contains "and the Cox table" "tenure_days" "$(cat "$T/bytable.out")"
survival badby --db "$DB" --by owner
expect_eq "--by owner exits 2" 2 "$RC"
expect_contains "listing what --by takes" "--by must be band, segment or plan" "$(cat "$T/badby.err")"
survival late --db "$DB" --landmark 2026-11-01 --at 2026-10-31
expect_eq "a landmark after --at exits 2" 2 "$RC"
survival early --db "$DB" --landmark 2020-01-01 --at 2026-10-31
expect_eq "a landmark before any account exits 2" 2 "$RC"
expect_contains "saying why" "no account was a customer" "$(cat "$T/early.err")"
expect_contains "too few churns for the factors: a caution says so" \
    "fewer than 10 per factor: the estimates are unstable" "$(cat "$T/bytable.out")"
