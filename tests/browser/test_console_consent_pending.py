"""Double opt-in in the consent screen (SPEC 7): a number that texted START to a provider asking for a
confirmation shows "Waiting for confirmation" and until when, then "Opted in" once it replies YES. Its
own module (its own local runtime): the provider's inbound keywords are changed for it."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests
from selenium.webdriver.common.by import By

from tests.browser.console import Console, new_phone
from tests.e2e.local_stack import LocalStack, wait_for

LOOKUP = "//form[@aria-labelledby='lookup-title']"


@pytest.fixture(scope="module")
def double_opt_in(stack: LocalStack) -> None:
    """The sandbox provider as an operator sets double opt-in: marketing needs an opt-in, and a START asks
    for a YES within 24 hours (the provider read back and PUT with its secrets masked, which keeps them)."""
    provider = requests.get(f"{stack.api}/providers/sandbox", timeout=10).json()
    provider["marketing_requires_opt_in"] = True
    provider["inbound"].setdefault("keywords", {})["confirm_opt_in"] = {"expires_after_h": 24}
    answer = requests.put(f"{stack.api}/providers/sandbox", json=provider, timeout=10)
    assert answer.status_code == 200, answer.text


def state_of(stack: LocalStack, phone: str) -> dict:
    return requests.get(f"{stack.api}/consent/sandbox/{phone}", timeout=10).json()


def test_given_double_opt_in_when_a_number_texts_start_then_the_consent_screen_shows_it_waiting_until_it_confirms(
        double_opt_in: None, console: Console, stack: LocalStack) -> None:
    # Given a number that texted START to a provider that asks for a confirmation
    phone = new_phone()
    texted_at = datetime.now(UTC)
    stack.text_from_phone(phone, "START")
    pending = wait_for(lambda: (c := state_of(stack, phone)).get("state") == "opt_in_requested" and c,
                       what="the opt-in request recorded")

    # When the operator looks the number up on the Consent screen
    console.open("/console/#/consent")
    console.heading("Consent")
    console.choose("Provider", "sandbox", within=LOOKUP)
    console.fill("Phone number", phone, within=LOOKUP)
    console.click(console.button("Look up", within=LOOKUP))

    # Then it shows the number waiting for its confirmation, and by when it must confirm (24 hours on)
    console.wait(lambda: "State: Waiting for confirmation" in console.text(), what="the state Waiting for confirmation")
    deadline = console.driver.find_element(By.XPATH, "//p[@class='pending']//time")
    confirm_by = datetime.fromisoformat(pending["record"]["confirm_by"].replace("Z", "+00:00"))
    assert abs(datetime.fromisoformat(deadline.get_attribute("datetime").replace("Z", "+00:00")) - confirm_by) < timedelta(seconds=1)
    assert timedelta(hours=24) - timedelta(seconds=5) < confirm_by - texted_at < timedelta(hours=24) + timedelta(seconds=30)
    assert "Asked to opt in; counts as opted in only if it confirms by" in console.text()
    console.screenshot("consent-waiting")

    # When the number replies YES and the operator looks it up again
    stack.text_from_phone(phone, "YES")
    wait_for(lambda: state_of(stack, phone).get("state") == "opted_in", what="the confirmed opt-in")
    console.click(console.button("Look up", within=LOOKUP))

    # Then it shows opted in, with no confirmation pending
    console.wait(lambda: "State: Opted in" in console.text(), what="the state Opted in")
    assert "counts as opted in only if it confirms" not in console.text()
