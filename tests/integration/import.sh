#!/usr/bin/env bash
# import.sh: tend import, tend accounts and tend status end to end (issue 2,
# "Command line" and "Must show" 2 and 3; SPEC 1).
#
# Data in tests/data/import/:
#   all.jsonl             every message type (batch with batch-level context
#                         included) and every event name of SPEC 1
#   broken.jsonl          one broken line of each kind among valid ones; the
#                         @LINE N ID@ placeholders become N-byte messages here
#   many-bad.jsonl        25 rejected lines and one valid one (the stderr cap)
#   q-*.jsonl, q-*.csv    quarantine, then attachment by later files
#   accounts*.csv         the accounts CSV, good and bad
#   offsets.jsonl         timestamps with UTC offsets, messageId-less dedup
#   goal-bad.jsonl, concatenated.jsonl, accounts-multiline.csv: single cases
source "$(dirname "$0")/lib.sh"
D="$DATA/import"

# run ARGS...: runs tend; sets RC, OUT (stdout) and ERR (stderr).
run() {
    "$TEND" "$@" >"$T/out" 2>"$T/err"
    RC=$?
    OUT=$(cat "$T/out")
    ERR=$(cat "$T/err")
}

# accounts_csv DB / status_csv DB: the CSV listings (status without the
# schema version, which is not this test's business).
accounts_csv() { "$TEND" accounts --db "$1" --format csv; }
status_csv() { "$TEND" status --db "$1" --format csv | grep -v '^schema\.version,'; }

HEADER=account_id,name,plan,mrr,seats,renewal_date,csm_email,csm_slack,segment,premium_products,created_at,members,events

# ---- 1. every message type and every event of SPEC 1 ------------------------
db=$(db all)
f=$D/all.jsonl
run import --db "$db" "$f"
expect_eq "all: exit 0" 0 "$RC"
expect_eq "all: summary counts every message of the file" \
    "$f: 30 accepted, 0 duplicates, 0 quarantined, 0 rejected" "$OUT"
expect_eq "all: nothing on stderr" "" "$ERR"

# acme: group (with a comma in its name), identify by company.id, company_id
# and accountExternalId; u-eve removed by "Account Removed User". globex: group
# inside a batch whose context.groupId also places an anonymous login there.
# initech: created by an identify's company.id alone, no traits.
expected_accounts="$HEADER
acme,\"Acme, Inc.\",enterprise,12500.5,50,2027-03-31,dana@tend.example,U024BE7LH,enterprise,\"[\"\"analytics\"\",\"\"sso\"\"]\",2024-03-01,2,20
globex,Globex,growth,2400,20,2027-01-15,sam@tend.example,,mid-market,,,1,7
initech,,,,,,,,,,,1,2"
accounts_all=$(accounts_csv "$db")
expect_eq "all: accounts --format csv, whole rows" "$expected_accounts" "$accounts_all"

json_check=$("$TEND" accounts --db "$db" --format json | $PY -c '
import json, sys
rows = json.load(sys.stdin)
got = {r["account_id"]: (r["members"], r["events"]) for r in rows}
want = {"acme": (2, 20), "globex": (1, 7), "initech": (1, 2)}
if got != want:
    sys.exit("members/events: %r, want %r" % (got, want))
if [r["account_id"] for r in rows] != ["acme", "globex", "initech"]:
    sys.exit("not ordered by account_id")
a, g, i = rows
if (a["name"], a["mrr"], a["seats"], a["premium_products"]) != ("Acme, Inc.", 12500.5, 50, ["analytics", "sso"]):
    sys.exit("acme: %r" % a)
if (g["mrr"], g["csm_slack"], g["premium_products"]) != (2400, None, None):
    sys.exit("globex: %r" % g)
if any(i[k] is not None for k in ("name", "plan", "mrr", "seats", "renewal_date")):
    sys.exit("initech has traits: %r" % i)
print("ok")
' 2>&1)
expect_eq "all: accounts --format json parses, members/events/types right" ok "$json_check"

expected_status="what,count
accounts,3
users,6
memberships.current,4
memberships.ended,1
quarantine,0
events.alias,1
events.card_updated,1
events.churned,1
events.feature,3
events.goal_set,1
events.group,2
events.identify,4
events.invoice_issued,1
events.invoice_paid,1
events.login,3
events.milestone_completed,1
events.milestone_due,1
events.nps,1
events.outreach_replied,1
events.outreach_sent,1
events.page,1
events.payment_failed,1
events.renewed,1
events.screen,1
events.ticket_closed,1
events.ticket_opened,1
events.user_removed,1
messages.accepted,30"
status_all=$(status_csv "$db")
expect_eq "all: status --format csv, every count" "$expected_status" "$status_all"

run import --db "$db" "$f"
expect_eq "all again: exit 0" 0 "$RC"
expect_eq "all again: summary says all duplicates" \
    "$f: 0 accepted, 30 duplicates, 0 quarantined, 0 rejected" "$OUT"
expect_eq "all again: accounts unchanged" "$accounts_all" "$(accounts_csv "$db")"
expect_eq "all again: status unchanged but for messages.duplicates" "$status_all" \
    "$(status_csv "$db" | grep -v '^messages\.duplicates,')"
expect_eq "all again: messages.duplicates 30" 30 "$(status_count "$db" messages.duplicates)"

# stdin (-) reads the same way.
run import --db "$(db stdin)" - <"$f"
expect_eq "stdin: - imports the same file" \
    "0 -: 30 accepted, 0 duplicates, 0 quarantined, 0 rejected" "$RC $OUT"

# "Goal Set" is in SPEC 1's vocabulary: its properties are checked.
f=$D/goal-bad.jsonl
run import --db "$(db goal)" "$f"
expect_eq "Goal Set with due_date \"soon\" is rejected naming the field" \
    "1|$f:1: properties.due_date: must be a date YYYY-MM-DD, got \"soon\"" "$RC|$ERR"

# ---- 2. broken lines ----------------------------------------------------------
# The placeholders of broken.jsonl become messages of exactly N bytes; the file
# ends without a newline (its last line counts all the same).
f=$T/broken.jsonl
$PY - "$D/broken.jsonl" "$f" <<'EOF'
import re, sys
out = []
for line in open(sys.argv[1]).read().split('\n'):
    m = re.fullmatch(r'@LINE (\d+) (\S+)@', line)
    if m:
        head = ('{"type":"track","userId":"u-brk","event":"Big Export",'
                '"timestamp":"2026-09-02T09:00:00Z","messageId":"%s",'
                '"context":{"groupId":"brk"},"properties":{"pad":"' % m.group(2))
        tail = '"}}'
        line = head + 'x' * (int(m.group(1)) - len(head) - len(tail)) + tail
    out.append(line)
open(sys.argv[2], 'w').write('\n'.join(out).rstrip('\n'))
EOF
db=$(db broken)
run import --db "$db" --errors "$T/broken.errors" "$f"
expect_eq "broken: exit 1" 1 "$RC"
expect_eq "broken: summary keeps the valid lines" \
    "$f: 5 accepted, 0 duplicates, 0 quarantined, 11 rejected" "$OUT"
expected_errors="$f:2: invalid JSON at byte N
$f:3: userId: a userId or an anonymousId is required
$f:4: userId: must be a string, got an object
$f:5: properties: must be an object, got \"format=pdf\"
$f:6: properties.score: must be an integer from 0 to 10, got \"ten\"
$f:7: traits.mrr: must be a number from 0 to 1e+15, got \"lots\"
$f:8: type: \"purchase\" is not one of track, identify, group, page, screen, alias
$f:10: message: is 32769 bytes, over the limit of 32768
$f:11: line is 600000 bytes, over the limit of 512000
$f:12: timestamp: not an ISO-8601 date-time: \"2026-13-45T08:00:00Z\"
$f:14: batch[1]: event: is required"
norm() { sed -E 's/invalid JSON at byte [0-9]+$/invalid JSON at byte N/'; }
expect_eq "broken: each rejected line on stderr as FILE:LINE: field: reason" \
    "$expected_errors" "$(norm <<<"$ERR")"
expect_eq "broken: --errors file has every rejected line" \
    "$expected_errors" "$(norm <"$T/broken.errors")"
# Valid: line 1 (group), 9 (exactly 32768 bytes), 14 items 0 and 2, 16 (no
# final newline, account by membership). Blank line 13 and blank-ish 15 ignored.
expect_eq "broken: the valid lines are stored" \
    "$HEADER
brk,Broken Co,starter,100,,,,,,,,1,5" "$(accounts_csv "$db")"
expect_eq "broken: status counts" \
    "accounts=1 login=1 feature=2 nps=1 group=1 accepted=5 rejected=11" \
    "accounts=$(status_count "$db" accounts) login=$(status_count "$db" events.login) feature=$(status_count "$db" events.feature) nps=$(status_count "$db" events.nps) group=$(status_count "$db" events.group) accepted=$(status_count "$db" messages.accepted) rejected=$(status_count "$db" messages.rejected)"

# More than 20 rejections: 20 on stderr and a note; all in --errors.
f=$D/many-bad.jsonl
run import --db "$(db many)" --errors "$T/many.errors" "$f"
want_all=$(for i in $(seq 1 25); do
    printf '%s:%d: timestamp: not an ISO-8601 date-time: "not-a-time-%02d"\n' "$f" "$i" "$i"
done)
expect_eq "many: exit 1 and summary" \
    "1 $f: 1 accepted, 0 duplicates, 0 quarantined, 25 rejected" "$RC $OUT"
expect_eq "many: stderr shows the first 20 and a note" \
    "$(head -20 <<<"$want_all")
(more rejected lines in the --errors file)" "$ERR"
expect_eq "many: --errors file has all 25" "$want_all" "$(cat "$T/many.errors")"
run import --db "$(db many2)" "$f"
expect_eq "many without --errors: the note says how to see the rest" \
    "(more rejected lines not shown: use --errors OUT)" "$(tail -1 <<<"$ERR")"
expect_eq "many without --errors: 21 lines on stderr" 21 "$(wc -l <"$T/err")"

# Two messages run together on one line is not one JSON value: rejected, not
# half-imported.
f=$D/concatenated.jsonl
run import --db "$(db cat)" "$f"
expect_eq "two objects on one line: exit 1" 1 "$RC"
expect_eq "two objects on one line: reported as invalid JSON" \
    "$f:1: invalid JSON at byte N" "$(norm <<<"$ERR")"

# ---- 3. quarantine -------------------------------------------------------------
db=$(db q)
f=$D/q-unknown-user.jsonl
run import --db "$db" "$f"
expect_eq "quarantine: events of unknown users are quarantined (exit 0)" \
    "0 $f: 0 accepted, 0 duplicates, 2 quarantined, 0 rejected" "$RC $OUT"
expect_eq "quarantine: status shows them with the reason" \
    "quarantine,2
quarantine.user belongs to no account,2" "$(status_csv "$db" | grep '^quarantine')"
expect_eq "quarantine: no account yet" "$HEADER" "$(accounts_csv "$db")"

f=$D/q-group-later.jsonl
run import --db "$db" "$f"
expect_eq "quarantine: a later group and identify attach them" \
    "0 $f: 2 accepted, 0 duplicates, 0 quarantined, 0 rejected (2 earlier quarantined events attached)" \
    "$RC $OUT"
expect_eq "quarantine: status after attaching" "0 2 1 2" \
    "$(status_count "$db" quarantine) $(status_count "$db" messages.attached) $(status_count "$db" events.login) $(status_count "$db" memberships.current)"
expect_eq "quarantine: the account counts the attached events" \
    "$HEADER
qco,Q Co,pro,,,,,,,,,2,4" "$(accounts_csv "$db")"

f=$D/q-unknown-user.jsonl
run import --db "$db" "$f"
expect_eq "quarantine: re-importing attached events adds nothing" \
    "0 $f: 0 accepted, 2 duplicates, 0 quarantined, 0 rejected 0" "$RC $OUT $(status_count "$db" quarantine)"

f=$D/q-unknown-account.jsonl
run import --db "$db" "$f"
expect_eq "quarantine: context.groupId of an unknown account" \
    "0 $f: 0 accepted, 0 duplicates, 1 quarantined, 0 rejected" "$RC $OUT"
expect_eq "quarantine: reason unknown account" "quarantine,1
quarantine.unknown account,1" "$(status_csv "$db" | grep '^quarantine')"
f=$D/q-accounts.csv
run import --db "$db" --accounts "$f"
expect_eq "quarantine: a later --accounts CSV attaches it" \
    "0 $f: 1 accounts, 0 rejected (1 earlier quarantined events attached)" "$RC $OUT"
expect_eq "quarantine: attached to newco" "0 3 newco,New Co,trial,,,,,,,,,0,1" \
    "$(status_count "$db" quarantine) $(status_count "$db" messages.attached) $(accounts_csv "$db" | grep '^newco,')"

f=$D/q-two-accounts.jsonl
run import --db "$db" "$f"
expect_eq "quarantine: a user in two accounts" \
    "0 $f: 2 accepted, 0 duplicates, 1 quarantined, 0 rejected" "$RC $OUT"
expect_eq "quarantine: status shows why" "quarantine,1
quarantine.user belongs to several accounts,1" "$(status_csv "$db" | grep '^quarantine')"
expect_eq "quarantine: counters" "accepted=4 quarantined=4 attached=3 duplicates=2" \
    "accepted=$(status_count "$db" messages.accepted) quarantined=$(status_count "$db" messages.quarantined) attached=$(status_count "$db" messages.attached) duplicates=$(status_count "$db" messages.duplicates)"

# ---- 4. accounts CSV -----------------------------------------------------------
db=$(db csv)
f=$D/accounts.csv
run import --db "$db" --accounts "$f"
expect_eq "csv: all rows accepted, exit 0" "0 $f: 3 accounts, 0 rejected" "$RC $OUT"
expect_eq "csv: quoted commas and quotes, premium_products a;b, numbers" \
    "$HEADER
acme,\"Acme, Inc.\",enterprise,12500.5,50,2027-03-31,dana@tend.example,U024BE7LH,enterprise,\"[\"\"analytics\"\",\"\"sso\"\"]\",2024-03-01,0,0
globex,\"Globex \"\"Intl\"\"\",growth,2400,20,2027-01-15,sam@tend.example,,mid-market,,,0,0
initech,Initech,starter,,,,,,,\"[\"\"reports\"\",\"\"api\"\"]\",,0,0" "$(accounts_csv "$db")"

db=$(db csv-bad)
f=$D/accounts-bad.csv
run import --db "$db" --accounts "$f"
expect_eq "csv bad rows: exit 1 and summary" "1 $f: 2 accounts, 5 rejected" "$RC $OUT"
expect_eq "csv bad rows: each as FILE:LINE: reason" \
    "$f:3: has 3 fields, the header has 6
$f:4: has 7 fields, the header has 6
$f:5: mrr: must be a number from 0 to 1e+15, got \"lots\"
$f:6: account_id: is required
$f:7: renewal_date: must be a date YYYY-MM-DD, got \"2027-02-30\"" "$ERR"
expect_eq "csv bad rows: the good rows are kept" \
    "$HEADER
good1,\"Good, One\",pro,100,5,2027-01-01,,,,,,0,0
good2,Good Two,basic,0,0,,,,,,,0,0" "$(accounts_csv "$db")"

db=$(db csv-header)
f=$D/accounts-header.csv
run import --db "$db" --accounts "$f"
expect_eq "csv header not starting with account_id: rejected, exit 1" \
    "1|$f:1: header: the first column must be account_id" "$RC|$ERR"
expect_eq "csv header not starting with account_id: nothing stored" \
    "$HEADER" "$(accounts_csv "$db")"
expect_eq "csv header not starting with account_id: summary counts no account" \
    "$f: 0 accounts, 1 rejected" "$OUT"

# LINE is the line in the file, even after a quoted field spanning two lines
# and a blank line.
f=$D/accounts-multiline.csv
run import --db "$(db csv-ml)" --accounts "$f"
expect_eq "csv: FILE:LINE counts physical lines" \
    "1|$f:4: has 2 fields, the header has 3
$f:6: has 2 fields, the header has 3" "$RC|$ERR"

# ---- 5. usage and I/O errors ---------------------------------------------------
db=$(db usage)
run import --db "$db" "$T/missing.jsonl"
expect_eq "missing file: exit 2 and message" \
    "2|tend import: cannot open $T/missing.jsonl: No such file or directory" "$RC|$ERR"
run import --db "$db" --accounts "$T/missing.csv"
expect_eq "missing accounts CSV: exit 2 and message" \
    "2|tend import: cannot open $T/missing.csv: No such file or directory" "$RC|$ERR"
run import --db "$db"
expect_eq "import without files: exit 2 and message" \
    "2|tend import: nothing to import: give FILE... or --accounts FILE
(see tend import --help)" "$RC|$ERR"
run
expect_eq "tend without arguments: exit 2" 2 "$RC"
expect_contains "tend without arguments: usage on stderr" "Usage: tend COMMAND" "$ERR"
run import --db "$db" --bogus "$D/all.jsonl"
expect_eq "unknown option: exit 2" 2 "$RC"
expect_contains "unknown option: named" "unrecognized option '--bogus'" "$ERR"
expect_contains "unknown option: usage follows" "Usage: tend import" "$ERR"
run frobnicate
expect_eq "unknown command: exit 2 and message" "2" "$RC"
expect_contains "unknown command: named" 'tend: no command "frobnicate"' "$ERR"
run accounts --db "$db" --format xml
expect_eq "accounts --format xml: exit 2 and message" \
    "2|tend accounts: --format must be table, csv or json, not \"xml\"
(see tend accounts --help)" "$RC|$ERR"
run status --db "$db" --format xml
expect_eq "status --format xml: exit 2" 2 "$RC"
run import --db "$T/no/such/dir/x.db" "$D/all.jsonl"
expect_eq "database in a missing directory: exit 2" 2 "$RC"
expect_contains "database in a missing directory: message" "cannot open database" "$ERR"
run import --db "$db" --errors "$T/no/such/dir/errors.txt" "$D/all.jsonl"
expect_eq "--errors not writable: exit 2 and message" \
    "2|tend import: cannot write $T/no/such/dir/errors.txt: No such file or directory" "$RC|$ERR"

run --help
expect_eq "tend --help: exit 0, nothing on stderr" "0|" "$RC|$ERR"
missing=""
for w in import accounts status serve --db --help; do
    [[ "$OUT" == *"$w"* ]] || missing+=" $w"
done
expect_eq "tend --help mentions every command and common option" "" "$missing"
run import --help
expect_eq "tend import --help: exit 0, nothing on stderr" "0|" "$RC|$ERR"
missing=""
for w in "--db PATH" "--accounts FILE" "--errors OUT" "--help" "Exit status"; do
    [[ "$OUT" == *"$w"* ]] || missing+=" [$w]"
done
expect_eq "tend import --help mentions every option and the exit status" "" "$missing"
run accounts --help
expect_eq "tend accounts --help: exit 0, mentions --db and --format" "0 yes" \
    "$RC $([[ "$OUT" == *--db* && "$OUT" == *"--format"* ]] && echo yes)"

# ---- 6. timestamps with offsets, messageId-less dedup -------------------------
db=$(db offsets)
f=$D/offsets.jsonl
run import --db "$db" "$f"
# Line 10 repeats line 9 byte for byte (no messageId): a duplicate. Line 8 is at
# 23:30Z, after u-r's removal at 2026-09-02T01:00:00+02:00 = 23:00Z: quarantined.
expect_eq "offsets: summary (identical messageId-less line is a duplicate)" \
    "0 $f: 9 accepted, 1 duplicates, 1 quarantined, 0 rejected" "$RC $OUT"
# plan: "old" 20:00Z, "mid" 01:00+02:00 = 23:00Z, "new" 23:30Z, "latest"
# 18:45-05:00 = 23:45Z; the latest by instant wins. renewal_date given as
# 2027-03-01T01:00:00+02:00 is the UTC date 2027-02-28.
expect_eq "offsets: traits ordered by UTC instant, dates in UTC" \
    "$HEADER
tco,Time Co,latest,,,2027-02-28,,,,,,1,9" "$(accounts_csv "$db")"
expect_eq "offsets: removal at +02:00 ends the membership at the right instant" \
    "1 1 1" "$(status_count "$db" memberships.ended) $(status_count "$db" quarantine) $(status_count "$db" 'quarantine.user belongs to no account')"
status_offsets=$(status_csv "$db" | grep -v '^messages\.duplicates,')
run import --db "$db" "$f"
expect_eq "offsets again: every line is a duplicate, exit 0" \
    "0 $f: 0 accepted, 11 duplicates, 0 quarantined, 0 rejected" "$RC $OUT"
expect_eq "offsets again: status unchanged" "$status_offsets" \
    "$(status_csv "$db" | grep -v '^messages\.duplicates,')"

# Progress: shown on a terminal while an import of unknown size (a pipe) or a
# large file runs, never when the output is a pipe or a file. The display
# refreshes every 500 ms of an import, so the import reads from a FIFO fed
# in two halves with a pause of 0.6 s between them: time has passed when the
# second half is stored, however fast the machine imports.
if command -v script >/dev/null; then
    "$TEND" generate --accounts 20 --days 60 --out "$T/progress.jsonl" 2>/dev/null
    half=$(($(wc -l <"$T/progress.jsonl") / 2))
    head -n "$half" "$T/progress.jsonl" >"$T/progress-1.jsonl"
    tail -n +$((half + 1)) "$T/progress.jsonl" >"$T/progress-2.jsonl"
    # feed FIFO: writes the first half, pauses past the display interval, then the rest.
    feed() {
        rm -f "$1"
        mkfifo "$1"
        { cat "$T/progress-1.jsonl"; sleep 0.6; cat "$T/progress-2.jsonl"; } >"$1" &
    }
    feed "$T/progress.fifo"
    script -qec "\"$TEND\" import --db \"$(db progress-tty)\" \"$T/progress.fifo\"" /dev/null \
        >"$T/tty.out" 2>&1
    wait
    line=$(tr '\r' '\n' <"$T/tty.out" | grep -a '%' | grep -a 'lines/s' | head -1)
    expect_contains "an import from a pipe shows its progress on a terminal (${line//$'\033[K'/})" "lines/s" "$line"
    expect_contains "and ends with its summary" "$(wc -l <"$T/progress.jsonl" | tr -d ' ') accepted" "$(cat "$T/tty.out")"
    feed "$T/progress.fifo"
    "$TEND" import --db "$(db progress-pipe)" "$T/progress.fifo" >"$T/pipe.out" 2>&1
    wait
    expect_eq "and none when its output is not a terminal" 0 "$(grep -c 'lines/s' "$T/pipe.out")"
else
    not_ok "script(1) is installed (util-linux) to test the progress display"
fi

# ---- a JSON array instead of JSON Lines (issue 15) ------------------------------
# Refused once, whole, with how to convert it; not a rejection per line, and
# nothing of it imported. Self-contained: its own files and database.
arr=$T/array.json
{
    printf '\n  \n[\n'
    for i in 1 2 3; do
        printf '  {"type":"group","userId":"u%d","groupId":"arr-%d","timestamp":"2026-01-0%dT00:00:00Z","messageId":"arr-%d"}' "$i" "$i" "$i" "$i"
        [ "$i" -lt 3 ] && printf ',\n' || printf '\n'
    done
    printf ']\n'
} >"$arr"
run import --db "$(db array)" "$arr"
expect_eq "JSON array: exit 2" 2 "$RC"
expect_eq "JSON array: said once, no per-line rejections" 0 "$(grep -c "$arr:[0-9]" "$T/err")"
expect_contains "JSON array: tend reads JSON Lines" "$arr is a JSON array, but tend reads JSON Lines" "$ERR"
expect_contains "JSON array: and how to convert it" "jq -c '.[]' $arr > $T/array.jsonl" "$ERR"
expect_eq "JSON array: nothing imported" 0 "$(status_count "$(db array)" messages.accepted)"
# A one-line array over the 500 KB line limit is the same mistake, said the same way.
$PY -c 'import json,sys; json.dump([{"type":"track","userId":"u","event":"e%d" % i,"properties":{"pad":"x"*200}} for i in range(3000)], open(sys.argv[1],"w"))' "$T/one-line.json"
run import --db "$(db array)" "$T/one-line.json"
expect_eq "a one-line JSON array of $(stat -c %s "$T/one-line.json") bytes: exit 2" 2 "$RC"
expect_contains "and the same message, not a line over the limit" "is a JSON array" "$ERR"
run import --db "$(db array)" - <"$arr"
expect_eq "a JSON array on stdin: exit 2" 2 "$RC"
expect_contains "and the same message" "stdin is a JSON array" "$ERR"
if command -v jq >/dev/null; then
    jq -c '.[]' "$arr" >"$T/array.jsonl"
    run import --db "$(db array)" "$T/array.jsonl"
    expect_eq "converted as told, it imports" "$T/array.jsonl: 3 accepted, 0 duplicates, 0 quarantined, 0 rejected" "$OUT"
fi
# Blank lines before the first message are skipped to find the first byte;
# line numbers stay the file's.
printf '\n\n{"type":"track","userId":"u","event":"e","messageId":"bl-1"}\n\nnot json\n' >"$T/blank-first.jsonl"
run import --db "$(db array)" "$T/blank-first.jsonl"
expect_eq "leading blank lines: the bad line keeps its number" "$T/blank-first.jsonl:5: invalid JSON at byte 1" "$ERR"

# ---- rollups after an import ---------------------------------------------------
# SQLite's tend import rebuilds the daily rollups of the days it touched; on
# PostgreSQL it leaves them stale (activity_stale) for the next evaluation
# (docs/store.md, "Rollups after tend import"). Either way tend metrics right
# after the import gives what it gives once tend eval has rebuilt them.
"$TEND" generate --accounts 30 --days 12 --seed 3 --end 2026-11-23 --out "$T/gen.jsonl" 2>/dev/null
db=$(db rollups)
run import --db "$db" "$T/gen.jsonl"
expect_eq "generated data: exit 0" 0 "$RC"
stale=$(dbq "$db" "SELECT count(*) FROM activity_stale")
if [ "$BACKEND" = sqlite ]; then
    expect_eq "SQLite: the import rebuilt the rollups (no day stale)" 0 "$stale"
else
    check "PostgreSQL: the import left its days stale for the next evaluation ($stale)" \
        test "$stale" -ge 10
fi
before=$("$TEND" metrics --db "$db" --at 2026-11-20 --format csv)
before_t=$("$TEND" metrics --db "$db" --at 2026-11-16T13:30:00Z --format csv)
run eval --db "$db" --from 2026-11-21 --to 2026-11-21 --quiet
expect_eq "tend eval: exit 0" 0 "$RC"
expect_eq "tend eval rebuilt the stale rollups" 0 "$(dbq "$db" "SELECT count(*) FROM activity_stale")"
expect_eq "tend metrics at a midnight: the same before and after the rebuild ($(echo "$before" | wc -l) rows)" \
    "$before" "$("$TEND" metrics --db "$db" --at 2026-11-20 --format csv)"
expect_eq "tend metrics at an instant: the same before and after the rebuild" \
    "$before_t" "$("$TEND" metrics --db "$db" --at 2026-11-16T13:30:00Z --format csv)"
