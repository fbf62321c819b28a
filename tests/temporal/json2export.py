#!/usr/bin/env python3
"""Convert exported Temporal JSON histories into Temporal Cloud export files (protobuf).

A Temporal Cloud Workflow History Export file is one serialized
`temporal.api.export.v1.WorkflowExecutions` message (`WorkflowExecutionHistories` in older
api releases, the same wire format): `repeated WorkflowExecution items = 1`, each holding one
`temporal.api.history.v1.History`. This script builds such files from JSON histories with
Temporal's own published protos, as bundled with the Python SDK (`temporalio`), and
`google.protobuf.json_format`, so volsim's protobuf reader is checked against Temporal's
encoder rather than against itself.

Accepted JSON: `{"events":[...]}` (CLI / SDK), `{"history":{"events":[...]}}` (HTTP API,
with or without payload shorthand: shorthand values are re-encoded as `json/plain` payloads,
guided by the message descriptors), or a bare array of events; proto-JSON enum names.

Usage:
  python json2export.py --out FILE.pb HISTORY.json...   # one file, one item per input
  python json2export.py fixtures                          # regenerate tests/fixtures/temporal-export
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
from typing import Any

from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from temporalio.api.export.v1 import message_pb2 as export_pb2
from temporalio.api.history.v1 import message_pb2 as history_pb2

PAYLOAD = "temporal.api.common.v1.Payload"
PAYLOADS = "temporal.api.common.v1.Payloads"

# The export's container message: named WorkflowExecutions in current api releases,
# WorkflowExecutionHistories in older ones; both are `repeated { History history = 1 } items = 1`.
CONTAINER = getattr(export_pb2, "WorkflowExecutions", None) or getattr(
    export_pb2, "WorkflowExecutionHistories"
)
ITEM = getattr(export_pb2, "WorkflowExecution", None) or getattr(
    export_pb2, "WorkflowExecutionHistory"
)


def json_plain(value: Any) -> dict:
    """A standard proto-JSON Payload holding `value` as `json/plain`."""
    data = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
    return {
        "metadata": {"encoding": base64.b64encode(b"json/plain").decode()},
        "data": base64.b64encode(data).decode(),
    }


def is_full_payload(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("metadata"), dict)


def payload(value: Any) -> Any:
    return value if is_full_payload(value) else json_plain(value)


def unshorthand(desc: Descriptor, obj: Any) -> Any:
    """Rewrites HTTP payload shorthand in `obj` (a proto-JSON message of type `desc`)."""
    if not isinstance(obj, dict):
        return obj
    by_json = {f.json_name: f for f in desc.fields}
    by_json.update({f.name: f for f in desc.fields})
    out = {}
    for key, value in obj.items():
        f = by_json.get(key)
        if f is None or f.message_type is None:
            out[key] = value
            continue
        mt = f.message_type
        repeated = (
            f.is_repeated
            if hasattr(f, "is_repeated")
            else f.label == FieldDescriptor.LABEL_REPEATED
        )
        if mt.GetOptions().map_entry:
            vf = mt.fields_by_name["value"]
            if vf.message_type is not None and vf.message_type.full_name == PAYLOAD:
                out[key] = {k: payload(v) for k, v in value.items()}
            elif vf.message_type is not None:
                out[key] = {k: unshorthand(vf.message_type, v) for k, v in value.items()}
            else:
                out[key] = value
        elif mt.full_name == PAYLOADS and isinstance(value, list):
            out[key] = {"payloads": [payload(v) for v in value]}
        elif mt.full_name == PAYLOADS and isinstance(value, dict):
            out[key] = {"payloads": [payload(v) for v in value.get("payloads", [])]}
        elif mt.full_name == PAYLOAD and not repeated:
            out[key] = payload(value)
        elif repeated and isinstance(value, list):
            out[key] = [unshorthand(mt, v) for v in value]
        else:
            out[key] = unshorthand(mt, value)
    return out


def history_from_json(path: str) -> history_pb2.History:
    with open(path, encoding="utf-8") as fh:
        doc = json.load(fh)
    if isinstance(doc, list):
        events = doc
    elif "history" in doc:
        events = doc["history"]["events"]
    else:
        events = doc["events"]
    event_desc = history_pb2.HistoryEvent.DESCRIPTOR
    events = [unshorthand(event_desc, e) for e in events]
    h = history_pb2.History()
    json_format.ParseDict({"events": events}, h, ignore_unknown_fields=False)
    return h


def write_export(out: str, inputs: list[str]) -> int:
    container = CONTAINER()
    for path in inputs:
        container.items.append(ITEM(history=history_from_json(path)))
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    data = container.SerializeToString(deterministic=True)
    with open(out, "wb") as fh:
        fh.write(data)
    print(f"{out}: {len(inputs)} histories, {len(data)} bytes", file=sys.stderr)
    return len(data)


def regenerate_fixtures() -> None:
    """tests/fixtures/temporal-export: three export files in the export's directory layout;
    session-000 is in the first and the second file (an at-least-once duplicate)."""
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.normpath(os.path.join(here, "..", ".."))
    src = os.path.join(repo, "tests", "fixtures", "temporal")
    dst = os.path.join(repo, "tests", "fixtures", "temporal-export")
    tree = os.path.join(dst, "export", "default", "2026", "11", "27")
    http = lambda name: os.path.join(src, f"{name}.http.json")  # noqa: E731
    write_export(
        os.path.join(tree, "10", "10", "part-0001.pb"),
        [http("session-000-100315"), http("orchestration-00-100315"), http("campaign-00-100315")],
    )
    write_export(
        os.path.join(tree, "11", "10", "part-0001.pb"),
        [
            http("campaign-00-100315-creatives"),
            http("session-016-100315"),
            http("session-000-100315"),
        ],
    )
    write_export(
        os.path.join(tree, "12", "10", "part-0001.pb"),
        [os.path.join(dst, "priority-fairness.json")],
    )


def main() -> None:
    if sys.argv[1:] == ["fixtures"]:
        regenerate_fixtures()
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="export file to write")
    ap.add_argument("inputs", nargs="+", help="JSON histories, one item each, in order")
    args = ap.parse_args()
    write_export(args.out, args.inputs)


if __name__ == "__main__":
    main()
