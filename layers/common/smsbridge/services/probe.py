"""Proving a provider works: preview the exact request, check the connection or credentials, send one message now."""
from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from urllib.parse import urlsplit, urlunsplit

from smsbridge.adapters.store import provider_ref
from smsbridge.clock import iso_utc, utc_now
from smsbridge.core.auth import AuthError, AwsCredentials, TokenError, authenticate, parse_token_answer, token_request
from smsbridge.core.consent import consent_block_reason
from smsbridge.core.curl import curl_command, masked_request
from smsbridge.core.encoding import encoding_of, ucs2_characters
from smsbridge.core.render import RenderError, render_balance_request, render_request
from smsbridge.core.secrets import MASK, mask, provider_secrets
from smsbridge.core.smart_encoding import text_to_send, with_substitutions
from smsbridge.errors import BadRequest, Conflict
from smsbridge.models.api import (
    CheckResult,
    DraftPreview,
    PreviewRequestView,
    ReplacementView,
    TestSendResult,
    TextEncodingView,
)
from smsbridge.models.message import OutboundMessage
from smsbridge.models.provider import OAuth2Auth, ProviderConfig, SigV4Auth
from smsbridge.models.status import MessageStatus, ProviderAnswer, StatusChange
from smsbridge.models.wire import HttpRequest
from smsbridge.services.dispatch import Dispatch, Dispatcher
from smsbridge.services.ports import ConsentReader, MessageLog, ProviderCaller, ProviderSource
from smsbridge.services.send import record_queued


class ProviderProbe:
    """Takes the provider source, the message log (a test send is recorded like any message), the
    consent reader (consent still applies) and a Dispatcher, or the ProviderClient to make one over."""

    def __init__(self, *, providers: ProviderSource, messages: MessageLog, consent: ConsentReader,
                 client: ProviderCaller | None = None, dispatch: Dispatcher | None = None,
                 clock: Callable[[], datetime] = utc_now):
        self._providers = providers
        self._messages = messages
        self._consent = consent
        self._dispatch = dispatch if dispatch is not None else Dispatcher(client, clock=clock)
        self._clock = clock

    def preview(self, provider_id: str, message: OutboundMessage) -> DraftPreview:
        """The exact request the message would be sent as, credentials applied then masked, and how
        its text travels."""
        return self.preview_draft(self._providers.get(provider_id), message)

    def preview_draft(self, provider: ProviderConfig, message: OutboundMessage) -> DraftPreview:
        """The preview for an unsaved configuration, with how the text travels (encoding, segments,
        the characters that make it UCS-2, and what smart encoding replaced)."""
        shown = self.preview_with(provider, message)
        sent = text_to_send(message.text, provider.smart_encoding)
        encoding = encoding_of(sent.text)
        return DraftPreview(**shown.model_dump(), encoding=TextEncodingView(
            is_unicode=encoding.is_unicode, segments=encoding.segments, units=encoding.units,
            ucs2_characters=ucs2_characters(sent.text),
            smart_text=sent.text if sent.replaced else None,
            replaced=[ReplacementView(original=r.original, replacement=r.replacement, count=r.count)
                      for r in sent.replaced]))

    def preview_with(self, provider: ProviderConfig, message: OutboundMessage) -> PreviewRequestView:
        message = message.model_copy(update={"provider": provider.id})
        now = self._clock()
        try:
            request = render_request(provider, [message], now)
            # No token is fetched for a preview: the masked value stands where the token goes.
            bearer = MASK if isinstance(provider.auth, OAuth2Auth) else None
            # Nor are the role's AWS keys read: stand-ins sign, and the signature is masked anyway.
            role = AwsCredentials(MASK, MASK) if isinstance(provider.auth, SigV4Auth) else None
            request = authenticate(request, provider.auth, now, bearer=bearer, secrets=provider.secrets,
                                   aws_credentials=role)
        except (RenderError, AuthError) as exc:
            raise BadRequest(f"cannot render this message with provider {provider.id!r}: {exc}") from None
        shown = masked_request(request, provider.auth, provider_secrets(provider))
        body = shown.body.decode("utf-8", errors="replace") if shown.body is not None else None
        json_body = None
        if body is not None and provider.request.content_type == "json":
            json_body = json.loads(body)
        return PreviewRequestView(method=shown.method, url=shown.url, headers=shown.headers, body=body,
                                  json_body=json_body, curl=curl_command(shown))

    def check(self, provider_id: str) -> CheckResult:
        """Check credentials or connection: the balance endpoint when there is one, else an OAuth2
        token fetch, else whether the provider's host answers at all."""
        provider = self._providers.get(provider_id)
        secrets = provider_secrets(provider)
        if provider.balance is not None:
            spec = provider.balance
            request = render_balance_request(provider)
            reply = self._dispatch.call(provider, request, authenticated=spec.use_auth)
            return _check_result("balance", reply, mask(request.url, secrets), secrets,
                                 good="the balance endpoint answered {code}", bad="the balance endpoint answered {code}")
        if isinstance(provider.auth, OAuth2Auth):
            request = token_request(provider.auth)
            reply = self._dispatch.call(provider, request, authenticated=False)
            if reply.response is not None:
                response = reply.response
                try:
                    parse_token_answer(response, self._clock())
                except TokenError as exc:
                    return CheckResult(ok=False, check="oauth2_token", url=mask(request.url, secrets),
                                       status_code=response.status_code,
                                       elapsed_ms=round(response.elapsed_s * 1000, 1), detail=exc.reason)
                return CheckResult(ok=True, check="oauth2_token", url=mask(request.url, secrets),
                                   status_code=response.status_code, elapsed_ms=round(response.elapsed_s * 1000, 1),
                                   detail="the token endpoint gave an access token: the client credentials work")
            return _check_result("oauth2_token", reply, request.url, secrets, good="", bad="")
        parts = urlsplit(provider.request.url)
        # The send URL may hold placeholders; the site's root tells whether the host answers.
        url = urlunsplit((parts.scheme, parts.netloc, "/", "", ""))
        reply = self._dispatch.call(provider, HttpRequest(method="HEAD", url=url), authenticated=False)
        return _check_result("reachability", reply, url, secrets,
                             good="the provider's host answered HTTP {code} (credentials were not checked: "
                                  "configure `balance` or use test-send for that)",
                             bad="the provider's host answered HTTP {code} (credentials were not checked)",
                             any_answer_ok=True)

    def test_send(self, provider_id: str, message: OutboundMessage) -> TestSendResult:
        """Send one message now, synchronously, and record it like any other; consent still applies."""
        provider = self._providers.get(provider_id)
        message = message.model_copy(update={"provider": provider.id})
        now = self._clock()
        if not record_queued(self._messages, message, provider, now, reason="test-send"):
            raise Conflict(f"message {message.id!r} exists already: leave `id` out for a test send")
        block = consent_block_reason(message.effective_type(provider.default_sender),
                                     self._consent.state(provider.id, message.to),
                                     provider.marketing_requires_opt_in)
        if block:
            self._messages.record(message.id, StatusChange(status=MessageStatus.BLOCKED, at=iso_utc(now), reason=block))
            return TestSendResult(id=message.id, status=MessageStatus.BLOCKED, reason=block)
        dispatch = self._dispatch.send(provider, [message])
        outcome = dispatch.outcome  # its reason and body excerpt are masked
        attempt_number = self._messages.next_attempt(message.id) if dispatch.requested else 0
        status = MessageStatus.SENT if outcome.verdict == "sent" else MessageStatus.FAILED
        reason = outcome.reason if outcome.verdict != "retry" else f"{outcome.reason} (a test send is not retried)"
        if status is MessageStatus.SENT:
            reason = with_substitutions(reason, message.text, provider.smart_encoding)
        answer = None
        if dispatch.requested:
            answer = ProviderAnswer(status_code=outcome.status_code, body=outcome.body_excerpt,
                                    message_id=outcome.provider_message_id)
        self._messages.record(
            message.id,
            StatusChange(status=status, at=iso_utc(self._clock()), attempt=attempt_number, reason=reason, answer=answer),
            provider_message_id=outcome.provider_message_id,
            provider_ref=(provider_ref(provider.id, outcome.provider_message_id)
                          if outcome.provider_message_id else None))
        return TestSendResult(id=message.id, status=status, reason=reason, status_code=outcome.status_code,
                              provider_message_id=outcome.provider_message_id, body=outcome.body_excerpt)


def _check_result(check: str, reply: Dispatch, url: str, secrets: list[str], *, good: str, bad: str,
                  any_answer_ok: bool = False) -> CheckResult:
    url = mask(url, secrets)
    response = reply.response
    if response is None:
        return CheckResult(ok=False, check=check, url=url, detail=reply.outcome.reason)
    ok = any_answer_ok or 200 <= response.status_code < 300
    detail = (good if ok else bad).format(code=response.status_code)
    if not any_answer_ok and not ok and response.status_code in (401, 403):
        detail += ": the credentials were refused"
    return CheckResult(ok=ok, check=check, url=url, status_code=response.status_code,
                       elapsed_ms=round(response.elapsed_s * 1000, 1), detail=detail)
