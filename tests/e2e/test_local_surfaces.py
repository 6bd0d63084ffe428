"""The local runtime's own attack surface, as a user starts it: it listens on 127.0.0.1 only, and a web
page on another site cannot queue a message through a request the browser sends without asking (a form
post or a text/plain fetch: CORS lets those through without a preflight). What such a page can still do
is written in docs/SECURITY.md ("The local runtime")."""
from __future__ import annotations

import json
import socket
import uuid
from urllib.parse import urlencode, urlsplit

import pytest
import requests

from tests.e2e.local_stack import LocalStack


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


@pytest.mark.parametrize(("content_type", "body", "status"), [
    ("text/plain", lambda message: json.dumps(message), 415),
    # Every body route reads JSON only (issue 15): a form is refused before any field is read.
    ("application/x-www-form-urlencoded", lambda message: urlencode(message), 415),
])
def test_given_another_site_when_it_posts_a_message_without_a_preflight_then_it_is_refused_and_nothing_is_queued(
        stack: LocalStack, content_type: str, body, status: int) -> None:
    # Given a page on another site that makes the browser post a message to the local API
    message = {"id": f"csrf-{uuid.uuid4().hex}", "to": "+33612345678", "text": "sent by another site"}

    # When it sends the JSON under a content type the browser sends without a CORS preflight
    answer = requests.post(f"{stack.api}/messages", data=body(message), timeout=10, headers={
        "Content-Type": content_type, "Origin": "https://attacker.example", "Sec-Fetch-Site": "cross-site"})

    # Then the API refuses it, gives the page no CORS permission, and no message exists
    assert answer.status_code == status, answer.text
    assert "Access-Control-Allow-Origin" not in answer.headers
    assert requests.get(f"{stack.api}/messages/{message['id']}", timeout=10).status_code == 404
