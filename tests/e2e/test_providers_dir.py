"""Users try their own provider locally: every provider file of SMSBRIDGE_PROVIDERS_DIR is
configured at start, and an invalid one stops the start with a clear error."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import requests

from tests.e2e.local_stack import ROOT, LocalStack, running_runtime, wait_for
from tests.support.loopback import LoopbackProvider
from tests.support.secret_watch import basic_form, watch

watch(["s3cret", basic_form("acme_user", "s3cret")])  # never in the runtime's output (tests/conftest.py)

def _provider_file(folder: Path, provider_url: str) -> None:
    (folder / "acme.json").write_text(json.dumps({
        "id": "acme",
        "default_sender": "ACME",
        "request": {"url": f"{provider_url}/sms", "method": "POST", "content_type": "form",
                    "body": {"dest": "{{to_digits}}", "msg": "{{text}}"}},
        "auth": {"type": "basic", "username": "acme_user", "password": "s3cret"},
    }))


def test_a_provider_file_is_configured_at_start_and_used_for_messages_that_name_it(tmp_path: Path) -> None:
    # Given a provider file for the user's own provider (here a loopback server)
    folder = tmp_path / "providers"
    folder.mkdir()
    with LoopbackProvider() as provider:
        _provider_file(folder, provider.url)

        # When the runtime starts with SMSBRIDGE_PROVIDERS_DIR naming that folder
        with running_runtime(tmp_path, {"SMSBRIDGE_PROVIDERS_DIR": str(folder)}) as stack:
            shown = requests.get(f"{stack.api}/providers/acme", timeout=10)
            text = f"to acme {uuid.uuid4().hex[:6]}"
            requests.post(f"{stack.api}/messages", json={"provider": "acme", "to": "+33612345678", "text": text},
                          timeout=10).raise_for_status()

            # Then the provider is there (secret masked) beside the sandbox, and gets the message
            assert shown.status_code == 200, shown.text
            assert shown.json()["auth"]["password"] != "s3cret"
            wait_for(lambda: any(r.form.get("msg") == [text] for r in provider.requests), timeout_s=20,
                     what="the message at the user's provider")
            assert _provider_ids(stack) >= {"acme", "sandbox"}


def _provider_ids(stack: LocalStack) -> set[str]:
    answer = requests.get(f"{stack.api}/providers", timeout=10).json()
    return {p["id"] for p in answer["providers"]}


def test_an_invalid_provider_file_stops_the_start_with_the_file_and_the_problem(tmp_path: Path) -> None:
    folder = tmp_path / "providers"
    folder.mkdir()
    (folder / "broken.json").write_text(json.dumps({"id": "broken", "request": {"method": "POST"}}))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SMSBRIDGE_"))}
    env.update({"SMSBRIDGE_PROVIDERS_DIR": str(folder), "SMSBRIDGE_API_PORT": "0", "SMSBRIDGE_SANDBOX_PORT": "0",
                "SMSBRIDGE_AWS_PORT": "0"})

    run = subprocess.run([sys.executable, "-m", "local.runtime"], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=60)

    assert run.returncode == 2
    assert "broken.json" in run.stderr
    assert "request.url" in run.stderr
