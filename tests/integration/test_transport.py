"""The provider transport against a real HTTP(S) server on 127.0.0.1: what arrives, keep-alive, errors, URL checks."""
from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from smsbridge.adapters.http import ProviderTransport, TransportError, UrlNotAllowed, check_provider_url
from smsbridge.models.wire import HttpRequest
from tests.support.loopback import DROP, LoopbackProvider


@pytest.fixture
def transport() -> Iterator[ProviderTransport]:
    with ProviderTransport(local_runtime=True) as local_transport:
        yield local_transport


@pytest.fixture
def deployed_transport() -> Iterator[ProviderTransport]:
    with ProviderTransport(local_runtime=False) as deployed:
        yield deployed


def send(transport: ProviderTransport, request: HttpRequest, *, provider_id: str = "sandbox",
         timeout_s: float = 5, verify_tls: bool = True):
    return transport.send(request, provider_id=provider_id, timeout_s=timeout_s, verify_tls=verify_tls)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# ---------------------------------------------------------------- what goes out, what comes back

def test_method_headers_query_and_body_arrive_exactly(transport, loopback_provider):
    body = '{"to": "+33612345678", "text": "Héllo 👋"}'.encode()
    request = HttpRequest("POST", loopback_provider.url_for("/v1/sms?account=AC1&x=%2B1"),
                          {"Content-Type": "application/json; charset=utf-8", "X-Api-Key": "k3y"}, body)

    send(transport, request)

    received = loopback_provider.last
    assert (received.method, received.path, received.query) == ("POST", "/v1/sms", "account=AC1&x=%2B1")
    assert ("X-Api-Key", "k3y") in received.raw_headers
    assert received.header("content-type") == "application/json; charset=utf-8"
    assert received.body == body


def test_a_get_carries_its_query_and_no_body(transport, loopback_provider):
    send(transport, HttpRequest("GET", loopback_provider.url_for("/send?to=%2B33612345678&text=hi")))

    received = loopback_provider.last
    assert (received.method, received.args, received.body) == ("GET", {"to": ["+33612345678"], "text": ["hi"]}, b"")


def test_the_answer_has_its_status_lower_cased_headers_body_and_elapsed_time(transport, loopback_provider):
    loopback_provider.answer_with(201, {"id": "m-1"}, {"X-Request-Id": "r-9"})

    response = send(transport, HttpRequest("POST", loopback_provider.url_for("/v1/sms"), {}, b"{}"))

    assert response.status_code == 201
    assert response.headers["x-request-id"] == "r-9"
    assert response.headers["content-type"] == "application/json"
    assert response.body == b'{"id": "m-1"}'
    assert 0 < response.elapsed_s < 5


def test_error_statuses_are_answers_not_exceptions(transport, loopback_provider):
    loopback_provider.answer_with(503, "down", {"Retry-After": "7"})

    response = send(transport, HttpRequest("POST", loopback_provider.url, {}, b""))

    assert (response.status_code, response.headers["retry-after"], response.body) == (503, "7", b"down")


def test_a_redirect_is_returned_not_followed(transport, loopback_provider):
    loopback_provider.answer_with(302, b"", {"Location": "http://127.0.0.1:1/elsewhere"})

    response = send(transport, HttpRequest("POST", loopback_provider.url, {}, b"x"))

    assert response.status_code == 302
    assert len(loopback_provider.requests) == 1


def test_an_over_long_answer_is_cut_and_the_next_send_still_works(loopback_provider):
    loopback_provider.answer_with(200, b"x" * 5000)
    with ProviderTransport(local_runtime=True, max_body_bytes=1000) as transport:
        first = send(transport, HttpRequest("GET", loopback_provider.url))
        loopback_provider.answer_with(200, b"ok")
        second = send(transport, HttpRequest("GET", loopback_provider.url))

    assert (len(first.body), second.body) == (1000, b"ok")


# ---------------------------------------------------------------- connections

def test_many_sends_reuse_one_kept_alive_connection(transport, loopback_provider):
    request = HttpRequest("POST", loopback_provider.url_for("/v1/sms"), {"Content-Type": "application/json"}, b"{}")

    for _ in range(20):
        send(transport, request)

    assert len(loopback_provider.requests) == 20
    assert len(loopback_provider.client_ports) == 1


def test_each_provider_has_its_own_connections(transport, loopback_provider):
    request = HttpRequest("GET", loopback_provider.url)

    send(transport, request, provider_id="one")
    send(transport, request, provider_id="two")
    send(transport, request, provider_id="one")

    assert len(loopback_provider.client_ports) == 2


def test_concurrent_sends_from_a_thread_pool_all_arrive_within_the_pool_size(loopback_provider):
    request = HttpRequest("POST", loopback_provider.url, {}, b"{}")
    with ProviderTransport(local_runtime=True, pool_size=4) as transport, ThreadPoolExecutor(4) as pool:
        statuses = list(pool.map(lambda _: send(transport, request).status_code, range(40)))

    assert statuses == [200] * 40
    assert len(loopback_provider.client_ports) <= 4


def test_a_connection_closed_by_the_provider_is_opened_again(transport, loopback_provider):
    request = HttpRequest("GET", loopback_provider.url)
    send(transport, request)

    loopback_provider.drop_connections()
    time.sleep(0.05)

    assert send(transport, request).status_code == 200


# ---------------------------------------------------------------- transport errors (retryable)

def test_a_provider_slower_than_the_timeout_raises_transport_error_about_then(transport, loopback_provider):
    loopback_provider.latency_s = 2.0
    started = time.monotonic()

    with pytest.raises(TransportError) as raised:
        send(transport, HttpRequest("POST", loopback_provider.url_for("/v1/sms?token=s3cret"), {}, b""), timeout_s=0.3)

    assert time.monotonic() - started < 1.5
    assert raised.value.reason == "timeout after 0.3 s waiting for 127.0.0.1"


def test_connection_refused_raises_transport_error_without_the_query_string(transport):
    url = f"http://127.0.0.1:{free_port()}/v1/sms?api_key=s3cret"

    with pytest.raises(TransportError) as raised:
        send(transport, HttpRequest("POST", url, {"Authorization": "Bearer s3cret"}, b""))

    assert raised.value.reason == "connection refused by 127.0.0.1"
    assert "s3cret" not in str(raised.value)


def test_a_provider_closing_without_answering_raises_transport_error(transport, loopback_provider):
    loopback_provider.enqueue(DROP)

    with pytest.raises(TransportError, match="closed the connection"):
        send(transport, HttpRequest("POST", loopback_provider.url, {}, b""))


# ---------------------------------------------------------------- TLS

@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_verify_tls_refuses_an_untrusted_certificate_and_can_be_turned_off(transport):
    with LoopbackProvider(tls=True) as provider:
        request = HttpRequest("POST", provider.url_for("/v1/sms"), {}, b"{}")

        with pytest.raises(TransportError, match="certificate"):
            send(transport, request, verify_tls=True)
        response = send(transport, request, verify_tls=False)

    assert response.status_code == 200
    assert len(provider.requests) == 1  # the verified attempt never got past the handshake


# ---------------------------------------------------------------- where a provider may live

def test_deployed_requires_https(deployed_transport, loopback_provider):
    with pytest.raises(UrlNotAllowed, match="https"):
        send(deployed_transport, HttpRequest("POST", loopback_provider.url, {}, b""))

    assert loopback_provider.requests == []


def test_deployed_refuses_loopback_before_connecting():
    with LoopbackProvider(tls=True) as provider, ProviderTransport(local_runtime=False) as deployed:
        with pytest.raises(UrlNotAllowed, match="loopback"):
            send(deployed, HttpRequest("POST", provider.url, {}, b""))

        assert provider.requests == []


@pytest.mark.parametrize("url", [
    "http://169.254.169.254/latest/meta-data/",
    "http://[fd00:ec2::254]/latest/api/token",
    "http://100.100.100.200/latest/meta-data/",
])
def test_metadata_addresses_are_refused_even_in_the_local_runtime(transport, url):
    with pytest.raises(UrlNotAllowed, match="metadata"):
        send(transport, HttpRequest("GET", url))


@pytest.mark.parametrize("url", ["http://10.0.0.8/", "http://192.168.1.1/", "http://[fe80::1]/"])
def test_the_local_runtime_allows_loopback_but_not_other_private_addresses(url):
    check_provider_url("http://localhost:4010/v1/messages", local_runtime=True)

    with pytest.raises(UrlNotAllowed):
        check_provider_url(url, local_runtime=True)


@pytest.mark.parametrize("url", [
    "https://10.1.2.3/", "https://localhost/", "https://[::1]/", "https://0.0.0.0/",
    "https://[::ffff:127.0.0.1]/", "https://2130706433/",  # 127.0.0.1 written as a number
])
def test_deployed_refuses_private_loopback_and_disguised_addresses(url):
    with pytest.raises(UrlNotAllowed):
        check_provider_url(url, local_runtime=False)


def test_a_host_that_turns_internal_after_the_check_is_refused_on_connect(deployed_transport, loopback_provider,
                                                                          monkeypatch):
    # DNS rebinding: the check sees a public address, the connection would reach 127.0.0.1.
    real_getaddrinfo = socket.getaddrinfo
    answers = iter(["93.184.215.14"])

    def rebinding_getaddrinfo(host, port, *args, **kwargs):
        if host == "rebind.sms-provider.test":
            return real_getaddrinfo(next(answers, "127.0.0.1"), port, *args, **kwargs)
        return real_getaddrinfo(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding_getaddrinfo)
    url = f"https://rebind.sms-provider.test:{loopback_provider.port}/v1/sms"

    with pytest.raises(UrlNotAllowed, match="resolves to 127.0.0.1, which is a loopback address"):
        send(deployed_transport, HttpRequest("POST", url, {}, b"{}"))

    assert loopback_provider.requests == []


@pytest.mark.parametrize("url", ["https://127.0.0.1:{port}\\@sms.example.com/v1/sms",
                                 "https://127.0.0.1:{port}\\@sms.example.com:443/v1/sms"])
def test_given_a_url_whose_host_parsers_read_differently_then_it_is_refused_at_save_and_at_send(url):
    # urlsplit reads sms.example.com; urllib3, which requests connects with, reads 127.0.0.1.
    with LoopbackProvider(tls=True) as provider, ProviderTransport(local_runtime=False) as deployed:
        confusing = url.format(port=provider.port)

        with pytest.raises(UrlNotAllowed, match="not a valid URL"):
            check_provider_url(confusing, local_runtime=False)
        with pytest.raises(UrlNotAllowed, match="not a valid URL"):
            send(deployed, HttpRequest("POST", confusing, {}, b"{}"))

        assert provider.requests == []


def test_given_an_internal_address_then_the_refusal_reads_the_same_whether_its_port_is_open_or_not(
        deployed_transport, monkeypatch):
    # Otherwise an admin could scan internal ports: "refused" for a closed port, "loopback" for an open one.
    real_getaddrinfo = socket.getaddrinfo
    checked: set[str] = set()

    def rebinding_getaddrinfo(host, port, *args, **kwargs):
        if host.endswith(".sms-provider.test"):  # public at the URL check, loopback at connect
            first = host not in checked
            checked.add(host)
            return real_getaddrinfo("93.184.215.14" if first else "127.0.0.1", port, *args, **kwargs)
        return real_getaddrinfo(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding_getaddrinfo)
    refusals = []
    with LoopbackProvider(tls=True) as listening:
        for name, port in (("open", listening.port), ("closed", free_port())):
            with pytest.raises(UrlNotAllowed) as refused:
                send(deployed_transport, HttpRequest("POST", f"https://{name}.sms-provider.test:{port}/v1", {}, b""))
            refusals.append(str(refused.value).replace(name, "HOST"))
        assert listening.requests == []

    assert refusals[0] == refusals[1]
    assert "loopback" in refusals[0]
