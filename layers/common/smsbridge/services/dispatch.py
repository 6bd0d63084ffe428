"""The one way to call a provider: render, authenticate and send, classify, every failure as an Outcome, every secret masked.

Send, test-send, the admin API's check and the balance check all call providers through
`Dispatcher`, so that an error means the same everywhere and no provider answer reaches a
table, an API answer or a log with a secret in it (providers that echo the request in their
error bodies would otherwise hand back the API key, the Basic credentials or a bearer token).

`send` is the per-provider entry point: failover (another provider when this one did not take
the message) and throughput limits will wrap it.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from smsbridge.adapters.http import RequestNotSendable, TransportError
from smsbridge.adapters.oauth_tokens import TokenUnavailable
from smsbridge.clock import utc_now
from smsbridge.core.auth import AuthError
from smsbridge.core.classify import Outcome, classify_batch_response, classify_response
from smsbridge.core.render import RenderError, render_request
from smsbridge.core.secrets import Masker, masker_for, provider_secrets
from smsbridge.models.message import OutboundMessage
from smsbridge.models.provider import NoAuth, ProviderConfig, ResponseSpec
from smsbridge.models.wire import HttpRequest, HttpResponse
from smsbridge.observability import known_secrets, remember_secrets
from smsbridge.services.ports import ProviderCaller

ANY_2XX = ResponseSpec()  # a check's answer: 2xx is good, 408/425/429/5xx worth a retry, the rest failed


@dataclass(frozen=True)
class Dispatch:
    """What one call to a provider gave, with every secret masked.

    `outcomes`: one per message (one for a plain call). `requested`: whether a request went out
    (none when the message cannot be rendered or no OAuth2 token could be had: not an attempt).
    `response`: the provider's answer when there was one, its body masked.
    """

    outcomes: list[Outcome]
    requested: bool
    response: HttpResponse | None = None

    @property
    def outcome(self) -> Outcome:
        return self.outcomes[0]


class Dispatcher:
    def __init__(self, client: ProviderCaller, *, clock: Callable[[], datetime] = utc_now) -> None:
        self._client = client
        self._clock = clock

    def send(self, provider: ProviderConfig, messages: Sequence[OutboundMessage], *,
             request: HttpRequest | None = None) -> Dispatch:
        """Send `messages` (one, or a batch the provider takes in one request) through `provider`.

        `request` is the messages already rendered (the send path renders each message when it
        admits it, to reject what cannot be rendered); rendered here otherwise."""
        count = len(messages)
        if request is None:
            try:
                request = render_request(provider, list(messages), self._clock())
            except RenderError as error:
                reason = _masker_of(provider).mask(f"cannot render: {error}")
                return _failed(Outcome("failed", reason), count, requested=False)
        dispatch, masker = self._exchange(provider, request, count)
        if dispatch.response is None:
            return dispatch
        response, now = dispatch.response, self._clock()
        if provider.request.batch is None:
            outcomes = [classify_response(provider.response, response, now)] * count
        else:
            outcomes = classify_batch_response(provider.response, provider.request.batch, response, count, now)
        return replace(dispatch, outcomes=[_masked(outcome, masker) for outcome in outcomes])

    def call(self, provider: ProviderConfig, request: HttpRequest, *, authenticated: bool = True,
             spec: ResponseSpec = ANY_2XX) -> Dispatch:
        """One request that is not a message (a balance or token endpoint, the provider's host),
        with the provider's auth unless `authenticated` is false, classified by `spec`."""
        caller = provider if authenticated else provider.model_copy(update={"auth": NoAuth()})
        dispatch, masker = self._exchange(caller, request, 1, masking_for=provider)
        if dispatch.response is None:
            return dispatch
        outcome = classify_response(spec, dispatch.response, self._clock())
        return replace(dispatch, outcomes=[_masked(outcome, masker)])

    def _exchange(self, provider: ProviderConfig, request: HttpRequest, count: int, *,
                  masking_for: ProviderConfig | None = None) -> tuple[Dispatch, Masker]:
        """The provider's answer (masked), or the outcome of each failure to get one; and the masking
        used, made once the call is over, so that it knows the credentials the call applied.
        `masking_for`: whose secrets to mask when `provider` is a copy without them (no auth)."""
        try:
            response = self._client.send(provider, request, self._clock())
        except TokenUnavailable as error:
            failure = Outcome("retry", f"no OAuth2 access token ({error.reason})", retry_after_s=error.retry_after_s)
            requested = False
        except (RequestNotSendable, AuthError) as error:
            # A refused URL, an unsendable header, credentials that cannot be applied (a JWT key
            # that is not a key): no attempt can succeed until the configuration changes.
            failure, requested = Outcome("failed", str(error)), True
        except TransportError as error:
            failure, requested = Outcome("retry", error.reason, not_taken=not error.request_sent), True
        else:
            failure = None
        masker = _masker_of(masking_for or provider)
        if failure is not None:
            return _failed(_masked(failure, masker), count, requested=requested), masker
        # Masked before classifying, so that an excerpt cut at its length limit can never keep half a secret.
        body = response.body
        if body:
            body = masker.mask(body.decode("utf-8", "surrogateescape")).encode("utf-8", "surrogateescape")
        return Dispatch(outcomes=[], requested=True, response=replace(response, body=body)), masker


def _masker_of(provider: ProviderConfig) -> Masker:
    """The provider's own secrets and the credentials last applied for it (OAuth2 tokens, JWTs,
    HMAC signatures: the client registers them as it applies them). Not other providers'
    secrets: a weak one ("tok") would garble every answer of every provider."""
    secrets = provider_secrets(provider)
    remember_secrets(secrets)
    return masker_for([*secrets, *known_secrets.credentials(provider.id)])


def _masked(outcome: Outcome, masker: Masker) -> Outcome:
    return replace(outcome, reason=masker.mask(outcome.reason), body_excerpt=masker.mask(outcome.body_excerpt))


def _failed(outcome: Outcome, count: int, *, requested: bool) -> Dispatch:
    return Dispatch(outcomes=[outcome] * count, requested=requested)
