"""The local runtime's own attack surface, as a user starts it: it listens on 127.0.0.1 only; its admin
routes and `/_local` answer only its own pages and this machine's tools, not another site's page (a form
post or a text/plain fetch, which CORS lets through without a preflight, or DNS rebinding), while the
public webhook routes stay open to providers, as in AWS. See docs/SECURITY.md ("The local runtime")."""
from __future__ import annotations

import json
import socket
import uuid
from urllib.parse import urlencode, urlsplit

import pytest
import requests

from tests.e2e.local_stack import LocalStack, wait_for


@pytest.mark.parametrize("address", ["api_url", "sandbox_url", "aws_url"])
def test_given_the_local_runtime_when_reached_on_another_address_of_the_machine_then_the_connection_is_refused(
        stack: LocalStack, address: str) -> None:
    # Linux routes all of 127/8 to the loopback interface: a server bound to every address (0.0.0.0)
    # would accept on 127.0.0.2, and on the machine's network interfaces; one bound to 127.0.0.1 refuses.
    port = urlsplit(stack.addresses[address]).port

    with socket.create_connection(("127.0.0.1", port), timeout=2):
        pass
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.2", port), timeout=2):
        pass


@pytest.mark.parametrize(("content_type", "body"), [
    ("text/plain", lambda message: json.dumps(message)),
    ("application/x-www-form-urlencoded", lambda message: urlencode(message)),
])
def test_given_another_site_when_it_posts_a_message_without_a_preflight_then_it_is_refused_and_nothing_is_queued(
        stack: LocalStack, content_type: str, body) -> None:
    # Given a page on another site that makes the browser post a message to the local API
    message = {"id": f"csrf-{uuid.uuid4().hex}", "to": "+33612345678", "text": "sent by another site"}

    # When it sends the JSON under a content type the browser sends without a CORS preflight
    answer = requests.post(f"{stack.api}/messages", data=body(message), timeout=10, headers={
        "Content-Type": content_type, "Origin": "https://attacker.example", "Sec-Fetch-Site": "cross-site"})

    # Then the API refuses it as another site's, gives the page no CORS permission, and no message exists
    assert answer.status_code == 403, answer.text
    assert answer.json()["message"].startswith("Requests from https://attacker.example are refused")
    assert "Access-Control-Allow-Origin" not in answer.headers
    assert requests.get(f"{stack.api}/messages/{message['id']}", timeout=10).status_code == 404


def _port(stack: LocalStack) -> int:
    return urlsplit(stack.api).port


@pytest.mark.parametrize("path", ["/providers/sandbox", "/providers", "/_local", "/_local/emails"])
def test_given_a_dns_rebinding_page_when_it_reads_an_admin_or_local_route_then_it_gets_403(
        stack: LocalStack, path: str) -> None:
    # Given a page of the attacker's whose name now resolves to 127.0.0.1: the browser sends that Host,
    # and counts the page same-origin with the local API
    headers = {"Host": f"rebind.attacker.example:{_port(stack)}", "Sec-Fetch-Site": "same-origin"}

    # When it reads an admin route (the providers and their settings) or a local control route
    answer = requests.get(f"{stack.api}{path}", headers=headers, timeout=10)

    # Then it gets a 403 naming the Host, and none of the data
    assert answer.status_code == 403, answer.text
    assert answer.json()["message"].startswith(f"Host 'rebind.attacker.example:{_port(stack)}' is not this server's")
    assert set(answer.json()) == {"message", "hint"}


def test_given_another_sites_form_when_it_posts_a_redrive_then_it_is_refused_and_the_dead_letter_stays(
        stack: LocalStack) -> None:
    # Given a dead letter (a body the send function cannot read)
    body = f"not json {uuid.uuid4()}"
    stack.client("sqs").send_message(QueueUrl=stack.queue_url, MessageBody=body)

    def listed() -> dict | None:
        items = requests.get(f"{stack.api}/dead-letters", params={"limit": 200}, timeout=30).json()["items"]
        return next((i for i in items if i["body"] == body), None)

    letter = wait_for(listed, timeout_s=30, what="the body in GET /dead-letters")

    # When a page of another site makes the browser post a form naming it to the redrive route
    answer = requests.post(f"{stack.api}/dead-letters/redrive", data={"ids": letter["id"]}, timeout=10, headers={
        "Origin": "https://attacker.example", "Sec-Fetch-Site": "cross-site"})

    # Then it is refused, and the dead letter is still there, as it was
    assert answer.status_code == 403, answer.text
    assert answer.json()["message"] == ("Requests from https://attacker.example are refused: only this server's "
                                        "own pages may call it.")
    assert listed() == letter
    assert requests.delete(f"{stack.api}/dead-letters/{letter['id']}", timeout=30).status_code == 204


@pytest.mark.parametrize("headers", [
    {"Sec-Fetch-Site": "same-origin"},
    {"Origin": "http://127.0.0.1:{port}", "Sec-Fetch-Site": "same-origin"},
    {"Host": "localhost:{port}", "Origin": "http://localhost:{port}", "Sec-Fetch-Site": "same-origin"},
    {"Sec-Fetch-Site": "none"},  # an address typed in the browser's bar
    {},  # a script or curl on this machine: no Origin, no Sec-Fetch-Site
])
def test_given_the_local_console_or_a_local_tool_when_it_calls_the_admin_api_then_it_is_answered(
        stack: LocalStack, headers: dict[str, str]) -> None:
    # Given the console served by the local runtime (under either name of this machine), or a tool
    headers = {name: value.format(port=_port(stack)) for name, value in headers.items()}

    # When it reads the providers and the local control route
    providers = requests.get(f"{stack.api}/providers", headers=headers, timeout=10)
    local = requests.get(f"{stack.api}/_local", headers=headers, timeout=10)

    # Then both answer
    assert providers.status_code == 200, providers.text
    assert "sandbox" in {p["id"] for p in providers.json()["providers"]}
    assert local.status_code == 200, local.text


def test_given_a_provider_through_a_tunnel_when_it_posts_a_webhook_then_the_host_check_does_not_stop_it(
        stack: LocalStack) -> None:
    # Given a provider reaching the local runtime through a tunnel (another Host, another site's Origin)
    headers = {"Host": "abc123.tunnel.example", "Origin": "https://abc123.tunnel.example",
               "Sec-Fetch-Site": "cross-site", "Content-Type": "application/json"}

    # When it posts an inbound SMS and a receipt without the sandbox's signature
    answers = [requests.post(f"{stack.api}/{route}/sandbox", data=json.dumps({"from": "+33612345678"}),
                             headers=headers, timeout=10) for route in ("inbound", "status")]

    # Then the public webhook routes reach the bridge, which refuses the missing signature itself (401),
    # as in AWS: only the admin routes are kept for this machine
    assert [a.status_code for a in answers] == [401, 401], [a.text for a in answers]
    assert not any("this server's" in a.text for a in answers)
