"""An operator adding a provider in the console, against the local runtime: made from the
sandbox's sample curl command, its body edited with the live preview following, saved, proven with
a test send that reaches the sandbox's inbox, then found in the messages log with its history."""
from __future__ import annotations

import json
import re
import uuid

from selenium.webdriver.common.by import By

from tests.browser.console import Console, new_phone
from tests.e2e.local_stack import LocalStack

PREVIEW = "//section[@aria-labelledby='pv-preview-title']"
SEARCH = "//form[@aria-labelledby='search-title']"


def test_given_a_curl_command_for_the_sandbox_when_imported_edited_saved_and_test_sent_then_the_sms_arrives_and_the_log_shows_it_sent(
        console: Console, stack: LocalStack) -> None:
    provider_id, phone, tag = f"curl-{uuid.uuid4().hex[:6]}", new_phone(), uuid.uuid4().hex[:8]
    curl = (f"curl -X POST {stack.sandbox}/v1/messages -H 'Authorization: Bearer sandbox-token' "
            "-H 'Content-Type: application/json' "
            """-d '{"to": "+33612345678", "from": "ACME", "text": "Hello from the docs"}'""")

    # Given the operator on the Providers screen, with the sandbox's sample curl command
    console.open("/console/#/providers")
    console.heading("Providers")
    console.click(console.button("New provider"))
    console.click(console.button("From a curl command"))

    # When they paste it, name the provider and import it
    console.set_value(console.field("The provider's sample curl command"), curl)
    console.fill("Provider id (optional)", provider_id)
    console.click(console.button("Import"))

    # Then the editor shows the draft with its import notes, and the live preview renders the request
    console.heading("New provider from curl command")
    console.heading("Import notes")
    body_shown = console.labelled("request body")
    console.wait(lambda: '"to": "+14155550123"' in body_shown.text, what="the sample recipient in the previewed body")
    assert f"{stack.sandbox}/v1/messages" in console.driver.find_element(By.XPATH, f"{PREVIEW}//p[@class='pv-request-line']").text
    form = console.labelled("Provider configuration")
    preview = console.driver.find_element(By.XPATH, PREVIEW)
    assert preview.location["x"] >= form.location["x"] + form.size["width"], "the live preview is beside the form at 1280 px"
    console.screenshot("provider-from-curl")

    # When the body template is edited
    body = {"to": "{{to}}", "from": "{{sender}}", "text": "{{text}} " + tag}
    console.set_value(console.field("body"), json.dumps(body, indent=2))

    # Then the preview follows: the request body now carries the edit
    console.wait(lambda: tag in console.labelled("request body").text, what="the edited body in the preview")

    # When the provider is created and a test SMS sent to the operator's phone
    console.click(console.button("Create provider"))
    console.wait(lambda: console.driver.current_url.endswith(f"#/providers/{provider_id}"), what="the saved provider's page")
    console.heading("Provider Imported from curl")
    console.fill("Test send to (phone number)", phone)
    console.click(console.button("Send test SMS"))

    # Then the provider's answer is shown: sent, with the bridge's message id
    console.wait_text("Test send: ok")
    assert console.definition("outcome") == "sent"
    message_id = console.definition("message id")
    console.screenshot("provider")

    # And the SMS is in the sandbox's inbox page, with the edited template's text
    console.open_url(stack.sandbox + "/")
    console.wait_text(tag)
    [received] = stack.inbox(to=phone)
    assert received["text"].endswith(" " + tag)

    # And the providers list shows the new provider, its last send a success
    console.open("/console/#/providers")
    row = console.row(provider_id)
    assert "sent" in row.text
    console.screenshot("providers")

    # When the operator searches the messages log for the phone number
    console.open("/console/#/messages")
    console.heading("Messages")
    console.fill("Phone number", phone, within=SEARCH)
    console.click(console.button("Search", within=SEARCH))

    # Then the message is listed as sent, and opens on its history with the provider's answer
    row = console.row(message_id)
    assert "sent" in row.text.split()
    console.screenshot("messages")
    console.click(row.find_element(By.XPATH, f".//a[contains(., '{message_id}')]"))
    console.heading(f"Message {message_id}")
    timeline = console.labelled("Status changes, oldest first")
    steps = [li.find_element(By.CSS_SELECTOR, ".badge").text for li in timeline.find_elements(By.TAG_NAME, "li")]
    assert steps[-1] == "sent", steps
    assert re.search(r"Provider answer · HTTP 20\d", timeline.text), timeline.text
    console.screenshot("message")
