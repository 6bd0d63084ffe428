"""Throughput, circuits and failover in the console, against the local runtime: the sandbox in outage
(503 to every message), its provider with `failover: ["backup"]` (a loopback server); the Overview's
traffic panel, the Providers list and the sandbox's page show the open circuit, the message page shows
the failover and the provider that sent it; the provider form saves `throughput` and `failover`, a
failover provider deleted meanwhile refused on its own row."""
from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.browser.console import NARROW, Console
from tests.e2e.local_stack import LocalStack, wait_for
from tests.support.loopback import LoopbackProvider

CACHE_S = 2.5  # the send function's provider cache in the local runtime (2 s), and a margin
TRAFFIC = "//section[@aria-labelledby='traffic-title']"
PROVIDER_TRAFFIC = "//section[@aria-labelledby='pv-traffic-title']"
THROUGHPUT = "//fieldset[@data-loc='throughput']"


@pytest.fixture(scope="module")
def backup(stack: LocalStack) -> Iterator[LoopbackProvider]:
    """A second provider, `backup`, and the sandbox failing over to it."""
    original = requests.get(f"{stack.api}/providers/sandbox", timeout=10).json()
    with LoopbackProvider() as server:
        server.answer_with(201, {"id": "backup-id"})
        created = requests.post(f"{stack.api}/providers", timeout=10, json={
            "id": "backup", "default_sender": "ACME", "request": {"url": server.url_for("/sms"), "body": {
                "to": "{{to}}", "text": "{{text}}"}}, "response": {"message_id_jmespath": "id"},
            "throughput": {"per_second": 20, "burst": 10}})
        assert created.status_code == 201, created.text
        put = requests.put(f"{stack.api}/providers/sandbox", json={**original, "failover": ["backup"]}, timeout=10)
        assert put.status_code == 200, put.text
        time.sleep(CACHE_S)
        try:
            yield server
        finally:
            stack.set_faults()
            requests.put(f"{stack.api}/providers/sandbox", json=original, timeout=10)
            requests.delete(f"{stack.api}/providers/backup", timeout=10)


def post_message(stack: LocalStack, text: str) -> str:
    answer = requests.post(f"{stack.api}/messages", json={"to": "+33612345678", "text": text}, timeout=10)
    assert answer.status_code == 202, answer.text
    return answer.json()["id"]


def traffic_of(stack: LocalStack, provider_id: str) -> dict:
    return next(item for item in requests.get(f"{stack.api}/traffic", timeout=10).json()["providers"]
                if item["provider"] == provider_id)


def test_given_the_sandbox_in_outage_with_a_failover_when_messages_are_sent_then_the_console_shows_the_open_circuit_and_who_sent_each(
        console: Console, stack: LocalStack, backup: LoopbackProvider) -> None:
    # Given the sandbox answering 503 to every message, and messages sent meanwhile
    stack.set_faults(status=503)
    run = uuid.uuid4().hex[:6]
    ids = [post_message(stack, f"outage {run} #{n}") for n in range(5)]
    views = [wait_for(lambda message_id=message_id: (v := requests.get(f"{stack.api}/messages/{message_id}", timeout=10)
                                                     .json()).get("status") == "sent" and v,
                      timeout_s=30, what="the message sent") for message_id in ids]
    failed_over = next(view for view in views if any("failing over to backup" in (e.get("reason") or "")
                                                      for e in view["history"]))

    # When the operator opens the Overview (a message sent just before, if the circuit had cooled
    # down to half-open meanwhile: its probe fails and opens it again, as during a real outage)
    console.open("/console/#/overview")
    console.heading("Throughput and circuits")

    # Then its traffic panel reads the traffic again by itself, leaving the focus where the operator put it
    link = console.link("backup", within=TRAFFIC)
    console.driver.execute_script("arguments[0].focus()", link)
    read_at = console.driver.find_element(By.XPATH, f"{TRAFFIC}//h2//time").get_attribute("datetime")
    console.wait(lambda: console.driver.find_element(By.XPATH, f"{TRAFFIC}//h2//time").get_attribute("datetime") != read_at,
                 timeout_s=12, what="the traffic read again without a click")
    assert console.driver.switch_to.active_element == link, "the refresh kept the focus on a provider's link"

    def circuit_shown_open() -> str | None:
        if traffic_of(stack, "sandbox")["circuit"] != "open":
            post_message(stack, f"probe {run}")
            wait_for(lambda: traffic_of(stack, "sandbox")["circuit"] == "open", timeout_s=10, every_s=0.1,
                     what="the circuit opened again")
        console.click(console.button("Refresh traffic"))
        row = console.row("sandbox")
        cell = row.find_element(By.XPATH, "./td[@data-label='Circuit']")
        return cell.text if cell.text.startswith("open") else None

    # And shows the sandbox's circuit open, why and until when, and its failover
    circuit = console.wait(circuit_shown_open, timeout_s=30, what="the sandbox's circuit shown open")
    assert re.search(r"\d+ consecutive failures · opened (now|\d+ s ago) · half-opens in \d+ s", circuit), circuit
    row = console.row("sandbox")
    assert row.find_element(By.XPATH, "./td[@data-label='Failover']").text == "backup"
    assert "circuit open" in console.driver.find_element(By.XPATH, f"{TRAFFIC}//p[contains(@class, 'traffic-summary')]").text
    backup_row = console.row("backup")
    assert backup_row.find_element(By.XPATH, "./td[@data-label='Circuit']").text.startswith("closed")
    assert backup_row.find_element(By.XPATH, "./td[@data-label='Limit']").text == "20 per second, burst 10"
    assert console.unlabelled_fields() == []

    console.screenshot("traffic")
    console.screenshot("traffic-390", width=NARROW)
    assert console.overflow_at(NARROW) <= 0, "the overview with its traffic panel fits 390 px"

    # And the Providers list marks the sandbox's circuit and names its failover
    console.open("/console/#/providers")
    row = console.row("sandbox")
    traffic_cell = row.find_element(By.XPATH, "./td[@data-label='Traffic']").text
    assert re.match(r"(open|half-open)\b", traffic_cell) and "failover backup" in traffic_cell, traffic_cell

    # And the sandbox's page shows its traffic above its form
    console.open("/console/#/providers/sandbox")
    console.heading("Traffic now")
    assert re.match(r"(open|half-open)\b", console.definition("Circuit"))
    assert console.definition("Failover") == "backup"
    assert console.definition("Limit") == "unlimited"
    assert console.definition("Spend this month") == "no limit"  # GET /providers/sandbox/spend
    assert console.overflow_at(NARROW) <= 0, "the provider's page fits 390 px"
    console.screenshot("provider-traffic", max_height=1400)

    # And a message sent during the outage shows, entry by entry, the provider it is from: the
    # sandbox that did not take it, then the backup that sent it
    console.open(f"/console/#/messages/{failed_over['id']}")
    console.heading(f"Message {failed_over['id']}")
    assert console.definition("Provider") == "backup"
    timeline = console.labelled("Status changes, oldest first")
    steps = timeline.find_elements(By.TAG_NAME, "li")
    failover_step = next(step for step in steps if "failing over to backup" in step.text)
    assert "provider sandbox" in failover_step.text and "503" in failover_step.text
    sent_step = [step for step in steps if step.find_element(By.CSS_SELECTOR, ".badge").text == "sent"][-1]
    assert "provider backup" in sent_step.text
    console.screenshot("message-failover")


def test_given_a_provider_when_throughput_and_failover_are_set_in_its_form_then_they_are_saved_and_a_deleted_failover_is_refused_on_its_row(
        console: Console, stack: LocalStack, backup: LoopbackProvider) -> None:
    # Given a provider, and another that is about to be deleted by someone else
    run = uuid.uuid4().hex[:6]
    provider_id, doomed = f"form-{run}", f"gone-{run}"
    for new_id in (provider_id, doomed):
        created = requests.post(f"{stack.api}/providers", timeout=10, json={
            "id": new_id, "default_sender": "ACME", "request": {"url": backup.url_for("/sms"), "body": {
                "to": "{{to}}", "text": "{{text}}"}}, "response": {"message_id_jmespath": "id"}})
        assert created.status_code == 201, created.text
    console.open(f"/console/#/providers/{provider_id}")
    console.heading(f"Provider {provider_id}")

    # When the operator sets a throughput of 20 per second, burst 5
    console.click(console.field("configure Throughput"))
    console.fill("per_second", "20", within=THROUGHPUT)
    console.fill("burst", "5", within=THROUGHPUT)

    # And, by keyboard, adds the backup as first failover
    add = console.button("Add a failover provider")
    console.driver.execute_script("arguments[0].scrollIntoView({block: 'center'}); arguments[0].focus()", add)
    add.send_keys(Keys.ENTER)
    assert console.driver.switch_to.active_element == console.field("failover 1"), "the new row's select has the focus"
    console.choose("failover 1", "backup")
    assert console.unlabelled_fields() == []

    # And, as second, the other provider, which someone deleted after the page was opened
    assert requests.delete(f"{stack.api}/providers/{doomed}", timeout=10).status_code in (200, 204)
    console.click(console.button("Add a failover provider"))
    console.choose("failover 2", doomed)

    # Then the live check already marks that row: no such provider
    console.wait(lambda: console.field("failover 2").get_attribute("aria-invalid") == "true",
                 what="the failover 2 field marked invalid")
    console.wait_text(f"no provider '{doomed}'")

    # When they save all the same
    console.click(console.button("Save changes"))

    # Then saving is refused on that row, and nothing is saved
    console.wait_text("Not saved (422)")
    assert console.field("failover 2").get_attribute("aria-invalid") == "true"
    assert f"no provider '{doomed}'" in console.driver.find_element(
        By.ID, console.field("failover 2").get_attribute("aria-describedby")).text
    assert requests.get(f"{stack.api}/providers/{provider_id}", timeout=10).json().get("failover") == []
    # The browser logs the refused preview and PUT itself (422s): those are expected
    refused = console.errors()
    assert refused and all(re.search(rf"/providers/({provider_id}|preview) .*422", entry) for entry in refused), refused
    console.seen_errors.clear()

    # When the operator removes that row and saves again
    console.click(console.button("remove failover 2"))
    console.click(console.button("Save changes"))

    # Then the provider keeps the throughput and the failover chosen, and its page shows the limit
    console.wait_text("Saved")
    saved = requests.get(f"{stack.api}/providers/{provider_id}", timeout=10).json()
    assert saved["throughput"] == {"per_second": 20.0, "burst": 5}
    assert saved["failover"] == ["backup"]
    console.heading("Traffic now")
    console.wait(lambda: console.definition("Limit") == "20.0 per second, burst 5"
                 or console.definition("Limit") == "20 per second, burst 5", what="the limit on the provider's page")
    assert console.definition("Failover") == "backup"
    requests.delete(f"{stack.api}/providers/{provider_id}", timeout=10)
