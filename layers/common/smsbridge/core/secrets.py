"""A provider's secrets: split from what may be stored and shown, and masked wherever they could show (the one masking function)."""
from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any
from urllib.parse import quote, quote_plus

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


# ---------------------------------------------------------------- masking

# A secret shorter than this is not masked: masking "ab" or "1" would blank out every text it
# occurs in by chance (and reveal the secret by where the masks fall); such a value is no secret.
MIN_SECRET_CHARS = 3

# Header schemes kept in front of a masked credential, so that the shape of a request stays visible.
CREDENTIAL_SCHEME = re.compile(r"^(Basic|Bearer|Token|Digest|HMAC|AWS4-HMAC-SHA256)\s+", re.IGNORECASE)


def secret_forms(secret: str) -> set[str]:
    """The ways `secret` shows up in requests, answers and logs: as is, base64 (standard with and
    without padding, URL-safe), percent-encoded (`quote`, `quote_plus`), JSON-escaped (ASCII or not,
    with `/` escaped as PHP's json_encode does); and each of those percent-encoded or JSON-escaped
    once more, as when a provider echoes a request's query string or JSON body inside a form or a
    JSON answer (an API key sent as `%2B` comes back as `%252B`)."""
    raw = secret.encode("utf-8")
    standard = base64.b64encode(raw).decode("ascii")
    first = {
        secret, standard, standard.rstrip("="), base64.urlsafe_b64encode(raw).decode("ascii").rstrip("="),
        *_escapes(secret), json.dumps(secret, ensure_ascii=False)[1:-1],
    }
    forms = set(first)
    for form in first:
        forms.update(_escapes(form))
    return {form for form in forms if len(form) >= MIN_SECRET_CHARS}


def _escapes(text: str) -> tuple[str, ...]:
    escaped = json.dumps(text)[1:-1]
    return quote(text, safe=""), quote(text), quote_plus(text), escaped, escaped.replace("/", "\\/")


def provider_secrets(config: Any) -> list[str]:
    """Every secret of a provider configuration: the values `split_secrets` finds (auth passwords,
    tokens, client secrets, private keys, `secrets.*`, inbound secrets) and the HTTP Basic
    credentials built from them (base64 of `user:password`, which holds the password in no
    findable form otherwise)."""
    values = list(split_secrets(config)[1].values())
    for part in (getattr(config, "auth", None), getattr(getattr(config, "inbound", None), "auth", None)):
        user = getattr(part, "username", None) or getattr(part, "client_id", None)
        password = getattr(part, "password", None) or getattr(part, "client_secret", None)
        if isinstance(user, str) and isinstance(password, SecretStr):
            values.append(basic_credentials(user, password.get_secret_value()))
    return values


def basic_credentials(user: str, password: str) -> str:
    """The value of an HTTP Basic `Authorization` header after `Basic `."""
    return base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def credential_headers(auth: Any) -> list[str]:
    """The headers an outbound auth puts its credentials in."""
    kind = getattr(auth, "type", "none")
    if kind == "none":
        return []
    if kind == "api_key":
        return [auth.header] if auth.header else []
    if kind == "hmac":
        return [auth.signature_header]
    if kind in ("jwt", "oauth2"):
        return [auth.header]
    if kind == "sigv4":  # the signature, and the role's session token when it has one
        return ["Authorization", "X-Amz-Security-Token"]
    return ["Authorization"]  # basic, and schemes added later that sign into Authorization


def applied_credentials(headers: dict[str, str], auth: Any) -> list[str]:
    """The credentials an outbound auth put on a request's headers (an OAuth2 access token, a JWT
    it signed, an HMAC signature it computed), each with and without its scheme or prefix."""
    wanted = {name.lower() for name in credential_headers(auth)}
    prefix = getattr(auth, "prefix", "") or getattr(auth, "signature_prefix", "") or ""
    found: list[str] = []
    for name, value in headers.items():
        if name.lower() not in wanted:
            continue
        found.append(value)
        if isinstance(prefix, str) and prefix and "{{" not in prefix and value.startswith(prefix):
            found.append(value[len(prefix):])
        elif (scheme := CREDENTIAL_SCHEME.match(value)) is not None:
            found.append(value[scheme.end():])
    return found


def mask(text: str, secrets: Iterable[str]) -> str:
    """`text` with every form (`secret_forms`) of every secret replaced by MASK."""
    if not text:
        return text
    return masker_for(secrets).mask(text)


def mask_bytes(data: bytes, secrets: Iterable[str]) -> bytes:
    """`mask` for bytes that are mostly UTF-8 (a provider's answer); other bytes are kept as they are."""
    if not data:
        return data
    return mask(data.decode("utf-8", "surrogateescape"), secrets).encode("utf-8", "surrogateescape")


class Masker:
    """One compiled pattern for a set of secrets: the longest form wins where forms overlap."""

    def __init__(self, secrets: Iterable[str]) -> None:
        forms: set[str] = set()
        for secret in secrets:
            if isinstance(secret, str) and len(secret) >= MIN_SECRET_CHARS and secret.strip("*"):
                forms |= secret_forms(secret)
        ordered = sorted(forms, key=lambda form: (-len(form), form))
        self._pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    def mask(self, text: str) -> str:
        return self._pattern.sub(MASK, text) if self._pattern is not None and text else text


def masker_for(secrets: Iterable[str]) -> Masker:
    """The Masker of these secrets, compiled once per set (providers' secrets change seldom)."""
    return _masker(frozenset(secrets))


@lru_cache(maxsize=256)
def _masker(secrets: frozenset[str]) -> Masker:
    return Masker(secrets)
