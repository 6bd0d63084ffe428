"""What a transport failure proves (adapters/http.py `TransportError.request_sent`): refused, unresolvable
and TLS-refused connections never carried the request, so a failover provider may send the message; a
timeout or a dropped connection after the request went out may have been taken (SPEC 3 `failover`)."""
from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from smsbridge.adapters.http import ProviderTransport, TransportError
from smsbridge.models.wire import HttpRequest
from tests.support.loopback import DROP, LoopbackProvider


@pytest.fixture
def transport() -> Iterator[ProviderTransport]:
    with ProviderTransport(local_runtime=True) as transport:
        yield transport


def failure_of(transport: ProviderTransport, url: str, *, timeout_s: float = 2.0) -> TransportError:
    with pytest.raises(TransportError) as caught:
        transport.send(HttpRequest("POST", url, {"Content-Type": "application/json"}, b"{}"),
                       provider_id="acme", timeout_s=timeout_s, verify_tls=True)
    return caught.value


def test_given_nothing_listening_when_sent_then_the_failure_proves_the_request_never_left(transport) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    error = failure_of(transport, f"http://127.0.0.1:{port}/sms")

    assert "refused" in error.reason and error.request_sent is False


def test_given_an_untrusted_certificate_when_sent_then_the_handshake_failure_proves_the_request_never_left(
        transport) -> None:
    with LoopbackProvider(tls=True) as provider:
        error = failure_of(transport, provider.url_for("/sms"))

        assert "TLS" in error.reason and error.request_sent is False
        assert provider.requests == []


def test_given_a_provider_that_does_not_answer_in_time_when_sent_then_the_request_may_have_been_taken(
        transport) -> None:
    with LoopbackProvider(latency_s=1.0) as provider:
        error = failure_of(transport, provider.url_for("/sms"), timeout_s=0.3)

        assert "timeout" in error.reason and error.request_sent is True
        assert len(provider.wait_for(1)) == 1


def test_given_a_provider_dropping_the_connection_after_reading_when_sent_then_the_request_may_have_been_taken(
        transport) -> None:
    with LoopbackProvider(lambda request: DROP) as provider:
        error = failure_of(transport, provider.url_for("/sms"))

        assert error.request_sent is True and len(provider.requests) == 1
