#!/usr/bin/env bash
# Segments (docs/dashboard.md "Segments"): the daily evaluation's groups by
# segment, plan and owner, checked figure for figure against an independent
# computation over the same events (segments_check.py: the pandas metrics
# peer, the group traits of the JSON Lines, the stored scores and CTAs);
# written in the evaluation's transaction, once per day, the same on a
# second evaluation of the day; tend segments' errors.
. "$(dirname "$0")/lib.sh"

if ! $PY -c 'import pandas' 2>/dev/null; then
    not_ok "pandas is installed (scripts/install-deps installs python3-pandas)"
    exit 0
fi
DB=$(db s)
"$TEND" generate --accounts 60 --days 150 --seed 11 --end 2026-11-01 --out "$T/g.jsonl" 2>/dev/null
out=$("$TEND" import --db "$DB" "$T/g.jsonl" 2>&1)
expect_contains "the generated history imports whole" " 0 rejected" "$out"

out=$("$TEND" segments --db "$DB" 2>&1)
rc=$?
expect_eq "tend segments before any evaluation exits 2" 2 "$rc"
expect_contains "and says to evaluate first" "evaluate first (tend eval --at DATE)" "$out"

t0=$(date +%s%N)
out=$("$TEND" eval --db "$DB" --from 2026-08-01 --to 2026-10-31 --quiet 2>&1) || not_ok "tend eval replays 92 days" "$out"
ms=$((($(date +%s%N) - t0) / 1000000))
rows=$(dbq "$DB" "SELECT count(*) FROM segment_days")
days=$(dbq "$DB" "SELECT count(DISTINCT day) FROM segment_days")
expect_eq "a group row per kind and name for each of the 92 evaluated days" 92 "$days"
ok "92 days evaluated in $ms ms, $rows group-days stored"

# The last evaluated day (open CTAs count those opened before it), and the
# days before as the replay stored them.
for at in 2026-10-31; do
    $PY "$ROOT/tests/integration/segments_check.py" "$TEND" "$DB" "$T/g.jsonl" "$at" ||
        not_ok "segments_check.py at $at"
done

# Evaluating the day again changes nothing: the same rows.
before=$(dbq "$DB" "SELECT kind, name, accounts, health_sum, logins_7d, open_ctas FROM segment_days WHERE day = 20757 ORDER BY 1, 2")
"$TEND" eval --db "$DB" --at 2026-10-31 --quiet >/dev/null 2>&1
after=$(dbq "$DB" "SELECT kind, name, accounts, health_sum, logins_7d, open_ctas FROM segment_days WHERE day = 20757 ORDER BY 1, 2")
expect_eq "a second evaluation of the day stores the same groups" "$before" "$after"
expect_eq "no run's parts left behind by a one-node evaluation" 0 "$(dbq "$DB" "SELECT count(*) FROM segment_parts")"

# The shapes tend segments prints.
csv=$("$TEND" segments --db "$DB" --by owner --format csv)
expect_contains "csv has the header" "by,name,day,accounts,arr,health,red,yellow,green" "$csv"
out=$("$TEND" segments --db "$DB" --by region 2>&1)
rc=$?
expect_eq "--by region exits 2" 2 "$rc"
expect_contains "and names the choices" "--by must be segment, plan or owner, not \"region\"" "$out"
out=$("$TEND" segments --db "$DB" --at 2026-07-01 2>&1)
expect_contains "--at before any evaluated day says so" "no segments stored on or before that day" "$out"
table=$("$TEND" segments --db "$DB" --at 2026-09-15)
expect_contains "--at picks that day's rows" "2026-09-15" "$table"

# A bad segments: section names its path and stops the command.
printf 'segments:\n  smb: {ownr: a@b.c}\n' >"$T/bad.yaml"
out=$("$TEND" eval --db "$DB" --at 2026-10-31 --config "$T/bad.yaml" 2>&1)
rc=$?
expect_eq "a mistake in segments: exits 2" 2 "$rc"
expect_contains "and names the setting" "segments.smb.ownr: unknown setting (known: owner)" "$out"
