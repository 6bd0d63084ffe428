"""The message page says why a message stands where it does (issue 13, SPEC 11): the provider's
refusal beside a failed status, and the attempt an invocation is sending while the provider holds
the request, both made by the real send path against the sandbox."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

import requests
from selenium.webdriver.common.by import By

from tests.browser.console import Console, new_phone
from tests.e2e.local_stack import LocalStack, wait_for


def queue(stack: LocalStack, text: str) -> str:
    answer = requests.post(f"{stack.api}/messages", json={"to": new_phone(), "text": text, "sender": "ACME"}, timeout=10)
    assert answer.status_code == 202, answer.text
    return answer.json()["id"]


def instant(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


def status_of(stack: LocalStack, message_id: str) -> dict:
    return requests.get(f"{stack.api}/messages/{message_id}", timeout=10).json()


def test_given_the_provider_refuses_a_message_when_the_operator_opens_it_then_the_page_says_why_it_failed(
        console: Console, stack: LocalStack) -> None:
    # Given the provider answers every request 400 (a refusal no retry can change)
    stack.set_faults(status=400)
    message_id = queue(stack, "Your parcel is on its way")
    wait_for(lambda: status_of(stack, message_id)["status"] == "failed", timeout_s=30, what="the message failed")

    # When the operator opens the message's page
    console.open(f"/console/#/messages/{message_id}")
    console.heading(f"Message {message_id}")

    # Then the status is failed, with the reason the send path recorded beside it
    assert console.definition("Status") == "failed"
    reason = status_of(stack, message_id)["history"][-1]["reason"]
    assert reason and console.definition("Why") == reason
    assert "400" in reason, reason
    # And nothing but the page's own words around it (a missing part of the page is not printed as "null")
    assert "null" not in console.text().split(), console.text()
    console.screenshot("message-failed-why")


def test_given_the_provider_holds_the_request_when_the_operator_opens_the_message_then_the_page_shows_the_attempt_in_flight(
        console: Console, stack: LocalStack) -> None:
    # Given the provider holds every request for 8 seconds before answering
    stack.set_faults(timeout=8)
    message_id = queue(stack, "Your code is 123456")
    wait_for(lambda: status_of(stack, message_id).get("in_flight"), timeout_s=15, what="an attempt in flight")

    # When the operator opens the message's page while the request is held
    console.open(f"/console/#/messages/{message_id}")
    console.heading(f"Message {message_id}")

    # Then the page names the attempt, the provider and since when, a time written as the page's other times
    in_flight = console.definition("In flight")
    attempt = status_of(stack, message_id)["in_flight"]
    assert re.fullmatch(rf"attempt 1 to provider {re.escape(attempt['provider'])} since .+", in_flight), in_flight
    shown = console.driver.find_element(By.XPATH, "//dt[normalize-space(.)='In flight']/following-sibling::dd[1]//time")
    assert abs(instant(shown.get_attribute("datetime")) - instant(attempt["since"])) < timedelta(milliseconds=1)
    assert "T" not in shown.text, f"{shown.text!r} is the raw ISO time, not the page's format"
    console.screenshot("message-in-flight")

    # And once the provider answers, a refresh shows no attempt in flight any more
    stack.set_faults()
    wait_for(lambda: not status_of(stack, message_id).get("in_flight"), timeout_s=30, what="the attempt's end")
    console.click(console.button("Refresh"))
    console.wait(lambda: "In flight" not in console.text(), what="no attempt in flight")
