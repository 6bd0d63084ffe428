"""Consent through the local runtime: the sandbox texts STOP / START / HELP, signed, and the bridge obeys (issue 4, Must show 1)."""
from __future__ import annotations

import json
import random
import uuid

import requests

from tests.e2e.local_stack import SHORTCODE, LocalStack, wait_for



def _fresh_number() -> str:
    return f"+336{random.randint(10_000_000, 99_999_999)}"  # a number no other test has touched


def _consent(stack: LocalStack, number: str) -> str | None:
    item = stack.table("ConsentTable").get_item(Key={"provider": "sandbox", "phone": number},
                                                ConsistentRead=True).get("Item")
    return item["state"] if item else None


def _replies(stack: LocalStack, number: str, word: str) -> list[dict]:
    return [m for m in stack.inbox(to=number) if word in m["text"]]


def _queue(stack: LocalStack, number: str, kind: str) -> str:
    message_id = f"e2e-consent-{uuid.uuid4()}"
    stack.client("sqs").send_message(QueueUrl=stack.queue_url, MessageBody=json.dumps(
        {"id": message_id, "to": number, "text": f"{kind} for {number}", "type": kind, "sender": "ACME"}))
    return message_id


def _status(stack: LocalStack, message_id: str) -> str | None:
    item = stack.table("MessagesTable").get_item(Key={"id": message_id}, ConsistentRead=True).get("Item")
    return item["status"] if item else None


def test_stop_opts_out_with_a_confirmation_blocks_marketing_but_not_notifications_and_start_opts_back_in(
        stack: LocalStack) -> None:
    number = _fresh_number()

    # Given a person who texts "Stop." to the bridge through the sandbox provider (signed)
    stack.text_from_phone(number, "Stop.")

    # Then the number is opted out and the confirmation reaches the sandbox inbox
    wait_for(lambda: _consent(stack, number) == "opted_out", timeout_s=10, what="the number opted out")
    [confirmation] = wait_for(lambda: _replies(stack, number, "unsubscribed"), timeout_s=20,
                              what="the opt-out confirmation in the sandbox inbox")
    assert confirmation["from"] == SHORTCODE

    # When a MARKETING and a NOTIFICATION message are queued to it
    marketing, notification = _queue(stack, number, "MARKETING"), _queue(stack, number, "NOTIFICATION")

    # Then the marketing one is blocked and the notification is sent
    wait_for(lambda: _status(stack, marketing) == "blocked", timeout_s=20, what="MARKETING blocked")
    wait_for(lambda: _status(stack, notification) == "sent", timeout_s=20, what="NOTIFICATION sent")
    assert wait_for(lambda: stack.inbox(text=f"NOTIFICATION for {number}"), timeout_s=10, what="notification in inbox")
    assert stack.inbox(text=f"MARKETING for {number}") == []

    # When the person texts START
    stack.text_from_phone(number, "START")

    # Then the number is opted in again, with a confirmation, and marketing goes through
    wait_for(lambda: _consent(stack, number) == "opted_in", timeout_s=10, what="the number opted in")
    wait_for(lambda: _replies(stack, number, "subscribed again"), timeout_s=20, what="the opt-in confirmation")
    again = _queue(stack, number, "MARKETING")
    wait_for(lambda: _status(stack, again) == "sent", timeout_s=20, what="MARKETING sent after START")


def test_help_gets_the_help_reply_and_leaves_consent_alone(stack: LocalStack) -> None:
    number = _fresh_number()

    # Given a person who texts HELP
    stack.text_from_phone(number, "help")

    # Then the help reply reaches the sandbox inbox, and nothing is recorded about consent
    wait_for(lambda: _replies(stack, number, "Reply STOP"), timeout_s=20, what="the help reply")
    assert _consent(stack, number) is None


def test_an_unsigned_stop_is_refused_and_changes_nothing(stack: LocalStack) -> None:
    number = _fresh_number()

    # Given a forged STOP (the sandbox sends it without a signature)
    answer = requests.post(f"{stack.sandbox}/api/inbound",
                           json={"from": number, "to": SHORTCODE, "text": "STOP", "sign": False}, timeout=30).json()

    # Then the bridge refuses it and the number's consent is untouched
    assert answer["bridge_status"] == 401
    assert _consent(stack, number) is None
