"""A real HTTP(S) server on 127.0.0.1 that stands in for an SMS provider in tests: it records every request and answers as told.

Usage (or through the `loopback_provider` pytest fixture of tests/conftest.py):

    with LoopbackProvider() as provider:            # answers 200 {"id": "<uuid>"} by default
        requests.post(provider.url_for("/v1/sms"), json={"to": "+33612345678"})
        assert provider.last.json() == {"to": "+33612345678"}

How it answers, first match wins:
    1. `enqueue(reply, ...)`: one-shot replies, used in order (e.g. a 401, then the default);
    2. `on(path, reply_or_handler, method=None)`: per-path routes (e.g. an OAuth token endpoint);
    3. `handler`: a function `(RecordedRequest) -> reply`, or `answer_with(status, body, headers)`.
A reply is `(status, headers, body)`; the body may be bytes, str, or any JSON value (sent as JSON),
and headers may be a dict or a list of pairs. Returning `DROP` closes the connection without answering.
`latency_s` delays every answer (after the request is recorded), for timeout tests. `tls=True`
serves HTTPS with a self-signed certificate for 127.0.0.1 and localhost (`ca_file` is its path).

Each answer goes out in one write (buffered writer, Nagle off): with two writes, keep-alive
clients hit a 40 ms delayed-ACK stall per request (docs: NOTES "HTTP on loopback").
"""
from __future__ import annotations

import functools
import json
import socket
import ssl
import tempfile
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self
from urllib.parse import parse_qs

from tests.support import secret_watch

DROP = object()  # a reply that closes the connection without answering

Headers = Mapping[str, str] | Iterable[tuple[str, str]]
Reply = tuple[int, Headers, Any]
Handler = Callable[["RecordedRequest"], Any]  # returns a Reply or DROP


@dataclass(frozen=True)
class RecordedRequest:
    """One request as it arrived on the wire."""

    method: str
    path: str  # without the query string
    query: str  # the raw query string, as sent (no leading '?')
    raw_headers: tuple[tuple[str, str], ...]  # as sent: order, case and repeats kept
    body: bytes
    client_port: int  # the client's port: the same one across requests means a kept-alive connection
    received_at: float = field(default_factory=time.monotonic)

    @property
    def headers(self) -> dict[str, str]:
        """Header names lower-cased; repeated headers joined with ', '."""
        joined: dict[str, str] = {}
        for name, value in self.raw_headers:
            key = name.lower()
            joined[key] = f"{joined[key]}, {value}" if key in joined else value
        return joined

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)

    @property
    def args(self) -> dict[str, list[str]]:
        """The query string's parameters, decoded."""
        return parse_qs(self.query, keep_blank_values=True)

    @property
    def form(self) -> dict[str, list[str]]:
        """The body as a decoded form (application/x-www-form-urlencoded)."""
        return parse_qs(self.body.decode("utf-8"), keep_blank_values=True)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self) -> Any:
        return json.loads(self.body)


def default_reply(request: RecordedRequest) -> Reply:
    """What a typical provider answers: 200 with a fresh message id."""
    return 200, {}, {"id": str(uuid.uuid4())}


class LoopbackProvider:
    """A threaded HTTP(S) server on 127.0.0.1 (a free port) that records requests and answers as told."""

    def __init__(self, handler: Handler | None = None, *, latency_s: float = 0.0, tls: bool = False) -> None:
        self.handler: Handler = handler or default_reply
        self.latency_s = latency_s
        self.tls = tls
        self._recorded: list[RecordedRequest] = []
        self._queued: deque[Any] = deque()
        self._routes: dict[tuple[str | None, str], Any] = {}
        self._changed = threading.Condition()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ life cycle

    def start(self) -> Self:
        context = _tls_context() if self.tls else None
        self._server = _Server(("127.0.0.1", 0), _RequestHandler, self, context)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"loopback-provider-{self.port}", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving and close every open connection (clients see the server go away)."""
        if self._server is None:
            return
        self._server.shutdown()
        self.drop_connections()
        self._server.server_close()
        self._thread.join(timeout=5)
        self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ------------------------------------------------------------ where it is

    @property
    def port(self) -> int:
        assert self._server is not None, "start() the provider first"
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        """The base URL, e.g. http://127.0.0.1:41234 (no trailing slash)."""
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def url_for(self, path: str = "/") -> str:
        return self.url + (path if path.startswith("/") else "/" + path)

    @property
    def ca_file(self) -> str:
        """The self-signed certificate (PEM) served with tls=True, usable as `verify=` by a client."""
        return _certificate_files()[0]

    # ------------------------------------------------------------ how it answers

    def answer_with(self, status: int = 200, body: Any = b"", headers: Headers | None = None) -> None:
        """Answer every request (not otherwise matched) the same way."""
        reply = (status, headers or {}, body)
        self.handler = lambda request: reply

    def enqueue(self, *replies: Any) -> None:
        """One-shot replies (or DROP, or handlers), used in order before routes and the handler."""
        with self._changed:
            self._queued.extend(replies)

    def on(self, path: str, reply: Any, *, method: str | None = None) -> None:
        """Answer requests to `path` (any query string; `method` None for any) with a reply or a handler."""
        self._routes[(method.upper() if method else None, path)] = reply

    def _reply_to(self, request: RecordedRequest) -> Any:
        with self._changed:
            chosen = self._queued.popleft() if self._queued else None
        if chosen is None:
            chosen = self._routes.get((request.method, request.path), self._routes.get((None, request.path)))
        if chosen is None:
            chosen = self.handler
        return chosen(request) if callable(chosen) else chosen

    # ------------------------------------------------------------ what it received

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, oldest first (a copy)."""
        with self._changed:
            return list(self._recorded)

    @property
    def last(self) -> RecordedRequest:
        with self._changed:
            assert self._recorded, "the loopback provider received no request"
            return self._recorded[-1]

    @property
    def client_ports(self) -> set[int]:
        """The client ports seen: one port for many requests means one kept-alive connection."""
        return {request.client_port for request in self.requests}

    def wait_for(self, count: int, timeout_s: float = 5.0) -> list[RecordedRequest]:
        """Wait until at least `count` requests arrived (for senders running in other threads)."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self._recorded) >= count, timeout=timeout_s):
                raise TimeoutError(f"expected {count} requests within {timeout_s} s, got {len(self._recorded)}")
            return list(self._recorded)

    def clear(self) -> None:
        """Forget the recorded requests and the queued replies (routes and handler stay)."""
        with self._changed:
            self._recorded.clear()
            self._queued.clear()

    def drop_connections(self) -> None:
        """Close every open client connection, as a provider restarting or a load balancer would."""
        if self._server is not None:
            self._server.drop_connections()

    def _record(self, request: RecordedRequest) -> None:
        with self._changed:
            self._recorded.append(request)
            self._changed.notify_all()


# ---------------------------------------------------------------- the server

class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], handler: type, provider: LoopbackProvider,
                 tls_context: ssl.SSLContext | None) -> None:
        self.provider = provider
        self.tls_context = tls_context
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, handler)

    def finish_request(self, request: socket.socket, client_address: Any) -> None:
        # Runs in the connection's own thread, so a slow or failing TLS handshake blocks nobody else.
        if self.tls_context is not None:
            try:
                request = self.tls_context.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                return  # e.g. a client that does not trust the certificate
        with self._open_lock:
            self._open.add(request)
        try:
            super().finish_request(request, client_address)
        except OSError:
            pass  # the client went away (gave up waiting, or closed its pool)
        finally:
            with self._open_lock:
                self._open.discard(request)
            request.close()

    def drop_connections(self) -> None:
        with self._open_lock:
            connections = list(self._open)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real providers do
    wbufsize = -1  # buffered: status line, headers and body leave in one write (see the module docstring)
    disable_nagle_algorithm = True
    server: _Server

    def _serve(self) -> None:
        provider = self.server.provider
        path, _, query = self.path.partition("?")
        request = RecordedRequest(
            method=self.command, path=path, query=query,
            raw_headers=tuple(self.headers.items()), body=self._read_body(),
            client_port=self.client_address[1])
        provider._record(request)
        if provider.latency_s:
            time.sleep(provider.latency_s)
        try:
            reply = provider._reply_to(request)
        except Exception as error:  # a broken test handler shows up as a 500 naming it, not a hung client
            reply = (500, {}, f"loopback provider handler failed: {error!r}")
        if reply is DROP:
            self.close_connection = True
            return
        status, headers, body = reply
        if isinstance(body, dict) and isinstance(body.get("access_token"), str):
            secret_watch.issued_tokens.add(body["access_token"])  # watched in every log (tests/conftest.py)
        payload, content_type = _encoded(body)
        pairs = list(headers.items()) if isinstance(headers, Mapping) else list(headers)
        names = {name.lower() for name, _ in pairs}
        self.send_response(status)
        if content_type and "content-type" not in names:
            self.send_header("Content-Type", content_type)
        if "content-length" not in names:
            self.send_header("Content-Length", str(len(payload)))
        for name, value in pairs:
            self.send_header(name, str(value))
        self.end_headers()
        if self.command != "HEAD" and status not in (204, 304):
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline().strip():  # trailers, up to the blank line
                pass
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass  # tests read `provider.requests`, not stderr


def _encoded(body: Any) -> tuple[bytes, str | None]:
    if body is None:
        return b"", None
    if isinstance(body, bytes):
        return body, None
    if isinstance(body, str):
        return body.encode("utf-8"), "text/plain; charset=utf-8"
    return json.dumps(body).encode("utf-8"), "application/json"


# ---------------------------------------------------------------- TLS

@functools.cache
def _certificate_files() -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 and localhost, made once per test run: (cert, key) paths."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "loopback provider")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([
            x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = Path(tempfile.mkdtemp(prefix="loopback-provider-"))
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_file), str(key_file)


def _tls_context() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*_certificate_files())
    return context
