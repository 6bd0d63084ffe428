"""The facts the console asks the API for instead of keeping a copy: presets with their documentation, placeholders, auth types, statuses, the provider schema."""
from __future__ import annotations

import re
from functools import cache
from typing import Any, get_args

from smsbridge.core.presets import UnknownPreset, available_presets, load_preset, preset_documentation
from smsbridge.core.signatures import INBOUND_AUTH_MODELS
from smsbridge.errors import NotFound
from smsbridge.models import placeholders
from smsbridge.models.api import Meta, PlaceholderView, PresetDetail, PresetSummary
from smsbridge.models.provider import Auth, ProviderConfig
from smsbridge.models.status import MessageStatus

# A field path as the presets' `_secrets` and `_replace` notes write it: `auth.password`,
# `request.body.recipients[0]`, `request.headers.X-TM-Username`.
_PATH = re.compile(r"\b(?:auth|inbound|request|balance|secrets|status|response)(?:\.[A-Za-z0-9_\-]+(?:\[\d+\])?)+")


def preset_summaries() -> list[PresetSummary]:
    return [_summary(name) for name in available_presets()]


def preset_detail(name: str) -> PresetDetail:
    try:
        document = load_preset(name)
    except UnknownPreset as exc:
        raise NotFound(str(exc)) from None
    return PresetDetail(**_summary(name).model_dump(), document=document)


@cache
def _summary(name: str) -> PresetSummary:
    """`needs`: the fields the operator fills, read from the preset's notes: the secrets it names
    (`_secrets`, up to the first parenthesis) and the fields holding a sample value to replace
    (`_replace`, before the colon), each with its note in `hints`."""
    notes = preset_documentation(name)
    hints: dict[str, str] = {}
    for note in notes.get("secrets", []):
        for path in _PATH.findall(note.split("(", 1)[0].split(":", 1)[0]):
            hints.setdefault(path, note)
    for sample, note in (notes.get("replace") or {}).items():
        where, _, what = note.partition(":")
        for path in _PATH.findall(where):
            hints.setdefault(path, f"replace {sample}: {what.strip()}")
    document = load_preset(name)
    return PresetSummary(name=name, title=document.get("name") or name, sources=notes.get("source", []),
                         needs=list(hints), hints=hints)


@cache
def meta() -> Meta:
    dollar = {canonical: f"$${alias}" for alias, canonical in placeholders.DOLLAR_ALIASES.items()}
    percent = {canonical: f"%{alias}%" for alias, canonical in placeholders.PERCENT_ALIASES.items()}
    names = [*placeholders.CANONICAL_PLACEHOLDERS, "vars.NAME", "secrets.NAME"]
    views = [PlaceholderView(name=name, aliases=[a for a in (dollar.get(name), percent.get(name)) if a]
                             + (["$$NAME"] if name == "vars.NAME" else []) + (["{{credits}}"] if name == "segments" else []),
                             description=placeholders.DESCRIPTIONS[name])
             for name in names]
    return Meta(placeholders=views, auth_types=_by_type(get_args(get_args(Auth)[0])),
                inbound_auth_types=_by_type(INBOUND_AUTH_MODELS),
                statuses=[status.value for status in MessageStatus],
                provider_schema=ProviderConfig.model_json_schema())


def _by_type(models: tuple[type, ...]) -> dict[str, dict[str, Any]]:
    """Each model of a union discriminated by `type`, as its JSON Schema, keyed by that type."""
    return {get_args(model.model_fields["type"].annotation)[0]: model.model_json_schema() for model in models}
