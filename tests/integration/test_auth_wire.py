"""Each outbound auth type, sent over real HTTP to a loopback provider that checks it as a provider would."""
from __future__ import annotations

import base64
import hashlib
import hmac
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from smsbridge.adapters.http import ProviderTransport, UrlNotAllowed
from smsbridge.adapters.oauth_tokens import TokenUnavailable
from smsbridge.adapters.provider_client import ProviderClient
from smsbridge.models.provider import ProviderConfig
from smsbridge.models.wire import HttpRequest
from tests.support.loopback import LoopbackProvider, RecordedRequest

NOW = datetime(2026, 11, 21, 10, 0, 0, tzinfo=UTC)
CLIENT_ID = "bridge-client"
CLIENT_SECRET = "cl13nt-s3cr3t+/="
ACCEPTED = (200, {}, {"status": "queued"})
REFUSED = (401, {}, {"error": "unauthorized"})


@pytest.fixture
def client() -> Iterator[ProviderClient]:
    with ProviderTransport(local_runtime=True) as transport:
        yield ProviderClient(transport)


def provider_at(loopback: LoopbackProvider, auth: dict[str, Any], path: str = "/sms") -> ProviderConfig:
    return ProviderConfig(id="acme", request={"url": loopback.url_for(path), "body": {"to": "{{to}}", "text": "{{text}}"}},
                          auth=auth, timeout_s=5)


def sms_request(provider: ProviderConfig, query: str = "") -> HttpRequest:
    return HttpRequest("POST", provider.request.url + query,
                       headers={"Content-Type": "application/json; charset=utf-8"},
                       body='{"to":"+33612345678","text":"Code 1234 – é"}'.encode())


# ---------------------------------------------------------------- basic, api_key

def test_basic_credentials_are_accepted_by_a_provider_that_decodes_them(loopback_provider, client):
    def check_basic(request: RecordedRequest):
        scheme, _, encoded = (request.header("Authorization") or "").partition(" ")
        user, _, password = base64.b64decode(encoded).decode().partition(":")
        ok = scheme == "Basic" and user == "acme.user" and hmac.compare_digest(password.encode(), "pass:wörd".encode())
        return ACCEPTED if ok else REFUSED
    loopback_provider.handler = check_basic
    provider = provider_at(loopback_provider, {"type": "basic", "username": "acme.user", "password": "pass:wörd"})

    response = client.send(provider, sms_request(provider), NOW)

    assert response.status_code == 200


def test_api_key_header_with_prefix_is_accepted(loopback_provider, client):
    loopback_provider.handler = lambda request: (
        ACCEPTED if request.header("Authorization") == "Bearer key-123" else REFUSED)
    provider = provider_at(loopback_provider, {"type": "api_key", "token": "key-123", "header": "Authorization",
                                               "prefix": "Bearer "})

    response = client.send(provider, sms_request(provider), NOW)

    assert response.status_code == 200


def test_api_key_query_parameter_arrives_decoded_intact_beside_the_others(loopback_provider, client):
    token = "k&y=1/2+3 é"
    loopback_provider.handler = lambda request: (
        ACCEPTED if request.args == {"api_key": [token], "from": ["ACME"]} else REFUSED)
    provider = provider_at(loopback_provider, {"type": "api_key", "token": token, "query": "api_key"})

    response = client.send(provider, sms_request(provider, "?from=ACME"), NOW)

    assert response.status_code == 200


# ---------------------------------------------------------------- hmac

def hmac_checker(secret: str, algorithm: str, encoding: str, build, *, signature_header: str,
                 timestamp_header: str, prefix: str = ""):
    """A provider that recomputes the signature from what it received and compares in constant time."""
    def check(request: RecordedRequest):
        timestamp = request.header(timestamp_header) or ""
        path = request.path + (f"?{request.query}" if request.query else "")
        digest = hmac.new(secret.encode(), build(request.method, path, request.text, timestamp).encode(),
                          getattr(hashlib, algorithm)).digest()
        expected = prefix + (digest.hex() if encoding == "hex" else base64.b64encode(digest).decode())
        fresh = abs(int(timestamp) - int(NOW.timestamp())) <= 300 if timestamp.isdigit() else False
        ok = fresh and hmac.compare_digest(expected, request.header(signature_header) or "")
        return ACCEPTED if ok else REFUSED
    return check


def test_hmac_default_signature_is_recomputed_identically_by_the_provider(loopback_provider, client):
    loopback_provider.handler = hmac_checker(
        "hmac-secret", "sha256", "hex", lambda method, path, body, ts: f"{method}\n{path}\n{ts}\n{body}",
        signature_header="X-Signature", timestamp_header="X-Timestamp")
    provider = provider_at(loopback_provider, {"type": "hmac", "secret": "hmac-secret"})

    response = client.send(provider, sms_request(provider, "?dry_run=1&to=%2B33612345678"), NOW)

    assert response.status_code == 200


def test_hmac_custom_template_base64_sha512_with_key_id_prefix_is_accepted(loopback_provider, client):
    loopback_provider.handler = hmac_checker(
        "other-secret", "sha512", "base64", lambda method, path, body, ts: f"key-9:{ts}:{method}:{path}:{body}",
        signature_header="Authorization", timestamp_header="X-Date", prefix="HMAC key-9 ")
    provider = provider_at(loopback_provider, {
        "type": "hmac", "secret": "other-secret", "key_id": "key-9", "algorithm": "sha512", "encoding": "base64",
        "string_to_sign": "{{key_id}}:{{timestamp}}:{{method}}:{{path}}:{{body}}",
        "signature_header": "Authorization", "signature_prefix": "HMAC {{key_id}} ", "timestamp_header": "X-Date"})

    response = client.send(provider, sms_request(provider), NOW)

    assert response.status_code == 200


def test_hmac_signed_with_the_wrong_secret_is_refused_by_the_provider(loopback_provider, client):
    loopback_provider.handler = hmac_checker(
        "hmac-secret", "sha256", "hex", lambda method, path, body, ts: f"{method}\n{path}\n{ts}\n{body}",
        signature_header="X-Signature", timestamp_header="X-Timestamp")
    provider = provider_at(loopback_provider, {"type": "hmac", "secret": "not-the-secret"})

    response = client.send(provider, sms_request(provider), NOW)

    assert response.status_code == 401


# ---------------------------------------------------------------- jwt

def pem(private_key) -> tuple[str, Any]:
    text = private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption()).decode()
    return text, private_key.public_key()


@pytest.mark.parametrize("algorithm", ["HS256", "RS256", "ES256"])
def test_jwt_is_verified_by_the_provider_with_pyjwt(loopback_provider, client, algorithm):
    if algorithm == "HS256":
        signing = {"secret": "a-shared-secret-of-at-least-32-bytes"}
        verify_key: Any = "a-shared-secret-of-at-least-32-bytes"
    else:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048) if algorithm == "RS256" \
            else ec.generate_private_key(ec.SECP256R1())
        private_pem, verify_key = pem(key)
        signing = {"private_key": private_pem}
    seen: list[dict[str, Any]] = []

    def verify(request: RecordedRequest):
        token = (request.header("Authorization") or "").removeprefix("Bearer ")
        try:
            seen.append(jwt.decode(token, verify_key, algorithms=[algorithm], audience="sms-api", issuer="bridge",
                                   options={"require": ["iat", "exp"]}))
        except jwt.PyJWTError:
            return REFUSED
        return ACCEPTED if jwt.get_unverified_header(token).get("kid") == "key-1" else REFUSED
    loopback_provider.handler = verify
    provider = provider_at(loopback_provider, {"type": "jwt", "algorithm": algorithm, "key_id": "key-1",
                                               "claims": {"iss": "bridge", "sub": "acme", "aud": "sms-api"},
                                               "lifetime_s": 300, **signing})
    now = datetime.now(UTC)  # the provider checks exp against its own clock

    response = client.send(provider, sms_request(provider), now)

    assert response.status_code == 200
    assert seen[0]["exp"] - seen[0]["iat"] == 300


# ---------------------------------------------------------------- oauth2

class TokenEndpoint:
    """A client-credentials token endpoint (RFC 6749 4.4) that counts its calls and issues at-1, at-2, ..."""

    def __init__(self, delay_s: float = 0.0, secrets: tuple[str, ...] = (CLIENT_SECRET,)) -> None:
        self.secrets = secrets
        self.calls = 0
        self.down = False
        self.delay_s = delay_s
        self.issued: list[str] = []
        self.bodies: list[dict[str, list[str]]] = []
        self._lock = threading.Lock()

    def __call__(self, request: RecordedRequest):
        with self._lock:
            self.calls += 1
            self.bodies.append(request.form)
        if self.delay_s:
            time.sleep(self.delay_s)  # a slow endpoint, so that concurrent senders really overlap
        if self.down:
            return 503, {}, {"error": "temporarily_unavailable"}
        form = request.form
        if form.get("grant_type") != ["client_credentials"] or form.get("client_id") != [CLIENT_ID] \
                or form.get("client_secret", [None])[0] not in self.secrets or request.header("Accept") != "application/json":
            return 401, {}, {"error": "invalid_client"}
        with self._lock:
            token = f"at-{len(self.issued) + 1}"
            self.issued.append(token)
        return 200, {}, {"access_token": token, "token_type": "Bearer", "expires_in": 3600}


class SmsEndpoint:
    """An SMS endpoint that accepts a bearer token the token endpoint issued and has not revoked."""

    def __init__(self, tokens: TokenEndpoint) -> None:
        self.tokens = tokens
        self.revoked: set[str] = set()
        self.bearers: list[str] = []

    def __call__(self, request: RecordedRequest):
        bearer = (request.header("Authorization") or "").removeprefix("Bearer ")
        self.bearers.append(bearer)
        return ACCEPTED if bearer in self.tokens.issued and bearer not in self.revoked else REFUSED


def oauth_provider(loopback: LoopbackProvider, token_path: str = "/token", **auth: Any) -> ProviderConfig:
    return provider_at(loopback, {"type": "oauth2", "token_url": loopback.url_for(token_path),
                                  "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, **auth})


def test_twenty_sends_ten_of_them_concurrent_make_one_token_request(loopback_provider, client):
    token_endpoint = TokenEndpoint(delay_s=0.2)
    loopback_provider.on("/token", token_endpoint, method="POST")
    loopback_provider.on("/sms", SmsEndpoint(token_endpoint), method="POST")
    provider = oauth_provider(loopback_provider)

    with ThreadPoolExecutor(max_workers=10) as pool:
        concurrent = list(pool.map(lambda _: client.send(provider, sms_request(provider), NOW), range(10)))
    sequential = [client.send(provider, sms_request(provider), NOW + timedelta(seconds=i)) for i in range(10)]

    assert [response.status_code for response in concurrent + sequential] == [200] * 20
    assert token_endpoint.calls == 1


def test_a_401_for_a_revoked_token_fetches_a_new_token_and_the_send_succeeds(loopback_provider, client):
    token_endpoint = TokenEndpoint()
    sms_endpoint = SmsEndpoint(token_endpoint)
    loopback_provider.on("/token", token_endpoint, method="POST")
    loopback_provider.on("/sms", sms_endpoint, method="POST")
    provider = oauth_provider(loopback_provider)
    assert client.send(provider, sms_request(provider), NOW).status_code == 200
    sms_endpoint.revoked.add("at-1")  # the provider revokes it long before its announced expiry

    response = client.send(provider, sms_request(provider), NOW + timedelta(minutes=5))

    assert response.status_code == 200
    assert sms_endpoint.bearers == ["at-1", "at-1", "at-2"]
    assert token_endpoint.calls == 2


def test_ten_concurrent_sends_refused_with_the_same_revoked_token_fetch_one_new_token(loopback_provider, client):
    token_endpoint = TokenEndpoint(delay_s=0.2)
    sms_endpoint = SmsEndpoint(token_endpoint)
    loopback_provider.on("/token", token_endpoint, method="POST")
    loopback_provider.on("/sms", sms_endpoint, method="POST")
    provider = oauth_provider(loopback_provider)
    client.send(provider, sms_request(provider), NOW)
    sms_endpoint.revoked.add("at-1")

    with ThreadPoolExecutor(max_workers=10) as pool:
        responses = list(pool.map(lambda _: client.send(provider, sms_request(provider), NOW), range(10)))

    assert [response.status_code for response in responses] == [200] * 10
    assert token_endpoint.issued == ["at-1", "at-2"]


def test_a_token_refused_even_when_fresh_gives_the_401_back_after_one_retry(loopback_provider, client):
    token_endpoint = TokenEndpoint()
    loopback_provider.on("/token", token_endpoint, method="POST")
    loopback_provider.on("/sms", REFUSED, method="POST")
    provider = oauth_provider(loopback_provider)

    response = client.send(provider, sms_request(provider), NOW)

    assert response.status_code == 401
    assert (token_endpoint.calls, len(loopback_provider.requests)) == (2, 4)


def test_token_endpoint_down_makes_messages_wait_120_s_before_it_is_asked_again(loopback_provider, client):
    token_endpoint = TokenEndpoint()
    token_endpoint.down = True
    loopback_provider.on("/token", token_endpoint, method="POST")
    loopback_provider.on("/sms", SmsEndpoint(token_endpoint), method="POST")
    provider = oauth_provider(loopback_provider)

    with pytest.raises(TokenUnavailable) as first:
        client.send(provider, sms_request(provider), NOW)
    with pytest.raises(TokenUnavailable) as within_backoff:
        client.send(provider, sms_request(provider), NOW + timedelta(seconds=119))
    calls_during_backoff = token_endpoint.calls
    token_endpoint.down = False
    response = client.send(provider, sms_request(provider), NOW + timedelta(seconds=120))

    assert first.value.retry_after_s == 120
    assert within_backoff.value.retry_after_s == 1
    assert calls_during_backoff == 1
    assert response.status_code == 200 and token_endpoint.calls == 2
    assert [request.path for request in loopback_provider.requests] == ["/token", "/token", "/sms"]


def test_token_endpoint_unreachable_is_token_unavailable_naming_no_secret(loopback_provider, client):
    with socket.socket() as probe:  # a port nobody listens on once the probe is closed
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    provider = provider_at(loopback_provider, {
        "type": "oauth2", "token_url": f"http://127.0.0.1:{closed_port}/token?client_secret={CLIENT_SECRET}",
        "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})

    with pytest.raises(TokenUnavailable) as unavailable:
        client.send(provider, sms_request(provider), NOW)

    assert "connection refused" in str(unavailable.value)
    assert CLIENT_SECRET not in str(unavailable.value) and CLIENT_SECRET not in repr(unavailable.value)
    assert loopback_provider.requests == []


def test_a_token_url_that_is_never_allowed_fails_the_send_instead_of_waiting(loopback_provider):
    provider = provider_at(loopback_provider, {
        "type": "oauth2", "token_url": "http://169.254.169.254/token",
        "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})

    with ProviderTransport(local_runtime=True) as transport, pytest.raises(UrlNotAllowed):
        ProviderClient(transport).send(provider, sms_request(provider), NOW)


def test_client_credentials_sent_as_http_basic_reach_the_token_endpoint(loopback_provider, client):
    def token_endpoint(request: RecordedRequest):
        expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        ok = request.header("Authorization") == expected and request.form == {"grant_type": ["client_credentials"],
                                                                              "scope": ["sms:send"]}
        return (200, {}, {"access_token": "at-basic", "expires_in": 600}) if ok else (401, {}, {})
    loopback_provider.on("/token", token_endpoint, method="POST")
    loopback_provider.on("/sms", lambda request: ACCEPTED if request.header("Authorization") == "Bearer at-basic"
                         else REFUSED, method="POST")
    provider = oauth_provider(loopback_provider, client_auth="basic", scope="sms:send")

    response = client.send(provider, sms_request(provider), NOW)

    assert response.status_code == 200


def test_json_token_request_reaches_the_token_endpoint_as_json(loopback_provider, client):
    loopback_provider.on("/token", lambda request: (200, {}, {"access_token": "at-json"})
                         if request.header("Content-Type") == "application/json" and request.json() == {
                             "grant_type": "client_credentials", "client_id": CLIENT_ID,
                             "client_secret": CLIENT_SECRET, "audience": "sms"} else (400, {}, {}), method="POST")
    loopback_provider.on("/sms", lambda request: ACCEPTED if request.header("Authorization") == "Bearer at-json"
                         else REFUSED, method="POST")
    provider = oauth_provider(loopback_provider, token_request="json", extra={"audience": "sms"})

    response = client.send(provider, sms_request(provider), NOW)

    assert response.status_code == 200


def test_a_reconfigured_client_secret_gets_a_new_token_instead_of_the_cached_one(loopback_provider, client):
    token_endpoint = TokenEndpoint(secrets=(CLIENT_SECRET, "rotated-secret"))
    sms_endpoint = SmsEndpoint(token_endpoint)
    loopback_provider.on("/token", token_endpoint, method="POST")
    loopback_provider.on("/sms", sms_endpoint, method="POST")
    provider = oauth_provider(loopback_provider)
    client.send(provider, sms_request(provider), NOW)
    rotated = oauth_provider(loopback_provider, client_secret="rotated-secret")

    response = client.send(rotated, sms_request(rotated), NOW + timedelta(seconds=1))

    assert response.status_code == 200
    assert token_endpoint.bodies[-1]["client_secret"] == ["rotated-secret"]
    assert sms_endpoint.bearers == ["at-1", "at-2"]


def test_a_token_is_fetched_again_only_once_it_nears_its_expiry(loopback_provider, client):
    token_endpoint = TokenEndpoint()
    loopback_provider.on("/token", token_endpoint, method="POST")
    loopback_provider.on("/sms", SmsEndpoint(token_endpoint), method="POST")
    provider = oauth_provider(loopback_provider)

    client.send(provider, sms_request(provider), NOW)
    client.send(provider, sms_request(provider), NOW + timedelta(seconds=3600 - 61))
    calls_before_margin = token_endpoint.calls
    client.send(provider, sms_request(provider), NOW + timedelta(seconds=3600 - 60))

    assert (calls_before_margin, token_endpoint.calls) == (1, 2)
