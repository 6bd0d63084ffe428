"""One loopback provider that an official SDK and a preset both send to, and what must be equal (SPEC 6).

Usage (see tests/integration/test_sdk_wire_twilio.py):

    FIELDS = WireFields(recipient="To", sender="From", text="Body")
    with SdkWireBench(answer=(201, {}, {"sid": "SM123"})) as bench:
        sdk_request, sdk_answer = bench.capture_sdk(lambda: client_at(bench.url).messages.create(...))
        preset_request, outcome = bench.send_preset(bench.provider_from_preset("twilio", document), message)
    assert read_wire(preset_request, FIELDS).essentials() == read_wire(sdk_request, FIELDS).essentials()

The SDK's base URL is pointed at `bench.url` (or `bench.host` where an SDK takes a host and adds
`https://` itself: start the bench with `tls=True` and make the SDK trust `bench.ca_file`). The preset
is merged under the document as the admin API merges it, its `request.url` keeps its path and query
and gets the loopback's scheme and host, and the message goes through the real send path's steps
(render, authenticate, transport, classify: `services.dispatch.Dispatcher`).
"""
from __future__ import annotations

import base64
import json
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Self, TypeVar
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import jmespath
from urllib3.exceptions import InsecureRequestWarning

from smsbridge.adapters.http import ProviderTransport
from smsbridge.adapters.provider_client import ProviderClient
from smsbridge.core.classify import Outcome
from smsbridge.core.presets import resolve_preset
from smsbridge.models.message import OutboundMessage
from smsbridge.models.provider import ProviderConfig
from smsbridge.services.dispatch import Dispatcher
from tests.support.loopback import Handler, LoopbackProvider, RecordedRequest, Reply

T = TypeVar("T")

NOW = datetime(2026, 11, 30, 12, 0, 0, tzinfo=UTC)
# Quotes, a newline, an ampersand, accents and an emoji: whatever escaping either side gets wrong shows.
TRICKY_TEXT = 'Say "hi" it\'s 5 & 6\nJérôme à Noël 🎉'


@dataclass(frozen=True)
class WireFields:
    """Where one provider's request carries the message: JMESPath expressions over its parameters
    (the query string's, then the form's or the JSON object's, merged; a JSON body that is not an
    object stands under `body`)."""

    recipient: str
    sender: str
    text: str
    credential_params: tuple[str, ...] = ()  # credentials sent as parameters (query, form or JSON)
    credential_headers: tuple[str, ...] = ("authorization",)


@dataclass(frozen=True)
class WireSms:
    """One SMS request as the provider reads it."""

    method: str
    path: str
    body_format: str  # "json", "form" or "none"
    credentials: dict[str, str]
    recipients: tuple[str, ...]  # digits only: "+33612345678" and "33612345678" are the same number
    recipient_forms: tuple[str, ...]  # as sent, to see whether a side sent E.164 with its "+"
    sender: str | None
    text: str | None
    params: dict[str, Any] = field(repr=False)

    def essentials(self) -> dict[str, Any]:
        """What must be equal between the SDK's request and the preset's."""
        return {"endpoint": (self.method, self.path), "credentials": self.credentials,
                "recipients": self.recipients, "sender": self.sender, "text": self.text}


def request_params(request: RecordedRequest) -> tuple[str, dict[str, Any]]:
    """The request's body format and its parameters: query string, then form or JSON body."""
    params: dict[str, Any] = dict(parse_qsl(request.query, keep_blank_values=True))
    content_type = (request.header("content-type") or "").split(";")[0].strip().lower()
    if not request.body:
        return "none", params
    if content_type == "application/x-www-form-urlencoded":
        params.update(parse_qsl(request.body.decode("utf-8"), keep_blank_values=True, strict_parsing=True))
        return "form", params
    if content_type.endswith("json"):
        body = request.json()
        params.update(body if isinstance(body, dict) else {"body": body})
        return "json", params
    raise AssertionError(f"a body neither form nor JSON: {content_type or 'no content type'}")


def credentials_of(request: RecordedRequest, params: Mapping[str, Any], fields: WireFields) -> dict[str, str]:
    """Every credential the request carries, decoded: Basic as user and password, other schemes as sent."""
    found: dict[str, str] = {}
    for name in fields.credential_headers:
        value = request.header(name)
        if value is None:
            continue
        scheme, _, rest = value.partition(" ")
        if scheme.lower() == "basic":
            user, _, password = base64.b64decode(rest).decode("utf-8").partition(":")
            found["basic.username"], found["basic.password"] = user, password
        else:
            found[f"header.{name.lower()}"] = value
    for name in fields.credential_params:
        if name in params:
            found[f"param.{name}"] = str(params[name])
    return found


def read_wire(request: RecordedRequest, fields: WireFields) -> WireSms:
    """The parts of `request` that say who sends what to whom, and with which credentials."""
    body_format, params = request_params(request)
    raw = jmespath.search(fields.recipient, params)
    forms = _recipient_forms(raw)
    sender, text = jmespath.search(fields.sender, params), jmespath.search(fields.text, params)
    return WireSms(method=request.method, path=request.path, body_format=body_format,
                   credentials=credentials_of(request, params, fields),
                   recipients=tuple("".join(ch for ch in form if ch.isdigit()) for form in forms),
                   recipient_forms=forms, sender=None if sender is None else str(sender),
                   text=None if text is None else str(text), params=params)


def _recipient_forms(raw: Any) -> tuple[str, ...]:
    # One number, a list of them, or a comma-separated string (MessageBird's SDK joins a list with commas).
    if raw is None:
        return ()
    if isinstance(raw, list):
        return tuple(str(item) for item in raw)
    return tuple(part.strip() for part in str(raw).split(","))


class SdkWireBench:
    """A loopback provider answering as the real one would, the preset's send path, and a way to
    catch the one request an SDK call makes."""

    def __init__(self, answer: Reply | Handler, *, tls: bool = False) -> None:
        handler = answer if callable(answer) else (lambda request: answer)
        self.server = LoopbackProvider(handler, tls=tls)
        self._transport = ProviderTransport(local_runtime=True)

    def __enter__(self) -> Self:
        self.server.start()
        self._transport.__enter__()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._transport.__exit__(*exc_info)
        self.server.close()

    @property
    def url(self) -> str:
        """The base URL an SDK is pointed at, e.g. http://127.0.0.1:41234."""
        return self.server.url

    @property
    def host(self) -> str:
        """host:port, for SDKs that take a host and add https:// themselves."""
        return f"127.0.0.1:{self.server.port}"

    @property
    def ca_file(self) -> str:
        return self.server.ca_file

    def provider_from_preset(self, preset: str, document: Mapping[str, Any]) -> ProviderConfig:
        """The provider a user would save from `preset` and `document`, its request sent to the loopback."""
        merged = resolve_preset({"id": f"{preset}-wire", **document, "preset": preset})
        if "inbound" not in document:
            # Only the outbound request is compared: the webhook side's secrets need not be made up.
            merged.pop("inbound", None)
        scheme, netloc, path, query, fragment = urlsplit(merged["request"]["url"])
        loopback = urlsplit(self.url)
        merged["request"]["url"] = urlunsplit((loopback.scheme, loopback.netloc, path, query, fragment))
        if self.server.tls:
            merged["verify_tls"] = False  # the loopback's certificate is self-signed
        return ProviderConfig.model_validate(merged)

    def send_preset(self, provider: ProviderConfig, message: OutboundMessage | Mapping[str, Any]
                    ) -> tuple[RecordedRequest, Outcome]:
        """Send one message as the send function does; the request the loopback got and the outcome."""
        if not isinstance(message, OutboundMessage):
            message = OutboundMessage.model_validate(message)
        with self._one_new_request() as caught, warnings.catch_warnings():
            # The loopback's self-signed certificate is not checked (verify_tls false), on purpose.
            warnings.simplefilter("ignore", InsecureRequestWarning)
            dispatch = Dispatcher(ProviderClient(self._transport), clock=lambda: NOW).send(provider, [message])
        return caught[0], dispatch.outcomes[0]

    def capture_sdk(self, call: Callable[[], T]) -> tuple[RecordedRequest, T]:
        """Run one SDK call; the one request it made and what the SDK returned."""
        with self._one_new_request() as caught:
            result = call()
        return caught[0], result

    @contextmanager
    def _one_new_request(self) -> Iterator[list[RecordedRequest]]:
        before = len(self.server.requests)
        caught: list[RecordedRequest] = []
        yield caught
        new = self.server.requests[before:]
        assert len(new) == 1, f"expected one request, the loopback received {len(new)}: {new}"
        caught.append(new[0])


def json_of(request: RecordedRequest) -> Any:
    """The JSON body, for assertions on fields outside the essentials."""
    return json.loads(request.body)
