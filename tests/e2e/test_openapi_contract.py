"""The admin API keeps its OpenAPI contract (issue 15): schemathesis, run against the local runtime's
/openapi.json with every check but the exclusions written in tests/schemathesis/schemathesis.toml, finds
nothing, and its stateful phase follows the document's links; the public webhook routes keep theirs
(docs/openapi-webhooks.json, tests/schemathesis/webhooks.toml); a client generated from the document creates
a provider, queues a message and reads it back; the webhook routes answer junk with a 4xx. The tools run from
their own venv (`make schemathesis`)."""
from __future__ import annotations

import json
import os
import random
import subprocess
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from tests.e2e.local_stack import ROOT, LocalStack, running_runtime

TOOLS = ROOT / ".venv" / "schemathesis" / "bin"
CONFIG = ROOT / "tests" / "schemathesis" / "schemathesis.toml"
WEBHOOK_CONFIG = ROOT / "tests" / "schemathesis" / "webhooks.toml"
WEBHOOK_DOCUMENT = ROOT / "docs" / "openapi-webhooks.json"
# CI's budget (3 min on 2 cores): examples per operation for the fixed seed, then for a random one.
FIXED_SEED, FIXED_EXAMPLES, RANDOM_EXAMPLES = 20261130, 20, 10
DEAD_LETTERS, SCHEDULED = 12, 30
# The providers tests/schemathesis/webhooks.toml names: webhooks signed with HMAC (refused unsigned: 401) and
# webhooks needing no proof (`inbound.auth` none), whose bodies and queries get read.
WEBHOOK_PROVIDERS = {"signed-webhooks": {"type": "hmac", "secret": "contract-test-secret", "header": "X-Signature",
                                         "algorithm": "sha256", "encoding": "hex"},
                     "open-webhooks": {"type": "none"}}


def seed_realistic_data(stack: LocalStack) -> None:
    """What an operator's bridge holds and random data cannot create: messages scheduled within the year (the
    only ones DELETE /messages/{id} cancels), bodies in the dead-letter queue and an inbound SMS. The document's
    links lead schemathesis from the lists to each of them."""
    send_at = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    for n in range(SCHEDULED):  # ids the phases reuse from answers: some of them cancel one
        answer = requests.post(f"{stack.api}/messages", json={"to": f"+336123456{n:02d}", "text": "later",
                                                              "send_at": send_at}, timeout=30)
        assert answer.status_code == 202, answer.text
    for n in range(DEAD_LETTERS):  # enough to outlast the earlier phases' deletes
        stack.client("sqs").send_message(QueueUrl=stack.queue_url, MessageBody=f"not json {n}")
    answer = requests.post(f"{stack.sandbox}/api/inbound", timeout=30,
                           json={"from": "+33612345670", "to": "+33757000000", "text": "hello"})
    assert answer.status_code == 200, answer.text
    deadline = time.monotonic() + 30
    while len(requests.get(f"{stack.api}/dead-letters", timeout=30).json()["items"]) < DEAD_LETTERS:
        assert time.monotonic() < deadline, "the malformed bodies did not reach the dead-letter queue"
        time.sleep(0.2)


@pytest.fixture(scope="module")
def contract_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """A runtime of its own: schemathesis deletes and rewrites providers, routing and consent."""
    if not (TOOLS / "st").exists():
        if os.environ.get("CI"):
            pytest.fail("schemathesis is not installed: run `make schemathesis`")
        pytest.skip("schemathesis is not installed: run `make schemathesis`")
    with running_runtime(tmp_path_factory.mktemp("contract-runtime")) as stack:
        seed_realistic_data(stack)
        yield stack


def put_webhook_providers(stack: LocalStack) -> None:
    """The providers whose webhooks schemathesis calls, (re)created: the admin API's run may have deleted them."""
    for provider_id, auth in WEBHOOK_PROVIDERS.items():
        answer = requests.put(f"{stack.api}/providers/{provider_id}", timeout=30, json={
            "id": provider_id, "name": provider_id,
            "request": {"url": f"{stack.sandbox}/v1/messages", "method": "POST", "content_type": "json",
                        "body": {"to": "{{to}}", "text": "{{text}}"}},
            "inbound": {"auth": auth, "format": "json", "fields": {"from": "from", "to": "to", "text": "text"}},
            "status": {"format": "json", "fields": {"message_id": "id", "status": "status"},
                       "map": {"delivered": "delivered", "failed": "failed"}}})
        assert answer.status_code in (200, 201), answer.text


def run_schemathesis(stack: LocalStack, seed: int, examples: int, report: Path, *, config: Path = CONFIG,
                     document: str | None = None) -> subprocess.CompletedProcess:
    # No --checks on the command line: it would override the per-operation exclusions of the config file,
    # and without it every check runs (schemathesis 4's default is all of them).
    location = ["--url", stack.api, document] if document else [f"{stack.api}/openapi.json"]
    return subprocess.run([str(TOOLS / "st"), "--config-file", str(config), "run", *location,
                           "--seed", str(seed), "--max-examples", str(examples), "--workers", "2",
                           "--report", "junit,ndjson", "--report-junit-path", str(report / "junit.xml"),
                           "--report-ndjson-path", str(report / "events.ndjson"), "--no-color"],
                          capture_output=True, text=True, timeout=600, cwd=report)


def answers_by_phase(events: Path) -> dict[str, dict[str, set[int]]]:
    """From schemathesis's event log: for each phase, the statuses each operation answered."""
    seen: dict[str, dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))
    for line in events.read_text().splitlines():
        finished = json.loads(line).get("ScenarioFinished")
        if not finished:
            continue
        recorder = finished["recorder"]
        for case_id, case in recorder.get("cases", {}).items():
            interaction = recorder.get("interactions", {}).get(case_id) or {}
            if interaction.get("response"):
                operation = f"{case['value']['method']} {case['value']['path']}"
                seen[finished["phase"]][operation].add(interaction["response"]["status_code"])
    return seen


def seed_for(seeded: str) -> int:
    return FIXED_SEED if seeded == "fixed" else random.SystemRandom().randrange(2**31)


@pytest.mark.parametrize("seeded", ["fixed", "random"])
def test_given_the_local_runtime_when_schemathesis_checks_its_document_then_it_finds_no_failure(
        contract_stack: LocalStack, tmp_path: Path, seeded: str) -> None:
    seed, examples = seed_for(seeded), FIXED_EXAMPLES if seeded == "fixed" else RANDOM_EXAMPLES
    print(f"schemathesis seed {seed} ({examples} examples per operation); replay with: st --config-file "
          f"{CONFIG.relative_to(ROOT)} run <api>/openapi.json --seed {seed} --max-examples {examples}")

    result = run_schemathesis(contract_stack, seed, examples, tmp_path)

    summary = result.stdout[result.stdout.rfind("SUMMARY"):]
    assert result.returncode == 0, f"seed {seed}:\n{result.stdout[-20000:]}\n{result.stderr[-3000:]}"
    assert "Tested: 31" in summary, summary  # every operation of the document was reached
    # The stateful phase goes from answers to the next calls through the document's links: to routes whose
    # path parameters come from an earlier answer (at 200 examples it reaches every one; CI's budget is smaller).
    followed = {op for op, statuses in answers_by_phase(tmp_path / "events.ndjson")["stateful"].items()
                if "{" in op and any(200 <= status < 300 for status in statuses)}
    assert followed, f"seed {seed}: the stateful phase reached no route through a link"


@pytest.mark.parametrize("seeded", ["fixed", "random"])
def test_given_the_webhook_document_when_schemathesis_checks_the_public_routes_then_it_finds_no_failure(
        contract_stack: LocalStack, tmp_path: Path, seeded: str) -> None:
    seed = seed_for(seeded)
    print(f"schemathesis seed {seed}; replay with: st --config-file {WEBHOOK_CONFIG.relative_to(ROOT)} run "
          f"{WEBHOOK_DOCUMENT.relative_to(ROOT)} --url <api> --seed {seed} --max-examples 50")

    put_webhook_providers(contract_stack)

    result = run_schemathesis(contract_stack, seed, 50, tmp_path, config=WEBHOOK_CONFIG,
                              document=str(WEBHOOK_DOCUMENT))

    summary = result.stdout[result.stdout.rfind("SUMMARY"):]
    assert result.returncode == 0, f"seed {seed}:\n{result.stdout[-20000:]}\n{result.stderr[-3000:]}"
    assert "Tested: 4" in summary, summary
    statuses = {status for phase in answers_by_phase(tmp_path / "events.ndjson").values()
                for answered in phase.values() for status in answered}
    assert {401, 404} <= statuses and statuses & {200, 400}, statuses  # past the lookup, the proof, to the body


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
