#!/usr/bin/env python3
"""Calibrate volsim's timing model (EngineParams) against a real Volcano control plane.

Reads the logs of a realvolcano harness work dir (../shared/realvolcano, started with RECORD=1)
after a run (e.g. `volsim reality`): logs/events.jsonl (recorder.py: watch events with their
receipt time), logs/vc-scheduler.log (klog lines `Open Session` / `Close Session`, SCHED_V>=3)
and logs/fakelet.log (pod running/succeeded transitions). Prints, per measured quantity, the
number of samples, median, p10, p90, min and max in wall ms and, with --speed K, the model ms
(wall x K) that `volsim reality` and the scenario's `[sim]` should use. docs/calibration.md
says what each quantity is and how it maps to EngineParams.

Only the Python 3 standard library. Exit 2 with a message naming the file on bad input.

    scripts/calibrate.py --work "$RV_WORK" --speed 10 [--namespace volsim] [--json out.json]
"""
import argparse
import collections
import json
import os
import re
import sys

KLOG = re.compile(r"^[IWE](\d\d)(\d\d) (\d\d):(\d\d):(\d\d\.\d+)\s+\d+ session\.go:\d+\] (Open|Close) Session (\S+)")


def fail(msg):
    print(f"calibrate: {msg}", file=sys.stderr)
    sys.exit(2)


def jsonl(path):
    if not os.path.exists(path):
        fail(f"{path}: missing (start the harness with RECORD=1 and run a workload first)")
    out, bad = [], []
    with open(path) as f:
        for i, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                bad.append(i)
    if bad:
        # a log still being written, or two writers interleaving a line: say so, go on
        print(f"calibrate: {path}: skipped {len(bad)} line(s) that are not one JSON object "
              f"(first: line {bad[0]})", file=sys.stderr)
    if len(bad) > max(10, len(out) // 10):
        fail(f"{path}: {len(bad)} of {len(bad) + len(out)} lines are not JSON: is this the right file?")
    return out


def stats(xs):
    xs = sorted(xs)
    if not xs:
        return None
    q = lambda p: xs[min(len(xs) - 1, int(p * (len(xs) - 1) + 0.5))]
    return {"n": len(xs), "median": q(0.5), "p10": q(0.1), "p90": q(0.9), "min": xs[0], "max": xs[-1]}


def sessions(path, day_offset):
    """(open_t, close_t) per scheduler session, in unix seconds (klog has no year: the
    recorder's first timestamp gives the date; the machine's clock is UTC)."""
    if not os.path.exists(path):
        fail(f"{path}: missing (the vc-scheduler log of the harness)")
    opened, out = {}, []
    with open(path, errors="replace") as f:
        for line in f:
            m = KLOG.match(line)
            if not m:
                continue
            _mo, _d, hh, mm, ss, kind, sid = m.groups()
            t = int(hh) * 3600 + int(mm) * 60 + float(ss) + day_offset
            if kind == "Open":
                opened[sid] = t
            elif sid in opened:
                out.append((opened.pop(sid), t))
    out.sort()
    # a day boundary inside the log: later sessions earlier in the day
    fixed, add = [], 0.0
    for o, c in out:
        if fixed and o + add < fixed[-1][0] - 43200:
            add += 86400
        fixed.append((o + add, c + add if c >= o else c + add + 86400))
    return fixed


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", default=os.environ.get("RV_WORK"), help="harness work dir (default $RV_WORK)")
    ap.add_argument("--speed", type=float, default=1.0, help="volsim --speed of the run (model ms = wall ms x speed)")
    ap.add_argument("--namespace", default="volsim")
    ap.add_argument("--json", help="also write the figures as JSON here")
    ap.add_argument("--run-dir", help="the volsim run's output dir (observed.csv): with --observed-csv")
    ap.add_argument("--observed-csv", help="write the run's waits as the cluster saw them (vcjob ADDED -> "
                    "minMember-th pod Running, recorder times) in observed.csv format, for "
                    "`volsim reality --observed`; put it in --run-dir (the journal must be beside it)")
    a = ap.parse_args()
    if not a.work:
        fail("--work: no harness work dir (set RV_WORK or pass --work)")
    if not (a.speed > 0):
        fail(f"--speed {a.speed}: must be > 0")
    logs = os.path.join(a.work, "logs")
    evs = sorted((r for r in jsonl(os.path.join(logs, "events.jsonl")) if r.get("ns") == a.namespace),
                 key=lambda r: r["t"])
    if not evs:
        fail(f"{logs}/events.jsonl: no event in namespace {a.namespace!r}")
    t0 = evs[0]["t"]
    day0 = t0 - (t0 % 86400)
    sess = [s for s in sessions(os.path.join(logs, "vc-scheduler.log"), day0) if t0 - 1 <= s[0] <= evs[-1]["t"] + 1]
    opens = [o for o, _ in sess]
    fk = jsonl(os.path.join(logs, "fakelet.log"))
    succeeded = sorted(r["t"] for r in fk if r.get("event") == "succeeded" and r.get("ns") == a.namespace)

    jobs = collections.defaultdict(dict)          # vcjob name -> milestones
    pods = collections.defaultdict(dict)          # pod name -> milestones
    for r in evs:
        res, t, typ = r["res"], r["t"], r["type"]
        if res == "job":
            j = jobs[r["name"]]
            j.setdefault("submit", t)
            if r.get("phase") == "Completed":
                j.setdefault("completed", t)
        elif res == "podgroup":
            owner = (r.get("owner") or [None])[0]
            if owner is None:
                continue
            j = jobs[owner]
            j.setdefault("pg_added", t)
            ph = "(deleted)" if typ == "DELETED" else r.get("phase")
            if ph in ("Inqueue", "Running"):
                j.setdefault("pg_" + ph.lower(), t)
            if ph == "Running":
                j.setdefault("pg_inqueue", t)
            if typ == "DELETED":
                j.setdefault("pg_deleted", t)
        elif res == "pod":
            p = pods[r["name"]]
            p["job"] = r.get("job")
            if typ == "ADDED":
                p.setdefault("added", t)
            if r.get("node"):
                p.setdefault("bound", t)
            if r.get("phase") == "Running":
                p.setdefault("running", t)
    for p in pods.values():
        j = jobs.get(p["job"])
        if j is None:
            continue
        for k, agg in (("added", max), ("bound", max), ("running", max)):
            if k in p:
                j[k + "_last"] = agg(j.get(k + "_last", p[k]), p[k])
        if "added" in p:
            j["added_first"] = min(j.get("added_first", p["added"]), p["added"])

    def last_open_before(t):
        lo, hi = 0, len(opens)
        while lo < hi:
            mid = (lo + hi) // 2
            if opens[mid] <= t:
                lo = mid + 1
            else:
                hi = mid
        return opens[lo - 1] if lo else None

    def first_open_after(t):
        for o in opens:  # opens is sorted; linear is fine for ~10^4 cycles per job list
            if o > t:
                return o
        return None

    ms = lambda d: d * 1000.0
    rows = collections.OrderedDict()

    def add(name, xs, what):
        rows[name] = (stats([ms(x) for x in xs if x is not None and x >= 0]), what)

    add("cycle_interval", [b[0] - a_[0] for a_, b in zip(sess, sess[1:])],
        "scheduler: Open Session -> next Open Session (= --schedule-period + the cycle's own duration)")
    add("cycle_duration", [c - o for o, c in sess], "scheduler: Open Session -> Close Session")
    add("submit_to_podgroup", [j["pg_added"] - j["submit"] for j in jobs.values() if "pg_added" in j and "submit" in j],
        "vcjob ADDED -> its PodGroup ADDED (job controller)")
    add("podgroup_to_inqueue", [j["pg_inqueue"] - j["pg_added"] for j in jobs.values() if "pg_inqueue" in j and "pg_added" in j],
        "PodGroup ADDED (Pending) -> Inqueue (enqueue action; includes queueing at saturation)")
    add("controller_delay", [j["added_last"] - j["pg_inqueue"] for j in jobs.values() if "added_last" in j and "pg_inqueue" in j],
        "PodGroup Inqueue -> the job's last pod ADDED (job controller creates the pods)")
    add("pods_to_bind", [j["bound_last"] - j["added_last"] for j in jobs.values() if "bound_last" in j and "added_last" in j],
        "last pod ADDED -> last pod bound (waits for the next cycle)")
    add("bind_to_running", [p["running"] - p["bound"] for p in pods.values() if "running" in p and "bound" in p],
        "pod bound (nodeName seen) -> phase Running (fakelet)")
    cyc_run = []
    for p in pods.values():
        if "running" in p and "bound" in p:
            o = last_open_before(p["bound"])
            if o is not None:
                cyc_run.append(p["running"] - o)
    add("cycle_to_running", cyc_run,
        "Open Session of the binding cycle -> pod Running (the model's bind_latency: it binds at the cycle's start)")
    # The spread of a gang's pods: the range of their Succeeded times (fakelet), scaled to the
    # width W of a uniform spread that gives that expected range for n pods (W (n-1)/(n+1)).
    done_at = collections.defaultdict(list)
    for r in fk:
        if r.get("event") == "succeeded" and r.get("ns") == a.namespace and r.get("pod") in pods:
            done_at[pods[r["pod"]].get("job")].append(r["t"])
    spread = [(max(ts) - min(ts)) * (len(ts) + 1) / (len(ts) - 1) for ts in done_at.values() if len(ts) >= 2]
    add("gang_finish_spread", spread,
        "a gang's pods: range of their Succeeded times x (n+1)/(n-1) (the model's bind_spread: uniform width)")
    add("inqueue_to_pg_running", [j["pg_running"] - j["pg_inqueue"] for j in jobs.values() if "pg_running" in j and "pg_inqueue" in j],
        "PodGroup Inqueue -> PodGroup Running")
    add("completed_to_pg_deleted", [j["pg_deleted"] - j["completed"] for j in jobs.values() if "pg_deleted" in j and "completed" in j],
        "vcjob Completed -> its PodGroup DELETED")
    # vcjob-mode admission at saturation: jobs that stayed Pending for more than 3 cycles
    sat_gap, sat_inq_cycles, sat_bind_cycles = [], [], []
    med_iv = rows["cycle_interval"][0]["median"] / 1000.0 if rows["cycle_interval"][0] else None
    for j in jobs.values():
        if "pg_inqueue" not in j or "pg_added" not in j or med_iv is None:
            continue
        if j["pg_inqueue"] - j["pg_added"] <= 3 * med_iv:
            continue
        prev = [s for s in succeeded if s <= j["pg_inqueue"]]
        if prev:
            sat_gap.append(j["pg_inqueue"] - prev[-1])
        if "added_last" in j and "bound_last" in j:
            o = first_open_after(j["added_last"])
            if o is not None:
                sat_bind_cycles.append(j["bound_last"] - o)
            sat_inq_cycles.append(j["bound_last"] - j["pg_inqueue"])
    add("saturated_freed_to_inqueue", sat_gap,
        "saturated jobs (Pending > 3 cycles): last pod Succeeded before Inqueue -> Inqueue")
    add("saturated_inqueue_to_bound", sat_inq_cycles,
        "saturated jobs: Inqueue -> last pod bound (controller delay + next cycle)")
    add("saturated_first_cycle_after_pods_to_bound", sat_bind_cycles,
        "saturated jobs: first Open Session after the last pod ADDED -> last pod bound")

    print(f"calibration of {a.work} (namespace {a.namespace}): {len(jobs)} vcjobs, {len(pods)} pods, "
          f"{len(sess)} scheduler cycles, speed {a.speed:g}")
    print(f"{'quantity':<42} {'n':>5} {'median':>8} {'p10':>8} {'p90':>8} {'min':>8} {'max':>8} {'model_med':>9}  (wall ms; model = wall x speed)")
    for name, (s, what) in rows.items():
        if s is None:
            print(f"{name:<42} {0:>5}  (no sample) {what}")
            continue
        print(f"{name:<42} {s['n']:>5} {s['median']:>8.1f} {s['p10']:>8.1f} {s['p90']:>8.1f} {s['min']:>8.1f} {s['max']:>8.1f} {s['median'] * a.speed:>9.0f}  {what}")
    med = lambda k: rows[k][0]["median"] if rows[k][0] else None
    flags = []
    for flag, key in (("--schedule-period", "cycle_interval"), ("--controller-delay", "controller_delay"),
                      ("--bind-latency", "cycle_to_running"), ("--bind-spread", "gang_finish_spread")):
        if med(key) is not None:
            flags.append(f"{flag} {med(key):.0f}ms")
    print("\nvolsim reality flags (wall time; reality multiplies by --speed): " + " ".join(flags))
    sim = {k: round(med(key) * a.speed) for k, key in (("schedule_period", "cycle_interval"),
                                                      ("controller_delay", "controller_delay"),
                                                      ("bind_latency", "cycle_to_running"),
                                                      ("bind_spread", "gang_finish_spread")) if med(key) is not None}
    print("[sim] at this speed (model ms): " + ", ".join(f'{k} = "{v}ms"' for k, v in sim.items()))
    if a.observed_csv:
        if not a.run_dir:
            fail("--observed-csv needs --run-dir (the run's observed.csv and journal.jsonl)")
        recorder_waits(a, jobs, pods, evs)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"speed": a.speed, "wall_ms": {k: s for k, (s, _) in rows.items()}, "model_ms": sim}, f, indent=1, sort_keys=True)


def recorder_waits(a, jobs, pods, evs):
    """observed.csv of the run, re-measured from the recorder: submit = vcjob ADDED, gang-ready =
    the minMember-th pod Running. Wall -> model: model = (wall - anchor) x speed, the anchor
    being the least-lagged submission (min over jobs of ADDED - planned submit / speed)."""
    import csv
    src = os.path.join(a.run_dir, "observed.csv")
    if not os.path.exists(src):
        fail(f"{src}: missing (--run-dir must be the volsim run's output dir)")
    with open(src) as f:
        rows = list(csv.DictReader(f))
    need = {"job", "key", "queue", "class", "submit_ms", "wait_ms"}
    if not rows or not need <= set(rows[0]):
        fail(f"{src}: expected the columns {sorted(need)}")
    min_member = {}
    for r in evs:
        if r["res"] == "podgroup" and r.get("minMember"):
            min_member[(r.get("owner") or [None])[0]] = r["minMember"]
    anchors = [jobs[r["job"]]["submit"] - int(r["submit_ms"]) / 1000.0 / a.speed
               for r in rows if "submit" in jobs.get(r["job"], {})]
    if not anchors:
        fail(f"{src}: none of its jobs is in the recorder's events (another harness run?)")
    anchor = min(anchors)
    lags, out, missing = [], [], 0
    for r in rows:
        j = jobs.get(r["job"], {})
        if "submit" not in j:
            missing += 1
            continue
        sub = j["submit"]
        lags.append((sub - anchor) * a.speed * 1000 - int(r["submit_ms"]))
        runs = sorted(p["running"] for p in pods.values() if p.get("job") == r["job"] and "running" in p)
        k = min_member.get(r["job"], 1)
        wait = "" if len(runs) < k else str(max(0, round((runs[k - 1] - sub) * a.speed * 1000)))
        out.append([r["job"], r["key"], r["queue"], r["class"], str(round((sub - anchor) * a.speed * 1000)), wait])
    with open(a.observed_csv, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["job", "key", "queue", "class", "submit_ms", "wait_ms"])
        w.writerows(out)
    st = stats(lags)
    print(f"\nrecorder-measured waits of {len(out)} jobs -> {a.observed_csv}"
          + (f" ({missing} job(s) of {src} not in the recorder's events: skipped)" if missing else ""))
    if st:
        print(f"submission lag (vcjob ADDED vs the submit_ms volsim recorded), model ms: median {st['median']:.0f}, "
              f"p90 {st['p90']:.0f}, max {st['max']:.0f}")


if __name__ == "__main__":
    main()
