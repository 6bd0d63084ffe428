"""Splitting a provider configuration into what may be stored and shown, and its secrets."""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, SecretStr

MASK = "**********"  # what pydantic prints for a SecretStr, and what the API shows


def split_secrets(config: BaseModel) -> tuple[dict[str, Any], dict[str, str]]:
    """The configuration as JSON with every secret masked, and the secrets by dotted path."""
    secrets: dict[str, str] = {}
    _collect(config, (), secrets)
    return config.model_dump(mode="json", exclude_none=True), secrets


def join_secrets(public: dict[str, Any], secrets: dict[str, str]) -> dict[str, Any]:
    """Put the secrets back at their paths into a copy of the masked document."""
    import copy

    document = copy.deepcopy(public)
    for dotted, value in secrets.items():
        *parents, leaf = dotted.split(".")
        node = document
        for key in parents:
            node = node.get(key) if isinstance(node, dict) else None
            if node is None:
                break
        if isinstance(node, dict):
            node[leaf] = value
    return document


def _collect(model: BaseModel, path: tuple[str, ...], out: dict[str, str]) -> None:
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, SecretStr):
            out[".".join((*path, name))] = value.get_secret_value()
        elif isinstance(value, BaseModel):
            _collect(value, (*path, name), out)
        elif isinstance(value, dict):  # `secrets`: a map of name to SecretStr
            for key, item in value.items():
                if isinstance(item, SecretStr):
                    out[".".join((*path, name, key))] = item.get_secret_value()
