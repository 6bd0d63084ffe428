"""Sends a rendered request to a provider with its credentials, refreshing an OAuth2 token once on a 401."""
from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from datetime import datetime
from typing import Protocol

from smsbridge.adapters.oauth_tokens import OAuthTokenCache
from smsbridge.core.auth import AwsCredentials, authenticate
from smsbridge.core.secrets import applied_credentials
from smsbridge.models.provider import OAuth2Auth, ProviderConfig, SigV4Auth
from smsbridge.models.wire import HttpRequest, HttpResponse
from smsbridge.observability import remember_secrets


class Transport(Protocol):
    """What `adapters.http.ProviderTransport` offers."""

    def send(self, request: HttpRequest, *, provider_id: str, timeout_s: float,
             verify_tls: bool) -> HttpResponse: ...


# The provider whose token is being fetched: the token cache only hands its `send` a request,
# and the fetch must go out with that provider's timeout, TLS setting and URL policy.
_fetching_for: ContextVar[ProviderConfig] = ContextVar("smsbridge_token_fetch_provider")


class RoleCredentials:
    """The function's own AWS credentials (its IAM role, from the environment), for SigV4 providers
    that name no keys: botocore's provider chain, asked once, refreshed by botocore as they expire."""

    def __init__(self) -> None:
        self._credentials = None

    def __call__(self) -> AwsCredentials | None:
        if self._credentials is None:
            import botocore.session  # in the Lambda runtime; only SigV4 providers pay for the import

            self._credentials = botocore.session.get_session().get_credentials()
            if self._credentials is None:
                return None
        frozen = self._credentials.get_frozen_credentials()
        return AwsCredentials(frozen.access_key, frozen.secret_key, frozen.token)


class ProviderClient:
    def __init__(self, transport: Transport, tokens: OAuthTokenCache | None = None,
                 aws_credentials: Callable[[], AwsCredentials | None] | None = None) -> None:
        self._transport = transport
        self._tokens = tokens if tokens is not None else OAuthTokenCache(self._send_token_request)
        self._aws_credentials = aws_credentials if aws_credentials is not None else RoleCredentials()

    def send(self, provider: ProviderConfig, request: HttpRequest, now: datetime) -> HttpResponse:
        """The provider's answer to `request`, authenticated per `provider.auth`.

        Raises `TokenUnavailable` while an OAuth2 token cannot be had; transport errors pass through.
        """
        auth = provider.auth
        if isinstance(auth, SigV4Auth):
            role = self._aws_credentials() if auth.access_key_id is None else None
            return self._send(provider, authenticate(request, auth, now, aws_credentials=role))
        if not isinstance(auth, OAuth2Auth):
            return self._send(provider, authenticate(request, auth, now, secrets=provider.secrets))
        bearer = self._token(provider, auth, now)
        response = self._send(provider, authenticate(request, auth, now, bearer=bearer))
        if response.status_code != 401:
            return response
        # The token was revoked or rotated before its announced expiry: one fresh token, one more try.
        self._tokens.invalidate(provider.id, stale=bearer)
        bearer = self._token(provider, auth, now)
        return self._send(provider, authenticate(request, auth, now, bearer=bearer))

    def _send(self, provider: ProviderConfig, request: HttpRequest) -> HttpResponse:
        # Every authenticated request leaves here: what the auth put on it (an access token, a JWT
        # it signed, an HMAC signature) joins the secrets that logs and stored answers never show.
        remember_secrets(applied_credentials(request.headers, provider.auth), provider.id)
        return self._transport.send(request, provider_id=provider.id, timeout_s=provider.timeout_s,
                                    verify_tls=provider.verify_tls)

    def _token(self, provider: ProviderConfig, auth: OAuth2Auth, now: datetime) -> str:
        marker = _fetching_for.set(provider)
        try:
            return self._tokens.token(provider.id, auth, now)
        finally:
            _fetching_for.reset(marker)

    def _send_token_request(self, request: HttpRequest) -> HttpResponse:
        return self._send(_fetching_for.get(), request)
