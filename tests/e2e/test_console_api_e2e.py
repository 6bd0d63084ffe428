"""The console's admin routes through the local runtime, as the console calls them (same origin, absolute paths)."""
from __future__ import annotations

import random
import uuid

import requests

from tests.e2e.local_stack import LocalStack, wait_for


def _fresh_number() -> str:
    return f"+336{random.randint(10_000_000, 99_999_999)}"


def test_swagger_try_it_out_calls_a_path_the_local_runtime_serves(stack: LocalStack) -> None:
    # Given the Swagger page's OpenAPI document, as the page embeds it
    spec = requests.get(f"{stack.api}/swagger", params={"format": "json"}, timeout=30).json()

    # When "Try it out" calls a route under the document's server URL
    server = spec["servers"][0]["url"].rstrip("/")
    answer = requests.get(f"{stack.api}{server}/providers", timeout=30)

    # Then the local runtime serves it (it was /dev/providers: 404)
    assert server == ""
    assert answer.status_code == 200, answer.text


def test_a_message_sent_through_the_sandbox_is_found_by_its_phone_as_sent_and_counted(stack: LocalStack) -> None:
    number = _fresh_number()
    posted = requests.post(f"{stack.api}/messages", json={"to": number, "text": "console e2e", "sender": "ACME"},
                           timeout=30)
    assert posted.status_code == 202, posted.text
    message_id = posted.json()["id"]

    def found_sent() -> dict | None:
        items = requests.get(f"{stack.api}/messages", params={"phone": number}, timeout=30).json()["items"]
        return next((i for i in items if i["id"] == message_id and i["status"] == "sent"), None)

    item = wait_for(found_sent, timeout_s=30, what="the message as sent in the search")
    assert item["provider"] == "sandbox" and item["to"] == number
    assert requests.get(f"{stack.api}/stats", timeout=30).json()["counts"]["sent"] >= 1
    summary = {p["id"]: p for p in requests.get(f"{stack.api}/providers/summary", timeout=30).json()}
    assert summary["sandbox"]["last_send"]["status"] in ("sent", "delivered")


def test_an_inbound_sms_that_is_no_keyword_is_listed_newest_first(stack: LocalStack) -> None:
    number, text = _fresh_number(), f"hello console {uuid.uuid4().hex[:8]}"
    sent = requests.post(f"{stack.sandbox}/api/inbound", json={"from": number, "to": "+33757000000", "text": text},
                         timeout=30)
    assert sent.status_code == 200, sent.text

    items = requests.get(f"{stack.api}/inbound-messages", params={"limit": 10}, timeout=30).json()["items"]

    mine = next(i for i in items if i["text"] == text)
    assert mine["from"] == number and mine["provider"] == "sandbox"


def test_a_malformed_body_redriven_from_the_dead_letters_comes_back_with_its_reason(stack: LocalStack) -> None:
    # Given a body the send function cannot read, dead-lettered with its reason
    body = f"not json {uuid.uuid4()}"
    stack.client("sqs").send_message(QueueUrl=stack.queue_url, MessageBody=body)

    def listed() -> dict | None:
        items = requests.get(f"{stack.api}/dead-letters", params={"limit": 200}, timeout=30).json()["items"]
        return next((i for i in items if i["body"] == body), None)

    first = wait_for(listed, timeout_s=30, what="the body in GET /dead-letters")
    assert first["reason"]

    # When it is redriven, nothing fixed
    answer = requests.post(f"{stack.api}/dead-letters/redrive", json={"ids": [first["id"]]}, timeout=30)
    assert answer.json() == {"redriven": 1}

    # Then it goes through the send function again and is back, with its reason, as a new dead letter
    again = wait_for(lambda: (letter := listed()) and letter["id"] != first["id"] and letter, timeout_s=30,
                     what="the body back in GET /dead-letters")
    assert again["reason"] == first["reason"]
    assert requests.delete(f"{stack.api}/dead-letters/{again['id']}", timeout=30).status_code == 204
