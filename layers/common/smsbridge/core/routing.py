"""Routing (SPEC 12): the first rule whose every condition holds chooses the provider and the sender."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import phonenumbers

from smsbridge.models.message import MessageType, OutboundMessage
from smsbridge.models.routing import RouteMatch, RoutingRule


@dataclass(frozen=True)
class Route:
    """Where a message goes: `provider` None means the default provider; `rule` is 1-based, None when no
    rule chose it; `sender` is the rule's sender when the message had none; `reason` is for its history."""

    provider: str | None
    sender: str | None
    rule: int | None
    reason: str | None


def region_of(number: str) -> str | None:
    """The ISO region code of an E.164 number, as phonenumbers reads it; None for numbers of no one
    country (+800) and for numbers outside every known range of a code that several regions share
    (+1, +44: GB, GG, IM, JE), where the region cannot be told."""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return None
    region = phonenumbers.region_code_for_number(parsed)
    if region is None:
        regions = phonenumbers.region_codes_for_country_code(parsed.country_code)
        region = regions[0] if len(regions) == 1 else None
    return region if region in phonenumbers.SUPPORTED_REGIONS else None


def route(message: OutboundMessage, rules: list[RoutingRule], default_senders: Mapping[str, str | None]) -> Route:
    """Choose the route of `message` (its `to` in E.164).

    A message naming its provider skips the rules. A rule's `type` is compared with the type the
    message would have if that rule sent it (SPEC 2): without a sender of its own, the message takes
    the rule's `sender`, else the default sender of the rule's provider (`default_senders`, by
    provider id), and is MARKETING when there is none of these."""
    if message.provider:
        return Route(message.provider, None, None, "provider named by the message" if rules else None)
    region = region_of(message.to)
    for number, rule in enumerate(rules, start=1):
        sender = message.sender or rule.sender or default_senders.get(rule.provider)
        if _holds(rule.match, message.to, region, message.effective_type(sender)):
            return Route(rule.provider, None if message.sender else rule.sender, number,
                         f"routed by rule {number}: {describe(rule.match)} → {rule.provider}")
    return Route(None, None, None, "no routing rule matched: default provider" if rules else None)


def _holds(match: RouteMatch, to: str, region: str | None, message_type: MessageType) -> bool:
    return ((match.countries is None or region in match.countries)
            and (match.prefixes is None or any(to.startswith(prefix) for prefix in match.prefixes))
            and (match.type is None or match.type == message_type))


def describe(match: RouteMatch) -> str:
    """A rule's conditions in a few words, e.g. `GB +4477 MARKETING`; `any message` for none."""
    parts = [" or ".join(match.countries or ()), " or ".join(match.prefixes or ()), match.type.value if match.type else ""]
    return " ".join(part for part in parts if part) or "any message"
