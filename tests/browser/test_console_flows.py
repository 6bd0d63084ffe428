"""An operator watching traffic in the console, against the local runtime: an opt-out seen in the
consent screen, inbound texts listed, a dead letter redriven, the overview's counts; each screen
photographed for docs/console/."""
from __future__ import annotations

import uuid
from urllib.parse import parse_qs, urlsplit

import requests
from selenium.webdriver.common.by import By

from tests.browser.console import NARROW, Console, new_phone
from tests.e2e.local_stack import LocalStack, wait_for

LOOKUP = "//form[@aria-labelledby='lookup-title']"


def test_given_a_phone_that_texts_stop_when_the_operator_looks_it_up_then_the_consent_screen_shows_it_opted_out(
        console: Console, stack: LocalStack) -> None:
    # Given a phone that texted STOP to the sandbox's number
    phone = new_phone()
    stack.text_from_phone(phone, "STOP")
    wait_for(lambda: requests.get(f"{stack.api}/consent/sandbox/{phone}", timeout=10).json().get("state") == "opted_out",
             what="the opt-out recorded")

    # When the operator looks the number up on the Consent screen
    console.open("/console/#/consent")
    console.heading("Consent")
    console.choose("Provider", "sandbox", within=LOOKUP)
    console.fill("Phone number", phone, within=LOOKUP)
    console.click(console.button("Look up", within=LOOKUP))

    # Then it shows opted out, the STOP in its history
    console.wait(lambda: "State: Opted out" in console.text(), what="the state Opted out")
    history = console.labelled(f"Consent events for {phone}")
    assert "Opted out" in history.text and "STOP" in history.get_attribute("textContent")
    console.screenshot("consent")


def test_given_a_text_that_is_no_keyword_when_the_inbound_screen_is_opened_then_it_is_listed_newest_first(
        console: Console, stack: LocalStack) -> None:
    # Given two texts from a phone, neither a keyword
    phone, first, last = new_phone(), f"Is my order ready? {uuid.uuid4().hex[:6]}", f"Thanks! {uuid.uuid4().hex[:6]}"
    stack.text_from_phone(phone, first)
    stack.text_from_phone(phone, last)

    # When the operator opens the Inbound screen
    console.open("/console/#/inbound")
    console.heading("Inbound")

    # Then both are listed, the later one above
    newest, older = console.row(last), console.row(first)
    assert newest.location["y"] < older.location["y"]
    assert phone in newest.text
    console.screenshot("inbound")


def test_given_a_malformed_body_on_the_queue_when_redriven_from_the_dead_letter_screen_then_it_comes_back_with_its_reason(
        console: Console, stack: LocalStack) -> None:
    # Given a body that is not JSON put on the outbound queue by an application, now a dead letter
    body = f"not json at all {uuid.uuid4()}"
    stack.client("sqs").send_message(QueueUrl=stack.queue_url, MessageBody=body)

    def dead_letter() -> dict | None:
        items = requests.get(f"{stack.api}/dead-letters", params={"limit": 200}, timeout=10).json()["items"]
        return next((item for item in items if item["body"] == body), None)

    first = wait_for(dead_letter, what="the body in the dead-letter queue")

    # When the operator finds it on the Dead letters screen with its reason, and redrives it, confirming
    console.open("/console/#/dead-letters")
    console.heading("Dead letters")
    row = console.row(body)
    assert first["reason"] and first["reason"] in row.text
    console.screenshot("dead-letters")
    console.click(row.find_element(By.XPATH, ".//button[normalize-space(.)='Redrive']"))
    console.click(console.button("Redrive", within="//dialog"))
    console.wait_text("put back on the outbound queue")

    # Then, read again, it is back in the queue as a new dead letter, with its reason
    again = wait_for(lambda: (item := dead_letter()) and item["id"] != first["id"] and item,
                     what="the redriven body back in the dead-letter queue")
    assert again["reason"] == first["reason"]
    console.click(console.button("Refresh"))
    # The list may still be re-rendering from the click: read the row once it is the new one.
    console.wait(lambda: again["reason"] in console.row(body).text, what="the redriven body's row with its reason")


def test_given_the_traffic_of_the_session_when_the_overview_is_opened_then_its_counts_are_the_apis(
        console: Console, stack: LocalStack) -> None:
    # Given at least one message sent (by the API, as an application would)
    answer = requests.post(f"{stack.api}/messages", json={"to": new_phone(), "text": "For the overview"}, timeout=10)
    message_id = answer.json()["id"]
    wait_for(lambda: requests.get(f"{stack.api}/messages/{message_id}", timeout=10).json().get("status") == "sent",
             what="the message sent")

    # When the operator opens the Overview, Then each count it shows is the API's for the same period
    def shown_and_api() -> tuple[dict[str, int], dict[str, int]]:
        console.open("/console/#/overview")
        console.heading("Overview")
        links = console.wait(lambda: console.driver.find_elements(By.XPATH, "//ul[@class='counts']//a"),
                             what="the counts")
        shown = {}
        for link in links:
            number, status = link.get_attribute("aria-label").split(":")[0].split(" ", 1)
            shown[status] = int(number)
        period = parse_qs(urlsplit(links[0].get_attribute("href")).fragment.split("?", 1)[1])
        stats = requests.get(f"{stack.api}/stats", params={"since": period["since"][0], "until": period["until"][0]},
                             timeout=10).json()
        counted = {status: n for status, n in stats["counts"].items() if n}
        return shown, {status: stats["counts"].get(status, 0) for status in shown | counted}

    shown, _ = wait_for(lambda: (pair := shown_and_api())[0] == pair[1] and pair, timeout_s=30,
                               what="the overview's counts equal to GET /stats's")
    assert shown["sent"] >= 1
    console.screenshot("overview")
    console.screenshot("overview-390", width=NARROW)
