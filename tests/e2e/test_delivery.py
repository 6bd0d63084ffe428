"""Messages reach the provider: queued with boto3, posted to the API, or sent with the banner's curl."""
from __future__ import annotations

import json
import re
import subprocess
import uuid

import pytest
import requests

from tests.e2e.local_stack import LocalStack, wait_for


def _status_in_table(stack: LocalStack, message_id: str) -> str | None:
    item = stack.table("MessagesTable").get_item(Key={"id": message_id}, ConsistentRead=True).get("Item")
    return item["status"] if item else None


def test_a_message_queued_with_boto3_is_delivered_and_recorded_as_sent(stack: LocalStack) -> None:
    # Given a message an application builds, with its own id
    message_id = f"e2e-{uuid.uuid4()}"
    text = f"Queued straight on SQS {message_id}"

    # When it puts the message on the outbound queue with boto3
    stack.client("sqs").send_message(QueueUrl=stack.queue_url,
                                     MessageBody=json.dumps({"id": message_id, "to": "+33612345678", "text": text}))

    # Then the sandbox provider receives it once, and the bridge records it as sent
    received = wait_for(lambda: stack.inbox(text=text), timeout_s=20, what="the SMS in the sandbox inbox")
    assert [(m["to"], m["from"]) for m in received] == [("+33612345678", "SMSBridge")]
    wait_for(lambda: _status_in_table(stack, message_id) == "sent", timeout_s=10, what="status sent in the table")
    view = requests.get(f"{stack.api}/messages/{message_id}", timeout=10).json()
    assert view["status"] == "sent"
    assert view["provider_message_id"] == received[0]["id"]


def test_a_unicode_message_posted_to_the_api_arrives_intact(stack: LocalStack) -> None:
    # Given a text with accents, quotes, a newline and emoji
    text = f'Réunion à 18h "salle 2"\n🎉 ✓ {uuid.uuid4().hex[:8]}'

    # When it is posted to the API
    answer = requests.post(f"{stack.api}/messages", json={"to": "+44 7700 900123", "text": text}, timeout=10)

    # Then it is accepted, and the sandbox gets exactly that text for the E.164 number
    assert answer.status_code == 202, answer.text
    received = wait_for(lambda: stack.inbox(text=text), timeout_s=20, what="the unicode SMS in the sandbox inbox")
    assert [m["to"] for m in received] == ["+447700900123"]
    view = wait_for(lambda: (v := requests.get(f"{stack.api}/messages/{answer.json()['id']}", timeout=10).json())
                    .get("status") == "sent" and v, timeout_s=10, what="status sent")
    assert view["is_unicode"] is True


def test_the_banner_curl_puts_an_sms_in_the_sandbox_inbox(stack: LocalStack) -> None:
    # Given the curl command the banner prints
    match = re.search(r"^\s*(curl -X POST .*)$", stack.output(), re.MULTILINE)
    assert match, "the banner prints a curl command"
    before = len(stack.inbox(text="Hello from SMS Bridge"))

    # When a user pastes it into a shell
    subprocess.run(["bash", "-c", match.group(1)], check=True, capture_output=True, timeout=30)

    # Then one more SMS is in the sandbox inbox
    wait_for(lambda: len(stack.inbox(text="Hello from SMS Bridge")) == before + 1, timeout_s=20,
             what="the banner's SMS in the inbox")


@pytest.mark.parametrize("path", ["/nothing-here", "/messages/x/y"])
def test_an_unknown_route_answers_a_json_404(stack: LocalStack, path: str) -> None:
    answer = requests.get(stack.api + path, timeout=10)

    assert answer.status_code == 404
    assert "message" in answer.json()
