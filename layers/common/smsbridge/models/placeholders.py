"""The placeholder grammar of provider templates (SPEC 3, 4): names, aliases, choices, and what a template uses.

A leaf module (it imports nothing from smsbridge), so that the provider model can check its
templates when it is saved and the renderer can fill them, without either importing the other.
"""
from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

# A single alternation, so that each template is scanned once: text brought in by a value
# (a message saying "{{to}}" or "%TO%") is never scanned again, hence never expanded.
# `{{name?a:b}}` is a choice between two literal values (SPEC 3: `{{is_unicode?unicode:text}}`).
PLACEHOLDER = re.compile(
    r"\{\{\s*(?P<name>[A-Za-z_][A-Za-z0-9_.\-]*)\s*(?:\?(?P<yes>[^{}?:]*):(?P<no>[^{}?:]*))?\}\}"
    r"|\$\$(?P<dollar>[A-Za-z_][A-Za-z0-9_]*)"
    r"|%(?P<percent>TO|MESSAGE)%"
)

CANONICAL_PLACEHOLDERS = (
    "to", "to_digits", "text", "id", "sender", "type", "is_unicode", "segments", "credits",
    "template_id", "template_variables", "campaign_id", "now_iso", "now_unix", "uuid",
)
RECIPIENT_PLACEHOLDERS = ("to", "to_digits")
CONTENT_PLACEHOLDERS = ("text", "template_id")
SECRETS_SCOPE = "secrets"
VARS_SCOPE = "vars"

# Aliases of other products (Twilio Studio-like `$$Name`, Kannel-like `%TO%`); any other `$$NAME` is a var.
DOLLAR_ALIASES = {
    "To": "to", "Body": "text", "MessageID": "id",
    "TemplateID": "template_id", "TemplateVariables": "template_variables", "CampaignID": "campaign_id",
}
PERCENT_ALIASES = {"TO": "to", "MESSAGE": "text"}

_CANONICAL = frozenset(CANONICAL_PLACEHOLDERS)
_SECRET_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
KNOWN_LIST = (", ".join(f"{{{{{name}}}}}" for name in CANONICAL_PLACEHOLDERS)
              + ", {{vars.NAME}}, {{secrets.NAME}}, and {{NAME?a:b}} to choose between two values")


@dataclass(frozen=True)
class Placeholder:
    """One placeholder as written in a template."""

    written: str  # as it stands in the template, e.g. "$$To" or "{{is_unicode?unicode:text}}"
    name: str  # canonical: "to", "vars.order", "secrets.apikey"
    choice: tuple[str, str] | None = None  # (when truthy, otherwise) for `{{name?a:b}}`


def placeholder_of(match: re.Match[str]) -> Placeholder:
    """The placeholder a `PLACEHOLDER` match stands for, aliases resolved to canonical names."""
    if (name := match["name"]) is not None:
        choice = (match["yes"].strip(), match["no"].strip()) if match["yes"] is not None else None
        return Placeholder(match[0], name, choice)
    if (alias := match["dollar"]) is not None:
        return Placeholder(match[0], DOLLAR_ALIASES.get(alias) or f"{VARS_SCOPE}.{alias}")
    return Placeholder(match[0], PERCENT_ALIASES[match["percent"]])


def placeholders_in(templates: Iterable[str]) -> Iterator[Placeholder]:
    for template in templates:
        for match in PLACEHOLDER.finditer(template):
            yield placeholder_of(match)


def secret_name(name: str) -> str | None:
    """`NAME` for `secrets.NAME`, else None."""
    scope, dot, key = name.partition(".")
    return key if dot and scope == SECRETS_SCOPE else None


def is_message_placeholder(name: str) -> bool:
    """A name a message gives a value for: the canonical ones and `vars.NAME`."""
    scope, dot, key = name.partition(".")
    return name in _CANONICAL or (bool(dot) and scope == VARS_SCOPE and bool(key))


def strings_in(node: Any) -> Iterator[str]:
    """Every string of a template: JSON keys and values, form keys and values, in order."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield key
            yield from strings_in(value)
    elif isinstance(node, (list, tuple)):  # a JSON array, or the (key, value) pairs of a form
        for value in node:
            yield from strings_in(value)


def check_placeholders(templates: Iterable[str], *, allowed: Collection[str] | None = None,
                       where: str = "") -> list[Placeholder]:
    """The placeholders of `templates`, or ValueError naming every one that could never render.

    `allowed` limits the names (besides `{{secrets.NAME}}`, always allowed here: whether the
    secret exists is the provider's check); by default any message placeholder is. A choice
    `{{NAME?a:b}}` works on message placeholders only.
    """
    found = list(placeholders_in(templates))
    unknown: set[str] = set()
    bad_choices: set[str] = set()
    for placeholder in found:
        secret = secret_name(placeholder.name)
        if secret is not None:
            if not _SECRET_NAME.match(secret):
                unknown.add(placeholder.written)
            elif placeholder.choice is not None:
                bad_choices.add(placeholder.written)
            continue
        known = placeholder.name in allowed if allowed is not None else is_message_placeholder(placeholder.name)
        if not known:
            unknown.add(placeholder.written)
        elif placeholder.choice is not None and not is_message_placeholder(placeholder.name):
            bad_choices.add(placeholder.written)
    prefix = f"{where}: " if where else ""
    if unknown:
        names = sorted(unknown)
        known_text = (", ".join([*(f"{{{{{name}}}}}" for name in sorted(allowed)), "{{secrets.NAME}}"])
                      if allowed is not None else KNOWN_LIST)
        raise ValueError(f"{prefix}unknown placeholder{'s' if len(names) > 1 else ''} {', '.join(names)}; "
                         f"known: {known_text}")
    if bad_choices:
        raise ValueError(f"{prefix}{', '.join(sorted(bad_choices))}: a choice {{{{NAME?a:b}}}} works on a "
                         "message placeholder such as {{is_unicode}}")
    return found


# What each placeholder gives (the admin API's `GET /meta` shows these; a test checks every name has one).
DESCRIPTIONS = {
    "to": "the recipient in E.164, with the +",
    "to_digits": "the recipient in E.164 without the +",
    "text": "the message text",
    "id": "the message id (the caller's, or the one generated)",
    "sender": "the sender: alphanumeric, or a number or short code",
    "type": "NOTIFICATION or MARKETING",
    "is_unicode": "true when the text needs UCS-2; {{is_unicode?a:b}} chooses between two values",
    "segments": "the number of SMS parts the text takes",
    "credits": "the same as {{segments}}",
    "template_id": "the message's template_id",
    "template_variables": "the message's template_variables (a JSON value)",
    "campaign_id": "the message's campaign_id",
    "now_iso": "the time of sending, ISO-8601 UTC",
    "now_unix": "the time of sending, Unix seconds",
    "uuid": "a fresh random UUID",
    "vars.NAME": "the message's vars.NAME; any other $$NAME is read as this",
    "secrets.NAME": "the provider's named secret NAME (kept in Secrets Manager, masked in every answer)",
}
