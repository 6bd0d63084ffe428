"""The local runtime as a user starts it (`python -m local.runtime`), on free ports, once per
session; the tests drive it over HTTP and boto3 only."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.local_stack import LocalStack

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 60


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    folder = tmp_path_factory.mktemp("local-runtime")
    ready_file, log_path = folder / "ready.json", folder / "runtime.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"SMSBRIDGE_API_PORT": "0", "SMSBRIDGE_SANDBOX_PORT": "0", "SMSBRIDGE_AWS_PORT": "0",
                "SMSBRIDGE_READY_FILE": str(ready_file), "PYTHONUNBUFFERED": "1"})
    with open(log_path, "wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "local.runtime"], cwd=ROOT, env=env,
                                   stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not ready_file.exists():
            if process.poll() is not None:
                pytest.fail(f"the local runtime exited with {process.returncode}:\n{log_path.read_text()}")
            if time.monotonic() > deadline:
                pytest.fail(f"the local runtime was not ready in {START_TIMEOUT_S} s:\n{log_path.read_text()}")
            time.sleep(0.1)
        yield LocalStack(addresses=json.loads(ready_file.read_text()), log_path=log_path)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if os.environ.get("SMSBRIDGE_E2E_SHOW_LOG"):
            print(log_path.read_text(errors="replace"))


@pytest.fixture(autouse=True)
def no_faults(stack: LocalStack) -> Iterator[None]:
    """Each test starts and ends with a well-behaved sandbox."""
    stack.set_faults()
    yield
    stack.set_faults()
