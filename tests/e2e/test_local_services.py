"""The sandbox's way back into the bridge (signed inbound SMS and delivery receipts) and the local
control routes (the balance run and emails are covered by test_balance_e2e.py)."""
from __future__ import annotations

import uuid

import requests

from tests.e2e.local_stack import LocalStack, wait_for


def test_an_inbound_sms_from_the_sandbox_is_accepted_by_the_bridge(stack: LocalStack) -> None:
    # When the sandbox sends an SMS from a phone to the bridge, signed
    answer = requests.post(f"{stack.sandbox}/api/inbound", timeout=30,
                           json={"from": "+33612345678", "to": "SMSBridge", "text": f"Hi there {uuid.uuid4()}"})

    # Then the bridge's inbound route verifies and accepts it
    assert answer.status_code == 200, answer.text
    assert answer.json()["bridge_status"] == 200


def test_an_unsigned_inbound_sms_is_refused_by_the_bridge(stack: LocalStack) -> None:
    answer = requests.post(f"{stack.sandbox}/api/inbound", timeout=30,
                           json={"from": "+33612345678", "to": "SMSBridge", "text": "forged", "sign": False})

    assert answer.json()["bridge_status"] in (401, 403)


def test_a_delivery_receipt_from_the_sandbox_marks_the_message_delivered(stack: LocalStack) -> None:
    # Given a message the sandbox has received
    text = f"receipt {uuid.uuid4()}"
    message_id = requests.post(f"{stack.api}/messages", json={"to": "+33612345678", "text": text},
                               timeout=10).json()["id"]
    received = wait_for(lambda: stack.inbox(text=text), timeout_s=20, what="the SMS in the inbox")
    wait_for(lambda: requests.get(f"{stack.api}/messages/{message_id}", timeout=10).json()["status"] == "sent",
             timeout_s=10, what="status sent")

    # When the sandbox reports it delivered
    answer = requests.post(f"{stack.sandbox}/api/status", json={"id": received[0]["id"], "status": "delivered"},
                           timeout=30)

    # Then the bridge records the delivery
    assert answer.status_code == 200, answer.text
    view = wait_for(lambda: (v := requests.get(f"{stack.api}/messages/{message_id}", timeout=10).json())
                    ["status"] == "delivered" and v, timeout_s=10, what="status delivered")
    assert [h["status"] for h in view["history"]][-1] == "delivered"


def test_running_an_unknown_function_answers_404_with_the_known_ones(stack: LocalStack) -> None:
    answer = requests.post(f"{stack.api}/_local/run/nope", timeout=10)

    assert answer.status_code == 404
    assert "balance" in answer.json()["functions"]
