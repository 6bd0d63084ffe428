"""The loopback HTTP servers of the local runtime: a werkzeug WSGI server on its own thread,
writing each response in one go (see NOTES: two writes cost a 40 ms delayed-ACK stall)."""
from __future__ import annotations

import errno
import logging
import socket
import threading
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

log = logging.getLogger("local.http")


class OneWriteRequestHandler(WSGIRequestHandler):
    """Headers and body leave in one write: the socket file is buffered and flushed once per
    chunk, and Nagle's algorithm is off."""

    wbufsize = -1
    disable_nagle_algorithm = True

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # the servers log what matters themselves

    def finish(self) -> None:
        try:
            super().finish()  # flushes the buffered writer
        except ConnectionError:
            pass  # the client went away first (it timed out, or the sandbox dropped the connection)


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
