"""Placeholder rendering (SPEC 4): a provider's request template and messages into the exact HTTP request."""
from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote, urlencode

from smsbridge.core.encoding import encoding_of
from smsbridge.core.smart_encoding import text_to_send
from smsbridge.models.message import OutboundMessage
from smsbridge.models.placeholders import PLACEHOLDER, SECRETS_SCOPE, VARS_SCOPE, placeholder_of
from smsbridge.models.provider import ProviderConfig, batch_element_template
from smsbridge.models.wire import HttpRequest


class RenderError(ValueError):
    """A message cannot be rendered with its provider's templates; the text is safe to store and show."""


_HEADER_BREAK = re.compile(r"[\r\n\x00]")

JSON_CONTENT_TYPE = "application/json; charset=utf-8"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded; charset=utf-8"


# ---------------------------------------------------------------- context

def message_context(message: OutboundMessage, provider: ProviderConfig, now: datetime) -> dict[str, Any]:
    """The values placeholders stand for, typed (booleans, integers, any JSON), for one message.
    `text` is the text as sent (the provider's `smart_encoding` applied), and its encoding and
    segments are that text's."""
    text = text_to_send(message.text, provider.smart_encoding).text
    encoding = encoding_of(text)
    utc = now.replace(tzinfo=timezone.utc) if now.tzinfo is None else now.astimezone(timezone.utc)
    return {
        "to": message.to,
        "to_digits": message.to.lstrip("+"),
        "text": text,
        "id": message.id,
        "sender": message.sender or provider.default_sender,
        "type": message.effective_type(provider.default_sender).value,
        "is_unicode": encoding.is_unicode,
        "segments": encoding.segments,
        "credits": encoding.segments,
        "template_id": message.template_id,
        "template_variables": message.template_variables,
        "campaign_id": message.campaign_id,
        "vars": message.vars,
        "now_iso": utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "now_unix": int(utc.timestamp()),
        "uuid": str(uuid.uuid4()),
        SECRETS_SCOPE: secret_values(provider),
    }


def secret_values(provider: ProviderConfig) -> dict[str, str]:
    """The provider's `secrets` by name, for `{{secrets.NAME}}`."""
    return {name: value.get_secret_value() for name, value in provider.secrets.items()}


# ---------------------------------------------------------------- text

def render_text(template: str, context: Mapping[str, Any]) -> str:
    """Fill every placeholder of `template` from `context` as plain text, without escaping.

    Any `{{name}}` (or `{{scope.name}}`) found in `context` is allowed, so callers such as
    request signing can bring their own values (`method`, `path`, `body`, `timestamp`...).
    """
    return PLACEHOLDER.sub(lambda match: _as_text(_value_of(match, context)), template)


def _value_of(match: re.Match[str], context: Mapping[str, Any]) -> Any:
    """The value a placeholder stands for; for a choice `{{name?a:b}}`, `a` or `b` as text."""
    placeholder = placeholder_of(match)
    if placeholder.choice is None:
        return _lookup(placeholder.name, context)
    yes, no = placeholder.choice
    try:
        value = _lookup(placeholder.name, context)
    except RenderError:
        if not placeholder.name.startswith(f"{VARS_SCOPE}."):
            raise
        value = None  # a var the message does not give chooses the second value
    return yes if value else no


def _lookup(name: str, context: Mapping[str, Any]) -> Any:
    try:
        return context[name]
    except KeyError:
        pass
    scope, dot, key = name.partition(".")
    if dot:
        values = context.get(scope)
        if isinstance(values, Mapping) and key in values:
            return values[key]
        if scope == VARS_SCOPE:
            raise RenderError(f"message has no vars.{key}, which the provider's template uses")
        if scope == SECRETS_SCOPE:
            raise RenderError(f"the provider has no secret {key!r}, which its template uses as {{{{secrets.{key}}}}}")
    raise RenderError(f"no value for the placeholder {{{{{name}}}}}")


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):  # before int: bool is an int
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


# ---------------------------------------------------------------- request

def render_request(provider: ProviderConfig, messages: list[OutboundMessage], now: datetime) -> HttpRequest:
    """The HTTP request that sends `messages` (one, or up to `request.batch.max_size` with batching)."""
    spec = provider.request
    batch = spec.batch
    if not messages:
        raise ValueError("render_request needs at least one message")
    if len(messages) > 1 and batch is None:
        raise ValueError(f"provider {provider.id!r} has no request.batch: it takes one message per request")
    if batch is not None and len(messages) > batch.max_size:
        raise ValueError(f"{len(messages)} messages exceed request.batch.max_size {batch.max_size} "
                         f"of provider {provider.id!r}")
    contexts = [message_context(message, provider, now) for message in messages]
    # Everything outside the batch array is rendered once, from the first message.
    context = contexts[0]
    try:
        url = _append_query(_render_url(spec.url, context),
                            [(render_text(key, context), render_text(value, context))
                             for key, value in spec.query.items()])
        headers = {}
        for name, value in spec.headers.items():
            rendered_name = render_text(name, context)
            headers[rendered_name] = _header_value(rendered_name, render_text(value, context))
        body: bytes | None = None
        if spec.content_type == "json":
            if not any(name.lower() == "content-type" for name in headers):  # else a JSON media type of its own
                headers["Content-Type"] = JSON_CONTENT_TYPE
            if spec.body is not None:
                document = (_render_batch_body(spec.body, batch.key, contexts) if batch is not None
                            else _render_json(spec.body, context))
                body = json.dumps(document, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8")
        elif spec.content_type == "form":
            headers["Content-Type"] = FORM_CONTENT_TYPE
            body = urlencode([(render_text(key, context), render_text(value, context))
                              for key, value in spec.body or ()]).encode("ascii")
    except UnicodeEncodeError:
        raise RenderError("the message holds a character that cannot be encoded in UTF-8 (a lone surrogate)") from None
    return HttpRequest(method=spec.method, url=url, headers=headers, body=body)


def render_balance_request(provider: ProviderConfig) -> HttpRequest:
    """The request of the provider's balance check (`balance` must be set), `{{secrets.NAME}}` filled in."""
    spec = provider.balance
    context = {SECRETS_SCOPE: secret_values(provider)}
    headers = {}
    for name, value in spec.headers.items():
        rendered_name = render_text(name, context)
        headers[rendered_name] = _header_value(rendered_name, render_text(value, context))
    return HttpRequest(method=spec.method, url=_render_url(spec.url, context), headers=headers,
                       body=b"" if spec.method == "POST" else None)


def _render_url(template: str, context: Mapping[str, Any]) -> str:
    # Quoting every value whole (safe="") keeps a value from adding path segments, a query or a fragment.
    return PLACEHOLDER.sub(lambda match: quote(_as_text(_value_of(match, context)), safe=""), template)


def _append_query(url: str, pairs: list[tuple[str, str]]) -> str:
    if not pairs:
        return url
    base, hash_mark, fragment = url.partition("#")
    separator = "" if base.endswith(("?", "&")) else "&" if "?" in base else "?"
    return f"{base}{separator}{urlencode(pairs)}{hash_mark}{fragment}"


def _header_value(name: str, value: str) -> str:
    if _HEADER_BREAK.search(name) or _HEADER_BREAK.search(value):
        raise RenderError(f"header {name!r}: the rendered value holds CR, LF or NUL, which would inject headers")
    if not (value.isascii() and name.isascii()):
        try:  # what http.client sends a header as
            name.encode("latin-1")
            value.encode("latin-1")
        except UnicodeEncodeError:
            raise RenderError(f"header {name!r}: the rendered value holds characters "
                              "an HTTP header cannot carry") from None
    return value


def _render_json(node: Any, context: Mapping[str, Any]) -> Any:
    if isinstance(node, str):
        whole = PLACEHOLDER.fullmatch(node)
        if whole is not None:  # a lone placeholder keeps its value's JSON type
            return _value_of(whole, context)
        return render_text(node, context)
    if isinstance(node, dict):
        return {render_text(key, context): _render_json(value, context) for key, value in node.items()}
    if isinstance(node, list):
        return [_render_json(value, context) for value in node]
    return node


def _render_batch_body(body: dict[str, Any], key: str, contexts: list[dict[str, Any]]) -> dict[str, Any]:
    element = batch_element_template(body[key])
    first = contexts[0]
    rendered: dict[str, Any] = {}
    for name, value in body.items():
        if name == key:
            rendered[name] = [_render_json(element, context) for context in contexts]
        else:
            rendered[render_text(name, first)] = _render_json(value, first)
    return rendered
