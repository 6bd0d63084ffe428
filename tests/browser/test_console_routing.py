"""The Routing screen against the local runtime: the operator adds a rule, sees a wrong country
refused on its field, fixes it and saves; the rule then routes messages (`GET /routing`)."""
from __future__ import annotations

import requests

from tests.browser.console import Console
from tests.e2e.local_stack import LocalStack

RULES = "//form[@aria-labelledby='rules-title']"


def test_given_a_rule_with_an_unknown_country_when_saved_then_the_field_says_why_and_the_fixed_rule_is_saved(
        console: Console, stack: LocalStack) -> None:
    # Given the Routing screen with no rule yet
    assert requests.put(f"{stack.api}/routing", json={"rules": []}, timeout=10).status_code == 200
    console.open("/console/#/routing")
    console.heading("Routing")
    console.wait_text("No rule")

    # When the operator adds a rule for the country "UK" to the sandbox and saves
    console.click(console.button("Add a rule", within=RULES))
    console.fill("Countries", "UK", within=RULES)
    console.choose("Provider", "sandbox", within=RULES)
    console.fill("Sender", "ACMEUK", within=RULES)
    console.click(console.button("Save the rules", within=RULES))

    # Then the Countries field says the code is unknown, and nothing is saved
    console.wait(lambda: console.field("Countries", within=RULES).get_attribute("aria-invalid") == "true",
                 what="the Countries field marked invalid")
    console.wait_text("unknown country code 'UK'")
    assert requests.get(f"{stack.api}/routing", timeout=10).json() == {"rules": []}
    refused = console.errors()  # the browser logs the refused PUT itself (a 422): that one is expected
    assert all("/routing" in entry and "422" in entry for entry in refused), refused
    console.seen_errors.clear()

    # When the operator writes GB instead and saves again
    console.fill("Countries", "GB", within=RULES)
    console.click(console.button("Save the rules", within=RULES))

    # Then the rule is saved as typed, and the field error is gone
    console.wait_text("Routing saved")
    assert requests.get(f"{stack.api}/routing", timeout=10).json()["rules"] == [
        {"match": {"countries": ["GB"], "prefixes": None, "type": None}, "provider": "sandbox", "sender": "ACMEUK"}]
    assert console.field("Countries", within=RULES).get_attribute("aria-invalid") is None
    console.screenshot("routing")
    requests.put(f"{stack.api}/routing", json={"rules": []}, timeout=10)
