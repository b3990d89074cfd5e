#!/usr/bin/env bash
# The accounts list a page at a time through tend serve (docs/dashboard.md
# "The accounts list at scale"; store_account_list), on either backend:
#
# - every sort, with and without filters, pages of 7 that put together are
#   the list of one page of 500, in the documented order (the sort's known
#   values first; ties by name with A-Z case ignored, then by id), checked
#   here in Python from the rows' own fields; the last page; a page past
#   the end is empty and says the total;
# - the counts and lists kept between requests follow writes of another
#   connection (another node): an account scored into another band moves
#   and is counted there on the next request, a new owner appears in the
#   owner list and its filter.
. "$(dirname "$0")/lib.sh"

pin_clock_at_noon
TODAY=$(date -u +%F)
TOMORROW=$(date -u -d "$TODAY + 1 day" +%F)
BEFORE=$(date -u -d "$TODAY - 30 days" +%F)
DB="$(db list)"
PORT=$(free_port)

"$TEND" generate --accounts 90 --days 40 --end "$TOMORROW" --out "$T/gen.jsonl" 2>"$T/gen.err" &&
    "$TEND" import --db "$DB" "$T/gen.jsonl" >"$T/import.out" 2>&1 &&
    "$TEND" eval --db "$DB" --from "$BEFORE" --to "$BEFORE" --quiet >"$T/eval.out" 2>&1 &&
    "$TEND" eval --db "$DB" --from "$TODAY" --to "$TODAY" --quiet >>"$T/eval.out" 2>&1 || {
    not_ok "generate, import and evaluate 90 accounts" "$(tail -5 "$T/gen.err" "$T/import.out" "$T/eval.out")"
    exit 1
}
# Ties on purpose: names equal but for case, and no name (the id is the label).
dbq "$DB" "UPDATE accounts SET name = 'Tie Co' WHERE id % 9 = 1" >/dev/null
dbq "$DB" "UPDATE accounts SET name = 'tie co' WHERE id % 9 = 2" >/dev/null
dbq "$DB" "UPDATE accounts SET name = NULL WHERE id % 9 = 3" >/dev/null
dbq "$DB" "UPDATE accounts SET mrr = NULL WHERE id % 7 = 0" >/dev/null

"$TEND" token ci >"$T/token.out" 2>&1
TOKEN=$(awk '/^token:/ {print $2}' "$T/token.out")
SHA=$(awk -F'"' '/sha256:/ {print $2}' "$T/token.out")
cat >"$T/tend.yaml" <<YAML
serve:
  timezone: UTC
  daily_at: "00:01"
  tokens:
    - name: ci
      sha256: "$SHA"
YAML
start_serve "$DB" "$PORT" --config "$T/tend.yaml" || {
    not_ok "tend serve starts"
    exit 1
}
export PORT TOKEN DB TODAY

$PY - <<'PY'
import json, os, urllib.parse, urllib.request

PORT, TOKEN = os.environ["PORT"], os.environ["TOKEN"]

def api(**params):
    url = f"http://127.0.0.1:{PORT}/api/accounts?" + urllib.parse.urlencode(params, doseq=True)
    req = urllib.request.Request(url, headers={"Authorization": "Bearer " + TOKEN})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.load(r)

def ok(name): print("ok - " + name)
def not_ok(name, why): print("not ok - " + name + "\n#   " + str(why)[:600])

def label(a):
    return (a["name"] if a["name"] is not None else a["id"]).translate(
        str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")).encode()

# The documented order, from the rows' fields (scores rounded to 0.1 in the
# API, so equal rounded values are not judged against each other).
def key_of(sort, a):
    v = {"score": a["score"], "-score": None if a["score"] is None else -a["score"],
         "change": a["change_30d"], "mrr": None if a["mrr"] is None else -a["mrr"],
         "ctas": -a["open_ctas"], "name": 0}[sort]
    return (v is None, v if v is not None else 0)

def in_order(sort, rows):
    for x, y in zip(rows, rows[1:]):
        kx, ky = key_of(sort, x), key_of(sort, y)
        if kx > ky:
            return f"{x['id']} {kx} before {y['id']} {ky}"
        if kx == ky and sort in ("name", "ctas") or (kx[0] and ky[0]):
            if (label(x), x["id"].encode()) > (label(y), y["id"].encode()):
                return f"{x['id']} ({x['name']}) before {y['id']} ({y['name']}) on a tie"
    return None

whole = api(per_page=500)
n = whole["total"]
owners = whole["owners"]
filters = [{}, {"band": "yellow,green"}, {"owner": owners[0]}, {"owner": "none"},
           {"segment": "smb"}, {"q": "co"}]
bad = []
pages = 0
for sort in ["score", "-score", "change", "mrr", "name", "ctas"]:
    for f in filters:
        full = api(sort=sort, per_page=500, **f)
        why = in_order(sort, full["accounts"])
        if why:
            bad.append(f"sort={sort} {f}: {why}")
        got, page = [], 1
        while True:
            p = api(sort=sort, per_page=7, page=page, **f)
            pages += 1
            if p["total"] != full["total"]:
                bad.append(f"sort={sort} {f} page {page}: total {p['total']}, not {full['total']}")
            if not p["accounts"]:
                break
            got += [a["id"] for a in p["accounts"]]
            page += 1
        if got != [a["id"] for a in full["accounts"]]:
            bad.append(f"sort={sort} {f}: pages of 7 list {got[:12]}..., one page {[a['id'] for a in full['accounts']][:12]}...")
if bad:
    not_ok("every sort and filter: pages of 7 put together are the whole list, in the documented order", bad[:5])
else:
    ok(f"every sort (6) and filter (6): {pages} pages of 7 put together are the whole list of {n}, in the documented order")
last = api(per_page=7, page=(n + 6) // 7)
past = api(per_page=7, page=(n + 6) // 7 + 1)
if len(last["accounts"]) == n - 7 * ((n + 6) // 7 - 1) and past["accounts"] == [] and past["total"] == n:
    ok(f"the last page has the rest ({len(last['accounts'])}), a page past it none and the total ({n})")
else:
    not_ok("the last page and past it", (len(last["accounts"]), past["total"], n))
json.dump({"first": whole["accounts"][0], "bands": whole["bands"], "owners": owners},
          open(os.environ["T"] + "/before.json", "w"))
PY

# Another connection (another node) scores the worst account green, and
# gives an account a new owner: the next request shows both.
WORST=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["first"]["id"])' "$T/before.json")
dbq "$DB" "UPDATE scores SET overall = 99.5, band = 'green' WHERE day = $(day_num "$TODAY") AND account_id = (SELECT id FROM accounts WHERE external_id = '$WORST')" >/dev/null
dbq "$DB" "UPDATE accounts SET csm_email = 'zed.new@tend.example' WHERE external_id = '$WORST'" >/dev/null
export WORST
$PY - <<'PY'
import json, os, urllib.parse, urllib.request

PORT, TOKEN, WORST = os.environ["PORT"], os.environ["TOKEN"], os.environ["WORST"]

def api(**params):
    url = f"http://127.0.0.1:{PORT}/api/accounts?" + urllib.parse.urlencode(params, doseq=True)
    req = urllib.request.Request(url, headers={"Authorization": "Bearer " + TOKEN})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.load(r)

before = json.load(open(os.environ["T"] + "/before.json"))
now = api(per_page=500)
old_band = before["first"]["band"]
want = dict(before["bands"])
want[old_band] -= 1
want["green"] += 1
best = api(sort="-score", per_page=500)["accounts"]
at = [a["id"] for a in best].index(WORST)
above = [a for a in best[:at] if a["score"] is None or a["score"] < 99.5]
moved = best[at]
if (now["accounts"][0]["id"] != WORST and now["bands"] == want and not above
        and moved["score"] == 99.5 and moved["band"] == "green"):
    print(f"ok - the worst account ({WORST}), scored green by another connection, leaves the top of worst first for the top of best first (#{at + 1}, after scores of 99.5 and up) and is counted green on the next request ({before['bands']} -> {now['bands']})")
else:
    print(f"not ok - an account scored into another band by another connection moves on the next request\n#   first {now['accounts'][0]['id']} (was {WORST}), best first #{at + 1} {moved}, bands {now['bands']} (want {want})")
zed = api(owner="zed.new@tend.example")
if "zed.new@tend.example" in now["owners"] and [a["id"] for a in zed["accounts"]] == [WORST] and zed["total"] == 1:
    print("ok - a new owner written by another connection is in the owner list and its filter on the next request")
else:
    print(f"not ok - a new owner shows on the next request\n#   owners {now['owners']}, filter {zed['total']}")
PY

exit 0
