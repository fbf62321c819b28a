#!/usr/bin/env python3
"""End-to-end workload for volsim's Temporal importer (tests/temporal/e2e.sh).

Adapted from the research notes' workload.py (temporal/notes.md, A.4): the same three
workflow types with sessions, a fan-out orchestration, a saga with a child workflow, a
signal, timers, retries, timeouts and cancellations, scaled down to 30 top-level workflows
(20 sessions, 6 orchestrations, 4 campaigns, i.e. 4 child executions) so one run takes
about 15 s. The derive/export commands are dropped: volsim's `pull` and importer replace them.

Usage:
  python workload.py run [--address 127.0.0.1:7233] [--seed 7] [--sessions 20]
                         [--orchestrations 6] [--campaigns 4] [--mean-interarrival-ms 150]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import sys
import time
from datetime import datetime, timedelta
from typing import Any, Optional

from temporalio import activity, workflow
from temporalio.client import Client, WorkflowFailureError
from temporalio.common import (
    Priority,
    RetryPolicy,
    SearchAttributeKey,
    SearchAttributePair,
    TypedSearchAttributes,
)
from temporalio.exceptions import ActivityError, ApplicationError, ChildWorkflowError
from temporalio.worker import (
    Interceptor,
    StartActivityInput,
    UnsandboxedWorkflowRunner,
    Worker,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
    WorkflowOutboundInterceptor,
)

# --------------------------------------------------------------------------
# Task queues. Activity task queues get workers with small concurrency so
# that fan-out produces real schedule-to-start queueing.
# --------------------------------------------------------------------------
WF_TQ = "orchestration-tq"
POLICY_TQ = "control-plane-tq"   # evaluate-policy, issue-identity-token, emit-audit-event, saga steps
VOLCANO_TQ = "volcano-launch-tq"  # launch-volcano-session-job
SLM_TQ = "slm-inference-tq"       # run-slm-completion, execute-directive

WORKER_SLOTS = {POLICY_TQ: 16, VOLCANO_TQ: 3, SLM_TQ: 4}

SA_QUEUE = SearchAttributeKey.for_keyword("VolcanoQueue")
SA_GANG = SearchAttributeKey.for_int("GangSize")
SA_KIND = SearchAttributeKey.for_keyword("WorkloadKind")
SA_CPU = SearchAttributeKey.for_int("CpuMillis")


# --------------------------------------------------------------------------
# Activities. Each input is a dict; "ms" is the simulated service time,
# "fail_attempts" makes attempts 1..k fail (retryable), "slow_attempts"
# makes attempts 1..k sleep past their start-to-close timeout,
# "deny" raises a non-retryable error.
# --------------------------------------------------------------------------
async def _work(inp: dict, heartbeat: bool = False) -> dict:
    info = activity.info()
    attempt = info.attempt
    if inp.get("deny"):
        raise ApplicationError(
            f"policy denied: {inp.get('reason', 'quota')}",
            type="PolicyDenied",
            non_retryable=True,
        )
    if attempt <= int(inp.get("fail_attempts", 0)):
        await asyncio.sleep(inp.get("ms", 100) / 4000.0)
        raise ApplicationError(
            f"transient failure on attempt {attempt}", type="TransientUpstreamError"
        )
    ms = inp.get("ms", 100)
    if attempt <= int(inp.get("slow_attempts", 0)):
        ms = inp.get("slow_ms", 2000)
    if heartbeat:
        # sleep in slices so cancellation is delivered via heartbeat responses
        end = time.monotonic() + ms / 1000.0
        while True:
            left = end - time.monotonic()
            if left <= 0:
                break
            activity.heartbeat({"left_ms": int(left * 1000)})
            await asyncio.sleep(min(0.05, left))
    else:
        await asyncio.sleep(ms / 1000.0)
    return {
        "activity": info.activity_type,
        "attempt": attempt,
        "worker_ms": ms,
        "ok": True,
    }


def _mk(name: str, heartbeat: bool = False):
    @activity.defn(name=name)
    async def _act(inp: dict) -> dict:
        return await _work(inp, heartbeat)

    _act.__name__ = name.replace("-", "_")
    return _act


ACT_NAMES_POLICY = [
    "evaluate-policy",
    "issue-identity-token",
    "emit-audit-event",
    # marketing-campaign saga steps + compensations
    "reserve-budget",
    "compliance-review",
    "schedule-channels",
    "launch-campaign",
    "report-metrics",
    "release-budget",
    "retract-channels",
    "archive-creatives",
    "aggregate-results",
]
ACTS_POLICY = [_mk(n) for n in ACT_NAMES_POLICY]
ACTS_VOLCANO = [_mk("launch-volcano-session-job")]
ACTS_SLM = [_mk("run-slm-completion"), _mk("execute-directive", heartbeat=True)]


# --------------------------------------------------------------------------
# Interceptor: copy inp["resources"] into an activity header so the history
# shows activityTaskScheduledEventAttributes.header.fields["volcano-resources"].
# --------------------------------------------------------------------------
class _ResourceHeaderOutbound(WorkflowOutboundInterceptor):
    def start_activity(self, input: StartActivityInput):
        if input.args and isinstance(input.args[0], dict) and "resources" in input.args[0]:
            payload = workflow.payload_converter().to_payloads([input.args[0]["resources"]])[0]
            input.headers = {**input.headers, "volcano-resources": payload}
        return super().start_activity(input)


class _ResourceHeaderInbound(WorkflowInboundInterceptor):
    def init(self, outbound: WorkflowOutboundInterceptor) -> None:
        super().init(_ResourceHeaderOutbound(outbound))


class ResourceHeaderInterceptor(Interceptor):
    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> Optional[type[WorkflowInboundInterceptor]]:
        return _ResourceHeaderInbound


def _retry(max_attempts: int = 5) -> RetryPolicy:
    return RetryPolicy(
        initial_interval=timedelta(milliseconds=100),
        backoff_coefficient=2.0,
        maximum_interval=timedelta(seconds=2),
        maximum_attempts=max_attempts,
        non_retryable_error_types=["PolicyDenied"],
    )


# --------------------------------------------------------------------------
# Workflows
# --------------------------------------------------------------------------
@workflow.defn(name="session-start-workflow")
class SessionStartWorkflow:
    @workflow.run
    async def run(self, plan: dict) -> dict:
        res = plan["resources"]
        base = {"session": plan["session_id"], "tenant": plan["tenant"]}
        try:
            await workflow.execute_activity(
                "evaluate-policy",
                {**base, **plan["policy"]},
                task_queue=POLICY_TQ,
                start_to_close_timeout=timedelta(seconds=5),
                retry_policy=_retry(),
            )
        except ActivityError as e:
            await workflow.execute_activity(
                "emit-audit-event",
                {**base, "event": "session-denied", "ms": plan["audit_ms"]},
                task_queue=POLICY_TQ,
                start_to_close_timeout=timedelta(seconds=5),
            )
            raise ApplicationError("session denied by policy", type="SessionDenied") from e

        await workflow.execute_activity(
            "issue-identity-token",
            {**base, **plan["token"]},
            task_queue=POLICY_TQ,
            start_to_close_timeout=timedelta(seconds=5),
            retry_policy=_retry(),
        )
        if plan.get("propagation_ms"):
            # token propagation delay -> TimerStarted / TimerFired
            await workflow.sleep(timedelta(milliseconds=plan["propagation_ms"]))

        await workflow.execute_activity(
            "launch-volcano-session-job",
            {**base, "resources": res, **plan["launch"]},
            task_queue=VOLCANO_TQ,
            schedule_to_close_timeout=timedelta(seconds=60),
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=_retry(),
            # Temporal task-queue priority/fairness: another place for a hint
            priority=Priority(
                priority_key=1 if res["priorityClass"] == "high" else 3,
                fairness_key=plan["tenant"],
            ),
        )
        slm = plan["slm"]
        try:
            out = await workflow.execute_activity(
                "run-slm-completion",
                {**base, "model": "slm-7b", "resources": plan["slm_resources"], **slm},
                task_queue=SLM_TQ,
                start_to_close_timeout=timedelta(milliseconds=slm["timeout_ms"]),
                retry_policy=_retry(slm.get("max_attempts", 5)),
            )
        except ActivityError:
            # retries exhausted (ActivityTaskTimedOut): fall back to a small model
            out = await workflow.execute_activity(
                "run-slm-completion",
                {**base, "model": "slm-1b-fallback", "resources": plan["slm_resources"], "ms": 120},
                task_queue=SLM_TQ,
                start_to_close_timeout=timedelta(seconds=5),
                retry_policy=_retry(),
            )
        await workflow.execute_activity(
            "emit-audit-event",
            {**base, "event": "session-started", "ms": plan["audit_ms"]},
            task_queue=POLICY_TQ,
            start_to_close_timeout=timedelta(seconds=5),
        )
        return {"session": plan["session_id"], "completion": out}


@workflow.defn(name="multi-agent-orchestration")
class MultiAgentOrchestrationWorkflow:
    @workflow.run
    async def run(self, plan: dict) -> dict:
        handles = []
        for d in plan["directives"]:
            handles.append(
                workflow.start_activity(
                    "execute-directive",
                    d,
                    task_queue=SLM_TQ,
                    activity_id=f"directive-{d['index']}",
                    schedule_to_close_timeout=timedelta(seconds=60),
                    start_to_close_timeout=timedelta(seconds=10),
                    heartbeat_timeout=timedelta(seconds=1),
                    retry_policy=_retry(),
                    cancellation_type=workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
                )
            )
        deadline = plan.get("deadline_ms")
        if deadline:
            done, pending = await workflow.wait(
                handles, timeout=deadline / 1000.0
            )
            for h in pending:
                h.cancel()
            for h in pending:
                try:
                    await h
                except (ActivityError, asyncio.CancelledError):
                    pass
            finished = len(done)
        else:
            await asyncio.gather(*handles)
            finished = len(handles)
        agg = await workflow.execute_activity(
            "aggregate-results",
            {"orchestration": plan["orchestration_id"], "finished": finished, "ms": plan["aggregate_ms"]},
            task_queue=POLICY_TQ,
            start_to_close_timeout=timedelta(seconds=5),
        )
        return {"finished": finished, "total": len(handles), "agg": agg}


@workflow.defn(name="marketing-campaign")
class MarketingCampaignWorkflow:
    def __init__(self) -> None:
        self.approved = False

    @workflow.signal(name="approve-campaign")
    def approve(self, by: str) -> None:
        self.approved = True

    @workflow.run
    async def run(self, plan: dict) -> dict:
        cid = plan["campaign_id"]
        compensations: list[tuple[str, dict]] = []

        async def step(name: str, extra: dict) -> Any:
            return await workflow.execute_activity(
                name,
                {"campaign": cid, **extra},
                task_queue=POLICY_TQ,
                start_to_close_timeout=timedelta(seconds=5),
                retry_policy=_retry(3),
            )

        try:
            # phase 1
            await step("reserve-budget", plan["phases"]["reserve-budget"])
            compensations.append(("release-budget", {"ms": 60}))
            # phase 2: child workflow fan-out
            await workflow.execute_child_workflow(
                "multi-agent-orchestration",
                plan["creatives"],
                id=f"{workflow.info().workflow_id}-creatives",
                task_queue=WF_TQ,
                memo={"parent": workflow.info().workflow_id, "volcanoQueue": "creative"},
            )
            compensations.append(("archive-creatives", {"ms": 60}))
            # phase 3
            await step("compliance-review", plan["phases"]["compliance-review"])
            # approval gate: signal or timeout timer
            try:
                await workflow.wait_condition(lambda: self.approved, timeout=timedelta(seconds=3))
            except asyncio.TimeoutError:
                pass
            # phase 4
            await step("schedule-channels", plan["phases"]["schedule-channels"])
            compensations.append(("retract-channels", {"ms": 60}))
            # phase 5
            await step("launch-campaign", plan["phases"]["launch-campaign"])
            # let metrics accumulate: plain timer
            await workflow.sleep(timedelta(milliseconds=plan["metrics_wait_ms"]))
            # phase 6
            await step("report-metrics", plan["phases"]["report-metrics"])
            return {"campaign": cid, "status": "completed", "approved": self.approved}
        except (ActivityError, ChildWorkflowError) as e:
            for name, args in reversed(compensations):
                await step(name, args)
            raise ApplicationError(f"campaign {cid} compensated", type="CampaignAborted") from e


# --------------------------------------------------------------------------
# Plans (all randomness lives here)
# --------------------------------------------------------------------------
TENANTS = ["acme", "globex", "initech", "umbrella"]


def session_plan(rng: random.Random, i: int) -> dict:
    gang = rng.choice([1, 1, 1, 2, 4])
    cpu = rng.choice([500, 1000, 2000, 4000])
    plan: dict = {
        "session_id": f"sess-{i:03d}",
        "tenant": rng.choice(TENANTS),
        "resources": {
            "cpu": f"{cpu}m",
            "memory": rng.choice(["1Gi", "2Gi", "4Gi", "8Gi"]),
            "gangSize": gang,
            "minAvailable": gang,
            "queue": rng.choice(["interactive", "batch"]),
            "priorityClass": rng.choice(["high", "normal"]),
        },
        "slm_resources": {"cpu": "2000m", "memory": "6Gi", "gpu": 1, "gangSize": 1, "queue": "inference"},
        "policy": {"ms": rng.randint(40, 120)},
        "token": {"ms": rng.randint(30, 90)},
        "launch": {"ms": rng.randint(200, 600)},
        "slm": {"ms": rng.randint(150, 500), "timeout_ms": 1000},
        "audit_ms": rng.randint(20, 60),
    }
    r = rng.random()
    if i % 10 == 3:
        plan["policy"]["deny"] = True  # non-retryable -> workflow fails
        plan["policy"]["reason"] = "tenant-quota-exceeded"
    if i % 5 == 1:
        plan["token"]["fail_attempts"] = rng.choice([1, 2])  # transient retries
    if i % 7 == 2:
        plan["slm"]["slow_attempts"] = 1  # first attempt times out, second succeeds
        plan["slm"]["slow_ms"] = 1500
    if i % 11 == 5:
        plan["slm"]["slow_attempts"] = 2  # both attempts time out -> fallback
        plan["slm"]["slow_ms"] = 1500
        plan["slm"]["max_attempts"] = 2
    if r < 0.4:
        plan["propagation_ms"] = rng.randint(100, 300)
    return plan


def orchestration_plan(rng: random.Random, oid: str, n: Optional[int] = None, deadline: bool = False) -> dict:
    n = n or rng.randint(3, 8)
    directives = []
    for k in range(n):
        d = {
            "index": k,
            "directive": rng.choice(["research", "draft", "critique", "summarize", "translate"]),
            "ms": rng.randint(150, 700),
            "resources": {"cpu": "1000m", "memory": "3Gi", "gpu": 1, "gangSize": 1, "queue": "agents"},
        }
        if rng.random() < 0.15:
            d["fail_attempts"] = 1
        directives.append(d)
    plan = {"orchestration_id": oid, "directives": directives, "aggregate_ms": rng.randint(50, 150)}
    if deadline:
        # one straggler guaranteed to miss the deadline
        directives[-1]["ms"] = 4000
        plan["deadline_ms"] = 1500
    return plan


def campaign_plan(rng: random.Random, i: int) -> dict:
    phases = {p: {"ms": rng.randint(60, 250)} for p in
              ["reserve-budget", "compliance-review", "schedule-channels", "launch-campaign", "report-metrics"]}
    if i % 4 == 3:
        phases["launch-campaign"]["deny"] = True  # -> saga compensation + workflow failure
    return {
        "campaign_id": f"camp-{i:02d}",
        "phases": phases,
        "creatives": orchestration_plan(rng, f"camp-{i:02d}-creatives", n=rng.randint(2, 5)),
        "metrics_wait_ms": rng.randint(200, 400),
        "approve_after_ms": rng.choice([300, 600, None]),
    }


# --------------------------------------------------------------------------
# Runner
# --------------------------------------------------------------------------
async def run(args: argparse.Namespace) -> None:
    client = await Client.connect(args.address, namespace=args.namespace)
    rng = random.Random(args.seed)
    interceptors = [ResourceHeaderInterceptor()]

    workers = [
        Worker(
            client,
            task_queue=WF_TQ,
            workflows=[SessionStartWorkflow, MultiAgentOrchestrationWorkflow, MarketingCampaignWorkflow],
            workflow_runner=UnsandboxedWorkflowRunner(),
            interceptors=interceptors,
            identity="wf-worker@sim",
        ),
        Worker(client, task_queue=POLICY_TQ, activities=ACTS_POLICY,
               max_concurrent_activities=WORKER_SLOTS[POLICY_TQ], identity="control-plane-worker@sim"),
        Worker(client, task_queue=VOLCANO_TQ, activities=ACTS_VOLCANO,
               max_concurrent_activities=WORKER_SLOTS[VOLCANO_TQ], identity="volcano-launcher@sim"),
        Worker(client, task_queue=SLM_TQ, activities=ACTS_SLM,
               max_concurrent_activities=WORKER_SLOTS[SLM_TQ], identity="slm-worker@sim"),
    ]

    # Build the arrival schedule
    jobs: list[tuple[str, str, dict]] = []
    for i in range(args.sessions):
        jobs.append(("session-start-workflow", f"session-{i:03d}", session_plan(rng, i)))
    for i in range(args.orchestrations):
        jobs.append(("multi-agent-orchestration", f"orchestration-{i:02d}",
                     orchestration_plan(rng, f"orch-{i:02d}", deadline=(i % 4 == 1))))
    for i in range(args.campaigns):
        jobs.append(("marketing-campaign", f"campaign-{i:02d}", campaign_plan(rng, i)))
    rng.shuffle(jobs)

    run_tag = datetime.utcnow().strftime("%H%M%S")
    results: dict[str, str] = {}

    async def start_one(wf_type: str, wf_id: str, plan: dict):
        wid = f"{wf_id}-{run_tag}"
        if wf_type == "session-start-workflow":
            r = plan["resources"]
            memo = {"tenant": plan["tenant"], "volcanoQueue": r["queue"], "resources": r}
            sa = TypedSearchAttributes([
                SearchAttributePair(SA_QUEUE, r["queue"]),
                SearchAttributePair(SA_GANG, r["gangSize"]),
                SearchAttributePair(SA_KIND, "session"),
                SearchAttributePair(SA_CPU, int(r["cpu"].rstrip("m"))),
            ])
        elif wf_type == "multi-agent-orchestration":
            memo = {"volcanoQueue": "agents", "fanout": len(plan["directives"])}
            sa = TypedSearchAttributes([
                SearchAttributePair(SA_QUEUE, "agents"),
                SearchAttributePair(SA_GANG, len(plan["directives"])),
                SearchAttributePair(SA_KIND, "orchestration"),
            ])
        else:
            memo = {"volcanoQueue": "marketing", "phases": 6}
            sa = TypedSearchAttributes([
                SearchAttributePair(SA_QUEUE, "marketing"),
                SearchAttributePair(SA_KIND, "campaign"),
            ])
        handle = await client.start_workflow(
            wf_type, plan, id=wid, task_queue=WF_TQ, memo=memo, search_attributes=sa,
            execution_timeout=timedelta(minutes=5),
        )
        if wf_type == "marketing-campaign" and plan.get("approve_after_ms"):
            await asyncio.sleep(plan["approve_after_ms"] / 1000.0)
            await handle.signal("approve-campaign", "marketing-lead@acme")
        try:
            await handle.result()
            results[wid] = "completed"
        except WorkflowFailureError as e:
            results[wid] = f"failed: {e.cause}"

    async with workers[0], workers[1], workers[2], workers[3]:
        t0 = time.monotonic()
        tasks = []
        for wf_type, wf_id, plan in jobs:
            tasks.append(asyncio.create_task(start_one(wf_type, wf_id, plan)))
            await asyncio.sleep(rng.expovariate(1000.0 / args.mean_interarrival_ms))
        await asyncio.gather(*tasks)
        elapsed = time.monotonic() - t0
    ok = sum(1 for v in results.values() if v == "completed")
    print(json.dumps({"run_tag": run_tag, "started": len(jobs), "completed": ok,
                      "failed": len(results) - ok, "elapsed_s": round(elapsed, 2),
                      "results": results}, indent=1))


def main() -> None:
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--address", default="127.0.0.1:7233")
    r.add_argument("--namespace", default="default")
    r.add_argument("--seed", type=int, default=7)
    r.add_argument("--sessions", type=int, default=20)
    r.add_argument("--orchestrations", type=int, default=6)
    r.add_argument("--campaigns", type=int, default=4)
    r.add_argument("--mean-interarrival-ms", type=float, default=150.0)
    args = p.parse_args()
    asyncio.run(run(args))
    # The SDK's native runtime can crash while the interpreter tears down its worker threads
    # (seen as a segfault after every workflow had completed and the summary was printed), so
    # leave without the teardown once the output is flushed.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
