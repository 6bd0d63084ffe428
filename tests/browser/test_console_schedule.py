"""An operator cancels a scheduled message from its page in the console (issue 12, scheduled sends):
the page shows when it is to be sent and a Cancel button, which is gone once it is canceled."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import requests

from tests.browser.console import Console, new_phone
from tests.e2e.local_stack import LocalStack


def test_given_a_message_scheduled_an_hour_ahead_when_the_operator_cancels_it_then_the_page_shows_it_canceled(
        console: Console, stack: LocalStack) -> None:
    # Given a message scheduled an hour ahead, with a callback URL and metadata
    send_at = (datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=0)
    answer = requests.post(f"{stack.api}/messages", json={"to": new_phone(), "text": "See you tomorrow", "sender": "ACME",
                                                          "send_at": send_at.isoformat(),
                                                          "callback_url": "http://127.0.0.1:9/status",
                                                          "metadata": {"order": 42}}, timeout=10)
    assert answer.status_code == 202, answer.text
    message_id = answer.json()["id"]

    # When the operator opens its page
    console.open(f"/console/#/messages/{message_id}")
    console.heading(f"Message {message_id}")

    # Then it shows the status scheduled, when it is to be sent, and a Cancel button
    assert console.definition("Status") == "scheduled"
    assert console.definition("Scheduled for")
    assert console.definition("Callback URL") == "http://127.0.0.1:9/status"
    assert console.definition("Metadata") == '{"order":42}'
    console.screenshot("message-scheduled")

    # When the operator cancels it and confirms
    console.click(console.button("Cancel this message"))
    console.click(console.button("Cancel message"))

    # Then the page shows it canceled, with no Cancel button, and the API agrees
    console.wait(lambda: console.definition("Status") == "canceled", what="the status canceled")
    assert "Cancel this message" not in console.text()
    assert requests.get(f"{stack.api}/messages/{message_id}", timeout=10).json()["status"] == "canceled"
