#!/usr/bin/env python3
"""Which node-scoring model explains the real vc-scheduler's node choices?

Replays every `Binding Task <pod> to node <node>` line of a realvolcano harness run's
vc-scheduler.log (klog -v 3) against the cluster state the scheduler saw: pods bound by earlier
committed statements (until the recorder saw them Succeeded/Failed/deleted) plus the pods of
this session's statements (committed, or still open; discarded ones are taken off). For each
decision it scores every node the pod fits under two models of the Helm conf's node scores
(nodeorder least requested + balanced allocation, binpack; volsim's formulas):

- v1.15: every pod counted once;
- 7a5d24ecc (DRIFT F, `compat = "volcano-7a5d24ecc:F"`): the pods this session allocated
  counted twice by nodeorder's k8s scores (binpack reads Volcano's own node.Used: once).

and counts the decisions whose chosen node is among the best-scored. Only the Python 3
standard library; exit 2 with a message naming the file on bad input.

    reports/reality/placement_check.py --work "$RV_WORK" --journal OUT/journal.jsonl \
        [--node-cpu 8] [--node-mem-gi 32]
"""

import argparse
import calendar
import json
import os
import re
import sys

BIND = re.compile(r"Binding Task <[^/]+/([^>]+)> to node <([^>]+)>")
STAMP = re.compile(r"^[IWE](\d\d)(\d\d) (\d\d):(\d\d):(\d\d)\.(\d+)")


def fail(msg):
    print(f"placement_check: {msg}", file=sys.stderr)
    sys.exit(2)


def read_jobs(path):
    jobs = {}
    try:
        with open(path) as f:
            for i, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    e = json.loads(line)
                except ValueError as err:
                    fail(f"{path}: line {i}: not JSON ({err})")
                if e.get("op") == "submit":
                    j = e.get("job") or {}
                    if "id" not in j or "cpu_milli" not in j or "mem_bytes" not in j:
                        fail(f"{path}: line {i}: submit entry without job id/cpu_milli/mem_bytes")
                    jobs[j["id"]] = (int(j["cpu_milli"]), int(j["mem_bytes"]))
    except OSError as err:
        fail(f"{path}: {err}")
    if not jobs:
        fail(f"{path}: no submitted jobs (expected a volsim live run's journal.jsonl)")
    return jobs


def pod_ends(path):
    """pod name -> wall time the recorder first saw it Succeeded/Failed/deleted."""
    end = {}
    try:
        with open(path) as f:
            for i, line in enumerate(f, 1):
                try:
                    e = json.loads(line)
                except ValueError:
                    continue  # calibrate.py reports malformed recorder lines; skip them here too
                if e.get("res") != "pod" or "name" not in e or "t" not in e:
                    continue
                done = e.get("phase") in ("Succeeded", "Failed") or e.get("type") == "DELETED"
                if done and e["name"] not in end:
                    end[e["name"]] = float(e["t"])
    except OSError as err:
        fail(f"{path}: {err} (start the harness with RECORD=1)")
    return end


def stamp(line, year):
    m = STAMP.match(line)
    if not m:
        return None
    mo, d, hh, mm, ss, frac = m.groups()
    return calendar.timegm((year, int(mo), int(d), int(hh), int(mm), int(ss))) + float("0." + frac)


def scores(req, used, extra, cap):
    """volsim's Helm-conf node score: least requested + balanced allocation (k8s, with
    `extra` counted on top of `used`) + binpack (on `used` only)."""
    rc, rm = req
    uc, um = used[0] + extra[0] + rc, used[1] + extra[1] + rm

    def least(r, c):
        return 0 if r > c else (c - r) * 100 // c

    la = (least(uc, cap[0]) + least(um, cap[1])) // 2
    a, b = min(uc / cap[0], 1.0), min(um / cap[1], 1.0)
    bal = int((1 - abs(a - b) / 2) * 100)
    bc, bm = used[0] + rc, used[1] + rm
    bp = 0.0 if bc > cap[0] or bm > cap[1] else 100 * (bc / cap[0] + bm / cap[1]) / 2
    return la + bal + bp


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", required=True, help="the harness work dir (RV_WORK)")
    ap.add_argument("--journal", required=True, help="the live run's journal.jsonl")
    ap.add_argument("--node-cpu", type=float, default=8, help="node allocatable cpu (cores)")
    ap.add_argument("--node-mem-gi", type=float, default=32, help="node allocatable memory (GiB)")
    ap.add_argument("--year", type=int, default=2026, help="year of the klog timestamps")
    a = ap.parse_args()
    cap = (int(a.node_cpu * 1000), int(a.node_mem_gi * 1024**3))
    jobs = read_jobs(a.journal)
    end = pod_ends(os.path.join(a.work, "logs", "events.jsonl"))
    log = os.path.join(a.work, "logs", "vc-scheduler.log")

    def req(pod, where):
        job = pod.rsplit("-main-", 1)[0]
        if job not in jobs:
            fail(f"{where}: pod {pod!r} belongs to no job of {a.journal}")
        return jobs[job]

    bound = {}  # pod -> (node, bind time)
    jobs_req = {}  # pod -> request
    # Every node any pod was bound to (a pass over the log first: the first decisions must
    # see the nodes that are still empty).
    nodes = set()
    try:
        with open(log) as f:
            for line in f:
                if "Binding Task" in line:
                    m = BIND.search(line)
                    if m:
                        nodes.add(m.group(2))
    except OSError as err:
        fail(f"{log}: {err}")
    stmt, insess, base = [], {}, {}
    res = {"v1.15": [0, 0], "7a5d24ecc F": [0, 0]}
    # decisions where the two models' best sets differ: [count, v1.15 right, F right]
    split = [0, 0, 0]
    sess_t = None
    try:
        f = open(log)
    except OSError as err:
        fail(f"{log}: {err}")
    with f:
        for i, line in enumerate(f, 1):
            if "Open Session" in line:
                sess_t = stamp(line, a.year)
                insess, stmt = {}, []
                base = {}
                for pod, (n, tb) in bound.items():
                    if tb <= sess_t and end.get(pod, float("inf")) > sess_t:
                        r = jobs_req[pod]
                        u = base.setdefault(n, [0, 0])
                        u[0] += r[0]
                        u[1] += r[1]
            elif "allocate.go" in line and "Binding Task" in line:
                m = BIND.search(line)
                if not m or sess_t is None:
                    fail(f"{log}: line {i}: a binding before any session, or unreadable")
                pod, chosen = m.groups()
                r = req(pod, f"{log}: line {i}")
                best_sets = []
                for model in res:
                    sc = {}
                    for n in sorted(nodes | set(base)):
                        b, s = base.get(n, [0, 0]), insess.get(n, [0, 0])
                        used = (b[0] + s[0], b[1] + s[1])
                        if used[0] + r[0] > cap[0] or used[1] + r[1] > cap[1]:
                            continue
                        extra = s if model != "v1.15" else (0, 0)
                        sc[n] = scores(r, used, extra, cap)
                    best = max(sc.values()) if sc else None
                    best_sets.append({n for n, v in sc.items() if v == best})
                    res[model][0] += chosen in best_sets[-1]
                    res[model][1] += 1
                if best_sets[0] != best_sets[1]:
                    split[0] += 1
                    split[1] += chosen in best_sets[0]
                    split[2] += chosen in best_sets[1]
                stmt.append((pod, chosen))
                jobs_req[pod] = r
                s = insess.setdefault(chosen, [0, 0])
                s[0] += r[0]
                s[1] += r[1]
            elif "Discarding operations" in line:
                for pod, n in stmt:
                    r = jobs_req[pod]
                    insess[n][0] -= r[0]
                    insess[n][1] -= r[1]
                stmt = []
            elif "Committing operations" in line:
                for pod, n in stmt:
                    bound[pod] = (n, sess_t)
                stmt = []
    total = res["v1.15"][1]
    if total == 0:
        fail(f"{log}: no 'Binding Task' lines (run vc-scheduler with SCHED_V>=3)")
    print(f"placement check of {log}: {total} node choices of allocate")
    for model, (ok, n) in res.items():
        print(f"  {model:<12} chosen node among the best-scored: {ok}/{n} ({100 * ok / n:.1f} %)")
    print(
        f"  where the models' best nodes differ ({split[0]} choices): v1.15 right {split[1]}, "
        f"7a5d24ecc F right {split[2]}"
    )
    print("  (nodes other than the chosen one may have been equally scored; the real scheduler then")
    print("   picked one at random, so 100 % is the most a model can reach)")


if __name__ == "__main__":
    main()
