"""Routing rules (SPEC 12): which provider, and which sender, a message goes out with."""
from __future__ import annotations

import phonenumbers
from pydantic import BaseModel, ConfigDict, Field, field_validator

from smsbridge.models.message import MessageType, NetworkSender

PROVIDER_ID = r"^[a-z0-9][a-z0-9_-]{0,63}$"
# Far more than anyone routes by; it bounds the work done for each message.
MAX_RULES = 200


class RouteMatch(BaseModel):
    """The conditions of a rule; every condition given must hold, and a rule without any matches every message."""

    model_config = ConfigDict(extra="forbid")

    countries: list[str] | None = Field(default=None, min_length=1, max_length=300,
                                        description="ISO 3166 alpha-2 region codes of the recipient's number "
                                                    "(as phonenumbers reads it), e.g. GB")
    prefixes: list[str] | None = Field(default=None, min_length=1, max_length=300,
                                       description="E.164 prefixes of the recipient's number, e.g. +4477")
    type: MessageType | None = Field(default=None, description="the message's effective type (SPEC 2)")

    @field_validator("countries")
    @classmethod
    def _known_countries(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        codes = [code.upper() for code in value]
        unknown = [code for code in codes if code not in phonenumbers.SUPPORTED_REGIONS]
        if unknown:
            raise ValueError(f"unknown country code {unknown[0][:10]!r} (ISO 3166 alpha-2, e.g. GB, FR, IN)")
        return codes

    @field_validator("prefixes")
    @classmethod
    def _e164_prefixes(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        for prefix in value:
            if not (1 < len(prefix) <= 16 and prefix[0] == "+" and prefix[1:].isascii() and prefix[1:].isdigit()):
                raise ValueError(f"{prefix[:20]!r} is not a prefix: write + and 1 to 15 digits, e.g. +44")
        return value


class RoutingRule(BaseModel):
    """One rule: when `match` holds, send with `provider` (and `sender` when the message has none)."""

    model_config = ConfigDict(extra="forbid")

    match: RouteMatch = Field(default_factory=RouteMatch)
    provider: str = Field(pattern=PROVIDER_ID, description="the id of an existing provider")
    sender: NetworkSender | None = Field(default=None, max_length=64,
                               description="the sender for messages that give none (same rules as a message's sender)")


class RoutingRules(BaseModel):
    """The ordered rules of `GET|PUT /routing`: the first that matches wins."""

    model_config = ConfigDict(extra="forbid")

    rules: list[RoutingRule] = Field(default_factory=list, max_length=MAX_RULES)
