"""OAuth2 client-credentials access tokens per provider: cached, fetched once at a time, backed off on failure."""
from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from smsbridge.adapters.http import RequestNotSendable, TransportError
from smsbridge.core.auth import AccessToken, TokenError, parse_token_answer, token_request
from smsbridge.models.provider import OAuth2Auth
from smsbridge.models.wire import HttpRequest, HttpResponse

DEFAULT_REFRESH_MARGIN_S = 60
DEFAULT_FAILURE_BACKOFF_S = 120  # SPEC 3: while the token endpoint fails it is asked again every 120 s


class TokenUnavailable(Exception):
    """No access token for now: the message should wait `retry_after_s` seconds, not fail."""

    def __init__(self, retry_after_s: float, reason: str = "the token endpoint failed") -> None:
        super().__init__(f"OAuth2 access token unavailable ({reason}); next try in {retry_after_s:.0f} s")
        self.retry_after_s = retry_after_s
        self.reason = reason


@dataclass(frozen=True)
class _Cached:
    config_key: str
    token: AccessToken


@dataclass(frozen=True)
class _Failure:
    config_key: str
    retry_at: datetime
    reason: str


class OAuthTokenCache:
    """Access tokens by provider id, shared by the threads of one Lambda execution environment."""

    def __init__(self, send: Callable[[HttpRequest], HttpResponse], *,
                 refresh_margin_s: float = DEFAULT_REFRESH_MARGIN_S,
                 failure_backoff_s: float = DEFAULT_FAILURE_BACKOFF_S) -> None:
        self._send = send
        self._margin = timedelta(seconds=refresh_margin_s)
        self._backoff = timedelta(seconds=failure_backoff_s)
        self._tokens: dict[str, _Cached] = {}
        self._failures: dict[str, _Failure] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    def token(self, provider_id: str, auth: OAuth2Auth, now: datetime) -> str:
        """A valid access token for the provider, fetched when none is cached or it is about to expire.

        Raises TokenUnavailable while the endpoint fails (asked again once the backoff has passed);
        a token URL that can never be called (`RequestNotSendable`, e.g. refused) passes through.
        """
        config_key = _config_key(auth)
        fresh = self._fresh(provider_id, config_key, now)
        if fresh is not None:
            return fresh
        # One fetch per provider at a time: the other senders of a batch wait here and take
        # the token the first one fetched, instead of asking the endpoint once each.
        with self._lock_for(provider_id):
            fresh = self._fresh(provider_id, config_key, now)
            if fresh is not None:
                return fresh
            failure = self._failures.get(provider_id)
            if failure is not None and failure.config_key == config_key and now < failure.retry_at:
                return self._still_valid_or_raise(provider_id, config_key, now, failure)
            try:
                token = parse_token_answer(self._send(token_request(auth)), now)
            except RequestNotSendable:
                raise  # a configuration error: waiting would not fix it, the message must fail
            except Exception as exc:  # the endpoint is down, refuses, or answers nonsense: all wait alike
                failure = _Failure(config_key, now + self._backoff, _reason(exc))
                self._failures[provider_id] = failure
                return self._still_valid_or_raise(provider_id, config_key, now, failure)
            self._failures.pop(provider_id, None)
            self._tokens[provider_id] = _Cached(config_key, token)
            return token.value

    def invalidate(self, provider_id: str, stale: str | None = None) -> None:
        """Forget the provider's token (it was refused). With `stale`, only if that is still the cached
        one: concurrent senders refused with the same old token must not discard each other's new one."""
        with self._lock_for(provider_id):
            cached = self._tokens.get(provider_id)
            if cached is not None and (stale is None or cached.token.value == stale):
                del self._tokens[provider_id]

    def _fresh(self, provider_id: str, config_key: str, now: datetime) -> str | None:
        cached = self._tokens.get(provider_id)
        if cached is not None and cached.config_key == config_key \
                and now < cached.token.expires_at - self._margin:
            return cached.token.value
        return None

    def _still_valid_or_raise(self, provider_id: str, config_key: str, now: datetime,
                              failure: _Failure) -> str:
        # Inside the refresh margin the old token still works: better than making messages wait.
        cached = self._tokens.get(provider_id)
        if cached is not None and cached.config_key == config_key and now < cached.token.expires_at:
            return cached.token.value
        raise TokenUnavailable(max((failure.retry_at - now).total_seconds(), 0.0), failure.reason)

    def _lock_for(self, provider_id: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(provider_id, threading.Lock())


def _config_key(auth: OAuth2Auth) -> str:
    """A digest of everything that decides which token the endpoint gives: a reconfigured provider
    (new client, URL, secret or scope) gets a new token, and the key holds no secret in clear."""
    material = json.dumps(
        [auth.token_url, auth.client_id, auth.client_secret.get_secret_value(), auth.scope,
         auth.extra, auth.token_request, auth.client_auth],
        sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def _reason(exc: Exception) -> str:
    """Why the fetch failed, in words safe to log: our own errors carry a vetted `reason`; any
    other exception is named by its type only, as its message may quote the request."""
    if isinstance(exc, (TokenError, TransportError)):
        return exc.reason
    return type(exc).__name__
