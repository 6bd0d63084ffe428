"""The sandbox provider's HTTP server: the provider API (`/v1/...`), its control API (`/api/...`)
and the inbox page (`/`)."""
from __future__ import annotations

import html
import json
import logging
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from werkzeug.wrappers import Request, Response

from local.http import LoopbackServer
from local.sandbox import provider_document
from local.sandbox.signing import signature_headers

log = logging.getLogger("local.sandbox")

PAGE = Path(__file__).with_name("inbox.html")
_MAX_HANG_S = 120.0


class BadInput(ValueError):
    pass


@dataclass
class Faults:
    """What the provider API does wrong, until cleared (`PUT /api/faults {}`), for `count` more
    requests, or for `duration_s` seconds."""

    latency_ms: int = 0
    status: int | None = None
    retry_after: int | None = None
    timeout: float | None = None  # hang this long before answering (true: longer than any client waits)
    outage: bool = False  # drop the connection without an answer
    # A provider's own rate limit: a send past `rate_limit` requests in the last second answers 429
    # (Retry-After: 1), as providers do; `rate_limited` counts those answers.
    rate_limit: int | None = None
    rate_limited: int = 0
    count: int | None = None
    duration_s: float | None = None
    until: float | None = field(default=None, repr=False)

    @classmethod
    def parse(cls, payload: Any) -> Faults:
        if not isinstance(payload, dict):
            raise BadInput("faults are a JSON object")
        known = {"latency_ms", "status", "retry_after", "timeout", "outage", "rate_limit", "count", "duration_s"}
        unknown = set(payload) - known
        if unknown:
            raise BadInput(f"unknown fault(s) {sorted(unknown)}; known: {sorted(known)}")
        faults = cls()
        faults.latency_ms = _number(payload, "latency_ms", 0, int, minimum=0)
        faults.status = _number(payload, "status", None, int, minimum=100)
        if faults.status is not None and faults.status > 599:
            raise BadInput("status: an HTTP status from 100 to 599")
        faults.retry_after = _number(payload, "retry_after", None, int, minimum=0)
        if faults.retry_after is not None and faults.status is None:
            faults.status = 429
        timeout = payload.get("timeout")
        if timeout is True:
            faults.timeout = _MAX_HANG_S
        elif timeout not in (None, False):
            faults.timeout = _number(payload, "timeout", None, float, minimum=0)
        outage = payload.get("outage", False)
        if not isinstance(outage, bool):
            raise BadInput("outage: true or false")
        faults.outage = outage
        faults.rate_limit = _number(payload, "rate_limit", None, int, minimum=1)
        faults.count = _number(payload, "count", None, int, minimum=1)
        faults.duration_s = _number(payload, "duration_s", None, float, minimum=0)
        if faults.duration_s is not None:
            faults.until = time.monotonic() + faults.duration_s
        return faults

    @property
    def active(self) -> bool:
        if self.until is not None and time.monotonic() >= self.until:
            return False
        if self.count is not None and self.count <= 0:
            return False
        return bool(self.latency_ms or self.status or self.timeout or self.outage or self.rate_limit)

    def view(self) -> dict[str, Any]:
        data = {k: v for k, v in asdict(self).items() if k != "until" and v not in (None, False, 0)}
        if self.rate_limit:
            data["rate_limited"] = self.rate_limited
        if self.until is not None:
            data["remaining_s"] = round(max(0.0, self.until - time.monotonic()), 1)
        data["active"] = self.active
        return data


def _number(payload: dict[str, Any], name: str, default: Any, kind: type, *, minimum: float) -> Any:
    value = payload.get(name, default)
    if value is None or value == default:
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < minimum:
        raise BadInput(f"{name}: a number >= {minimum}")
    return kind(value)


def _json(status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(payload, ensure_ascii=False), status=status, headers=headers,
                    content_type="application/json; charset=utf-8")


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class SandboxProvider:
    """The sandbox provider: its state (inbox, balance, faults) and its WSGI app.

    `bridge_url` is where the bridge's API listens, for inbound messages and receipts."""

    def __init__(self, *, bridge_url: str | Callable[[], str] = "http://127.0.0.1:3000",
                 config: dict[str, Any] | None = None, balance: float = 1000.0):
        # Without a configuration of its own, the sandbox's is provider.json, pointed at where it listens.
        self._own_config = config is None
        self.config = config or provider_document()
        self._bridge_url = bridge_url
        self._lock = threading.Lock()
        self._inbox: list[dict[str, Any]] = []
        self._sent_back: list[dict[str, Any]] = []
        self._balance = balance
        self._faults = Faults()
        self._sends: deque[float] = deque()  # when the last second's sends arrived (monotonic), for `rate_limit`
        self._stopping = threading.Event()
        self._server: LoopbackServer | None = None
        self._http = requests.Session()

    # -------------------------------------------------------- serving

    def serve(self, port: int = 4010) -> LoopbackServer:
        """Bind 127.0.0.1:`port` (0: any free port); `start()` then serves."""
        self._server = LoopbackServer(self, port, name="sandbox provider", env_var="SMSBRIDGE_SANDBOX_PORT")
        if self._own_config:
            self.config = provider_document(self._server.url)
        return self._server

    @property
    def url(self) -> str:
        assert self._server is not None, "serve() first"
        return self._server.url

    def start(self) -> SandboxProvider:
        assert self._server is not None, "serve() first"
        self._server.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.stop()
        self._http.close()

    @property
    def bridge_url(self) -> str:
        url = self._bridge_url() if callable(self._bridge_url) else self._bridge_url
        return url.rstrip("/")

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        try:
            response = self._route(request)
        except BadInput as exc:
            response = _json(400, {"error": str(exc)})
        except _DropConnection:
            sock = environ.get("werkzeug.socket")
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            response = Response(b"", status=503)
        return response(environ, start_response)

    def _route(self, request: Request) -> Response:
        route = (request.method, request.path.rstrip("/") or "/")
        routes: dict[tuple[str, str], Callable[[Request], Response]] = {
            ("POST", "/v1/messages"): self._send_message,
            ("GET", "/v1/balance"): self._get_balance,
            ("GET", "/api/inbox"): self._get_inbox,
            ("DELETE", "/api/inbox"): self._clear_inbox,
            ("POST", "/api/inbound"): self._send_inbound,
            ("POST", "/api/status"): self._send_status,
            ("GET", "/api/faults"): lambda r: _json(200, self.faults()),
            ("PUT", "/api/faults"): self._put_faults,
            ("DELETE", "/api/faults"): lambda r: _json(200, self.set_faults({})),
            ("GET", "/api/balance"): lambda r: _json(200, {"balance": self.balance}),
            ("PUT", "/api/balance"): self._put_balance,
            ("GET", "/api/sent"): lambda r: _json(200, self.sent_back()),
            ("GET", "/"): self._page,
        }
        handler = routes.get(route)
        if handler is None:
            known = sorted({path for _, path in routes})
            status = 405 if any(path == route[1] for _, path in routes) else 404
            return _json(status, {"error": f"no route {request.method} {request.path}", "routes": known})
        return handler(request)

    # -------------------------------------------------------- the provider API

    def _authorised(self, request: Request) -> bool:
        auth = self.config["auth"]
        expected = auth.get("prefix", "") + auth["token"]
        return request.headers.get(auth.get("header", "Authorization"), "") == expected

    def _apply_faults(self) -> Response | None:
        with self._lock:
            faults = self._faults
            if not faults.active:
                return None
            if faults.count is not None:
                faults.count -= 1
            latency, status, retry_after = faults.latency_ms, faults.status, faults.retry_after
            hang, outage = faults.timeout, faults.outage
        if latency:
            self._stopping.wait(latency / 1000)
        if hang:
            self._stopping.wait(hang)
            return _json(504, {"error": "sandbox: timed out (fault)"})
        if outage:
            raise _DropConnection
        if status is not None:
            headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
            return _json(status, {"error": f"sandbox: fault status {status}"}, headers)
        return None

    def _over_rate_limit(self) -> Response | None:
        """429 when this send is past the `rate_limit` fault's requests in the last second."""
        with self._lock:
            limit = self._faults.rate_limit if self._faults.active else None
            if limit is None:
                return None
            now = time.monotonic()
            while self._sends and self._sends[0] <= now - 1.0:
                self._sends.popleft()
            if len(self._sends) >= limit:
                self._faults.rate_limited += 1
                return _json(429, {"error": f"sandbox: more than {limit} requests in one second"}, {"Retry-After": "1"})
            self._sends.append(now)
        return None

    def _send_message(self, request: Request) -> Response:
        if not self._authorised(request):
            return _json(401, {"error": "missing or invalid bearer token"})
        fault = self._over_rate_limit() or self._apply_faults()
        if fault is not None:
            return fault
        try:
            payload = json.loads(request.get_data())
        except ValueError:
            return _json(400, {"error": "the body is not JSON"})
        if not isinstance(payload, dict):
            return _json(400, {"error": "the body is a JSON object {\"to\", \"from\", \"text\"}"})
        for name in ("to", "text"):
            if not isinstance(payload.get(name), str) or not payload[name]:
                return _json(400, {"error": f"`{name}` is required (a string)"})
        if payload.get("from") is not None and not isinstance(payload["from"], str):
            return _json(400, {"error": "`from` is a string"})
        message = {"id": "sbx_" + uuid.uuid4().hex[:20], "to": payload["to"], "from": payload.get("from"),
                   "text": payload["text"], "received_at": _now_iso(), "status": "accepted"}
        with self._lock:
            self._inbox.append(message)
            self._balance -= 1
        log.info("sandbox: SMS %s to %s: %r", message["id"], message["to"], _short(message["text"]))
        return _json(201, {"id": message["id"], "status": "accepted"})

    def _get_balance(self, request: Request) -> Response:
        if not self._authorised(request):
            return _json(401, {"error": "missing or invalid bearer token"})
        fault = self._apply_faults()
        if fault is not None:
            return fault
        return _json(200, {"balance": self.balance})

    # -------------------------------------------------------- the control API

    def inbox(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(m) for m in self._inbox]

    def _get_inbox(self, request: Request) -> Response:
        messages = self.inbox()
        for name in ("to", "from", "text"):
            if name in request.args:
                messages = [m for m in messages if m[name] == request.args[name]]
        return _json(200, messages)

    def _clear_inbox(self, request: Request) -> Response:
        with self._lock:
            self._inbox.clear()
        return _json(200, [])

    @property
    def balance(self) -> float:
        with self._lock:
            return self._balance

    def _put_balance(self, request: Request) -> Response:
        payload = _body(request)
        value = payload.get("balance")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise BadInput("balance: a number")
        with self._lock:
            self._balance = value
        return _json(200, {"balance": value})

    def faults(self) -> dict[str, Any]:
        with self._lock:
            return self._faults.view()

    def set_faults(self, payload: Any) -> dict[str, Any]:
        faults = Faults.parse(payload)
        with self._lock:
            self._faults = faults
        log.info("sandbox: faults %s", faults.view() if faults.active else "cleared")
        return self.faults()

    def _put_faults(self, request: Request) -> Response:
        return _json(200, self.set_faults(_body(request)))

    def sent_back(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(s) for s in self._sent_back]

    def _send_inbound(self, request: Request) -> Response:
        payload = _body(request)
        for name in ("from", "to", "text"):
            if not isinstance(payload.get(name), str):
                raise BadInput(f"`{name}` is required (a string)")
        message = {"id": payload.get("id") or "in_" + uuid.uuid4().hex[:20], "from": payload["from"],
                   "to": payload["to"], "text": payload["text"], "timestamp": payload.get("timestamp") or _now_iso()}
        return self._post_to_bridge("inbound", message, sign=payload.get("sign", True))

    def _send_status(self, request: Request) -> Response:
        payload = _body(request)
        for name in ("id", "status"):
            if not isinstance(payload.get(name), str):
                raise BadInput(f"`{name}` is required (a string)")
        receipt = {"id": payload["id"], "status": payload["status"], "timestamp": payload.get("timestamp") or _now_iso()}
        if payload.get("error") is not None:
            receipt["error"] = str(payload["error"])
        with self._lock:
            for message in self._inbox:
                if message["id"] == payload["id"]:
                    message["status"] = payload["status"]
        return self._post_to_bridge("status", receipt, sign=payload.get("sign", True))

    def _post_to_bridge(self, route: str, payload: dict[str, Any], *, sign: bool) -> Response:
        """POST `payload` to the bridge's `/<route>/<provider id>`, signed like a real provider."""
        url = f"{self.bridge_url}/{route}/{self.config['id']}"
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "smsbridge-sandbox/1"}
        if sign:
            headers.update(signature_headers(self.config["inbound"]["auth"], body, int(time.time())))
        record: dict[str, Any] = {"route": route, "url": url, "sent": payload, "signed": bool(sign), "at": _now_iso()}
        try:
            answer = self._http.post(url, data=body, headers=headers, timeout=30)
        except requests.RequestException as exc:
            record["error"] = f"the bridge did not answer: {exc}"
            with self._lock:
                self._sent_back.append(record)
            return _json(502, record)
        record["bridge_status"] = answer.status_code
        try:
            record["bridge_answer"] = answer.json()
        except ValueError:
            record["bridge_answer"] = answer.text[:2000]
        with self._lock:
            self._sent_back.append(record)
        log.info("sandbox: %s sent to %s → %d", route, url, answer.status_code)
        return _json(200 if answer.ok else 502, record)

    # -------------------------------------------------------- the inbox page

    def _page(self, request: Request) -> Response:
        rows = "".join(_row(m) for m in reversed(self.inbox()))
        page = (PAGE.read_text(encoding="utf-8")
                .replace("{{rows}}", rows or _EMPTY_ROW)
                .replace("{{balance}}", html.escape(f"{self.balance:g}"))
                .replace("{{faults}}", html.escape(json.dumps(self.faults())))
                .replace("{{bridge}}", html.escape(self.bridge_url)))
        return Response(page, content_type="text/html; charset=utf-8")


_EMPTY_ROW = '<tr><td colspan="6" class="empty">No message yet.</td></tr>'


def _row(message: dict[str, Any]) -> str:
    cells = [message["received_at"], message["id"], message.get("from") or "", message["to"], message["text"],
             message.get("status", "")]
    return "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>"


def _body(request: Request) -> dict[str, Any]:
    try:
        payload = json.loads(request.get_data() or b"{}")
    except ValueError:
        raise BadInput("the body is not JSON") from None
    if not isinstance(payload, dict):
        raise BadInput("the body is a JSON object")
    return payload


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _DropConnection(Exception):
    pass
