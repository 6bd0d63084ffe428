"""Double opt-in through the inbound function (signed Twilio webhooks, moto) and the send function (a loopback provider):
the request, its confirmation, STOP in between, and the ledger's history of both steps."""
from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import pytest

from tests.integration.test_inbound_webhooks import PERSON, SHORTCODE, TWILIO_TOKEN, consent_history, sms, twilio_event
from tests.support.apigw_events import put_provider
from tests.support.loopback import LoopbackProvider
from tests.support.stack import LambdaContext, moto_stack, reset_cached_clients

PROMPT = "Reply OUI to confirm ACME offers. STOP to opt out."


def double_opt_in_provider(url: str) -> dict:
    return {
        "id": "twilio", "default_sender": SHORTCODE, "marketing_requires_opt_in": True,
        "request": {"url": url, "content_type": "form", "body": {"To": "{{to}}", "From": "{{sender}}", "Body": "{{text}}"}},
        "auth": {"type": "basic", "username": "AC1", "password": TWILIO_TOKEN},
        "inbound": {"auth": {"type": "twilio"}, "format": "form",
                    "fields": {"from": "From", "to": "To", "text": "Body", "id": "MessageSid"},
                    "keywords": {"opt_in": ["JOIN", "START"],
                                 "confirm_opt_in": {"prompt": PROMPT, "keywords": ["OUI", "YES"], "expires_after_h": 1}},
                    "replies": {"opt_in": "Welcome to ACME offers."}},
    }


@pytest.fixture
def stack(provider):
    with moto_stack("InboundFunction") as stack:
        put_provider(double_opt_in_provider(provider.url_for("/Messages.json")))
        yield stack


def inbound(text: str, sid: str) -> int:
    import inbound_handler

    return inbound_handler.lambda_handler(twilio_event(sms(text, sid)), LambdaContext())["statusCode"]


def run_send_function(stack) -> None:
    """What the queues hold, through the send function (its own environment, as Lambda gives it)."""
    saved = dict(os.environ)
    os.environ.update(stack.template.function("SendFunction").environment)
    reset_cached_clients()
    try:
        from send_handler import lambda_handler

        while records := stack.receive():
            stack.deliver(records, lambda_handler)
    finally:
        os.environ.clear()
        os.environ.update(saved)
        reset_cached_clients()


def texts_sent(provider: LoopbackProvider) -> list[str]:
    return [parse_qs(request.body.decode())["Body"][0] for request in provider.requests]


def consent_state(stack) -> str | None:
    item = stack.table("ConsentTable").get_item(Key={"provider": "twilio", "phone": PERSON}).get("Item")
    return item["state"] if item else None


def queue_marketing(stack, message_id: str) -> None:
    stack.enqueue({"id": message_id, "to": PERSON, "text": "20% off today", "type": "MARKETING", "sender": "ACME"})


def message_status(stack, message_id: str) -> str:
    return stack.table("MessagesTable").get_item(Key={"id": message_id})["Item"]["status"]


def test_given_double_opt_in_when_join_then_oui_arrive_then_the_number_counts_as_opted_in_only_after_oui(
        stack, provider):
    # Given a number that texts JOIN
    assert inbound("join", "SM1") == 200

    # Then it is pending, the confirmation prompt reaches the provider as a NOTIFICATION, and marketing is blocked
    assert consent_state(stack) == "opt_in_requested"
    queue_marketing(stack, "promo-1")
    run_send_function(stack)
    assert texts_sent(provider) == [PROMPT]
    assert message_status(stack, "promo-1") == "blocked"

    # When it confirms
    assert inbound("Oui !", "SM2") == 200

    # Then it is opted in, with the opt-in reply, and marketing goes out
    assert consent_state(stack) == "opted_in"
    queue_marketing(stack, "promo-2")
    run_send_function(stack)
    # (the reply and the campaign travel on two lanes: their order at the provider is not fixed)
    assert sorted(texts_sent(provider)[1:]) == ["20% off today", "Welcome to ACME offers."]
    assert message_status(stack, "promo-2") == "sent"

    # And the ledger's history shows both steps, oldest first
    steps = [(entry["state"], entry["keyword"], entry["applied"]) for entry in consent_history("twilio")]
    assert steps == [("opt_in_requested", "JOIN", True), ("opted_in", "OUI", True)]
    assert "confirm_by" in consent_history("twilio")[0]


def test_given_a_pending_request_when_stop_comes_before_the_confirmation_then_stop_wins(stack, provider):
    # Given a pending request, then STOP
    inbound("START", "SM1")
    inbound("STOP", "SM2")

    # When the confirm word arrives after the STOP
    inbound("OUI", "SM3")

    # Then the number stays opted out: OUI confirmed nothing (it is kept as an ordinary inbound message)
    assert consent_state(stack) == "opted_out"
    assert [entry["state"] for entry in consent_history("twilio")] == ["opt_in_requested", "opted_out"]
    assert [item["text"] for item in stack.scan("InboundTable")] == ["OUI"]


def test_given_a_request_past_expires_after_h_when_the_confirm_word_arrives_then_it_confirms_nothing(stack, provider):
    from smsbridge.wiring import consent_ledger

    # Given a request whose confirm_by passed a minute ago (expires_after_h is 1)
    inbound("JOIN", "SM1")
    assert consent_ledger().get("twilio", PERSON)["state"] == "opt_in_requested"
    past = datetime.now(UTC) - timedelta(minutes=1)
    stack.table("ConsentTable").update_item(Key={"provider": "twilio", "phone": PERSON},
                                            UpdateExpression="SET confirm_by = :c",
                                            ExpressionAttributeValues={":c": past.strftime("%Y-%m-%dT%H:%M:%SZ")})

    # When OUI arrives now
    assert inbound("OUI", "SM2") == 200

    # Then the number is still waiting, unconfirmed
    assert consent_state(stack) == "opt_in_requested"


def test_given_a_join_delivered_twice_by_the_provider_then_one_request_and_one_prompt(stack, provider):
    inbound("JOIN", "SM1")
    inbound("JOIN", "SM1")

    assert len(consent_history("twilio")) == 1
    assert [reply["text"] for reply in stack.queued()] == [PROMPT]


def test_given_a_stop_written_after_the_confirmation_was_read_when_the_confirmation_is_written_then_stop_wins(stack):
    from smsbridge.adapters.consent import ConsentEvent
    from smsbridge.core.consent import ConsentState
    from smsbridge.wiring import consent_ledger

    ledger = consent_ledger()
    start = datetime.now(UTC)
    ledger.apply(ConsentEvent(provider="twilio", phone=PERSON, state=ConsentState.OPT_IN_REQUESTED, event_at=start,
                              keyword="JOIN", confirm_by=start + timedelta(hours=1)))
    # Given a STOP that lands after the inbound function read `opt_in_requested` for the confirmation
    ledger.apply(ConsentEvent(provider="twilio", phone=PERSON, state=ConsentState.OPTED_OUT,
                              event_at=start + timedelta(seconds=1), keyword="STOP"))

    # When the (newer) confirmation is written, on the condition that the request is still pending
    applied = ledger.apply(ConsentEvent(provider="twilio", phone=PERSON, state=ConsentState.OPTED_IN,
                                        event_at=start + timedelta(seconds=2), keyword="OUI"),
                           only_if_state=ConsentState.OPT_IN_REQUESTED)

    # Then the number stays opted out, and the history keeps the confirmation as not applied
    assert applied.current is False
    assert consent_state(stack) == "opted_out"
    assert [(e["state"], e["applied"]) for e in consent_history("twilio")] == [
        ("opt_in_requested", True), ("opted_out", True), ("opted_in", False)]
