#!/usr/bin/env bash
# The command line as a newcomer meets it (issue 15, "bugs a new user hit"):
# a mistyped --db is refused by every command that only reads, and created
# only by the commands that bring data in; tend --version; a mistyped
# command gets the nearest one.
. "$(dirname "$0")/lib.sh"

cd "$T" || exit 2
printf 'channels:\n  log:\n    type: log\n    path: %s/notes.log\n' "$T" >log.yaml
printf 'account_id,churned,x\na,1,1\nb,0,2\nc,1,3\nd,0,4\n' >table.csv

# ---- a database that does not exist -------------------------------------------
# Each read command, with its required options, on typo.db: exit 2, the
# message, and no file left behind (SQLite would have created one).
read_commands=(
    "accounts"
    "status"
    "metrics --at 2026-01-01"
    "score --at 2026-01-01"
    "score --account a --explain --at 2026-01-01"
    "eval --at 2026-01-01"
    "ctas"
    "cta show 1"
    "cta close 1 --reason resolved"
    "outbox"
    "outbox retry --dead"
    "deliver --config log.yaml"
    "analyze --lead 30"
    "analyze --reasons"
    "analyze --table table.csv --outcome churned"
    "backtest --from 2026-01-01 --to 2026-01-31"
    "rules"
    "tune --from 2026-01-01 --to 2026-01-31"
    "segments"
)
for c in "${read_commands[@]}"; do
    # shellcheck disable=SC2086
    out=$("$TEND" $c --db typo.db 2>&1)
    rc=$?
    if [ "$rc" -eq 2 ] && [[ "$out" == *"typo.db: no such database (create one with tend import)"* ]] &&
        ! [ -e typo.db ] && ! [ -e typo.db-wal ]; then
        ok "tend $c --db typo.db: exit 2, no such database, nothing created"
    else
        not_ok "tend $c --db typo.db: exit 2, no such database, nothing created" "exit $rc" "$out" \
            "$(ls typo.db* 2>&1)"
    fi
    rm -f typo.db typo.db-wal typo.db-shm
done
# The default --db (./tend.db) is no exception.
out=$("$TEND" accounts 2>&1)
rc=$?
expect_eq "tend accounts without --db and no ./tend.db: exit 2" 2 "$rc"
expect_contains "and names the default path" "tend.db: no such database" "$out"
[ -e tend.db ] && not_ok "and leaves no ./tend.db behind" || ok "and leaves no ./tend.db behind"

# The commands that bring data in create it; then the readers open it.
echo '{"type":"group","userId":"u1","groupId":"a","timestamp":"2026-01-01T00:00:00Z","messageId":"m1"}' >one.jsonl
check "tend import creates a new database" "$TEND" import --db new.db one.jsonl
n=$("$TEND" accounts --db new.db --format csv 2>&1 | tail -n +2 | wc -l)
expect_eq "and tend accounts reads it" 1 "$n"
check "an empty database made by import is a database: tend eval runs on it" \
    "$TEND" eval --db new.db --at 2026-01-02 --quiet
# TEND_DB names the database when --db is not given; --db still wins.
n=$(TEND_DB=new.db "$TEND" accounts --format csv 2>&1 | tail -n +2 | wc -l)
expect_eq "TEND_DB=new.db: tend accounts reads it without --db" 1 "$n"
out=$(TEND_DB=new.db "$TEND" accounts --db missing.db 2>&1)
expect_contains "--db wins over TEND_DB" "missing.db: no such database" "$out"
# A postgresql:// location is PostgreSQL: a server that is not there is named
# (host and port, never the password), and the exit is not 0.
out=$(TEND_DB=postgresql://tend:s3cret@127.0.0.1:1/tend "$TEND" accounts 2>&1)
rc=$?
expect_contains "TEND_DB=postgresql://...: an unreachable server is named" \
    'cannot connect to PostgreSQL: connection to server at "127.0.0.1", port 1 failed' "$out"
if [[ $rc -ne 0 && "$out" != *s3cret* ]]; then
    ok "an unreachable PostgreSQL fails the command (exit $rc) and the password is not shown"
else
    not_ok "an unreachable PostgreSQL fails the command and the password is not shown" "rc=$rc $out"
fi
# A path that exists but cannot be opened is an I/O error, not "no such database".
mkdir adir.db
out=$("$TEND" accounts --db adir.db 2>&1)
rc=$?
expect_eq "a directory given as --db: exit 2" 2 "$rc"
[[ "$out" == *"no such database"* ]] && not_ok "and is not called missing" "$out" ||
    ok "and is not called missing ($out)"
# tend serve creates its database too (it takes events over HTTP).
port=$(free_port)
if start_serve served.db "$port" --no-eval; then
    [ -s served.db ] && ok "tend serve creates a new database" || not_ok "tend serve creates a new database"
else
    not_ok "tend serve creates a new database" "$(cat "$T/serve.log")"
fi
kill "$SERVE_PID" 2>/dev/null
wait "$SERVE_PID" 2>/dev/null

# ---- the version ----------------------------------------------------------------
v=$("$TEND" --version)
rc=$?
expect_eq "tend --version exits 0" 0 "$rc"
version=$(sed -n 's/^VERSION := //p' "$ROOT/Makefile")
[[ "$v" =~ ^tend\ ${version//./\\.}( \(.+\))?$ ]] && ok "tend --version says the Makefile's VERSION ($v)" ||
    not_ok "tend --version says the Makefile's VERSION" "VERSION $version" "printed: $v"
expect_eq "tend version says the same" "$v" "$("$TEND" version)"
if git -C "$ROOT" rev-parse --git-dir >/dev/null 2>&1; then
    commit=$(git -C "$ROOT" rev-parse --short=7 HEAD)
    expect_contains "and the git commit it was built from" "$commit" "$v"
fi

# ---- a mistyped command -----------------------------------------------------------
out=$("$TEND" acounts 2>&1)
rc=$?
expect_eq "tend acounts exits 2" 2 "$rc"
expect_eq "and suggests the nearest command" 'tend: no command "acounts"; did you mean "accounts"?' "$out"
out=$("$TEND" backtets 2>&1)
expect_eq "a swap of two letters is one edit" 'tend: no command "backtets"; did you mean "backtest"?' "$out"
out=$("$TEND" --verison 2>&1)
expect_contains "--verison suggests --version" 'did you mean "--version"?' "$out"
out=$("$TEND" frobnicate 2>&1)
rc=$?
expect_eq "a word far from every command exits 2" 2 "$rc"
[[ "$out" == *"did you mean"* ]] && not_ok "and suggests nothing" "$out" || ok "and suggests nothing"
expect_contains "but lists the commands" "Commands:" "$out"

# ---- unknown keys in tend.yaml ------------------------------------------------------
# Every section, every level: an unknown key stops the command (exit 2) with
# the file, the path and the key, never a silent default. health: was the
# one section that ignored them.
unknown_key_cases=(
    'health:\n  wieghts: {logins: 1}\n|health.wieghts: unknown setting'
    'health:\n  bands: {red_blow: 50}\n|health.bands.red_blow: unknown setting'
    'health:\n  foo: 1\n|health.foo: unknown setting'
    'health:\n  components:\n    support:\n      - {input: tickets_open, wieght: 1, curve: [[0, 100]]}\n|health.components.support[0].wieght: unknown setting'
    'rules:\n  no_login: {min_dayz: 3}\n|rules.no_login.min_dayz: unknown setting'
    'rules:\n  custom:\n    - {name: x, when: "true", titel: y}\n|rules.custom.x.titel: unknown setting'
    'ctas:\n  cooldown: 3\n|ctas.cooldown: unknown setting'
    'delivery:\n  basee_url: x\n|delivery: unknown setting "basee_url"'
    'delivery:\n  digest: {hours: 3}\n|delivery.digest: unknown setting "hours"'
    'delivery:\n  retry: {max: 3}\n|delivery.retry: unknown setting "max"'
    'channels:\n  l: {type: log, path: x.log, pth: 1}\n|channels.l: unknown setting "pth"'
    'channels:\n  l: {type: log, path: x.log}\nroutes:\n  - {to: l, mach: {}}\n|routes[0]: unknown setting "mach"'
    'channels:\n  l: {type: log, path: x.log}\nroutes:\n  - {to: l, match: {priorty: high}}\n|routes[0].match: unknown condition "priorty"'
    'serve:\n  listn: x\n|serve: unknown setting "listn"'
    'serve:\n  users:\n    - {email: a@b.example, password_hash: x, nmae: y}\n|serve.users[0]: unknown setting "nmae"'
    'serve:\n  tokens:\n    - {name: a, sha256: x, scop: y}\n|serve.tokens[0]: unknown setting "scop"'
    'helth:\n  weights: {logins: 1}\n|unknown section "helth"'
)
for c in "${unknown_key_cases[@]}"; do
    yaml=${c%|*}
    want=${c##*|}
    printf "$yaml" >typo.yaml
    out=$("$TEND" eval --db new.db --at 2026-01-02 --config typo.yaml 2>&1)
    rc=$?
    if [ "$rc" -eq 2 ] && [[ "$out" == *"typo.yaml: $want"* ]]; then
        ok "tend.yaml: $want"
    else
        not_ok "tend.yaml: $want" "exit $rc" "$out"
    fi
done

# ---- a terminal never gets data's control characters -----------------------------------
# Free text may hold them (docs/ingest.md): an account name with an ESC sequence and a
# newline is shown escaped in a table, and kept as it is in CSV and JSON.
printf '%s\n' '{"type":"group","userId":"cc-u","groupId":"cc-acct","messageId":"cc-1","timestamp":"2026-01-01T00:00:00Z","traits":{"name":"Evil\u001b[2J\nCorp"}}' >cc.jsonl
"$TEND" import --db cc.db cc.jsonl >/dev/null 2>&1
out=$("$TEND" accounts --db cc.db)
if printf '%s' "$out" | grep -q $'\x1b'; then
    not_ok "tend accounts (table) never writes an ESC byte to the terminal" "$(printf '%s' "$out" | od -c | head -5)"
else
    ok "tend accounts (table) never writes an ESC byte to the terminal"
fi
expect_eq "the name is shown escaped on the account's one line" 2 "$(printf '%s\n' "$out" | wc -l)"
expect_contains "as Evil\\x1b[2J\\nCorp" 'Evil\x1b[2J\nCorp' "$out"
name=$("$TEND" accounts --db cc.db --format json | $PY -c 'import json,sys; print(repr(json.load(sys.stdin)[0]["name"]))')
expect_eq "JSON keeps the name as it is" "'Evil\\x1b[2J\\nCorp'" "$name"
