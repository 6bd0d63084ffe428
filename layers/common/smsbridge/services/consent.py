"""Consent through the admin API: a number's state and history, and an operator's opt-in or opt-out."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from smsbridge.core.consent import ConsentState
from smsbridge.models.api import ConsentView
from smsbridge.observability import logger
from smsbridge.services.messages import e164
from smsbridge.services.ports import ConsentBook, ProviderSource


class ConsentDesk:
    def __init__(self, *, providers: ProviderSource, consent: ConsentBook):
        self._providers = providers
        self._consent = consent

    def get(self, provider_id: str, phone: str) -> ConsentView:
        provider = self._providers.get(provider_id)
        number = e164(phone)
        record = self._consent.get(provider.id, number)
        state = ConsentState(record["state"]) if record and record.get("state") else None
        history = [plain(entry) for entry in self._consent.history(provider.id, number)]
        return ConsentView(provider=provider.id, phone=number, state=state,
                           record=plain(record) if record else None, history=history)

    def set(self, provider_id: str, phone: str, state: ConsentState, reason: str | None = None) -> ConsentView:
        provider = self._providers.get(provider_id)
        number = e164(phone)
        self._consent.set(provider.id, number, state, "api", reason=reason)
        logger.info("consent set", provider=provider.id, state=state.value)
        return self.get(provider.id, number)


def plain(value: Any) -> Any:
    """DynamoDB's Decimals as the ints and floats JSON shows."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [plain(item) for item in value]
    return value
