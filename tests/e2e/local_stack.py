"""What the end-to-end tests (and the local benchmarks, bench/local_child.py) know of the local runtime:
the addresses it printed, and what a user does with them (HTTP to the API and the sandbox, boto3 to
the AWS endpoint)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import requests

from tests.support import secret_watch

from local import iam
from local.demo import wait_for  # noqa: F401 - the one polling helper, re-exported for the e2e tests

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 60
SHORTCODE = "+33757000000"  # the number the phones text in these tests


@dataclass
class LocalStack:
    """The addresses the runtime wrote to its ready file, and what a user does with them."""

    addresses: dict[str, Any]
    log_path: Path
    pid: int = 0

    @property
    def api(self) -> str:
        return self.addresses["api_url"]

    @property
    def sandbox(self) -> str:
        return self.addresses["sandbox_url"]

    @property
    def queue_url(self) -> str:
        return self.addresses["source_queues"]["OutboundQueue"]

    @property
    def bulk_queue_url(self) -> str:
        return self.addresses["source_queues"]["BulkQueue"]

    @property
    def dead_letter_url(self) -> str:
        return self.addresses["dead_letter_queues"]["DeadLetterQueue"]

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.addresses["aws_url"], region_name=self.addresses["region"],
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    def table(self, logical_id: str) -> Any:
        resource = boto3.resource("dynamodb", endpoint_url=self.addresses["aws_url"],
                                  region_name=self.addresses["region"],
                                  aws_access_key_id="testing", aws_secret_access_key="testing")
        return resource.Table(self.addresses["tables"][logical_id])

    def inbox(self, **filters: str) -> list[dict[str, Any]]:
        answer = requests.get(f"{self.sandbox}/api/inbox", params=filters, timeout=10)
        answer.raise_for_status()
        return answer.json()

    def text_from_phone(self, phone: str, text: str) -> dict[str, Any]:
        """The sandbox plays the phone: it sends `text` from `phone` to SHORTCODE through the bridge's
        /inbound/sandbox, signed as the provider signs; the bridge must have taken it (200). Answers the
        sandbox's record of the exchange."""
        answer = requests.post(f"{self.sandbox}/api/inbound", json={"from": phone, "to": SHORTCODE, "text": text}, timeout=30)
        assert answer.status_code == 200, answer.text
        record = answer.json()
        assert record["bridge_status"] == 200, record
        return record

    def set_faults(self, **faults: Any) -> None:
        requests.put(f"{self.sandbox}/api/faults", json=faults, timeout=10).raise_for_status()

    def output(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def cpu_seconds(self) -> dict[str, float]:
        """CPU used so far (user and system) by the runtime's process and by its child, the AWS
        stand-in (moto): which of the two bounds the rate. Linux only (/proc)."""
        children = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()
        return {"runtime": _cpu_of(self.pid), "moto": sum(_cpu_of(int(child)) for child in children)}


def _cpu_of(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime




@contextmanager
def running_runtime(folder: Path, extra_env: Mapping[str, str] | None = None) -> Iterator[LocalStack]:
    """`python -m local.runtime` on free ports, as a user starts it; stopped with SIGTERM."""
    ready_file, log_path = folder / "ready.json", folder / "runtime.log"
    secret_watch.runtime_logs.append(log_path)  # read for secrets at the end of the session (tests/conftest.py)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SMSBRIDGE_"))
           or k in (iam.CHECK_ENV, iam.RECORD_ENV)}
    env.update({"SMSBRIDGE_API_PORT": "0", "SMSBRIDGE_SANDBOX_PORT": "0", "SMSBRIDGE_AWS_PORT": "0",
                "SMSBRIDGE_READY_FILE": str(ready_file), "PYTHONUNBUFFERED": "1", **(extra_env or {})})
    with open(log_path, "wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "local.runtime"], cwd=ROOT, env=env,
                                   stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not ready_file.exists():
            if process.poll() is not None:
                raise RuntimeError(f"the local runtime exited with {process.returncode}:\n{log_path.read_text()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the local runtime was not ready in {START_TIMEOUT_S} s:\n{log_path.read_text()}")
            time.sleep(0.1)
        yield LocalStack(addresses=json.loads(ready_file.read_text()), log_path=log_path, pid=process.pid)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if os.environ.get("SMSBRIDGE_E2E_SHOW_LOG"):
            print(log_path.read_text(errors="replace"))
