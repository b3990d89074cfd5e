#!/usr/bin/env bash
# Roles, token scopes, people managed in the app, the audit log and single
# sign-on (docs/dashboard.md "Roles and permissions", "Users", "Audit log",
# "Single sign-on"; docs/api.md), against a real tend serve on 127.0.0.1:
#
# - a permission matrix: every route of the route table (read from GET
#   /api/routes, so a new route cannot be missed: one the matrix has no
#   example for fails it) as a page and as an API endpoint, for nobody, each
#   role (csm on their own book and on another's, and in own-book mode) and
#   each token scope, allowed or refused with the status expected;
# - the audit log's entry of each action (CTA change, invitation, role
#   change, disabling, password set);
# - an invitation's one-time link works once; a disabled person's session
#   stops at once;
# - OIDC sign-in against a stand-in provider (oidc_provider.py), and a forged
#   ID token, a wrong nonce and a wrong state refused.
# The checks are Python (permissions_check.py); this script prepares the
# data, the people and the tokens, and starts the servers.
. "$(dirname "$0")/lib.sh"

pin_clock_at_noon
export TEND T
TODAY=$(date -u +%F)
TOMORROW=$(date -u -d "$TODAY + 1 day" +%F)
YESTERDAY=$(date -u -d "$TODAY - 1 day" +%F)
FROM=$(date -u -d "$TODAY - 20 days" +%F)
DB="$(db perms)"
PORT=$(free_port)
PORT_OWN=$(free_port)
OIDC_PORT=$(free_port)
export TODAY YESTERDAY DB PORT PORT_OWN OIDC_PORT

hash_of() { printf '%s\n' "$1" | "$TEND" passwd 2>"$T/passwd.err" | grep -o '\$argon2id\$[^[:space:]"]*' | head -1; }
PW='a long password 12'
export PW
H=$(hash_of "$PW")
[[ "$H" == '$argon2id$'* ]] || {
    not_ok "tend passwd makes a hash" "$(cat "$T/passwd.err")"
    exit 1
}

# One token per scope (and one without scope: act, as before scopes).
TOKENS=""
for s in ingest read act admin none; do
    tok="tend_$s$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    sha=$(printf '%s' "$tok" | sha256sum | cut -d' ' -f1)
    export "TOKEN_${s^^}=$tok"
    if [ "$s" = none ]; then
        TOKENS+="    - name: t-$s
      sha256: \"$sha\"
"
    else
        TOKENS+="    - name: t-$s
      sha256: \"$sha\"
      scope: $s
"
    fi
done

# Three accounts: own-co in the csm's book, other-co and third-co in the
# lead's; each with a detractor yesterday, so each has a CTA.
cat >"$T/data.jsonl" <<EOF
{"type":"group","userId":"u1","groupId":"own-co","timestamp":"${FROM}T09:00:00Z","messageId":"g1","traits":{"name":"Own Co","csm_email":"csm@example.com","segment":"smb","plan":"starter","mrr":90,"seats":3}}
{"type":"group","userId":"u2","groupId":"other-co","timestamp":"${FROM}T09:00:00Z","messageId":"g2","traits":{"name":"Other Co","csm_email":"lead@example.com","segment":"smb","plan":"starter","mrr":90,"seats":3}}
{"type":"group","userId":"u3","groupId":"third-co","timestamp":"${FROM}T09:00:00Z","messageId":"g3","traits":{"name":"Third Co","csm_email":"lead@example.com","segment":"smb","plan":"starter","mrr":90,"seats":3}}
EOF
for i in 1 2 3; do
    co=$(sed -n "${i}p" <<<"own-co
other-co
third-co")
    cat >>"$T/data.jsonl" <<EOF
{"type":"identify","userId":"u$i","timestamp":"${FROM}T09:00:01Z","messageId":"i$i","traits":{"email":"u$i@customer.example","company_id":"$co"}}
{"type":"track","userId":"u$i","event":"Signed In","timestamp":"${YESTERDAY}T09:30:00Z","messageId":"s$i","context":{"groupId":"$co"}}
{"type":"track","userId":"u$i","event":"NPS Survey Responded","timestamp":"${YESTERDAY}T10:00:00Z","messageId":"n$i","properties":{"score":1},"context":{"groupId":"$co"}}
EOF
done
out=$("$TEND" import --db "$DB" "$T/data.jsonl" 2>&1) || {
    not_ok "tend import of the test data" "$out"
    exit 1
}
out=$("$TEND" eval --db "$DB" --from "$FROM" --to "$TODAY" --quiet 2>&1) || {
    not_ok "tend eval of the test data" "$out"
    exit 1
}

# The stand-in OIDC provider (python3-cryptography signs its ID tokens).
$PY "$ROOT/tests/integration/oidc_provider.py" "$OIDC_PORT" "$T/oidc" >"$T/oidc.log" 2>&1 &
PIDS+=("$!")
wait_for 60 test -s "$T/oidc/ready" || {
    not_ok "the stand-in OIDC provider starts" "$(cat "$T/oidc.log")"
    exit 1
}
export OIDC_SECRET=oidc-client-secret-for-tests

# write_config FILE CSM_READS
write_config() {
    cat >"$1" <<EOF
serve:
  sign_in_per_minute: 0
  csm_reads: $2
  users:
    - email: admin@example.com
      name: Ada Admin
      role: admin
      password_hash: "$H"
    - email: lead@example.com
      role: lead
      password_hash: "$H"
    - email: csm@example.com
      role: csm
      password_hash: "$H"
    - email: viewer@example.com
      role: viewer
      password_hash: "$H"
    - email: legacy@example.com
      password_hash: "$H"
  tokens:
$TOKENS  sso:
    issuer: http://127.0.0.1:$OIDC_PORT
    client_id: tend-test
    client_secret_env: OIDC_SECRET
    redirect_url: http://127.0.0.1:$3/sso/callback
    default_role: viewer
delivery:
  base_url: http://127.0.0.1:$3
playbooks:
  nps_response:
    - {id: call, title: Call the detractor}
EOF
}
write_config "$T/tend.yaml" all "$PORT"
write_config "$T/own.yaml" own_book "$PORT_OWN"

start_serve "$DB" "$PORT" --config "$T/tend.yaml" || {
    not_ok "tend serve starts with roles, scopes and sso" "$(cat "$T/serve.log")"
    exit 1
}
ok "tend serve starts with roles, scopes and sso"
# A second node on the same database, with serve.csm_reads: own_book.
start_serve "$DB" "$PORT_OWN" --config "$T/own.yaml" || {
    not_ok "a second tend serve starts with csm_reads: own_book" "$(cat "$T/serve.log")"
    exit 1
}

$PY "$ROOT/tests/integration/permissions_check.py"
