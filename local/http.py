"""The loopback HTTP servers of the local runtime: a werkzeug WSGI server on its own thread,
writing each response in one go (see NOTES: two writes cost a 40 ms delayed-ACK stall)."""
from __future__ import annotations

import errno
import logging
import socket
import threading
from typing import Any

from werkzeug.exceptions import ClientDisconnected, InternalServerError
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wsgi import LimitedStream

log = logging.getLogger("local.http")


class OneWriteRequestHandler(WSGIRequestHandler):
    """Headers and body leave in one write (the socket file is buffered and flushed once, Nagle's
    algorithm is off), and the connection stays open for the client's next request.

    werkzeug's development server closes every connection after one response: each boto3 call to
    moto and each provider request to the sandbox then paid a new TCP connection, a new server
    thread and the client's connection setup, about 0.8 ms of CPU per request on these machines
    (measured side by side with a keep-alive server), the local runtime's largest cost after moto's
    own work. Here the response is the application's whole body with its Content-Length (the
    local servers answer small bodies), and what the application did not read of the request's
    body is read before the next request."""

    wbufsize = -1
    disable_nagle_algorithm = True
    protocol_version = "HTTP/1.1"
    timeout = 60  # an idle kept-alive connection is closed (and its thread ends) after this long

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # the servers log what matters themselves

    def run_wsgi(self) -> None:
        if self.headers.get("Expect", "").lower().strip() == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        self.environ = environ = self.make_environ()
        if not environ.get("wsgi.input_terminated"):  # chunked bodies come dechunked already
            environ["wsgi.input"] = LimitedStream(self.rfile, int(environ.get("CONTENT_LENGTH") or 0))
            environ["wsgi.input_terminated"] = True
        try:
            status, headers, body = self._answer(self.server.app, environ)
        except _DROPPED as exc:
            self.connection_dropped(exc, environ)
            self.close_connection = True
            return
        except Exception:  # noqa: BLE001 - as werkzeug's server: a 500 and the traceback in the log
            log.exception("error on request %s %s", self.command, self.path)
            status, headers, body = self._answer(InternalServerError(), environ)
        try:
            self._read_rest(environ["wsgi.input"])
        except (OSError, ClientDisconnected):
            self.close_connection = True  # the request's end never came (the sandbox dropped it): answer and close
        try:
            code, _, reason = status.partition(" ")
            self.send_response(int(code), reason)
            names = set()
            for name, value in headers:
                self.send_header(name, value)
                names.add(name.lower())
            if "content-length" not in names and not (self.command == "HEAD" or int(code) in (204, 304)
                                                      or 100 <= int(code) < 200):
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
            self.wfile.flush()
        except OSError as exc:  # the connection is gone (a dropped connection is one of the sandbox's faults)
            self.connection_dropped(exc, environ)
            self.close_connection = True

    @staticmethod
    def _answer(app: Any, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
        started: list[Any] = []
        chunks: list[bytes] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            started[:] = [status, headers]
            return chunks.append

        answer = app(environ, start_response)
        try:
            chunks.extend(answer)
        finally:
            if hasattr(answer, "close"):
                answer.close()
        return started[0], started[1], b"".join(chunks)

    def _read_rest(self, stream: Any) -> None:
        """The request's body the application left unread: the next request starts after it."""
        while stream.read(65536):
            pass

    def finish(self) -> None:
        try:
            super().finish()  # flushes the buffered writer
        except ConnectionError:
            pass  # the client went away first (it timed out, or the sandbox dropped the connection)


_DROPPED = (ConnectionError, socket.timeout)


class PortInUse(RuntimeError):
    pass


def _check_free(host: str, port: int, name: str, env_var: str | None) -> None:
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as http.server binds
    try:
        probe.bind((host, port))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            hint = f" (set {env_var} to use another port)" if env_var else ""
            raise PortInUse(f"{name}: port {port} on {host} is already in use{hint}") from None
        raise
    finally:
        probe.close()


class LoopbackServer:
    """A WSGI app served on 127.0.0.1 in a daemon thread; port 0 picks a free port."""

    def __init__(self, app: Any, port: int, *, name: str, host: str = "127.0.0.1",
                 request_handler: type[WSGIRequestHandler] = OneWriteRequestHandler, env_var: str | None = None):
        self.name = name
        if port:
            _check_free(host, port, name, env_var)  # werkzeug would sys.exit() on a port in use
        self._server: BaseWSGIServer = make_server(host, port, app, threaded=True, request_handler=request_handler)
        self._server.daemon_threads = True
        self.host, self.port = self._server.server_address[:2]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.2},
                                        name=f"{name}-server", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> LoopbackServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()


def other_site_refusal(host: str, origin: str | None, fetch_site: str | None, port: int | str) -> str | None:
    """Why a request to a loopback server on `port` does not come from that server's own pages, or None.

    Binding 127.0.0.1 keeps other machines out, not other web pages in the user's browser: a page of
    another site can post a form to it (cross-site request forgery), and a name of the attacker's that
    resolves to 127.0.0.1 makes its page same-origin with the server (DNS rebinding), so that it can
    read the answers too. A browser always sends the Host it resolved, and sends `Origin` on posts and
    `Sec-Fetch-Site` on every request; scripts and command-line tools send neither of the last two."""
    own = {f"127.0.0.1:{port}", f"localhost:{port}"}
    if str(port) == "80":
        own |= {"127.0.0.1", "localhost"}
    if host.lower() not in own:
        return f"Host {host!r} is not this server's (127.0.0.1:{port} or localhost:{port}): refused"
    if origin is not None and origin.lower().removeprefix("http://") not in own:
        return f"Requests from {origin} are refused: only this server's own pages may call it"
    if (fetch_site or "same-origin") not in ("same-origin", "none"):
        return f"Cross-site requests (Sec-Fetch-Site: {fetch_site}) are refused: only this server's own pages may call it"
    return None
