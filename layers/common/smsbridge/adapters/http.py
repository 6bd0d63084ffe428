"""The provider transport: sends a rendered HttpRequest to an SMS provider and returns its answer."""
from __future__ import annotations

import functools
import http.client
import ipaddress
import socket
import ssl
import threading
import time
from http.cookiejar import DefaultCookiePolicy
from urllib.parse import urlsplit

import requests
import urllib3
from requests.adapters import DEFAULT_POOLBLOCK, HTTPAdapter
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.util import parse_url

from smsbridge.models.wire import HttpRequest, HttpResponse

MAX_BODY_BYTES = 1024 * 1024  # an SMS provider's answer is small: more is a misconfigured URL, not data
RESOLUTION_TTL_S = 60.0  # long enough to keep DNS off the per-message path, short enough to follow a DNS change
USER_AGENT = "smsbridge"

# Instance-metadata and other cloud-internal endpoints, refused even in the local runtime: they hand
# out credentials, and most are link-local or private anyway, but some (100.100.100.200) are neither.
METADATA_ADDRESSES = frozenset(ipaddress.ip_address(address) for address in (
    "169.254.169.254",  # AWS, Azure, GCP, Oracle instance metadata
    "169.254.170.2",  # ECS task metadata and credentials
    "169.254.169.253",  # Amazon-provided DNS
    "169.254.169.123",  # Amazon Time Sync
    "100.100.100.200",  # Alibaba Cloud metadata
    "192.0.0.192",  # Oracle Cloud Classic metadata
    "fd00:ec2::254",  # AWS instance metadata over IPv6 (Nitro)
    "fd00:ec2::253",  # Amazon-provided DNS over IPv6
    "fd00:ec2::123",  # Amazon Time Sync over IPv6
))
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class TransportError(Exception):
    """The provider could not be reached or did not answer in time: worth retrying.

    `reason` names the host, never the URL's path, query string or headers (they can carry secrets).
    `request_sent`: whether the request may have reached the provider. False only when the failure
    came before any byte of it was sent (refused, no DNS answer, TLS handshake, connect timeout):
    proof that the provider did not take the message, so that a failover provider may send it.
    """

    def __init__(self, reason: str, *, request_sent: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.request_sent = request_sent


class RequestNotSendable(ValueError):
    """This request can never be sent as it is (a permanent failure, not worth retrying)."""


class UrlNotAllowed(RequestNotSendable):
    """The provider URL is refused: wrong scheme, or a host on a private, loopback or metadata address."""


# ---------------------------------------------------------------- where a provider may live

def check_provider_url(url: str, *, local_runtime: bool) -> None:
    """Raise UrlNotAllowed unless `url` may be called as a provider.

    Deployed: `https` only, and every address the host resolves to must be public. In the local
    runtime: `http` too, and loopback addresses (the sandbox provider), but still no other private
    or metadata address. A host that does not resolve passes: connecting to it fails later with a
    (retryable) TransportError. Resolutions are cached for RESOLUTION_TTL_S; a new connection
    resolves the host again, checks every address, and connects only to an address it checked.

    The host is the one urllib3 connects to: a URL that other parsers read differently
    (`https://127.0.0.1:8443\\@good.com/` is good.com to urlsplit, 127.0.0.1 to urllib3) is refused.
    A refusal never depends on whether anything listens at the address (it is decided before
    connecting), so that refusals cannot be used to scan internal ports.
    """
    _allowed_host(url, local_runtime)


def _allowed_host(url: str, local_runtime: bool) -> str:
    """The URL's host, once the URL is allowed (the hot path: a split and a dictionary look-up)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port  # raises ValueError on a port that is not a number in range
        connected = _connected_to(parts.scheme, parts.netloc)
    except (ValueError, urllib3.exceptions.LocationParseError):
        raise UrlNotAllowed("the provider URL is not a valid URL") from None
    if connected != (host, port):
        raise UrlNotAllowed("the provider URL is not a valid URL (its host reads differently to different parsers)")
    scheme = parts.scheme
    if scheme != "https" and not (local_runtime and scheme == "http"):
        if scheme == "http":
            raise UrlNotAllowed("provider URLs must use https (plain http is allowed in the local runtime only)")
        allowed = "http or https" if local_runtime else "https"
        raise UrlNotAllowed(f"provider URLs must use {allowed}, not {scheme or 'no scheme'!r}")
    if not host:
        raise UrlNotAllowed("the provider URL has no host")
    now = time.monotonic()
    verdict = _verdicts.get((host, local_runtime))
    if verdict is None or verdict[0] <= now:
        verdict = _judge_host(host, port, local_runtime, now)
    if verdict[1] is not None:
        raise UrlNotAllowed(verdict[1])
    return host


@functools.lru_cache(maxsize=1024)
def _connected_to(scheme: str, netloc: str) -> tuple[str | None, int | None]:
    """The host and port urllib3 (hence requests) connects to. urllib3 ends the authority at the
    first of `\\ / ? #`, urlsplit at `/ ? #` only: urllib3's authority is a prefix of urlsplit's
    netloc, so parsing the netloc alone (cached: providers have few) tells whether they agree."""
    parsed = parse_url(f"{scheme}://{netloc}")
    return (parsed.host.strip("[]").lower() if parsed.host else None), parsed.port


# (host, local_runtime) -> (expires at, on time.monotonic(); the refusal, or None when allowed).
# Races between threads only cost a duplicate resolution, so no lock.
_verdicts: dict[tuple[str, bool], tuple[float, str | None]] = {}


def _judge_host(host: str, port: int | None, local_runtime: bool, now: float) -> tuple[float, str | None]:
    try:
        addresses = _addresses_of(host, port)
    except (OSError, UnicodeError):
        return (now, None)  # not cached: the connection will fail, or resolve and be checked then
    refusal = _refusal(host, addresses, local_runtime)
    if len(_verdicts) > 1024:  # provider hosts are few; this only bounds a pathological config
        _verdicts.clear()
    verdict = (now + RESOLUTION_TTL_S, refusal)
    _verdicts[(host, local_runtime)] = verdict
    return verdict


def _addresses_of(host: str, port: int | None) -> list[str]:
    """The host's addresses, in the resolver's order (an IP literal needs no resolver)."""
    try:
        return [str(ipaddress.ip_address(host.strip("[]")))]
    except ValueError:
        infos = socket.getaddrinfo(host, port or 443, type=socket.SOCK_STREAM)
        return list(dict.fromkeys(info[4][0] for info in infos))


def _refusal(host: str, addresses: list[str], local_runtime: bool) -> str | None:
    """Why `host` may not be called, judged on every address it has (one bad address is enough)."""
    for address in addresses:
        problem = address_refusal(address, local_runtime=local_runtime)
        if problem is not None:
            shown = host if host == address else f"{host} resolves to {address}, which"
            return f"provider host {shown} {problem}: refused"
    return None


def address_refusal(address: str, *, local_runtime: bool) -> str | None:
    """Why a provider may not be reached at this IP address (e.g. 'is a private address'), or None."""
    ip = ipaddress.ip_address(address)
    if ip.version == 6:
        # An IPv6 form that carries an IPv4 address reaches that IPv4 address: judge the latter.
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFF_FFFF)
        if embedded is not None:
            ip = embedded
    if ip in METADATA_ADDRESSES:
        return "is a cloud metadata address"
    if ip.is_loopback:
        return None if local_runtime else "is a loopback address (allowed in the local runtime only)"
    if ip.is_unspecified:
        return "is the unspecified address"
    if ip.is_multicast:
        return "is a multicast address"
    if ip.is_link_local:
        return "is a link-local address"
    if ip.is_private:
        return "is a private address"
    if ip.is_reserved:
        return "is a reserved address"
    if not ip.is_global:
        return "is not a public address"
    return None


# ---------------------------------------------------------------- the transport

class ProviderTransport:
    """Sends provider requests over one keep-alive `requests.Session` per provider (thread-safe).

    No automatic retries (the bridge decides), no redirects (a 3xx is the caller's to classify),
    no environment proxies, netrc credentials or cookies: what is sent is exactly what was rendered.
    """

    def __init__(self, *, local_runtime: bool, pool_size: int = 16, max_body_bytes: int = MAX_BODY_BYTES) -> None:
        self._local_runtime = local_runtime
        self._pool_size = pool_size
        self._max_body_bytes = max_body_bytes
        self._sessions: dict[str, requests.Session] = {}
        self._lock = threading.Lock()

    def send(self, request: HttpRequest, *, provider_id: str, timeout_s: float, verify_tls: bool) -> HttpResponse:
        """Send `request`, and return the provider's answer whatever its status.

        Raises UrlNotAllowed (permanent) before any byte is sent when the URL is refused,
        RequestNotSendable (permanent) for a request requests cannot send, and TransportError
        (retryable) when the provider cannot be reached or does not answer within `timeout_s`
        (per connect and per read).
        """
        host = _allowed_host(request.url, self._local_runtime)
        session = self._sessions.get(provider_id) or self._new_session(provider_id)
        started = time.perf_counter()
        try:
            answer = session.request(
                request.method, request.url, headers=request.headers, data=request.body,
                timeout=timeout_s, verify=verify_tls, allow_redirects=False, stream=True)
            try:
                # Reading to the end hands the connection back to the pool; the +1 tells an
                # over-long answer apart, whose connection is then dropped rather than drained.
                body = answer.raw.read(self._max_body_bytes + 1, decode_content=True)
            except BaseException:
                answer.close()
                raise
            if len(body) > self._max_body_bytes:
                body = body[: self._max_body_bytes]
                answer.close()
        except (requests.RequestException, urllib3.exceptions.HTTPError) as error:
            raise _translated(error, host, timeout_s) from None
        return HttpResponse(
            status_code=answer.status_code,
            headers=dict(answer.headers.lower_items()),
            body=body,
            elapsed_s=time.perf_counter() - started,
        )

    def close(self) -> None:
        """Close every provider's connections (sessions are created again on the next send)."""
        with self._lock:
            sessions, self._sessions = self._sessions, {}
        for session in sessions.values():
            session.close()

    def __enter__(self) -> ProviderTransport:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _new_session(self, provider_id: str) -> requests.Session:
        with self._lock:
            session = self._sessions.get(provider_id)
            if session is None:
                session = requests.Session()
                # Environment proxies and ~/.netrc are looked up on every request when trust_env is
                # on: that costs CPU, could hand a developer's netrc password to a provider, and a
                # proxy would defeat the address checks, which need a direct connection.
                session.trust_env = False
                session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
                session.headers["User-Agent"] = USER_AGENT
                adapter = _GuardedAdapter(local_runtime=self._local_runtime, pool_size=self._pool_size)
                session.mount("https://", adapter)
                session.mount("http://", adapter)
                self._sessions[provider_id] = session
        return session


class _GuardedAdapter(HTTPAdapter):
    """An HTTPAdapter whose new connections check the address they reached (see _PeerCheck)."""

    def __init__(self, *, local_runtime: bool, pool_size: int) -> None:
        self._local_runtime = local_runtime  # read by init_poolmanager, which HTTPAdapter.__init__ calls
        super().__init__(pool_connections=4, pool_maxsize=pool_size, max_retries=0)

    def init_poolmanager(self, connections: int, maxsize: int, block: bool = DEFAULT_POOLBLOCK, **pool_kwargs) -> None:
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)
        self.poolmanager.pool_classes_by_scheme = _guarded_pool_classes(self._local_runtime)


class _PeerCheck:
    """Connects only to addresses it checked, before any byte is sent.

    The URL check resolved the host earlier (and caches its verdict); a DNS answer that changed
    in between (DNS rebinding) must not reach an internal address. So a new connection resolves
    the host once more, refuses it when any address is refused, and connects to those very
    addresses (not to a third answer urllib3 would get by resolving again). The refusal comes
    before connecting, so it reads the same whether or not a port is open there. It costs a
    resolution per new connection, nothing per request on a kept-alive one.
    """

    local_runtime: bool
    host: str
    _dns_host: str
    port: int

    def _new_conn(self) -> socket.socket:
        name = self._dns_host
        try:
            addresses = _addresses_of(name, self.port)
        except socket.gaierror as error:
            raise urllib3.exceptions.NameResolutionError(self.host, self, error) from error
        refusal = _refusal(name.rstrip("."), addresses, self.local_runtime)
        if refusal is not None:
            raise UrlNotAllowed(refusal)
        failure: Exception | None = None
        for address in addresses:
            self._dns_host = address  # what super() connects to; `host` (TLS name, Host header) is read after
            try:
                sock = super()._new_conn()  # type: ignore[misc]
            except (urllib3.exceptions.NewConnectionError, urllib3.exceptions.ConnectTimeoutError) as error:
                failure = error
                continue
            finally:
                self._dns_host = name
            peer = sock.getpeername()[0]
            problem = address_refusal(peer, local_runtime=self.local_runtime)
            if problem is not None:  # cannot happen short of a resolver lying about literals: kept as a net
                sock.close()
                raise UrlNotAllowed(f"provider host {self.host} connected to {peer}, which {problem}: refused")
            return sock
        assert failure is not None
        raise failure


@functools.cache
def _guarded_pool_classes(local_runtime: bool) -> dict[str, type[HTTPConnectionPool]]:
    connection = type("GuardedHTTPConnection", (_PeerCheck, urllib3.connection.HTTPConnection),
                      {"local_runtime": local_runtime})
    tls_connection = type("GuardedHTTPSConnection", (_PeerCheck, urllib3.connection.HTTPSConnection),
                          {"local_runtime": local_runtime})
    return {
        "http": type("GuardedHTTPConnectionPool", (HTTPConnectionPool,), {"ConnectionCls": connection}),
        "https": type("GuardedHTTPSConnectionPool", (HTTPSConnectionPool,), {"ConnectionCls": tls_connection}),
    }


# ---------------------------------------------------------------- errors, without URLs

def _translated(error: Exception, host: str, timeout_s: float) -> Exception:
    """A TransportError (or RequestNotSendable) from a requests/urllib3 error.

    Their messages quote the URL, query string included, so only the kind of failure is kept.
    """
    if isinstance(error, (requests.exceptions.InvalidURL, requests.exceptions.InvalidSchema,
                          requests.exceptions.MissingSchema)):
        return UrlNotAllowed("the provider URL is not a valid URL")
    if isinstance(error, requests.exceptions.InvalidHeader):
        return RequestNotSendable("a header name or value is not valid")
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return TransportError(f"timeout after {timeout_s:g} s connecting to {host}", request_sent=False)
    if isinstance(error, (requests.exceptions.ReadTimeout, urllib3.exceptions.ReadTimeoutError)):
        return TransportError(f"timeout after {timeout_s:g} s waiting for {host}")
    if isinstance(error, (requests.exceptions.ContentDecodingError, urllib3.exceptions.DecodeError)):
        return TransportError(f"the answer of {host} could not be decoded")
    chain = _causes(error)

    def found(*kinds: type[BaseException]) -> BaseException | None:
        return next((cause for cause in chain if isinstance(cause, kinds)), None)

    if (cause := found(ssl.SSLCertVerificationError)) is not None:
        return TransportError(f"TLS certificate of {host} not trusted: {cause.verify_message}", request_sent=False)
    if (cause := found(ssl.SSLError)) is not None or isinstance(error, requests.exceptions.SSLError):
        return TransportError(f"TLS error with {host}: {getattr(cause, 'reason', None) or 'handshake failed'}",
                              request_sent=not _in_handshake(cause or error))
    if found(http.client.RemoteDisconnected):  # a ConnectionResetError too: tell it apart first
        return TransportError(f"{host} closed the connection without answering")
    if found(ConnectionRefusedError):
        return TransportError(f"connection refused by {host}", request_sent=False)
    if found(ConnectionResetError):
        return TransportError(f"connection reset by {host}")
    if found(socket.gaierror, urllib3.exceptions.NameResolutionError):
        return TransportError(f"could not resolve {host}", request_sent=False)
    if found(TimeoutError, urllib3.exceptions.TimeoutError):
        return TransportError(f"timeout after {timeout_s:g} s calling {host}")
    if found(http.client.IncompleteRead, urllib3.exceptions.ProtocolError,
             requests.exceptions.ChunkedEncodingError, BrokenPipeError):
        return TransportError(f"{host} closed the connection before answering in full")
    return TransportError(f"calling {host} failed ({type(chain[-1]).__name__})")


def _in_handshake(error: BaseException) -> bool:
    """Whether a TLS error was raised by the handshake (before any byte of the request), not by a read
    or write later on the connection: urllib3 wraps both in the same exception type."""
    traceback = error.__traceback__
    while traceback is not None:
        if traceback.tb_frame.f_code.co_name in ("do_handshake", "ssl_wrap_socket", "_ssl_wrap_socket_impl"):
            return True
        traceback = traceback.tb_next
    return False


def _causes(error: BaseException) -> list[BaseException]:
    """The error and those behind it: requests and urllib3 wrap the socket's error in two or three layers
    (MaxRetryError.reason, exception arguments, chaining)."""
    chain: list[BaseException] = []
    pending = [error]
    while pending and len(chain) < 16:
        current = pending.pop(0)
        if any(current is known for known in chain):
            continue
        chain.append(current)
        if isinstance(current, urllib3.exceptions.MaxRetryError) and current.reason is not None:
            pending.append(current.reason)
        pending.extend(arg for arg in current.args if isinstance(arg, BaseException))
        pending.extend(cause for cause in (current.__cause__, current.__context__) if cause is not None)
    return chain
