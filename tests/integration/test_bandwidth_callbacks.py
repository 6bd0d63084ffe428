"""Bandwidth callbacks with several events: "All Message callbacks are sent as a list/array [ {message metadata} ]"
(https://dev.bandwidth.com/docs/messaging/webhooks/), so the preset reads every element (`items: "@"`), not
only the first. Each event is built with the official SDK's models (bandwidth-sdk: StatusCallback,
InboundCallback) and sent with the callback's Basic credentials."""
from __future__ import annotations

import base64
import itertools
import json
import time
from datetime import UTC, datetime

import pytest
from bandwidth.models import InboundCallback, InboundCallbackMessage, StatusCallback, StatusCallbackMessage

from smsbridge.core.presets import resolve_preset
from tests.support.apigw_events import api_event, put_provider
from tests.support.loopback import LoopbackProvider
from tests.support.stack import LambdaContext, moto_stack

APPLICATION_ID, OUR_NUMBER = "93de2206-9669-4e07-948d-329f4b722ee2", "+15554443333"
CALLBACK_USER, CALLBACK_PASSWORD = "bandwidth-hook", "callback-password-1"
NUMBERS = ["+14155550101", "+14155550102"]
AT = datetime(2026, 11, 30, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def stack():
    with moto_stack("SendFunction") as stack:
        yield stack


@pytest.fixture
def bandwidth(stack):
    """The Bandwidth preset pointed at a loopback server answering as createMessage does (202, the message)."""
    ids = (f"1589228074636lm4k2je7j7jkl{n:04d}" for n in itertools.count(1))
    with LoopbackProvider(lambda request: (202, {}, {
            "id": next(ids), "owner": OUR_NUMBER, "applicationId": APPLICATION_ID, "time": AT.isoformat(),
            "segmentCount": 1, "direction": "out", "to": request.json()["to"], "from": OUR_NUMBER,
            "text": request.json()["text"], "tag": request.json()["tag"]})) as server:
        put_provider(resolve_preset({
            "id": "bandwidth", "preset": "bandwidth", "default_sender": OUR_NUMBER,
            "request": {"url": server.url_for("/api/v2/users/9900000/messages"), "body": {"applicationId": APPLICATION_ID}},
            "auth": {"username": "api-user", "password": "api-password"},
            "inbound": {"auth": {"username": CALLBACK_USER, "password": CALLBACK_PASSWORD}}}))
        yield server


def send_two(stack) -> dict[str, str]:
    """Two messages through the send function; our message id → Bandwidth's."""
    from send_handler import lambda_handler
    from smsbridge.wiring import message_store

    for n, number in enumerate(NUMBERS):
        stack.enqueue({"id": f"bw-m{n}", "provider": "bandwidth", "to": number, "text": f"hello {n}"})
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and (records := stack.receive()):
        stack.deliver(records, lambda_handler)
    sent = {}
    for n in range(len(NUMBERS)):
        item = message_store().get(f"bw-m{n}")
        assert item["status"] == "sent", item
        sent[f"bw-m{n}"] = item["history"][-1]["answer"]["message_id"]
    return sent


def callback(path: str, events: list[StatusCallback] | list[InboundCallback]) -> dict:
    """POST the events as one Bandwidth callback (a JSON array, the SDK's field names) with Basic credentials."""
    import inbound_handler

    body = "[" + ",".join(event.model_dump_json(by_alias=True, exclude_none=True) for event in events) + "]"
    credentials = base64.b64encode(f"{CALLBACK_USER}:{CALLBACK_PASSWORD}".encode()).decode()
    event = api_event("POST", path, body=body.encode(),
                      headers={"Content-Type": "application/json", "Authorization": f"Basic {credentials}"})
    answer = inbound_handler.lambda_handler(event, LambdaContext())
    return {"status": answer["statusCode"], "body": json.loads(answer["body"])}


def status_event(kind: str, message_id: str, to: str, error_code: int | None = None) -> StatusCallback:
    return StatusCallback(
        time=AT, type=kind, to=to, description="ok" if error_code is None else "rejected-unallocated-to-number",
        error_code=error_code, message=StatusCallbackMessage(
            id=message_id, owner=OUR_NUMBER, application_id=APPLICATION_ID, time=AT, segment_count=1,
            direction="out", to=[to], var_from=OUR_NUMBER, text=""))


def test_given_two_bandwidth_messages_sent_when_one_callback_carries_both_events_then_both_move(stack, bandwidth):
    # Given two messages that Bandwidth accepted
    sent = send_two(stack)

    # When one status callback reports the first delivered and the second failed
    answer = callback("/status/bandwidth", [status_event("message-delivered", sent["bw-m0"], NUMBERS[0]),
                                            status_event("message-failed", sent["bw-m1"], NUMBERS[1], 4720)])

    # Then both events are applied, not only the array's first
    from smsbridge.wiring import message_store

    assert answer == {"status": 200, "body": {"ok": True, "received": 2, "applied": 2}}
    assert message_store().get("bw-m0")["status"] == "delivered"
    failed = message_store().get("bw-m1")
    assert failed["status"] == "failed" and "4720" in failed["history"][-1]["reason"]


def test_given_one_bandwidth_callback_with_two_inbound_messages_then_each_is_stored(stack, bandwidth):
    def received(message_id: str, sender: str, text: str) -> InboundCallback:
        return InboundCallback(time=AT, type="message-received", to=OUR_NUMBER, description="Incoming message received",
                               message=InboundCallbackMessage(
                                   id=message_id, owner=OUR_NUMBER, application_id=APPLICATION_ID, time=AT,
                                   segment_count=1, direction="in", to=[OUR_NUMBER], var_from=sender, text=text))

    answer = callback("/inbound/bandwidth", [received("mo-1", NUMBERS[0], "Is my order ready?"),
                                             received("mo-2", NUMBERS[1], "Thanks, got it")])

    assert answer == {"status": 200, "body": {"ok": True, "received": 2, "applied": 2}}
    stored = {item["id"]: (item["from"], item["text"]) for item in stack.scan("InboundTable")}
    assert stored == {"bandwidth#mo-1": (NUMBERS[0], "Is my order ready?"),
                      "bandwidth#mo-2": (NUMBERS[1], "Thanks, got it")}
