"""What the end-to-end tests know of the local runtime: the addresses it printed, and what a user
does with them (HTTP to the API and the sandbox, boto3 to the AWS endpoint)."""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests


@dataclass
class LocalStack:
    """The addresses the runtime wrote to its ready file, and what a user does with them."""

    addresses: dict[str, Any]
    log_path: Path

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

    def set_faults(self, **faults: Any) -> None:
        requests.put(f"{self.sandbox}/api/faults", json=faults, timeout=10).raise_for_status()

    def output(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def wait_for(condition: Callable[[], Any], *, timeout_s: float, every_s: float = 0.25, what: str = "condition") -> Any:
    """Poll `condition` until it returns something truthy; fail with `what` after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s} s waiting for {what} (last value: {value!r})")
        time.sleep(every_s)
