"""The local runtime as a child process on free ports, for the benchmarks that measure it end to end
(`bench/local_latency.py`, `bench/local_throughput.py`): what a user runs with `make run`, driven
from outside through the queue (boto3) and the sandbox's control API."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
import requests

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT_S = 90


@dataclass
class RunningRuntime:
    """The addresses the runtime wrote to its ready file, and what a benchmark does with them."""

    addresses: dict[str, Any]
    log_path: Path
    pid: int

    @property
    def sandbox(self) -> str:
        return self.addresses["sandbox_url"]

    def queue_url(self, logical_id: str) -> str:
        return self.addresses["source_queues"][logical_id]

    def sqs(self) -> Any:
        return boto3.client("sqs", endpoint_url=self.addresses["aws_url"], region_name=self.addresses["region"],
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    def inbox(self) -> list[dict[str, Any]]:
        answer = requests.get(f"{self.sandbox}/api/inbox", timeout=30)
        answer.raise_for_status()
        return answer.json()

    def set_faults(self, **faults: Any) -> None:
        requests.put(f"{self.sandbox}/api/faults", json=faults, timeout=10).raise_for_status()

    def cpu_seconds(self) -> dict[str, float]:
        """CPU used so far (user and system) by the runtime's process and by its child, the AWS
        stand-in (moto): which of the two bounds the rate. Linux only (/proc)."""
        children = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()
        return {"runtime": _cpu_of(self.pid), "moto": sum(_cpu_of(int(child)) for child in children)}


@contextmanager
def local_runtime(extra_env: Mapping[str, str] | None = None) -> Iterator[RunningRuntime]:
    """`python -m local.runtime` on free ports without schedules, stopped with SIGTERM at the end."""
    with tempfile.TemporaryDirectory(prefix="smsbridge-bench-") as folder:
        ready_file, log_path = Path(folder) / "ready.json", Path(folder) / "runtime.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SMSBRIDGE_"))}
        env.update({"SMSBRIDGE_API_PORT": "0", "SMSBRIDGE_SANDBOX_PORT": "0", "SMSBRIDGE_AWS_PORT": "0",
                    "SMSBRIDGE_SCHEDULES": "off", "SMSBRIDGE_READY_FILE": str(ready_file),
                    "PYTHONUNBUFFERED": "1", **(extra_env or {})})
        with open(log_path, "wb") as log:
            process = subprocess.Popen([sys.executable, "-m", "local.runtime"], cwd=ROOT, env=env,
                                       stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + START_TIMEOUT_S
            while not ready_file.exists():
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the local runtime did not start:\n{log_path.read_text()}")
                time.sleep(0.1)
            runtime = RunningRuntime(addresses=json.loads(ready_file.read_text()), log_path=log_path,
                                     pid=process.pid)
            _wait_until_warm(runtime)
            yield runtime
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_warm(runtime: RunningRuntime) -> None:
    """One message through, so that no figure includes the send function's first import."""
    url = runtime.queue_url("OutboundQueue")
    runtime.sqs().send_message(QueueUrl=url, MessageBody=json.dumps(
        {"id": f"warm-{time.time_ns()}", "to": "+33612345678", "text": "warm up"}))
    deadline = time.monotonic() + 60
    while not runtime.inbox():
        if time.monotonic() > deadline:
            raise RuntimeError(f"the warm-up message never reached the sandbox:\n{runtime.log_path.read_text()}")
        time.sleep(0.05)
    requests.delete(f"{runtime.sandbox}/api/inbox", timeout=10).raise_for_status()


def _cpu_of(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def received_at(message: Mapping[str, Any]) -> float:
    """When the sandbox received a message, as epoch seconds."""
    return datetime.fromisoformat(message["received_at"].replace("Z", "+00:00")).timestamp()


def queue_messages(sqs: Any, queue_url: str, bodies: list[dict[str, Any]]) -> None:
    """Put the bodies on the queue, ten a call as an application would."""
    for start in range(0, len(bodies), 10):
        answer = sqs.send_message_batch(QueueUrl=queue_url, Entries=[
            {"Id": str(i), "MessageBody": json.dumps(body)} for i, body in enumerate(bodies[start:start + 10])])
        if answer.get("Failed"):
            raise RuntimeError(f"SQS refused messages: {answer['Failed']}")
