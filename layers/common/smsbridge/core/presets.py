"""Provider presets (SPEC 3, 6): partial provider configurations shipped as data, merged under a document's fields."""
from __future__ import annotations

import json
from copy import deepcopy
from functools import cache
from importlib.resources import files
from typing import Any

# The data folder ships inside the package, so SAM copies it into the layer with the code.
_PRESETS = files("smsbridge") / "presets"
_SUFFIX = ".json"


class UnknownPreset(ValueError):
    """A document names a preset that does not exist; the message lists the ones that do."""


def available_presets() -> list[str]:
    """The names of the shipped presets, sorted."""
    return sorted(entry.name.removesuffix(_SUFFIX) for entry in _PRESETS.iterdir()
                  if entry.is_file() and entry.name.endswith(_SUFFIX))


def load_preset(name: str) -> dict[str, Any]:
    """A fresh copy of the preset `name` (its documentation keys, `_`-prefixed, left out)."""
    if not isinstance(name, str) or name not in available_presets():
        raise UnknownPreset(f"unknown preset {name!r}; available presets: {', '.join(available_presets())}")
    return deepcopy(_preset(name))


@cache
def _preset(name: str) -> dict[str, Any]:
    document = json.loads((_PRESETS / f"{name}{_SUFFIX}").read_text(encoding="utf-8"))
    return {key: value for key, value in document.items() if not key.startswith("_")}


def resolve_preset(document: dict[str, Any]) -> dict[str, Any]:
    """`document` merged over its `preset` (objects merge deeply; lists and scalars replace), the
    `preset` name kept; a document without a preset is returned unchanged. Raises UnknownPreset
    (a ValueError) naming the available presets."""
    name = document.get("preset") if isinstance(document, dict) else None
    if not name:
        return document
    return merge_over(load_preset(name), document)


# Objects chosen by their `type` (SPEC 3): another type is another object, whose fields the
# preset's would only pollute (a basic `username` left beside an api_key `token`).
_TYPED_OBJECTS = frozenset({("auth",), ("inbound", "auth")})


def merge_over(base: Any, override: Any, path: tuple[str, ...] = ()) -> Any:
    """`override` laid over `base`: where both are objects, key by key and deeply; anything else
    (a list, a scalar, null) replaces what `base` has. An `auth` or `inbound.auth` whose `type`
    differs from the base's replaces it whole."""
    if isinstance(base, dict) and isinstance(override, dict):
        if path in _TYPED_OBJECTS and "type" in override and override["type"] != base.get("type"):
            return deepcopy(override)
        merged = dict(base)
        for key, value in override.items():
            merged[key] = merge_over(base[key], value, (*path, key)) if key in base else deepcopy(value)
        return merged
    return deepcopy(override)


def preset_documentation(name: str) -> dict[str, Any]:
    """The preset's documentation keys (`_source`, `_replace`, `_secrets`...), without the underscore."""
    if not isinstance(name, str) or name not in available_presets():
        raise UnknownPreset(f"unknown preset {name!r}; available presets: {', '.join(available_presets())}")
    document = json.loads((_PRESETS / f"{name}{_SUFFIX}").read_text(encoding="utf-8"))
    return {key[1:]: value for key, value in document.items() if key.startswith("_")}
