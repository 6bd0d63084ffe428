"""services.dispatch: every way a call to a provider can end is one Outcome, and no outcome holds a secret."""
from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from smsbridge.adapters.http import RequestNotSendable, TransportError, UrlNotAllowed
from smsbridge.adapters.oauth_tokens import TokenUnavailable
from smsbridge.core.auth import AuthError
from smsbridge.core.classify import EXCERPT_CHARS
from smsbridge.core.secrets import MASK
from smsbridge.models.message import OutboundMessage
from smsbridge.models.provider import ProviderConfig
from smsbridge.models.wire import HttpRequest, HttpResponse
from smsbridge.observability import remember_secrets
from smsbridge.services.dispatch import Dispatcher

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
API_KEY = "live_k3y/with+plus"
PROVIDER = ProviderConfig.model_validate({
    "id": "acme", "request": {"url": "https://sms.example.com/send",
                              "body": {"to": "{{to}}", "text": "{{text}}", "ref": "{{vars.ref}}"}},
    "auth": {"type": "api_key", "token": API_KEY, "query": "api_key"},
    "response": {"message_id_jmespath": "id", "error_jmespath": "error"}})
BATCHING = ProviderConfig.model_validate({
    "id": "bulk", "request": {"url": "https://sms.example.com/bulk", "body": {"messages": [{"to": "{{to}}", "text": "{{text}}"}]},
                              "batch": {"key": "messages"}}})
MESSAGE = OutboundMessage.model_validate({"id": "m1", "to": "+33612345678", "text": "hi", "vars": {"ref": "r1"}})


class Answering:
    """A ProviderCaller that answers (or raises) as told and keeps what it was asked to send."""

    def __init__(self, answer):
        self.answer = answer
        self.sent: list[HttpRequest] = []

    def send(self, provider, request, now):
        self.sent.append(request)
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def dispatcher(answer) -> tuple[Dispatcher, Answering]:
    client = Answering(answer)
    return Dispatcher(client, clock=lambda: NOW), client


def test_given_a_provider_echoing_the_key_in_its_error_when_sent_then_reason_and_excerpt_are_masked():
    body = json.dumps({"error": f"invalid api_key {API_KEY}", "request": f"/send?api_key={API_KEY}"})
    dispatch, _ = dispatcher(HttpResponse(401, {}, body.encode()))

    [outcome] = dispatch.send(PROVIDER, [MESSAGE]).outcomes

    assert outcome.verdict == "failed"
    assert API_KEY not in outcome.reason and f"invalid api_key {MASK}" in outcome.reason
    assert API_KEY not in outcome.body_excerpt and MASK in outcome.body_excerpt


def test_given_a_secret_across_the_excerpt_limit_when_sent_then_no_part_of_it_is_kept():
    # Masked before the excerpt is cut: cut first, half the key would stay in the stored answer.
    body = ("x" * (EXCERPT_CHARS - 8) + API_KEY + "y" * 50).encode()
    dispatch, _ = dispatcher(HttpResponse(500, {}, body))

    [outcome] = dispatch.send(PROVIDER, [MESSAGE]).outcomes

    assert "live_k3y" not in outcome.body_excerpt and outcome.body_excerpt.startswith("x" * (EXCERPT_CHARS - 8) + "*")


def test_given_a_token_the_bridge_obtained_for_this_provider_when_it_echoes_it_then_it_is_masked():
    remember_secrets(["oauth-access-token-93f1"], PROVIDER.id)  # as the client does when it applies a token
    dispatch, _ = dispatcher(HttpResponse(400, {}, b"bad bearer oauth-access-token-93f1"))

    [outcome] = dispatch.send(PROVIDER, [MESSAGE]).outcomes

    assert "oauth-access-token-93f1" not in outcome.body_excerpt


@pytest.mark.parametrize(("error", "verdict", "requested", "reason"), [
    (TokenUnavailable(120, "token endpoint answered HTTP 503"), "retry", False,
     "no OAuth2 access token (token endpoint answered HTTP 503)"),
    (UrlNotAllowed("provider host 10.0.0.1 is a private address: refused"), "failed", True,
     "provider host 10.0.0.1 is a private address: refused"),
    (RequestNotSendable("a header name or value is not valid"), "failed", True, "a header name or value is not valid"),
    (AuthError("jwt: the configured key cannot sign with RS256"), "failed", True,
     "jwt: the configured key cannot sign with RS256"),
    (TransportError("connection refused by sms.example.com"), "retry", True, "connection refused by sms.example.com"),
])
def test_given_each_failure_of_the_call_then_one_outcome_says_what_it_means(error, verdict, requested, reason):
    dispatch, _ = dispatcher(error)

    result = dispatch.send(BATCHING, [MESSAGE, MESSAGE])  # one request for both

    assert [outcome.verdict for outcome in result.outcomes] == [verdict, verdict]
    assert result.outcome.reason == reason and result.requested is requested
    assert result.response is None
    if isinstance(error, TokenUnavailable):
        assert result.outcome.retry_after_s == 120


def test_given_a_message_the_templates_cannot_render_then_it_fails_without_a_request():
    dispatch, client = dispatcher(HttpResponse(200, {}, b'{"id": "p1"}'))
    without_var = MESSAGE.model_copy(update={"vars": {}})

    result = dispatch.send(PROVIDER, [without_var])

    assert result.outcome.verdict == "failed" and result.outcome.reason.startswith("cannot render:")
    assert result.requested is False and client.sent == []


def test_given_a_check_without_auth_then_the_provider_auth_is_left_out_and_the_answer_is_masked():
    dispatch, client = dispatcher(HttpResponse(200, {}, f"balance 12 for key {API_KEY}".encode()))

    result = dispatch.call(PROVIDER, HttpRequest("GET", "https://sms.example.com/balance"), authenticated=False)

    assert result.outcome.verdict == "sent" and result.response.text == f"balance 12 for key {MASK}"
    [sent] = client.sent
    assert sent.url == "https://sms.example.com/balance"


def test_given_another_providers_weak_secret_then_this_providers_reasons_are_left_whole():
    remember_secrets(["tok"])  # e.g. a provider whose password is "tok", loaded in the same process
    dispatch, _ = dispatcher(TokenUnavailable(120, "token endpoint answered HTTP 503"))

    assert dispatch.send(PROVIDER, [MESSAGE]).outcome.reason == "no OAuth2 access token (token endpoint answered HTTP 503)"
