"""The `inbound` use case: verify a provider's webhook, then apply an inbound SMS (keywords, consent, replies) or a delivery receipt."""
from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from smsbridge.adapters.consent import ConsentEvent
from smsbridge.clock import iso_utc
from smsbridge.adapters.store import ProviderNotFound
from smsbridge.core.consent import ConsentState
from smsbridge.core.inbound_parse import (
    DeliveryReceipt,
    InboundSms,
    PayloadError,
    delivery_receipt_of,
    inbound_sms_of,
    map_status_word,
    webhook_items,
)
from smsbridge.core.keywords import (
    KeywordKind,
    OptInStep,
    confirm_deadline,
    double_opt_in_step,
    is_confirm_word,
    match_keyword,
    normalise_keyword,
)
from smsbridge.core.signatures import SignatureRefused, WebhookRequest, verify_webhook
from smsbridge.models.message import MessageType, OutboundMessage, sender_problem, to_e164
from smsbridge.models.provider import BasicAuth, ProviderConfig, TwilioInboundAuth
from smsbridge.models.status import MessageStatus, ProviderAnswer, StatusChange
from smsbridge.observability import logger, metrics

# A receipt may move a message forward only: from these statuses to the receipt's.
# An `unknown` message (SPEC 11) moves on with a receipt: the provider had it after all.
_MAY_BECOME = {
    MessageStatus.SENT: {MessageStatus.QUEUED.value, MessageStatus.UNKNOWN.value},
    MessageStatus.DELIVERED: {MessageStatus.QUEUED.value, MessageStatus.SENT.value, MessageStatus.UNKNOWN.value},
    MessageStatus.FAILED: {MessageStatus.QUEUED.value, MessageStatus.SENT.value, MessageStatus.UNKNOWN.value},
}
_STATE_OF = {KeywordKind.OPT_OUT: ConsentState.OPTED_OUT, KeywordKind.OPT_IN: ConsentState.OPTED_IN}
_TWIML_EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


class WebhookRefused(Exception):
    """The webhook is answered with a 4xx; `message` is safe to show (no secret, no payload)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class WebhookAnswer:
    status: int = 200
    body: str | dict[str, Any] = field(default_factory=lambda: {"ok": True})
    content_type: str = "application/json"


class InboundService:
    def __init__(self, *, providers, consent, queue, messages, inbox, events):
        self._providers = providers
        self._consent = consent
        self._queue = queue
        self._messages = messages
        self._inbox = inbox
        self._events = events

    # ------------------------------------------------------------ inbound SMS

    def receive_sms(self, provider_id: str, request: WebhookRequest, now: datetime) -> WebhookAnswer:
        provider = self._provider(provider_id)
        if provider.inbound is None:
            raise WebhookRefused(404, f"provider {provider_id!r} takes no inbound messages (no `inbound` configuration)")
        signed_at = self._verify(provider, request, now)
        spec = provider.inbound
        documents = _items_of(spec.format, spec.items, request)
        if spec.items is None:
            try:
                sms = inbound_sms_of(spec, documents[0])
            except PayloadError as exc:
                raise WebhookRefused(400, str(exc)) from None
            self._apply_sms(provider, sms, signed_at, now)
            return _ok(provider)
        results = []
        for document in documents:
            try:
                self._apply_sms(provider, inbound_sms_of(spec, document), signed_at, now)
                results.append(_ItemResult(applied=True))
            except PayloadError as exc:
                results.append(_ItemResult(note=str(exc), unreadable=True))
        return _items_answer(provider, results)

    def _apply_sms(self, provider: ProviderConfig, sms: InboundSms, signed_at: datetime | None, now: datetime) -> None:
        """Keywords, consent and replies, or storing and publishing: one inbound SMS."""
        sender = _phone_or_raw(sms.sender)
        event_at = sms.sent_at or signed_at or now
        event_id = sms.provider_message_id or uuid.uuid4().hex
        kind = match_keyword(sms.text, provider.inbound.keywords)
        metrics.add_metric(name="InboundMessages", unit="Count", value=1)
        step = self._double_opt_in_step(provider, sender, sms.text, kind, event_at)
        if step is not None:
            self._double_opt_in(provider, step, sms, sender, event_at, event_id, now)
        elif kind in _STATE_OF:
            applied = self._consent.apply(ConsentEvent(
                provider=provider.id, phone=sender, state=_STATE_OF[kind], event_at=event_at, source="sms",
                keyword=normalise_keyword(sms.text).upper(), text=sms.text, event_id=event_id,
                provider_event_id=sms.provider_message_id), now=now)
            metrics.add_metric(name="OptOuts" if kind is KeywordKind.OPT_OUT else "OptIns", unit="Count", value=1)
            logger.info("consent keyword received", extra={"provider": provider.id, "keyword": kind.value,
                                                           "applied": applied.current, "duplicate": applied.duplicate})
            if not applied.duplicate:
                self._reply(provider, kind, sender, sms.recipient, event_id)
        elif kind is KeywordKind.HELP:
            logger.info("help keyword received", extra={"provider": provider.id})
            self._reply(provider, kind, sender, sms.recipient, event_id)
        else:
            self._keep(provider, sender, sms.recipient, sms.text, sms.provider_message_id, event_at, now)

    def _double_opt_in_step(self, provider: ProviderConfig, sender: str, text: str, kind: KeywordKind | None,
                            event_at: datetime) -> OptInStep | None:
        """The double opt-in step this message is, if the provider asks for one (the number's consent is
        read only for an opt-in or confirm word)."""
        confirm = provider.inbound.keywords.confirm_opt_in
        if confirm is None or not provider.marketing_requires_opt_in:
            return None
        if kind is not KeywordKind.OPT_IN and not is_confirm_word(text, confirm):
            return None
        record = self._consent.get(provider.id, sender) or {}
        state = ConsentState(record["state"]) if record.get("state") else None
        confirm_by = datetime.fromisoformat(record["confirm_by"]) if record.get("confirm_by") else None
        return double_opt_in_step(text, kind, confirm, state, confirm_by, event_at)

    def _double_opt_in(self, provider: ProviderConfig, step: OptInStep, sms: InboundSms, sender: str,
                       event_at: datetime, event_id: str, now: datetime) -> None:
        """A request (`opt_in_requested`, the confirmation prompt as reply) or its confirmation
        (`opted_in` if the request is still the number's state when written, the opt-in reply)."""
        confirm = provider.inbound.keywords.confirm_opt_in
        requested = step is OptInStep.REQUEST
        applied = self._consent.apply(ConsentEvent(
            provider=provider.id, phone=sender,
            state=ConsentState.OPT_IN_REQUESTED if requested else ConsentState.OPTED_IN,
            event_at=event_at, source="sms", keyword=normalise_keyword(sms.text).upper(), text=sms.text,
            event_id=event_id, provider_event_id=sms.provider_message_id,
            confirm_by=confirm_deadline(confirm, event_at) if requested else None),
            now=now, only_if_state=None if requested else ConsentState.OPT_IN_REQUESTED)
        metrics.add_metric(name="OptInRequests" if requested else "OptIns", unit="Count", value=1)
        logger.info("double opt-in step received", extra={"provider": provider.id, "step": step.value,
                                                          "applied": applied.current, "duplicate": applied.duplicate})
        if applied.duplicate or not applied.current:
            return
        if requested:
            self._reply(provider, KeywordKind.OPT_IN, sender, sms.recipient, event_id, text=confirm.prompt,
                        label="confirm_opt_in")
        else:
            self._reply(provider, KeywordKind.OPT_IN, sender, sms.recipient, event_id)

    def _reply(self, provider: ProviderConfig, kind: KeywordKind, sender: str, recipient: str | None,
               event_id: str, *, text: str | None = None, label: str | None = None) -> None:
        text = text or getattr(provider.inbound.replies, kind.value)
        if not text:
            return
        try:
            to = to_e164(sender)
        except ValueError:
            logger.warning("no auto-reply: the sender is not a phone number", extra={"provider": provider.id})
            return
        reply_from = _reply_sender(recipient, provider.default_sender)
        if not reply_from:
            # SPEC 2 makes a message without a sender MARKETING, which an opt-out blocks: say so.
            logger.warning("auto-reply without a sender: it counts as MARKETING and may be blocked",
                           extra={"provider": provider.id, "keyword": kind.value})
        # The id is derived from the inbound event, so a webhook delivered twice queues one reply
        # (the send path's idempotency drops the second).
        seed = f"{provider.id}#{event_id}#{label or kind.value}"
        reply_id = "reply-" + hashlib.sha256(seed.encode()).hexdigest()[:40]
        try:
            reply = OutboundMessage(id=reply_id, provider=provider.id, to=to, text=text, sender=reply_from,
                                    type=MessageType.NOTIFICATION)
        except ValidationError as exc:
            # A reply text the send path would refuse (white space only, a control character).
            logger.warning("no auto-reply: the configured reply is not a valid message",
                           extra={"provider": provider.id, "keyword": kind.value,
                                  "reason": "; ".join(e["msg"] for e in exc.errors(include_input=False))})
            return
        # A reply answers the sender now: the notification lane, whatever its sender makes its type.
        self._queue.enqueue(reply, MessageType.NOTIFICATION)

    def _keep(self, provider: ProviderConfig, sender: str, recipient: str | None, text: str,
              provider_message_id: str | None, event_at: datetime, now: datetime) -> None:
        item_id = f"{provider.id}#{provider_message_id}" if provider_message_id else f"{provider.id}#{uuid.uuid4().hex}"
        detail = {"id": item_id, "provider": provider.id, "from": sender, "to": recipient, "text": text,
                  "provider_message_id": provider_message_id, "sent_at": iso_utc(event_at),
                  "received_at": iso_utc(now)}
        if self._inbox.add(detail, now):
            self._events.publish_inbound(detail)
            logger.info("inbound message stored and published", extra={"provider": provider.id, "id": item_id})
        else:
            logger.info("inbound message seen before: not published again", extra={"provider": provider.id})

    # ------------------------------------------------------------ delivery receipts

    def receive_status(self, provider_id: str, request: WebhookRequest, now: datetime) -> WebhookAnswer:
        provider = self._provider(provider_id)
        if provider.status is None:
            raise WebhookRefused(404, f"provider {provider_id!r} takes no delivery receipts (no `status` configuration)")
        if provider.inbound is None:
            raise WebhookRefused(404, f"provider {provider_id!r} has no `inbound.auth` to check receipts with")
        self._verify(provider, request, now)
        status_spec = provider.status
        documents = _items_of(status_spec.format or provider.inbound.format, status_spec.items, request)
        if status_spec.items is None:
            try:
                receipt = delivery_receipt_of(status_spec, status_spec.format or provider.inbound.format, documents[0])
            except PayloadError as exc:
                raise WebhookRefused(400, str(exc)) from None
            return _ok(provider, note=self._apply_receipt(provider, receipt, now))
        results = []
        for document in documents:
            try:
                receipt = delivery_receipt_of(status_spec, status_spec.format or provider.inbound.format, document)
            except PayloadError as exc:
                results.append(_ItemResult(note=str(exc), unreadable=True))
                continue
            note = self._apply_receipt(provider, receipt, now)
            results.append(_ItemResult(applied=note is None, note=note))
        return _items_answer(provider, results)

    def _apply_receipt(self, provider: ProviderConfig, receipt: DeliveryReceipt, now: datetime) -> str | None:
        """One delivery receipt applied to its message: None when the status moved, else why not."""
        status = map_status_word(provider.status, receipt.status_word)
        if status is None:
            # Answered 2xx all the same: a provider retries anything else, and retrying will not help.
            logger.info("delivery receipt with an unmapped status word: ignored", extra={"provider": provider.id})
            return "status word not in status.map: ignored"
        message_id = self._messages.find_by_provider_message_id(provider.id, receipt.provider_message_id)
        if message_id is None:
            logger.info("delivery receipt for an unknown message: ignored", extra={"provider": provider.id})
            return "unknown message id: ignored"
        target = MessageStatus(status)
        reason = f"delivery receipt: {receipt.status_word}"[:200]
        if receipt.error:
            reason += f" ({receipt.error[:200]})"
        if receipt.reported_at:
            reason += f" at {iso_utc(receipt.reported_at)}"
        change = StatusChange(status=target, at=iso_utc(now), reason=reason,
                              answer=ProviderAnswer(message_id=receipt.provider_message_id[:200]))
        applied = self._messages.record(message_id, change, apply_if_status_in=_MAY_BECOME[target])
        metrics.add_metric(name="DeliveryReceipts", unit="Count", value=1)
        logger.info("delivery receipt recorded", extra={"provider": provider.id, "message_id": message_id,
                                                        "status": target.value, "applied": applied})
        return None if applied else "recorded in the history; the status does not move back"

    # ------------------------------------------------------------ shared

    def _provider(self, provider_id: str) -> ProviderConfig:
        try:
            return self._providers.get(provider_id)
        except ProviderNotFound:
            raise WebhookRefused(404, f"no provider {provider_id!r}") from None
        except ValidationError:
            # A stored configuration that no longer validates: the webhook cannot be checked.
            logger.exception("stored provider configuration is invalid", extra={"provider": provider_id})
            raise WebhookRefused(404, f"provider {provider_id!r} is not usable") from None

    def _verify(self, provider: ProviderConfig, request: WebhookRequest, now: datetime) -> datetime | None:
        auth = provider.inbound.auth
        fallback = provider.auth.password.get_secret_value() if isinstance(provider.auth, BasicAuth) else None
        try:
            return verify_webhook(auth, request, now, public_url=provider.inbound.public_url, fallback_secret=fallback)
        except SignatureRefused as exc:
            metrics.add_metric(name="WebhooksRefused", unit="Count", value=1)
            logger.warning("webhook refused", extra={"provider": provider.id, "reason": exc.reason})
            raise WebhookRefused(exc.status, exc.reason) from None


def _phone_or_raw(number: str) -> str:
    """E.164 when the sender is a phone number (so that it meets the send path's `to`), as given otherwise."""
    try:
        return to_e164(number)
    except ValueError:
        return number[:64]


@dataclass(frozen=True)
class _ItemResult:
    """What became of one item of a webhook that carries several (`items`)."""

    applied: bool = False
    note: str | None = None
    unreadable: bool = False  # its fields could not be read (missing, too long, not a time)


_MAX_NOTES = 20


def _items_of(fmt, items: str | None, request: WebhookRequest) -> list[Any]:
    try:
        return webhook_items(fmt, items, request.body, request.query)
    except PayloadError as exc:
        raise WebhookRefused(400, str(exc)) from None


def _items_answer(provider: ProviderConfig, results: list[_ItemResult]) -> WebhookAnswer:
    """How many items were applied, and why the others were not. 400 only when no item could be
    read at all; otherwise 200, since a provider sends again what it sees refused, and the items
    that were applied stay applied."""
    notes = [f"item {index}: {result.note}" for index, result in enumerate(results) if result.note]
    if results and all(result.unreadable for result in results):
        raise WebhookRefused(400, f"no item could be read; {notes[0]}")
    body: dict[str, Any] = {"ok": True, "received": len(results), "applied": sum(r.applied for r in results)}
    if notes:
        body["notes"] = notes[:_MAX_NOTES]
    logger.info("webhook items applied", extra={"provider": provider.id, "received": body["received"],
                                                "applied": body["applied"]})
    return _ok(provider, body=body)


def _reply_sender(recipient: str | None, default_sender: str | None) -> str | None:
    """The number the SMS came to, when it is a valid sender (SPEC 2) as written or in E.164 (a
    provider may write it with spaces); else the provider's default sender when valid; else None."""
    candidates = [recipient] if recipient else []
    if recipient:
        try:
            candidates.append(to_e164(recipient))
        except ValueError:
            pass
    candidates.append(default_sender)
    return next((c for c in candidates if c and sender_problem(c) is None), None)


def _ok(provider: ProviderConfig, note: str | None = None, body: dict[str, Any] | None = None) -> WebhookAnswer:
    if isinstance(provider.inbound.auth if provider.inbound else None, TwilioInboundAuth):
        # Twilio reads the answer as TwiML: an empty Response sends nothing back by itself.
        return WebhookAnswer(body=_TWIML_EMPTY, content_type="text/xml")
    if body is not None:
        return WebhookAnswer(body=body)
    return WebhookAnswer(body={"ok": True, "note": note} if note else {"ok": True})


