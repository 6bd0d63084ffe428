"""Send-path benchmark: prints three ratios, each measured side by side in this one run.

    concurrency_ratio=      wall time of one 10-record batch / one round trip   (target <= 1.5)
    cpu_ratio_vs_requests=  CPU per message through render, auth, send and classify /
                            CPU per message of a bare requests.Session().post loop  (target <= 1.2)
    aws_calls_per_message=  the AWS calls the send function makes per message, for a 10-message
                            NOTIFICATION batch and a 10-message MARKETING batch   (target <= 1.0)
    cpu_ratio_with_storage= CPU per message through the whole send path, its AWS calls included /
                            CPU per message of a bare requests.Session().post loop
    import_ratio=           import of the send handler in a fresh interpreter /
                            `import boto3, requests` in a fresh interpreter       (target <= 1.5)
                            (both from compiled bytecode, as deployed). The handler imports the
                            send path at its first batch: the next line gives that part and the
                            sum, so that what moved out of the import is not lost from sight

The provider is a real HTTP server on 127.0.0.1 in another process (so its CPU is not counted),
answering after 100 ms for the concurrency figure and at once for the CPU figure. Storage is
in memory (tests/support/fakes.py) for those two: DynamoDB's cost is not their question (NOTES:
moto). The storage figures are: the send function as wired for Lambda (`wiring.send_service()`),
its tables and queues created from template.yaml in a moto server running in another process, so
that the client's botocore CPU (serialising, signing, parsing) counts and moto's does not. Calls are
counted by botocore's `before-call` event on every client the send function creates; SQS
receive and delete are the event source mapping's and the bench makes none.
Run with `make bench`.
"""
from __future__ import annotations

import ast
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "layers/common"), str(ROOT / "functions/send"), str(ROOT)]
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")  # the bench's metrics are its printed figures

import requests  # noqa: E402

from smsbridge.adapters.http import ProviderTransport  # noqa: E402
from smsbridge.adapters.provider_client import ProviderClient  # noqa: E402
from smsbridge.core.classify import classify_response  # noqa: E402
from smsbridge.core.render import render_request  # noqa: E402
from smsbridge.models.message import OutboundMessage  # noqa: E402
from smsbridge.models.provider import ProviderConfig  # noqa: E402
from smsbridge.models.queue import QueuedRecord  # noqa: E402
from smsbridge.services.send import SendService  # noqa: E402
from tests.support.aws_calls import counting_aws_calls  # noqa: E402
from tests.support.fakes import MemoryConsent, MemoryMessages, MemoryProviders, MemoryQueue  # noqa: E402

LATENCY_S = 0.100
SERVER = """
import sys, time
sys.path.insert(0, {root!r})
from tests.support.loopback import LoopbackProvider
provider = LoopbackProvider(latency_s={latency}).start()
provider.handler = lambda request: (201, {{}}, {{"id": "abc123"}})
print(provider.url, flush=True)
sys.stdin.read()
"""


@contextmanager
def provider_process(latency_s: float):
    """A loopback provider in a child process; yields its base URL."""
    child = subprocess.Popen([sys.executable, "-c", SERVER.format(root=str(ROOT), latency=latency_s)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        yield child.stdout.readline().strip()
    finally:
        child.stdin.close()
        child.wait(timeout=10)


def provider_config(base_url: str) -> ProviderConfig:
    return ProviderConfig.model_validate({
        "id": "bench", "default_sender": "ACME",
        "request": {"url": base_url + "/v1/messages", "body": {"to": "{{to}}", "from": "{{sender}}", "text": "{{text}}"}},
        "auth": {"type": "api_key", "header": "Authorization", "prefix": "Bearer ", "token": "s3cr3t-token"},
        "response": {"message_id_jmespath": "id"},
    })


def sqs_record(i: int) -> QueuedRecord:
    body = json.dumps({"id": f"bench-{time.monotonic_ns()}-{i}", "to": "+33612345678", "text": f"Your code is {i:04d}"})
    return QueuedRecord.model_validate({"messageId": f"sqs-{i}", "receiptHandle": f"rh-{i}", "body": body,
                                        "attributes": {"ApproximateReceiveCount": "1",
                                                       "SentTimestamp": str(int(time.time() * 1000))}})


def concurrency_ratio() -> tuple[float, float, float]:
    with provider_process(LATENCY_S) as url:
        config = provider_config(url)
        service = SendService(providers=MemoryProviders(config), messages=MemoryMessages(), consent=MemoryConsent(),
                              queue=MemoryQueue(),
                              client=ProviderClient(ProviderTransport(local_runtime=True)), concurrency=10)
        session = requests.Session()
        payload = {"to": "+33612345678", "from": "ACME", "text": "x"}
        service.send_batch([sqs_record(i) for i in range(10)])  # warm: connections open
        session.post(url + "/v1/messages", json=payload)
        batches, trips = [], []
        for _ in range(5):
            records = [sqs_record(i) for i in range(10)]
            start = time.perf_counter()
            results = service.send_batch(records)
            batches.append(time.perf_counter() - start)
            assert not any(r.retry for r in results.values()), results
            start = time.perf_counter()
            session.post(url + "/v1/messages", json=payload).raise_for_status()
            trips.append(time.perf_counter() - start)
        batch, trip = statistics.median(batches), statistics.median(trips)
        return batch / trip, batch, trip


def cpu_ratio(rounds: int = 12, per_round: int = 300) -> tuple[float, float, float]:
    with provider_process(0.0) as url:
        config = provider_config(url)
        client = ProviderClient(ProviderTransport(local_runtime=True))
        session = requests.Session()
        token = config.auth.token.get_secret_value()
        messages = [OutboundMessage(to="+33612345678", text=f"Your code is {i:04d}") for i in range(per_round)]

        def bridge() -> None:
            for message in messages:
                now = datetime.now(timezone.utc)
                request = render_request(config, [message], now)
                outcome = classify_response(config.response, client.send(config, request, now), now)
                assert outcome.verdict == "sent"

        def bare() -> None:
            for message in messages:
                answer = session.post(url + "/v1/messages", headers={"Authorization": "Bearer " + token},
                                      json={"to": message.to, "from": "ACME", "text": message.text})
                assert answer.status_code == 201 and answer.json()["id"]

        bridge(), bare()  # warm
        ours, theirs, ratios = [], [], []
        for _ in range(rounds):  # side by side in pairs, so that drift in machine load hits both alike
            for side, samples in ((bridge, ours), (bare, theirs)):
                gc.collect()  # neither side pays for the other's garbage
                start = time.process_time()
                side()
                samples.append((time.process_time() - start) / per_round)
            ratios.append(ours[-1] / theirs[-1])
        return statistics.median(ratios), statistics.median(ours), statistics.median(theirs)


# The local runtime's moto server (local/aws.py): plain moto deep-copies every table on each
# TransactWriteItems, the messages table's stream records included, so that a batch took 1 s after
# 10 batches and 7 s after 40, and the send path rightly refused to start requests it could not
# finish in the invocation's time. The client's side, which is what is measured, is the same.
MOTO = """
import sys
from local.aws import serve_until_stdin_closes
sys.exit(serve_until_stdin_closes(0))
"""

@contextmanager
def child(script: str):
    """A child process that prints one line (its address) and runs until its stdin closes."""
    process = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True, cwd=str(ROOT))
    try:
        yield process.stdout.readline().strip()
    finally:
        process.stdin.close()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:  # a server thread still holding a keep-alive connection
            process.terminate()
            process.wait(timeout=10)


@contextmanager
def send_function_on_moto(moto_url: str):
    """The send function as wired for Lambda, on the template's resources in the moto server at
    `moto_url`; yields (send service, call counter: a dict of (service, operation) to count)."""
    from local.aws import EndpointSession
    from local.resources import create_resources
    from local.template import REGION, Template
    from smsbridge import wiring
    from smsbridge.settings import get_settings

    saved = dict(os.environ)
    template = Template.load(ROOT / "template.yaml", endpoint_url=moto_url)
    create_resources(template, EndpointSession(moto_url))
    os.environ.update({**template.function("SendFunction").environment, "SMSBRIDGE_LOCAL": "true",
                       "AWS_ENDPOINT_URL": moto_url, "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION,
                       "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "POWERTOOLS_METRICS_DISABLED": "true", "POWERTOOLS_TRACE_DISABLED": "true",
                       # Loopback provider URLs need the local runtime's setting; its caches the
                       # deployed ones (30 s), so that the figures are those of Lambda.
                       "CONFIG_CACHE_S": "30"})
    get_settings.cache_clear()
    for name in dir(wiring):
        if hasattr(getattr(wiring, name), "cache_clear"):
            getattr(wiring, name).cache_clear()
    try:
        with counting_aws_calls() as calls:
            yield wiring.send_service(), calls
    finally:
        os.environ.clear()
        os.environ.update(saved)
        get_settings.cache_clear()


def typed_record(i: int, message_type: str) -> QueuedRecord:
    """A record whose message names no provider (the default one), as most applications send."""
    body = json.dumps({"id": f"bench-{time.monotonic_ns()}-{i}", "to": "+33612345678", "type": message_type,
                       "text": f"Your code is {i:04d}" if message_type == "NOTIFICATION" else f"Sale {i}: 20% off"})
    return QueuedRecord.model_validate({"messageId": f"sqs-{i}", "receiptHandle": f"rh-{i}", "body": body,
                                        "attributes": {"ApproximateReceiveCount": "1",
                                                       "SentTimestamp": str(int(time.time() * 1000))}})


def storage_figures(rounds: int = 10, batches_per_round: int = 5) -> dict[str, float]:
    """AWS calls per message of a warm 10-message batch of each type, and the CPU ratio of the whole
    send path (storage included) to a bare requests loop, measured side by side."""
    with child(MOTO) as moto_url, provider_process(0.0) as url, send_function_on_moto(moto_url) as (service, calls):
        from smsbridge import wiring
        from smsbridge.observability import metrics

        config = provider_config(url).model_copy(update={"default": True})
        wiring.provider_store().put(config)
        session = requests.Session()
        token = config.auth.token.get_secret_value()
        figures: dict[str, float] = {}

        def batch(message_type: str) -> None:
            results = service.send_batch([typed_record(i, message_type) for i in range(10)])
            assert not any(r.retry for r in results.values()), results
            # What the handler's log_metrics does after each invocation. Left to pile up, Powertools
            # prints them at 100 values of a metric even when disabled: 100 lines of `make bench`.
            metrics.clear_metrics()

        for message_type in ("NOTIFICATION", "MARKETING"):
            batch(message_type)  # warm: caches filled, connections open
            calls.clear()
            batch(message_type)
            figures[message_type] = sum(calls.values()) / 10
            figures[message_type + "_calls"] = dict(calls)

        def bare() -> None:
            for i in range(10 * batches_per_round):
                answer = session.post(url + "/v1/messages", headers={"Authorization": "Bearer " + token},
                                      json={"to": "+33612345678", "from": "ACME", "text": f"Your code is {i:04d}"})
                assert answer.status_code == 201 and answer.json()["id"]

        for message_type in ("NOTIFICATION", "MARKETING"):
            def bridge() -> None:
                for _ in range(batches_per_round):
                    batch(message_type)

            bridge(), bare()
            ours, theirs, ratios = [], [], []
            for _ in range(rounds):
                for side, samples in ((bridge, ours), (bare, theirs)):
                    gc.collect()
                    start = time.process_time()
                    side()
                    samples.append((time.process_time() - start) / (10 * batches_per_round))
                ratios.append(ours[-1] / theirs[-1])
            figures[message_type + "_cpu_ratio"] = statistics.median(ratios)
            figures[message_type + "_cpu"] = statistics.median(ours)
            figures["bare_cpu"] = statistics.median(theirs)
        return figures


def describe_calls(calls: dict[tuple[str, str], int]) -> str:
    return ", ".join(f"{operation} {n}" for (_, operation), n in sorted(calls.items(), key=lambda kv: -kv[1]))


def send_path_modules() -> str:
    """What the first batch imports after the handler's import: the modules `wiring.send_service()`
    imports, itself and through the other factories of wiring.py it calls."""
    tree = ast.parse((ROOT / "layers/common/smsbridge/wiring.py").read_text(encoding="utf-8"))
    factories = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    modules, todo, seen = set(), ["send_service"], set()
    while todo:
        name = todo.pop()
        seen.add(name)
        for node in ast.walk(factories[name]):
            if isinstance(node, ast.ImportFrom):
                modules.add(node.module)
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                    and node.func.id in factories and node.func.id not in seen:
                todo.append(node.func.id)
    return ", ".join(sorted(modules))


def import_ratio(runs: int = 7) -> tuple[float, float, float, float]:
    """Both sides import compiled bytecode, as deployed: the layer ships it (layers/common/Makefile)
    and so does the Lambda runtime for boto3. A private pycache prefix, filled by one warm-up run,
    gives every module its .pyc whatever the venv's installer or PYTHONDONTWRITEBYTECODE did."""
    paths = [str(ROOT / "layers/common"), str(ROOT / "functions/send")]
    probe = ("import sys, time; sys.path[:0] = {paths!r}; start = time.perf_counter(); import {modules}; "
             "middle = time.perf_counter(); {then}; print(middle - start, time.perf_counter() - middle)")

    with tempfile.TemporaryDirectory(prefix="smsbridge-pycache-") as prefix:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"} | {"PYTHONPYCACHEPREFIX": prefix}

        def timed(modules: str, then: str = "pass") -> tuple[float, float]:
            out = subprocess.run([sys.executable, "-c", probe.format(paths=paths, modules=modules, then=then)],
                                 capture_output=True, text=True, check=True, env=env)
            first, second = out.stdout.split()
            return float(first), float(second)

        send_path = "import " + send_path_modules()
        timed("send_handler", send_path), timed("boto3, requests")  # compile into the prefix
        handler, deferred, base = [], [], []
        for _ in range(runs):
            mine, later = timed("send_handler", send_path)
            handler.append(mine)
            deferred.append(later)
            base.append(timed("boto3, requests")[0])
    mine, theirs = statistics.median(handler), statistics.median(base)
    return mine / theirs, mine, theirs, statistics.median(deferred)


def main() -> None:
    ratio, batch, trip = concurrency_ratio()
    print(f"concurrency_ratio={ratio:.2f}  (10-record batch {batch * 1000:.0f} ms / one round trip "
          f"{trip * 1000:.0f} ms; provider latency {LATENCY_S * 1000:.0f} ms; target <= 1.5)")
    ratio, mine, base = cpu_ratio()
    print(f"cpu_ratio_vs_requests={ratio:.2f}  (bridge {mine * 1e3:.3f} ms CPU/message / bare requests "
          f"{base * 1e3:.3f} ms CPU/message; target <= 1.2)")
    storage = storage_figures()
    for message_type in ("NOTIFICATION", "MARKETING"):
        print(f"aws_calls_per_message={storage[message_type]:.1f}  ({message_type}, a warm 10-message batch: "
              f"{describe_calls(storage[message_type + '_calls'])}; target <= 1.0)")
    print(f"cpu_ratio_with_storage={storage['NOTIFICATION_cpu_ratio']:.2f}  (NOTIFICATION: send path with its "
          f"AWS calls {storage['NOTIFICATION_cpu'] * 1e3:.3f} ms CPU/message / bare requests "
          f"{storage['bare_cpu'] * 1e3:.3f} ms CPU/message; MARKETING: {storage['MARKETING_cpu_ratio']:.2f}, "
          f"{storage['MARKETING_cpu'] * 1e3:.3f} ms)")
    ratio, mine, base, deferred = import_ratio()
    print(f"import_ratio={ratio:.2f}  (import send_handler {mine * 1000:.0f} ms / import boto3, requests "
          f"{base * 1000:.0f} ms; target <= 1.5)")
    print(f"  then, at the first batch, the send path's imports (boto3 included): {deferred * 1000:.0f} ms; "
          f"handler and send path together: {(mine + deferred) / base:.2f} x import boto3, requests")


if __name__ == "__main__":
    main()
