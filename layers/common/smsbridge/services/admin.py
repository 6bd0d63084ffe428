"""The `api` use cases: providers (masked secrets), preview and test, messages, consent."""
from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import BeforeValidator, ValidationError

from smsbridge.adapters.http import UrlNotAllowed, check_provider_url
from smsbridge.adapters.store import ProviderNotFound, provider_ref
from smsbridge.core.auth import AuthError, AwsCredentials, TokenError, authenticate, parse_token_answer, token_request
from smsbridge.core.consent import ConsentState, consent_block_reason
from smsbridge.core.curl import CurlError, curl_command, masked_request, provider_draft
from smsbridge.core.presets import resolve_preset
from smsbridge.core.render import RenderError, render_balance_request, render_request
from smsbridge.core.secrets import MASK, join_secrets, mask, provider_secrets, split_secrets
from smsbridge.models.api import (
    CheckResult,
    ConsentView,
    ImportCurlRequest,
    ImportCurlResult,
    MessageAccepted,
    MessageView,
    PreviewRequestView,
    TestSendResult,
)
from smsbridge.models.message import OutboundMessage, to_e164
from smsbridge.models.provider import OAuth2Auth, ProviderConfig, SigV4Auth
from smsbridge.models.status import MessageStatus, ProviderAnswer, StatusChange
from smsbridge.models.wire import HttpRequest
from smsbridge.clock import iso_utc, utc_now
from smsbridge.observability import logger
from smsbridge.services.dispatch import Dispatch, Dispatcher
from smsbridge.services.ports import ConsentBook, MessageLog, ProviderCaller, ProviderCatalog, Queue
from smsbridge.services.send import record_queued

# A provider document as the API takes it on create and replace: a `preset` it names is merged
# in before validation (SPEC 3), so what is stored is the whole configuration, `preset` kept as
# a record of where it started; an unknown preset is a validation error listing the known ones.
ProviderDocument = Annotated[ProviderConfig, BeforeValidator(resolve_preset)]


class BadRequest(ValueError):
    """The request cannot be done as asked (400); the message is safe to show."""


class NotFound(LookupError):
    """What the request names does not exist (404)."""


class Conflict(ValueError):
    """The request clashes with what exists (409)."""




class AdminService:
    """Takes the adapters as arguments: ProviderStore, MessageStore, ConsentLedger, OutboundQueue,
    and a Dispatcher (or the ProviderClient to make one over) for every call to a provider."""

    def __init__(self, *, providers: ProviderCatalog, messages: MessageLog, consent: ConsentBook, queue: Queue,
                 client: ProviderCaller | None = None, dispatch: Dispatcher | None = None,
                 local_runtime: bool = False, clock: Callable[[], datetime] = utc_now):
        self._local_runtime = local_runtime
        self._providers = providers
        self._messages = messages
        self._consent = consent
        self._queue = queue
        self._dispatch = dispatch if dispatch is not None else Dispatcher(client, clock=clock)
        self._clock = clock

    # ------------------------------------------------------------ messages

    def enqueue(self, message: OutboundMessage) -> MessageAccepted:
        """Record the message as `queued` and put it on the outbound queue; the caller's id makes it idempotent."""
        provider = self._provider_of(message)
        message = message.model_copy(update={"provider": provider.id})
        if not record_queued(self._messages, message, provider, self._clock()):
            existing = self._messages.get(message.id) or {}
            if existing.get("status") != MessageStatus.QUEUED.value or existing.get("attempts"):
                # A repeat of a message already under way or done: the id is the idempotency key.
                logger.info("message id already known, not queued again", message_id=message.id)
                return MessageAccepted(id=message.id)
        # Queued twice at worst (a retried POST): the send function's claim sends it once.
        self._queue.enqueue(message)
        return MessageAccepted(id=message.id)

    def message(self, message_id: str) -> MessageView:
        item = self._messages.get(message_id)
        if item is None:
            raise NotFound(f"no message {message_id!r}")
        fields = {name: item.get(name) for name in MessageView.model_fields if name != "history"}
        return MessageView(**fields, history=[StatusChange.model_validate(h) for h in item.get("history", [])])

    def _provider_of(self, message: OutboundMessage) -> ProviderConfig:
        try:
            return self._providers.get(message.provider) if message.provider else self._providers.default()
        except ProviderNotFound as exc:
            raise BadRequest(f"provider: {exc}") from None

    # ------------------------------------------------------------ providers

    def list_providers(self) -> list[dict[str, Any]]:
        return [_public(config) for config in self._providers.list()]

    def provider(self, provider_id: str) -> dict[str, Any]:
        return _public(self._providers.get(provider_id))

    def create_provider(self, config: ProviderConfig) -> dict[str, Any]:
        if self._exists(config.id):
            raise Conflict(f"provider {config.id!r} exists already: PUT /providers/{config.id} to change it")
        self._refuse_masks(config, {})
        self._check_urls(config)
        self._providers.put(config)
        logger.info("provider created", provider=config.id)
        return _public(config)

    def replace_provider(self, provider_id: str, config: ProviderConfig) -> tuple[dict[str, Any], bool]:
        """Store `config` under `provider_id`; a secret sent as the mask keeps the stored one.
        Returns the masked configuration and whether it was created."""
        if config.id != provider_id:
            raise BadRequest(f"id {config.id!r} in the body differs from {provider_id!r} in the path")
        self._check_urls(config)
        try:
            stored = self._providers.get(provider_id) if self._exists(provider_id) else None
        except ValidationError:
            stored = None  # a stored document the current model refuses: it is being replaced anyway
        stored_secrets = split_secrets(stored)[1] if stored is not None else {}
        public, secrets = split_secrets(config)
        if any(value == MASK for value in secrets.values()):
            self._refuse_masks(config, stored_secrets)
            kept = {path: (stored_secrets[path] if value == MASK else value) for path, value in secrets.items()}
            config = ProviderConfig.model_validate(join_secrets(public, kept))
        self._providers.put(config)
        logger.info("provider stored", provider=provider_id, new_provider=stored is None)
        return _public(config), stored is None

    def delete_provider(self, provider_id: str) -> None:
        if not self._providers.delete(provider_id):
            raise NotFound(f"no provider {provider_id!r}")
        logger.info("provider deleted", provider=provider_id)

    def _check_urls(self, config: ProviderConfig) -> None:
        """Refuse at save time a URL the transport would refuse at every send (http, private or
        metadata addresses when deployed), rather than failing each message later."""
        urls = {"request.url": config.request.url}
        if config.balance is not None:
            urls["balance.url"] = config.balance.url
        if isinstance(config.auth, OAuth2Auth):
            urls["auth.token_url"] = config.auth.token_url
        for where, url in urls.items():
            try:
                check_provider_url(url, local_runtime=self._local_runtime)
            except UrlNotAllowed as exc:
                raise BadRequest(f"{where}: {exc}") from None

    def _exists(self, provider_id: str) -> bool:
        try:
            self._providers.get(provider_id)
        except ProviderNotFound:
            return False
        return True

    @staticmethod
    def _refuse_masks(config: ProviderConfig, stored: dict[str, str]) -> None:
        missing = sorted(path for path, value in split_secrets(config)[1].items()
                         if value == MASK and path not in stored)
        if missing:
            raise BadRequest(f"{', '.join(missing)}: the value is the mask {MASK!r} but no secret is stored "
                             "there: give the real value")

    # ------------------------------------------------------------ preview and tests

    def preview(self, provider_id: str, message: OutboundMessage) -> PreviewRequestView:
        """The exact request the message would be sent as, credentials applied then masked."""
        provider = self._providers.get(provider_id)
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

    # ------------------------------------------------------------ import from curl

    def import_curl(self, command: ImportCurlRequest) -> ImportCurlResult:
        try:
            draft = provider_draft(command.curl, command.id)
        except CurlError as exc:
            raise BadRequest(f"curl: {exc}") from None
        # Placeholders left to fill make the draft invalid even where the model would take them.
        errors = [{"loc": item.where, "msg": item.message} for item in draft.unfilled]
        try:
            config = ProviderConfig.model_validate(draft.config)
        except ValidationError as exc:
            errors += field_errors(exc)
        if errors:
            return ImportCurlResult(provider=draft.shown(), notes=draft.notes, valid=False, errors=errors)
        saved = False
        if command.save:
            self.create_provider(config)
            saved = True
        return ImportCurlResult(provider=_public(config), notes=draft.notes, valid=True, saved=saved)

    # ------------------------------------------------------------ consent

    def consent(self, provider_id: str, phone: str) -> ConsentView:
        provider = self._providers.get(provider_id)
        number = _e164(phone)
        record = self._consent.get(provider.id, number)
        state = ConsentState(record["state"]) if record and record.get("state") else None
        history = [_plain(entry) for entry in self._consent.history(provider.id, number)]
        return ConsentView(provider=provider.id, phone=number, state=state,
                           record=_plain(record) if record else None, history=history)

    def set_consent(self, provider_id: str, phone: str, state: ConsentState) -> ConsentView:
        provider = self._providers.get(provider_id)
        number = _e164(phone)
        self._consent.set(provider.id, number, state, "api")
        logger.info("consent set", provider=provider.id, state=state.value)
        return self.consent(provider.id, number)


# ---------------------------------------------------------------- helpers of this module

def _public(config: ProviderConfig) -> dict[str, Any]:
    return split_secrets(config)[0]


def _e164(phone: str) -> str:
    try:
        return to_e164(phone)
    except ValueError as exc:
        raise BadRequest(f"phone: {exc}") from None




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


def field_errors(error: ValidationError) -> list[dict[str, Any]]:
    """Pydantic's errors as `loc` and `msg` only: the input, which may be a secret, is never repeated."""
    return [{"loc": ".".join(str(part) for part in item["loc"]) or "body", "msg": item["msg"]}
            for item in error.errors(include_url=False, include_input=False, include_context=False)]


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_plain(item) for item in value]
    return value
