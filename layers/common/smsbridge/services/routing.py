"""Routing as the use cases apply it (send path, `POST /messages`), and the admin API's `GET|PUT /routing`."""
from __future__ import annotations

from dataclasses import dataclass

from smsbridge.adapters.store import ProviderNotFound
from smsbridge.core.routing import route
from smsbridge.errors import Invalid
from smsbridge.models.message import OutboundMessage
from smsbridge.models.provider import ProviderConfig
from smsbridge.models.routing import RoutingRules
from smsbridge.services.ports import ProviderSource, RoutingSource
from smsbridge.services.providers import provider_exists


@dataclass(frozen=True)
class Routed:
    """A message with its provider chosen (and its sender, when a rule gave one); `reason` for its history."""

    message: OutboundMessage
    provider: ProviderConfig
    reason: str | None


def routed(message: OutboundMessage, providers: ProviderSource, routing: RoutingSource | None) -> Routed:
    """Apply the routing rules to `message`; ProviderNotFound when the provider it ends with does not exist."""
    rules = routing.rules().rules if routing is not None else []
    senders = {}
    if rules and not message.sender and not message.provider:
        # Only the rules' providers that may decide a rule's type condition are read (cached in the store).
        for rule in rules:
            if rule.match.type is not None and not rule.sender and rule.provider not in senders:
                try:
                    senders[rule.provider] = providers.get(rule.provider).default_sender
                except ProviderNotFound:
                    senders[rule.provider] = None
    chosen = route(message, rules, senders)
    if chosen.provider is None:
        provider = providers.default()
    else:
        try:
            provider = providers.get(chosen.provider)
        except ProviderNotFound as exc:
            raise ProviderNotFound(f"{exc} (chosen by routing rule {chosen.rule})" if chosen.rule else str(exc)) \
                from None
    if chosen.sender:
        message = message.model_copy(update={"sender": chosen.sender})
    reason = chosen.reason
    if chosen.provider is None and reason:
        reason = f"{reason} {provider.id}"
    return Routed(message, provider, reason)


class RoutingAdmin:
    """`GET|PUT /routing`: the rules, saved only when every provider they name exists."""

    def __init__(self, *, routing, providers: ProviderSource):
        self._routing = routing
        self._providers = providers

    def get(self) -> RoutingRules:
        return self._routing.rules()

    def replace(self, rules: RoutingRules) -> RoutingRules:
        missing = {name for name in {rule.provider for rule in rules.rules} if not provider_exists(self._providers, name)}
        errors = [{"loc": f"body.rules.{index}.provider", "msg": f"no provider {rule.provider!r}"}
                  for index, rule in enumerate(rules.rules) if rule.provider in missing]
        if errors:
            raise Invalid("the routing rules name providers that do not exist: "
                          + "; ".join(f"{e['loc']}: {e['msg']}" for e in errors[:5]), errors)
        self._routing.put(rules)
        return rules
