"""Scheduled sends through the local runtime (issue 12, Must-show 2): a message with `send_at` 20 s
ahead is `scheduled`, reaches the sandbox between 20 and 25 s later; a second one canceled before
its time never reaches it."""
from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import requests

from tests.e2e.local_stack import LocalStack, wait_for

AHEAD_S = 20
WITHIN_S = 25


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def _post(stack: LocalStack, text: str, send_at: datetime) -> str:
    answer = requests.post(f"{stack.api}/messages", json={"to": "+33612345678", "text": text, "sender": "ACME",
                                                          "send_at": _iso(send_at)}, timeout=10)
    assert answer.status_code == 202, answer.text
    return answer.json()["id"]


def _message(stack: LocalStack, message_id: str) -> dict:
    return requests.get(f"{stack.api}/messages/{message_id}", timeout=10).json()


def test_given_send_at_20_s_ahead_then_scheduled_and_delivered_20_to_25_s_later_and_a_canceled_one_never(
        stack: LocalStack) -> None:
    run = uuid.uuid4().hex[:6]
    kept, dropped = f"Reminder {run}: your appointment is at 3 pm", f"Reminder {run}: canceled one"
    posted = time.time()
    send_at = datetime.fromtimestamp(posted, UTC) + timedelta(seconds=AHEAD_S)

    # Given two messages scheduled 20 s ahead
    kept_id, dropped_id = _post(stack, kept, send_at), _post(stack, dropped, send_at)

    # Then both are `scheduled` until then
    assert _message(stack, kept_id)["status"] == "scheduled"
    assert _message(stack, dropped_id)["status"] == "scheduled"

    # When the second is canceled before its time
    canceled = requests.delete(f"{stack.api}/messages/{dropped_id}", timeout=10)
    assert canceled.status_code == 200, canceled.text
    assert canceled.json()["status"] == "canceled"

    # Then the first reaches the sandbox between 20 and 25 s after it was posted
    [arrived] = wait_for(lambda: stack.inbox(text=kept), timeout_s=AHEAD_S + 15, every_s=0.2, what="the scheduled message")
    after_s = _epoch(arrived["received_at"]) - posted
    assert AHEAD_S <= after_s <= WITHIN_S, f"arrived {after_s:.2f} s after it was posted"
    assert [c["status"] for c in _message(stack, kept_id)["history"]] == ["scheduled", "queued", "sent"]

    # And the canceled one never does, well past its time
    time.sleep(max(0.0, send_at.timestamp() + 5 - time.time()))
    assert stack.inbox(text=dropped) == []
    assert _message(stack, dropped_id)["status"] == "canceled"
    assert requests.delete(f"{stack.api}/messages/{dropped_id}", timeout=10).status_code == 409


def test_given_a_message_scheduled_an_hour_ahead_then_the_local_sweep_leaves_it_in_the_table_until_it_is_due(
        stack: LocalStack) -> None:
    message_id = _post(stack, f"Next week {uuid.uuid4().hex[:6]}", datetime.now(UTC) + timedelta(hours=1))

    swept = requests.post(f"{stack.api}/_local/run/schedule", timeout=30)

    assert swept.status_code == 200, swept.text
    assert swept.json()["result"]["queued"] == 0
    assert _message(stack, message_id)["status"] == "scheduled"
    assert _message(stack, message_id)["send_at"]
