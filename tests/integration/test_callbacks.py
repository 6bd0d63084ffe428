"""The callbacks function on moto against a real receiver on 127.0.0.1: signed POSTs, retries with backoff on
CallbackQueue, the dead-letter queue after 24 h (injected clock) or for a refused URL (SPEC 10)."""
from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from smsbridge.models.callback import CallbackJob
from tests.support import secret_watch
from tests.support.callback_doc import documented_verifier
from tests.support.loopback import LoopbackProvider
from tests.support.stack import LambdaContext, Stack, lambda_sqs_record, moto_stack

EVENT = {"id": "m-1", "status": "sent", "previous_status": "queued", "provider": "acme",
         "provider_message_id": "pm-1", "to": "+33612345678", "type": "NOTIFICATION", "segments": 1, "attempt": 1,
         "reason": "accepted", "at": "2026-03-01T09:30:01.000000Z", "campaign_id": None,
         "metadata": {"name": "Zoë"}}
BODY = json.dumps(EVENT, ensure_ascii=False, separators=(",", ":"))


@pytest.fixture
def stack():
    with moto_stack("CallbacksFunction") as stack:
        yield stack


@pytest.fixture
def receiver():
    with LoopbackProvider() as server:
        server.answer_with(204)
        yield server


def secret(stack: Stack) -> str:
    value = stack.session.client("secretsmanager").get_secret_value(
        SecretId=stack.env["CALLBACK_SECRET_NAME"])["SecretString"]
    secret_watch.watch([value])  # the session fails if it shows in any log
    return value


def job(url: str, **changes: Any) -> CallbackJob:
    return CallbackJob(url=url, body=BODY, message_id="m-1", status="sent", **changes)


def run(stack: Stack, *bodies: str, clock: datetime | None = None, monkeypatch=None) -> dict:
    """Invoke the callbacks handler with these CallbackQueue bodies (as the event source would)."""
    from smsbridge import wiring

    if clock is not None:
        monkeypatch.setattr(wiring.callback_delivery(), "_clock", lambda: clock)
    import callbacks_handler

    arn = stack.template.arn("CallbackQueue")
    records = [lambda_sqs_record({"MessageId": f"sqs-{i}", "ReceiptHandle": f"rh-{i}", "Body": body,
                                  "MD5OfBody": "", "Attributes": {"SentTimestamp": "1772357402000"}}, arn)
               for i, body in enumerate(bodies)]
    return callbacks_handler.lambda_handler({"Records": records}, LambdaContext())


def queue(stack: Stack, logical_id: str, *, wait_s: int = 0) -> list[dict[str, Any]]:
    sqs = stack.session.client("sqs")
    answer = sqs.receive_message(QueueUrl=stack.queues[logical_id], MaxNumberOfMessages=10, WaitTimeSeconds=wait_s,
                                 MessageAttributeNames=["All"])
    return [{"job": json.loads(m["Body"]) if m["Body"].startswith("{") else m["Body"],
             "reason": m.get("MessageAttributes", {}).get("reason", {}).get("StringValue")}
            for m in answer.get("Messages", [])]


def test_given_a_job_when_the_receiver_answers_2xx_then_it_got_the_event_signed_and_nothing_is_queued_again(
        stack, receiver):
    verify = documented_verifier()
    started = time.time()

    answer = run(stack, job(receiver.url_for("/sms-status")).model_dump_json())

    assert answer == {"batchItemFailures": []}
    [request] = receiver.requests
    assert (request.method, request.path, request.body.decode()) == ("POST", "/sms-status", BODY)
    assert request.header("content-type") == "application/json; charset=utf-8"
    assert abs(int(request.header("x-smsbridge-timestamp")) - started) <= 5
    assert verify(secret(stack), request.header("x-smsbridge-timestamp"), request.header("x-smsbridge-signature"),
                  request.body)
    assert not verify("another-secret", request.header("x-smsbridge-timestamp"),
                      request.header("x-smsbridge-signature"), request.body)
    assert queue(stack, "CallbackQueue") == [] and queue(stack, "CallbackDeadLetterQueue") == []


def test_given_a_receiver_answering_503_then_the_job_comes_back_after_5_s_with_its_first_try_and_count(
        stack, receiver):
    receiver.answer_with(503, "down")

    run(stack, job(receiver.url_for("/cb")).model_dump_json())

    assert queue(stack, "CallbackQueue") == []  # delayed: not visible at once
    time.sleep(4)
    assert queue(stack, "CallbackQueue") == []
    [again] = queue(stack, "CallbackQueue", wait_s=3)
    assert (again["job"]["attempts"], again["job"]["body"]) == (1, BODY)
    assert again["job"]["first_attempt_at"] is not None
    assert len(receiver.requests) == 1


def test_given_failed_tries_then_each_waits_twice_as_long_as_the_one_before(stack, receiver, monkeypatch):
    receiver.answer_with(500)
    first = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    delays = []
    from smsbridge import wiring

    jobs = wiring.callback_jobs()
    monkeypatch.setattr(jobs, "later", lambda tried, delay_s: delays.append((tried.attempts, delay_s)))

    current = job(receiver.url_for("/cb"))
    for attempts in range(4):
        run(stack, current.model_dump_json(), clock=first + timedelta(minutes=attempts), monkeypatch=monkeypatch)
        current = current.model_copy(update={"attempts": attempts + 1, "first_attempt_at": first})

    assert delays == [(1, 5.0), (2, 10.0), (3, 20.0), (4, 40.0)]


def test_given_a_refused_connection_then_the_job_is_retried_not_dropped(stack, monkeypatch):
    with LoopbackProvider() as gone:
        url = gone.url_for("/cb")  # the port is free again once it is closed
    from smsbridge import wiring

    later = []
    monkeypatch.setattr(wiring.callback_jobs(), "later", lambda tried, delay_s: later.append(tried))

    assert run(stack, job(url).model_dump_json()) == {"batchItemFailures": []}
    assert [j.attempts for j in later] == [1]


def test_given_24_hours_of_failures_then_the_job_is_dead_lettered_with_the_reason(stack, receiver, monkeypatch):
    receiver.answer_with(502)
    first = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    tired = job(receiver.url_for("/cb"), attempts=104, first_attempt_at=first)

    run(stack, tired.model_dump_json(), clock=first + timedelta(hours=24, seconds=1), monkeypatch=monkeypatch)

    [dead] = queue(stack, "CallbackDeadLetterQueue")
    assert dead["job"]["attempts"] == 105 and dead["job"]["body"] == BODY
    assert dead["reason"] == ("not delivered after 105 tries from 2026-03-01T09:30:00.000000Z to "
                              "2026-03-02T09:30:01.000000Z (24 h); last: the receiver answered HTTP 502")
    assert queue(stack, "CallbackQueue") == []


@pytest.mark.parametrize(("url", "why"), [
    ("http://10.1.2.3/cb", "host 10.1.2.3 is a private address: refused"),
    ("http://169.254.169.254/latest/meta-data", "host 169.254.169.254 is a cloud metadata address: refused"),
    ("ftp://example.com/cb", "callback URLs must use http or https, not 'ftp'"),
])
def test_given_a_callback_url_the_address_rules_refuse_then_it_is_dead_lettered_without_a_request(
        stack, url, why):
    run(stack, job(url).model_dump_json())

    [dead] = queue(stack, "CallbackDeadLetterQueue")
    assert dead["reason"] == f"callback_url refused: {why}"
    assert queue(stack, "CallbackQueue") == []


def test_given_a_deployed_stack_then_a_loopback_callback_url_is_refused(stack, receiver, monkeypatch):
    from tests.support.stack import reset_cached_clients

    monkeypatch.setenv("SMSBRIDGE_LOCAL", "false")
    reset_cached_clients()

    run(stack, job(receiver.url_for("/cb")).model_dump_json())

    [dead] = queue(stack, "CallbackDeadLetterQueue")
    assert dead["reason"] == "callback_url refused: callback URLs must use https (plain http is allowed in the local runtime only)"
    assert receiver.requests == []


def test_given_a_body_that_is_not_a_job_then_it_is_dead_lettered_with_why(stack):
    run(stack, '{"url": 3}')

    [dead] = queue(stack, "CallbackDeadLetterQueue")
    assert dead["job"] == {"url": 3}
    assert dead["reason"].startswith("not a callback job: ")


def test_given_the_callbacks_sample_event_then_the_handler_posts_it(stack, receiver):
    import callbacks_handler

    sample = json.loads((stack.template.root / "events" / "callbacks-sqs.json").read_text())
    body = json.loads(sample["Records"][0]["body"])
    sample["Records"][0]["body"] = json.dumps({**body, "url": receiver.url_for("/sms-status")})

    assert callbacks_handler.lambda_handler(sample, LambdaContext()) == {"batchItemFailures": []}
    assert json.loads(receiver.last.body)["status"] == "sent"
