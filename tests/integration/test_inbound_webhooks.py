"""The inbound function end to end in-process: signed webhooks, consent, auto-replies, inbound events, delivery receipts (moto)."""
from __future__ import annotations

import json
import time
from urllib.parse import urlencode

import boto3
import pytest

from smsbridge.core.signatures import hmac_signature, twilio_signature
from tests.support.apigw_events import api_event, public_url, put_provider
from tests.support.stack import REGION, LambdaContext, moto_stack

TWILIO_TOKEN = "twilio-auth-token-0123456789"
HMAC_SECRET = "hmac-secret-abcdef"
PERSON, SHORTCODE = "+33612345678", "+33757000000"

TWILIO = {
    "id": "twilio", "default_sender": "+33757000000",
    "request": {"url": "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json", "content_type": "form",
                "body": {"To": "{{to}}", "From": "{{sender}}", "Body": "{{text}}"}},
    "auth": {"type": "basic", "username": "AC1", "password": TWILIO_TOKEN},
    "inbound": {"auth": {"type": "twilio"}, "format": "form",
                "fields": {"from": "From", "to": "To", "text": "Body", "id": "MessageSid"}},
    "status": {"fields": {"message_id": "MessageSid", "status": "MessageStatus", "error": "ErrorCode"},
               "map": {"delivered": "delivered", "undelivered": "failed", "failed": "failed", "sent": "sent"}},
}
JSON_HMAC = {
    "id": "jsonhook",
    "request": {"url": "https://sms.example.com/v1/messages", "body": {"to": "{{to}}", "text": "{{text}}"}},
    "inbound": {"auth": {"type": "hmac", "secret": HMAC_SECRET, "header": "X-Hook-Signature", "prefix": "sha256=",
                         "timestamp_header": "X-Hook-Timestamp", "tolerance_s": 300},
                "format": "json",
                "fields": {"from": "message.from", "to": "message.to", "text": "message.body", "id": "message.id"},
                "replies": {"help": "Call 0800 000 000 for help."}},
    "status": {"fields": {"message_id": "id", "status": "state"}, "map": {"DELIVRD": "delivered", "ACCEPTD": "sent"}},
}
NO_INBOUND = {"id": "plain", "request": {"url": "https://sms.example.com/send", "body": {"to": "{{to}}", "text": "{{text}}"}}}


@pytest.fixture
def stack():
    with moto_stack("InboundFunction") as stack:
        for config in (TWILIO, JSON_HMAC, NO_INBOUND):
            put_provider(config)
        yield stack


@pytest.fixture
def handler(stack):
    import inbound_handler

    def call(event: dict) -> dict:
        return inbound_handler.lambda_handler(event, LambdaContext())
    return call


@pytest.fixture
def inbound_events(stack):
    """A queue subscribed to the default bus's `smsbridge` events, to see what was published."""
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName="inbound-events-spy")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events = boto3.client("events", region_name=REGION)
    events.put_rule(Name="spy", EventPattern=json.dumps({"source": ["smsbridge"]}))
    events.put_targets(Rule="spy", Targets=[{"Id": "spy", "Arn": arn}])

    def received() -> list[dict]:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        return [json.loads(m["Body"]) for m in messages]
    return received


def twilio_event(params: list[tuple[str, str]], *, path: str = "/inbound/twilio", token: str = TWILIO_TOKEN,
                 signature: str | None = None) -> dict:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    headers["X-Twilio-Signature"] = signature or twilio_signature(token, public_url(path), params)
    return api_event("POST", path, body=urlencode(params), headers=headers)


def hmac_event(document: dict, *, path: str = "/inbound/jsonhook", secret: str = HMAC_SECRET,
               stamp: int | None = None, signature: str | None = None, drop: str | None = None) -> dict:
    body = json.dumps(document).encode()
    stamp = int(time.time()) if stamp is None else stamp
    headers = {"Content-Type": "application/json", "X-Hook-Timestamp": str(stamp),
               "X-Hook-Signature": signature or "sha256=" + hmac_signature(secret, f"{stamp}.".encode() + body)}
    if drop:
        headers.pop(drop)
    return api_event("POST", path, body=body, headers=headers)


def consent_history(provider: str, phone: str = PERSON) -> list[dict]:
    from smsbridge.wiring import consent_ledger

    return consent_ledger().history(provider, phone)


def sms(text: str, sid: str = "SM0001", sender: str = PERSON) -> list[tuple[str, str]]:
    return [("From", sender), ("To", SHORTCODE), ("Body", text), ("MessageSid", sid), ("AccountSid", "AC1")]


# ---------------------------------------------------------------- Must show 3: signed webhooks accepted

def test_given_a_twilio_form_webhook_signed_with_twilios_algorithm_when_stop_arrives_then_it_is_accepted_and_opts_out(
        stack, handler):
    answer = handler(twilio_event(sms("Stop.")))
    assert answer["statusCode"] == 200
    assert "<Response>" in answer["body"]
    record = stack.table("ConsentTable").get_item(Key={"provider": "twilio", "phone": PERSON})["Item"]
    assert (record["state"], record["keyword"]) == ("opted_out", "STOP")
    [history] = consent_history("twilio")
    assert (history["subject"], history["text"], history["keyword"]) == (f"twilio#{PERSON}", "Stop.", "STOP")
    [reply] = stack.queued()
    assert (reply["to"], reply["sender"], reply["type"], reply["provider"]) == (PERSON, SHORTCODE, "NOTIFICATION", "twilio")
    assert "unsubscribed" in reply["text"]


def test_given_a_json_provider_signed_with_hmac_when_a_message_arrives_then_it_is_stored_and_published(
        stack, handler, inbound_events):
    answer = handler(hmac_event({"message": {"from": PERSON, "to": SHORTCODE, "body": "Is my order ready?", "id": "m-1"}}))
    assert (answer["statusCode"], json.loads(answer["body"])) == (200, {"ok": True})
    [stored] = stack.scan("InboundTable")
    assert (stored["id"], stored["from"], stored["text"]) == ("jsonhook#m-1", PERSON, "Is my order ready?")
    assert stored["ttl"] > time.time()
    [event] = inbound_events()
    assert (event["source"], event["detail-type"]) == ("smsbridge", "sms.inbound")
    assert event["detail"]["text"] == "Is my order ready?" and event["detail"]["from"] == PERSON
    assert stack.scan("ConsentTable") == [] and stack.queued() == []


def test_given_the_same_inbound_message_delivered_twice_then_it_is_stored_and_published_once(stack, handler, inbound_events):
    document = {"message": {"from": PERSON, "body": "hello", "id": "m-2"}}
    assert handler(hmac_event(document))["statusCode"] == 200
    assert handler(hmac_event(document))["statusCode"] == 200
    assert len(stack.scan("InboundTable")) == 1
    assert len(inbound_events()) == 1


def test_given_help_when_it_arrives_then_the_providers_help_reply_is_queued(stack, handler):
    assert handler(hmac_event({"message": {"from": PERSON, "to": SHORTCODE, "body": " help ", "id": "m-3"}}))["statusCode"] == 200
    [reply] = stack.queued()
    assert (reply["text"], reply["type"], reply["to"]) == ("Call 0800 000 000 for help.", "NOTIFICATION", PERSON)
    assert stack.scan("ConsentTable") == [] and stack.scan("InboundTable") == []


def test_given_help_when_it_arrives_then_the_reply_waits_on_the_notification_lane(stack, handler):
    # SPEC 12: a reply answers someone now, it never waits behind a campaign on BulkQueue
    assert handler(hmac_event({"message": {"from": PERSON, "to": SHORTCODE, "body": "help", "id": "m-4"}}))["statusCode"] == 200
    assert stack.queued("BulkQueue") == []
    assert [r["text"] for r in stack.queued("OutboundQueue")] == ["Call 0800 000 000 for help."]


def test_given_start_after_stop_when_it_arrives_then_the_number_is_opted_in_with_a_confirmation(stack, handler):
    handler(twilio_event(sms("STOP", "SM1")))
    handler(twilio_event(sms("start", "SM2")))
    record = stack.table("ConsentTable").get_item(Key={"provider": "twilio", "phone": PERSON})["Item"]
    assert record["state"] == "opted_in"
    replies = stack.queued()
    assert sorted(r["text"].split()[2] for r in replies) == ["subscribed", "unsubscribed"]


def test_given_a_stop_retried_by_the_provider_then_one_history_entry_and_one_reply(stack, handler):
    handler(twilio_event(sms("STOP", "SM9")))
    handler(twilio_event(sms("STOP", "SM9")))
    assert len(consent_history("twilio")) == 1
    assert len(stack.queued()) == 1


# ---------------------------------------------------------------- Must show 2: refused and nothing written

REFUSED = {
    "twilio wrong token": (lambda: twilio_event(sms("STOP"), token="not-the-token"), 403),
    "twilio tampered body": (lambda: api_event("POST", "/inbound/twilio", body=urlencode(sms("START")), headers={
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": twilio_signature(TWILIO_TOKEN, public_url("/inbound/twilio"), sms("STOP"))}), 403),
    "twilio missing signature": (lambda: api_event("POST", "/inbound/twilio", body=urlencode(sms("STOP")),
                                                   headers={"Content-Type": "application/x-www-form-urlencoded"}), 401),
    "twilio signed for another url": (lambda: twilio_event(sms("STOP"), signature=twilio_signature(
        TWILIO_TOKEN, "https://evil.example/inbound/twilio", sms("STOP"))), 403),
    "hmac wrong secret": (lambda: hmac_event({"message": {"from": PERSON, "body": "STOP"}}, secret="guess"), 403),
    "hmac missing signature": (lambda: hmac_event({"message": {"from": PERSON, "body": "STOP"}},
                                                  drop="X-Hook-Signature"), 401),
    "hmac missing timestamp": (lambda: hmac_event({"message": {"from": PERSON, "body": "STOP"}},
                                                  drop="X-Hook-Timestamp"), 401),
    "hmac replayed": (lambda: hmac_event({"message": {"from": PERSON, "body": "STOP"}}, stamp=int(time.time()) - 3600), 403),
    "hmac receipt forged": (lambda: hmac_event({"id": "p-1", "state": "DELIVRD"}, path="/status/jsonhook",
                                               secret="guess"), 403),
    "twilio receipt unsigned": (lambda: api_event("POST", "/status/twilio", body="MessageSid=SMx&MessageStatus=delivered",
                                                  headers={"Content-Type": "application/x-www-form-urlencoded"}), 401),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_given_a_wrong_missing_or_replayed_signature_then_401_or_403_and_the_tables_are_unchanged(
        stack, handler, case):
    _seed_message(stack, "twilio", "SMx")
    before = stack.snapshot()
    make_event, status = REFUSED[case]
    answer = handler(make_event())
    assert answer["statusCode"] == status
    assert "message" in json.loads(answer["body"])
    assert TWILIO_TOKEN not in answer["body"] and HMAC_SECRET not in answer["body"]
    assert stack.snapshot() == before


# ---------------------------------------------------------------- routes and bad input

@pytest.mark.parametrize(("path", "status"), [("/inbound/nobody", 404), ("/inbound/plain", 404), ("/status/plain", 404),
                                              ("/elsewhere", 404)])
def test_given_an_unknown_provider_or_one_without_webhooks_then_404_with_a_json_message(stack, handler, path, status):
    answer = handler(api_event("POST", path, body="x=1"))
    assert answer["statusCode"] == status
    assert json.loads(answer["body"])["message"]


def test_given_a_signed_body_that_is_not_json_then_400(stack, handler):
    stamp = int(time.time())
    body = b"not json"
    answer = handler(api_event("POST", "/inbound/jsonhook", body=body, headers={
        "X-Hook-Timestamp": str(stamp), "X-Hook-Signature": "sha256=" + hmac_signature(HMAC_SECRET, f"{stamp}.".encode() + body)}))
    assert answer["statusCode"] == 400
    assert "JSON" in json.loads(answer["body"])["message"]


def test_given_a_body_marked_base64_that_is_not_then_400(stack, handler):
    event = api_event("POST", "/inbound/jsonhook", body="x")
    event["body"] = "%%%not base64"
    assert handler(event)["statusCode"] == 400


# ---------------------------------------------------------------- delivery receipts

def _seed_message(stack, provider: str, provider_message_id: str, status: str = "sent") -> str:
    from smsbridge.adapters.store import provider_ref
    from smsbridge.models.status import MessageStatus, StatusChange
    from smsbridge.wiring import message_store

    message_id = f"msg-{provider}-{provider_message_id}"
    message_store().create(message_id, StatusChange(status=MessageStatus(status), at="2026-11-21T10:00:00+00:00"),
                           provider=provider, to=PERSON, provider_ref=provider_ref(provider, provider_message_id))
    return message_id


def _receipt(provider_message_id: str, word: str) -> dict:
    params = [("MessageSid", provider_message_id), ("MessageStatus", word), ("AccountSid", "AC1")]
    return twilio_event(params, path="/status/twilio")


def test_given_a_delivered_receipt_when_it_arrives_then_the_message_is_delivered_with_history(stack, handler):
    message_id = _seed_message(stack, "twilio", "SM100")
    assert handler(_receipt("SM100", "delivered"))["statusCode"] == 200
    item = stack.table("MessagesTable").get_item(Key={"id": message_id})["Item"]
    assert item["status"] == "delivered"
    assert [h["status"] for h in item["history"]] == ["sent", "delivered"]


def test_given_a_late_sent_after_delivered_then_it_is_recorded_but_the_status_does_not_move_back(stack, handler):
    message_id = _seed_message(stack, "twilio", "SM101")
    handler(_receipt("SM101", "delivered"))
    answer = handler(_receipt("SM101", "sent"))
    assert answer["statusCode"] == 200
    item = stack.table("MessagesTable").get_item(Key={"id": message_id})["Item"]
    assert item["status"] == "delivered"
    assert [h["status"] for h in item["history"]] == ["sent", "delivered", "sent"]


def test_given_a_failed_receipt_on_a_json_provider_then_the_mapped_status_applies(stack, handler):
    message_id = _seed_message(stack, "jsonhook", "p-7")
    assert handler(hmac_event({"id": "p-7", "state": "DELIVRD"}, path="/status/jsonhook"))["statusCode"] == 200
    assert stack.table("MessagesTable").get_item(Key={"id": message_id})["Item"]["status"] == "delivered"


def test_given_a_receipt_for_an_unknown_message_then_200_with_a_note_so_the_provider_stops_retrying(stack, handler):
    before = stack.scan("MessagesTable")
    answer = handler(hmac_event({"id": "never-sent", "state": "DELIVRD"}, path="/status/jsonhook"))
    assert answer["statusCode"] == 200
    assert "unknown message id" in json.loads(answer["body"])["note"]
    assert stack.scan("MessagesTable") == before


def test_given_a_receipt_with_an_unmapped_status_word_then_200_with_a_note_and_nothing_changes(stack, handler):
    message_id = _seed_message(stack, "jsonhook", "p-8")
    answer = handler(hmac_event({"id": "p-8", "state": "WEIRD"}, path="/status/jsonhook"))
    assert answer["statusCode"] == 200 and "note" in json.loads(answer["body"])
    assert stack.table("MessagesTable").get_item(Key={"id": message_id})["Item"]["status"] == "sent"
