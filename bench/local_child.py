"""The local runtime as a child process on free ports, for the benchmarks that measure it end to end
(`bench/local_latency.py`, `bench/local_throughput.py`): what a user runs with `make run`, driven
from outside through the queue (boto3) and the sandbox's control API."""
from __future__ import annotations

import json
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import requests

from tests.e2e.local_stack import LocalStack, running_runtime



@contextmanager
def local_runtime(extra_env: Mapping[str, str] | None = None) -> Iterator[LocalStack]:
    """`python -m local.runtime` on free ports without schedules, warm, stopped with SIGTERM at the end."""
    with tempfile.TemporaryDirectory(prefix="smsbridge-bench-") as folder:
        with running_runtime(Path(folder), {"SMSBRIDGE_SCHEDULES": "off", **(extra_env or {})}) as runtime:
            _wait_until_warm(runtime)
            yield runtime


def _wait_until_warm(runtime: LocalStack) -> None:
    """One message through, so that no figure includes the send function's first import."""
    runtime.client("sqs").send_message(QueueUrl=runtime.queue_url, MessageBody=json.dumps(
        {"id": f"warm-{time.time_ns()}", "to": "+33612345678", "text": "warm up"}))
    deadline = time.monotonic() + 60
    while not runtime.inbox():
        if time.monotonic() > deadline:
            raise RuntimeError(f"the warm-up message never reached the sandbox:\n{runtime.log_path.read_text()}")
        time.sleep(0.05)
    requests.delete(f"{runtime.sandbox}/api/inbox", timeout=10).raise_for_status()


def received_at(message: Mapping[str, Any]) -> float:
    """When the sandbox received a message, as epoch seconds."""
    return datetime.fromisoformat(message["received_at"].replace("Z", "+00:00")).timestamp()


def delivered(runtime: LocalStack, count: int, timeout_s: float, every_s: float) -> list[dict[str, Any]] | None:
    """The sandbox's inbox once it holds `count` messages; None (and why, on stderr) if it did not in `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    inbox = runtime.inbox()
    while len(inbox) < count:
        if time.monotonic() > deadline:
            print(f"only {len(inbox)} of {count} messages reached the sandbox in {timeout_s:.0f} s", file=sys.stderr)
            return None
        time.sleep(every_s)
        inbox = runtime.inbox()
    return inbox


def queue_messages(sqs: Any, queue_url: str, bodies: list[dict[str, Any]]) -> None:
    """Put the bodies on the queue, ten a call as an application would."""
    for start in range(0, len(bodies), 10):
        answer = sqs.send_message_batch(QueueUrl=queue_url, Entries=[
            {"Id": str(i), "MessageBody": json.dumps(body)} for i, body in enumerate(bodies[start:start + 10])])
        if answer.get("Failed"):
            raise RuntimeError(f"SQS refused messages: {answer['Failed']}")
