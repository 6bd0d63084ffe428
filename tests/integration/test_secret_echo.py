"""A provider that echoes the whole request in its error answers (many do) must not get the bridge to
store or return a secret: for each auth type, no secret value, in any encoding, in `GET /messages/{id}`,
in any DynamoDB item of the stack, or in test-send's answer. The admin API and the send function run
in-process on moto; the provider is a real HTTP server on 127.0.0.1."""
from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from smsbridge.core.secrets import MASK
from tests.support.apigw_events import AdminApi
from tests.support.loopback import LoopbackProvider, RecordedRequest
from tests.support.secret_watch import basic_form, leaks, watch

BASIC_USER, BASIC_PASSWORD = "AC0123", 'b4sic/pa55+w"rd'
API_KEY = 'ak_live/9f+Q="x"&y'
HMAC_SECRET = "hm4c-s3cret/+=="
CLIENT_ID, CLIENT_SECRET = "client-77", "cl1ent-s3cret/+"
ACCESS_TOKEN = "at-4c3e55/t0ken+issued"
JWT_SECRET = "jwt-hs256-s3cret-key/0123456789abcdef"
NAMED_SECRET = 'n4med/s3cret+"v"'  # a `secrets.NAME` value, which the request carries in its body
EC_KEY = ec.generate_private_key(ec.SECP256R1()).private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()

AUTHS: dict[str, dict[str, Any]] = {
    "basic": {"type": "basic", "username": BASIC_USER, "password": BASIC_PASSWORD},
    "api_key_header": {"type": "api_key", "token": API_KEY, "header": "Authorization", "prefix": "Bearer "},
    "api_key_query": {"type": "api_key", "token": API_KEY, "query": "api_key"},
    "hmac": {"type": "hmac", "key_id": "kid-1", "secret": HMAC_SECRET},
    "oauth2": {"type": "oauth2", "token_url": "{base}/oauth/token", "client_id": CLIENT_ID,
               "client_secret": CLIENT_SECRET, "client_auth": "basic"},
    "jwt_hs256": {"type": "jwt", "secret": JWT_SECRET, "claims": {"iss": "acme"}},
    "jwt_es256": {"type": "jwt", "algorithm": "ES256", "private_key": EC_KEY, "claims": {"iss": "acme"}},
}
KNOWN_SECRETS = [BASIC_PASSWORD, API_KEY, HMAC_SECRET, CLIENT_SECRET, ACCESS_TOKEN, JWT_SECRET, NAMED_SECRET, EC_KEY,
                 basic_form(BASIC_USER, BASIC_PASSWORD), basic_form(CLIENT_ID, CLIENT_SECRET)]
watch(KNOWN_SECRETS)


def request_text(request: RecordedRequest) -> str:
    line = f"{request.method} {request.path}?{request.query} HTTP/1.1"
    headers = "\n".join(f"{name}: {value}" for name, value in request.raw_headers)
    return f"{line}\n{headers}\n\n{request.text}"


# How providers echo a request in an error: as text, inside JSON, form-encoded, or value by value in base64.
ECHOES = {
    "raw": lambda request: (500, {}, request_text(request)),
    "json": lambda request: (500, {}, {"error": "internal", "request": request_text(request)}),
    "form": lambda request: (500, {"Content-Type": "application/x-www-form-urlencoded"},
                             urlencode({"request": request_text(request)})),
    "base64": lambda request: (500, {}, {
        "headers": {name: base64.b64encode(value.encode()).decode() for name, value in request.raw_headers},
        "query": {name: base64.b64encode(value.encode()).decode() for name, value in parse_qsl(request.query)}}),
}


@pytest.fixture
def echoing() -> LoopbackProvider:
    with LoopbackProvider() as server:
        server.on("/oauth/token", (200, {}, {"access_token": ACCESS_TOKEN, "token_type": "Bearer", "expires_in": 3600}))
        yield server


def credentials_on_the_wire(server: LoopbackProvider) -> list[str]:
    """What the bridge signed or obtained and sent (JWTs, HMAC signatures, bearer tokens), as sent."""
    found = []
    for request in server.requests:
        if request.path != "/v1/sms":
            continue
        for name in ("authorization", "x-signature"):
            value = request.header(name)
            if value:
                found += [value, value.split(" ", 1)[-1]]
    return found


@pytest.mark.parametrize("auth", sorted(AUTHS))
def test_given_a_provider_echoing_the_request_when_sent_and_test_sent_then_no_secret_is_stored_or_returned(
        api: AdminApi, echoing: LoopbackProvider, auth: str) -> None:
    from send_handler import lambda_handler as send_handler

    answers, message_ids = [], []
    for echo, reply in ECHOES.items():
        # Given a provider with this auth, a named secret in its request body, that echoes every request
        provider_id = f"echo-{echo}"
        auth_document = json.loads(json.dumps(AUTHS[auth]).replace("{base}", echoing.url))
        created = api.call("POST", "/providers", {
            "id": provider_id, "auth": auth_document, "secrets": {"api_secret": NAMED_SECRET},
            "request": {"url": echoing.url_for("/v1/sms?account=AC0123"),
                        "body": {"to": "{{to}}", "text": "{{text}}", "key": "{{secrets.api_secret}}"}},
            "response": {"error_jmespath": "request"}})
        assert created.status == 201, created.text
        echoing.on("/v1/sms", reply)
        message = {"provider": provider_id, "to": "+33612345678", "text": "hello"}

        # When a message goes through the queue and the send function, and another through test-send
        queued = api.call("POST", "/messages", message)
        api.stack.deliver(api.stack.receive(), send_handler)
        test_send = api.call("POST", f"/providers/{provider_id}/test-send", message)

        answers.append(test_send.text)
        message_ids += [queued.json()["id"], test_send.json()["id"]]

    secrets = KNOWN_SECRETS + credentials_on_the_wire(echoing)
    watch(secrets)
    views = [api.call("GET", f"/messages/{message_id}").text for message_id in message_ids]
    tables = json.dumps({name: api.stack.scan(name) for name in api.stack.tables}, default=str)

    # Then each stored answer is the echo with the secrets masked, and no secret shows anywhere
    for view in views:
        history = json.loads(view)["history"]
        assert any(MASK in (change.get("answer") or {}).get("body", "") for change in history), view
    assert leaks("\n".join(views), secrets) == []
    assert leaks(tables, secrets) == []
    assert leaks("\n".join(answers), secrets) == []
