"""impact_sim.py: the simulator and the independent check of tend analyze
impact (tests/integration/impact.sh; docs/analysis.md, "Impact").

  events OUT N SEED D0          N accounts (mrr, one of 8 owners), each with one
                                login 20 days before D0: no_login fires on D0
  plant CTAS OUT EFFECT SEED D0 SHARE RULE_SEED
                                reads `tend ctas --format json`; checks each CTA's
                                held_out against the documented draw (core/holdout.h);
                                writes Account Churned events with a planted effect:
                                churn time ~ Exponential(hazard), the held-out
                                hazard giving 30% churn within 90 days, the
                                delivered hazard EFFECT times it (0.5: delivering
                                halves the hazard; 1: no effect). Prints the true
                                difference of the 90-day churn probabilities.
  check IMPACT CTAS CHURNS EVENTS TRUE_DIFF HORIZON D0
                                recomputes the experiment from the CTAs and the
                                events written (not from tend's store), the
                                interval with statsmodels (Newcombe), and compares;
                                says whether the interval covers TRUE_DIFF.
Everything is seeded: the same run gives the same numbers."""
import datetime as dt
import json
import math
import random
import sys

MASK = (1 << 64) - 1


def draw(seed, account, rule):
    """core/holdout.c's draw: FNV-1a 64 of "%016x|account|rule", SplitMix64's
    finaliser, the top 53 bits over 2^53."""
    h = 14695981039346656037
    for b in f"{seed:016x}|{account}|{rule}".encode():
        h = ((h ^ b) * 1099511628211) & MASK
    h ^= h >> 30
    h = (h * 0xBF58476D1CE4E5B9) & MASK
    h ^= h >> 27
    h = (h * 0x94D049BB133111EB) & MASK
    h ^= h >> 31
    return (h >> 11) / 2.0**53


def day(s):
    return dt.date.fromisoformat(s)


def ts(d, seconds=0):
    t = dt.datetime(d.year, d.month, d.day, tzinfo=dt.timezone.utc) + dt.timedelta(seconds=seconds)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def events(out, n, seed, d0):
    rnd = random.Random(seed)
    d0 = day(d0)
    with open(out, "w") as f:
        for i in range(n):
            acct = f"acc{i:05d}"
            mrr = rnd.choice([100, 250, 500, 1000, 2500])
            f.write(json.dumps({"type": "group", "userId": f"u{i}", "groupId": acct,
                                "timestamp": ts(d0 - dt.timedelta(days=60)),
                                "messageId": f"g{i}",
                                "traits": {"name": f"Account {i}", "mrr": mrr,
                                           "csm_email": f"csm{i % 8}@x.io"}}) + "\n")
            f.write(json.dumps({"type": "track", "userId": f"u{i}", "event": "Signed In",
                                "timestamp": ts(d0 - dt.timedelta(days=20), 3600),
                                "messageId": f"l{i}", "context": {"groupId": acct}}) + "\n")


BASE_90 = 0.30  # the held-out arm's churn within 90 days


def plant(ctas_path, out, effect, seed, d0, share, rule_seed):
    ctas = [c for c in json.load(open(ctas_path)) if c["rule"] == "no_login"]
    d0 = day(d0)
    lam = -math.log(1 - BASE_90) / 90.0
    rnd = random.Random(seed)
    mismatched = 0
    with open(out, "w") as f:
        for c in sorted(ctas, key=lambda c: c["account_id"]):
            held = draw(rule_seed, c["account_id"], "no_login") < share
            mismatched += held != c["held_out"]
            hazard = lam if c["held_out"] else lam * effect
            t = rnd.expovariate(hazard)  # days after the CTA opened
            if t < 200:
                when = d0 + dt.timedelta(days=int(t))
                f.write(json.dumps({"type": "track", "userId": f"u{c['account_id'][3:].lstrip('0') or '0'}",
                                    "event": "Account Churned", "timestamp": ts(when, 7200),
                                    "messageId": f"churn-{c['account_id']}",
                                    "context": {"groupId": c["account_id"]},
                                    "properties": {"reason": "simulated"}}) + "\n")
    true_diff = (1 - math.exp(-lam * effect * 90)) - BASE_90
    print(f"{mismatched} {true_diff:.12f} {len(ctas)}")


def check(impact_path, ctas_path, churns_path, events_path, true_diff, horizon, d0):
    from statsmodels.stats.proportion import confint_proportions_2indep
    r = json.load(open(impact_path))
    rule = [x for x in r["rules"] if x["rule"] == "no_login"][0]
    ctas = [c for c in json.load(open(ctas_path)) if c["rule"] == "no_login"]
    mrr = {}
    for line in open(events_path):
        m = json.loads(line)
        if m["type"] == "group":
            mrr[m["groupId"]] = m["traits"]["mrr"]
    churn = {}
    for line in open(churns_path):
        m = json.loads(line)
        churn[m["context"]["groupId"]] = day(m["timestamp"][:10])
    d0 = day(d0)
    n = [0, 0]
    k = [0, 0]
    arr_delivered = 0.0
    for c in ctas:
        arm = 1 if c["held_out"] else 0
        opened = day(c["opened_date"])
        assert opened == d0, c
        n[arm] += 1
        cd = churn.get(c["account_id"])
        if cd is not None and opened <= cd < opened + dt.timedelta(days=horizon):
            k[arm] += 1
        if arm == 0:
            arr_delivered += 12 * mrr[c["account_id"]]
    lo, hi = confint_proportions_2indep(k[0], n[0], k[1], n[1], method="newcomb", compare="diff")
    diff = k[0] / n[0] - k[1] / n[1]
    problems = []

    def same(name, a, b, tol=1e-9):
        if a is None or abs(a - b) > tol * max(1.0, abs(b)):
            problems.append(f"{name}: tend {a} vs python {b}")

    same("delivered accounts", rule["delivered"]["accounts"], n[0], 0)
    same("delivered churned", rule["delivered"]["churned"], k[0], 0)
    same("held-out accounts", rule["held_out"]["accounts"], n[1], 0)
    same("held-out churned", rule["held_out"]["churned"], k[1], 0)
    same("difference", rule["difference"], diff)
    same("ci_low (statsmodels newcomb)", rule["ci_low"], lo)
    same("ci_high (statsmodels newcomb)", rule["ci_high"], hi)
    same("delivered ARR", rule["delivered"]["arr"], arr_delivered, 1e-12)
    same("ARR kept", rule["arr_kept"], -diff * arr_delivered, 1e-9)
    same("ARR kept low", rule["arr_kept_low"], -hi * arr_delivered, 1e-9)
    covers = rule["ci_low"] <= true_diff <= rule["ci_high"]
    print(json.dumps({"problems": problems, "covers_true": covers, "covers_zero":
                      rule["ci_low"] <= 0 <= rule["ci_high"], "n": n, "churned": k,
                      "difference": rule["difference"], "ci": [rule["ci_low"], rule["ci_high"]],
                      "true": true_diff, "arr_kept": rule["arr_kept"]}))


if __name__ == "__main__":
    cmd, a = sys.argv[1], sys.argv[2:]
    if cmd == "events":
        events(a[0], int(a[1]), int(a[2]), a[3])
    elif cmd == "plant":
        plant(a[0], a[1], float(a[2]), int(a[3]), a[4], float(a[5]), int(a[6]))
    elif cmd == "check":
        check(a[0], a[1], a[2], a[3], float(a[4]), int(a[5]), a[6])
    else:
        sys.exit(f"impact_sim.py: unknown command {cmd}")
