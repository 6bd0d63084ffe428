"""The admin API keeps its OpenAPI contract (issue 15): schemathesis, run against the local runtime's
/openapi.json with every check but the exclusions written in tests/schemathesis/schemathesis.toml, finds
nothing; a client generated from the document creates a provider, queues a message and reads it back; the
public webhook routes answer junk with a 4xx. The tools run from their own venv (`make schemathesis`)."""
from __future__ import annotations

import json
import os
import random
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.e2e.local_stack import ROOT, LocalStack, running_runtime

TOOLS = ROOT / ".venv" / "schemathesis" / "bin"
CONFIG = ROOT / "tests" / "schemathesis" / "schemathesis.toml"
# CI's budget (3 min on 2 cores): examples per operation for the fixed seed, then for a random one.
FIXED_SEED, FIXED_EXAMPLES, RANDOM_EXAMPLES = 20261130, 20, 10


@pytest.fixture(scope="module")
def contract_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """A runtime of its own: schemathesis deletes and rewrites providers, routing and consent."""
    if not (TOOLS / "st").exists():
        if os.environ.get("CI"):
            pytest.fail("schemathesis is not installed: run `make schemathesis`")
        pytest.skip("schemathesis is not installed: run `make schemathesis`")
    with running_runtime(tmp_path_factory.mktemp("contract-runtime")) as stack:
        yield stack


def run_schemathesis(stack: LocalStack, seed: int, examples: int, report: Path) -> subprocess.CompletedProcess:
    # No --checks on the command line: it would override the per-operation exclusions of the config file,
    # and without it every check runs (schemathesis 4's default is all of them).
    return subprocess.run([str(TOOLS / "st"), "--config-file", str(CONFIG), "run", f"{stack.api}/openapi.json",
                           "--seed", str(seed), "--max-examples", str(examples), "--workers", "2",
                           "--report", "junit", "--report-junit-path", str(report), "--no-color"],
                          capture_output=True, text=True, timeout=600, cwd=report.parent)


@pytest.mark.parametrize("seeded", ["fixed", "random"])
def test_given_the_local_runtime_when_schemathesis_checks_its_document_then_it_finds_no_failure(
        contract_stack: LocalStack, tmp_path: Path, seeded: str) -> None:
    seed = FIXED_SEED if seeded == "fixed" else random.SystemRandom().randrange(2**31)
    examples = FIXED_EXAMPLES if seeded == "fixed" else RANDOM_EXAMPLES
    print(f"schemathesis seed {seed} ({examples} examples per operation); replay with: st --config-file "
          f"{CONFIG.relative_to(ROOT)} run <api>/openapi.json --seed {seed} --max-examples {examples}")

    result = run_schemathesis(contract_stack, seed, examples, tmp_path / "junit.xml")

    summary = result.stdout[result.stdout.rfind("SUMMARY"):]
    assert result.returncode == 0, f"seed {seed}:\n{result.stdout[-20000:]}\n{result.stderr[-3000:]}"
    assert "Tested: 31" in summary, summary  # every operation of the document was reached


def test_given_the_document_when_a_client_is_generated_from_it_then_it_creates_a_provider_and_sends_a_message(
        contract_stack: LocalStack, tmp_path: Path) -> None:
    document = tmp_path / "openapi.json"
    document.write_text(requests.get(f"{contract_stack.api}/openapi.json", timeout=10).text)
    generated = subprocess.run([str(TOOLS / "openapi-python-client"), "generate", "--path", str(document),
                                "--meta", "none", "--output-path", str(tmp_path / "client")],
                               capture_output=True, text=True, timeout=300)
    assert (tmp_path / "client" / "api").is_dir(), generated.stdout + generated.stderr

    sent = subprocess.run([str(TOOLS / "python"), str(ROOT / "tests" / "schemathesis" / "client_roundtrip.py"),
                           contract_stack.api, contract_stack.sandbox, "generated-client"],
                          capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(tmp_path)})

    assert sent.returncode == 0, sent.stdout + sent.stderr
    message = json.loads(sent.stdout.strip().splitlines()[-1])
    assert message["status"] in ("sent", "delivered"), message
    assert (message["to"], message["provider"]) == ("+33612345678", "generated-client")
    assert message["history"][0] == "queued"
    assert any(item["text"] == "Sent by a generated client" for item in contract_stack.inbox())


JUNK = [("application/json", b"1\xff|\x0e\r"), ("multipart/form-data", b"a=1"),
        ("application/x-www-form-urlencoded", b"%ZZ=%ff&&="), ("text/plain", b"\x00" * 64),
        ("application/json", b"[" * 50_000), ("application/json", b'{"n": ' + b"9" * 5_000 + b"}")]


@pytest.mark.parametrize("route", ["/inbound/sandbox", "/status/sandbox", "/inbound/nobody", "/status/nobody"])
@pytest.mark.parametrize(("content_type", "body"), JUNK)
def test_given_a_webhook_route_when_it_receives_junk_then_it_answers_a_4xx(
        contract_stack: LocalStack, route: str, content_type: str, body: bytes) -> None:
    for method in ("POST", "GET"):
        answer = requests.request(method, f"{contract_stack.api}{route}?x=%ff", data=body,
                                  headers={"Content-Type": content_type}, timeout=30)

        assert 400 <= answer.status_code < 500, (method, answer.status_code, answer.text[:300])
