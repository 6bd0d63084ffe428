"""`python -m local.console_proxy` (what `make console` runs) started as an operator starts it, in front
of the local runtime's API (which, unlike API Gateway, does not check the signature): the banner gives
the console's URL, the admin API answers through it, and Ctrl-C stops it."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.e2e.local_stack import LocalStack
from tests.support import secret_watch

ROOT = Path(__file__).resolve().parents[2]
SECRET = "console-cli-secret-access-key-EXAMPLE00"
secret_watch.watch([SECRET])


@pytest.fixture
def console_process(stack: LocalStack, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    env.update({"HOME": str(tmp_path), "AWS_CONFIG_FILE": str(tmp_path / "config"),
                "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"), "AWS_EC2_METADATA_DISABLED": "true",
                "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY": SECRET,
                "AWS_REGION": "eu-west-1", "SMSBRIDGE_CONSOLE_PORT": "0", "SMSBRIDGE_API_URL": stack.api})
    process = subprocess.Popen([sys.executable, "-m", "local.console_proxy", "--stage", "dev"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    found = threading.Event()

    def read() -> None:
        for line in process.stdout:
            lines.append(line)
            if "Ctrl-C" in line:
                found.set()
    threading.Thread(target=read, daemon=True).start()
    try:
        assert found.wait(20), "".join(lines)
        url = re.search(r"console +(http://127\.0\.0\.1:\d+)/console/", "".join(lines)).group(1)
        yield process, url
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(5)
        assert SECRET not in "".join(lines)


def test_given_make_console_started_when_the_console_calls_the_admin_api_then_it_answers_and_ctrl_c_stops_it(
        console_process: tuple[subprocess.Popen[str], str]) -> None:
    process, url = console_process

    providers = requests.get(f"{url}/providers", timeout=10)
    unknown = requests.get(f"{url}/providers/no-such-provider", timeout=10)
    process.send_signal(signal.SIGINT)

    assert providers.status_code == 200, providers.text
    assert "sandbox" in [provider["id"] for provider in providers.json()["providers"]]
    assert unknown.status_code == 404 and "message" in unknown.json()
    assert process.wait(10) == 0
