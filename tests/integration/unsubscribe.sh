#!/usr/bin/env bash
# The public /unsubscribe/TOKEN route's bounds (server/unsubscribe.h, web.c):
# requests limited per client address (429 with Retry-After past the burst,
# another address unaffected), made-up and overlong tokens refused with 404
# and nothing stored. Valid links are customer.sh's.
. "$(dirname "$0")/lib.sh"

DB="$(db unsub)"
PORT=$(free_port)
URL="http://127.0.0.1:$PORT"
start_serve "$DB" "$PORT" || exit 1

# A token of the right shape whose MAC does not verify.
FAKE="MTo0MjpjYXJkX2V4cGlyeTphQGIuZXhhbXBsZQ.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

# 40 requests from 127.0.0.1 (GET and POST alternately): the first 30 are
# answered (404), the rest get 429 while the address's bucket refills at one
# each 2 s (40 requests take far less than the 20 s that would refill them all;
# each answer's time is printed).
codes=""
start=$(date +%s%N)
for i in $(seq 1 40); do
    m=GET
    [ $((i % 2)) = 0 ] && m=POST
    codes+="$(curl -s -o /dev/null -w '%{http_code}' -X $m --max-time 30 "$URL/unsubscribe/$FAKE") "
done
ms=$((($(date +%s%N) - start) / 1000000))
n404=$(tr ' ' '\n' <<<"$codes" | grep -c '^404$')
n429=$(tr ' ' '\n' <<<"$codes" | grep -c '^429$')
check "40 made-up links from one address in $ms ms: 30 to 34 answered 404, the rest 429 ($n404 404, $n429 429)" \
    test "$n404" -ge 30 -a "$n404" -le 34 -a $((n404 + n429)) = 40 -a "$ms" -lt 20000

hdr=$(curl -s -D - -o "$T/limited.html" --max-time 30 "$URL/unsubscribe/$FAKE")
expect_contains "a limited request says when to come back (Retry-After)" "Retry-After:" "$hdr"
expect_contains "and the page says why" "Too many unsubscribe requests" "$(cat "$T/limited.html")"

code=$(curl -s -o /dev/null -w '%{http_code}' --interface 127.0.0.2 --max-time 30 "$URL/unsubscribe/$FAKE")
expect_eq "another address is not limited by the first one's requests" 404 "$code"

long=$(head -c 6000 /dev/zero | tr '\0' A)
code=$(curl -s -o /dev/null -w '%{http_code}' --interface 127.0.0.3 --max-time 30 "$URL/unsubscribe/$long.$long")
check "an overlong token is refused ($code), not parsed" test "$code" = 404 -o "$code" = 414
expect_eq "nothing was recorded" 0 "$(dbq "$DB" "SELECT count(*) FROM customer_unsubscribes")"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 "$URL/healthz")
expect_eq "tend serve still answers" 200 "$code"
