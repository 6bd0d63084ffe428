"""The local API Gateway on loopback: requests become the proxy events AWS builds, and proxy
answers become HTTP answers; functions here are small handlers defined in the test."""
from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from local.apigw import LocalApiGateway
from local.functions import FunctionHost, Invocation
from local.http import LoopbackServer
from local.template import ApiTrigger, FunctionSpec


class Gateway:
    def __init__(self, triggers: list[ApiTrigger], handler: Callable[[dict, Any], Any]):
        self.events: list[dict] = []
        self.runs: list[tuple[str, Any]] = []

        def recording(event: dict, context: Any) -> Any:
            self.events.append(event)
            return handler(event, context)

        function = FunctionSpec(logical_id="ProbeFunction", physical_name="probe", code_uri=Path("."),
                                handler="probe_handler.handle", triggers=tuple(triggers))
        host = FunctionHost([function], handlers={"probe": recording})

        def run(name: str, payload: Any) -> Invocation:
            self.runs.append((name, payload))
            return Invocation(function=name, request_id="r", duration_ms=1.0, result={"ran": name})

        app = LocalApiGateway(host, run_scheduled=run, emails=lambda: [{"subject": "hi"}])
        self.server = LoopbackServer(app, 0, name="test API").start()
        self.url = self.server.url


def _ok(event: dict, context: Any) -> dict:
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": json.dumps({"ok": True})}


@pytest.fixture
def gateway(request: pytest.FixtureRequest) -> Iterator[Gateway]:
    triggers, handler = getattr(request, "param", None) or ([
        ApiTrigger(name="Get", path="/items/{id}", method="GET", stage="v1"),
        ApiTrigger(name="Literal", path="/items/special", method="GET"),
        ApiTrigger(name="Post", path="/items", method="POST", binary_media_types=("image/*",)),
        ApiTrigger(name="Proxy", path="/files/{path+}", method="ANY"),
    ], _ok)
    gateway = Gateway(triggers, handler)
    yield gateway
    gateway.server.stop()


def test_a_get_becomes_a_rest_proxy_event(gateway: Gateway) -> None:
    # When a client GETs a route with a path parameter, a repeated query parameter and a header
    requests.get(f"{gateway.url}/items/a%20b?tag=x&tag=y&empty=", headers={"X-Trace": "t1"}, timeout=10)

    # Then the function gets the REST proxy event API Gateway would build
    [event] = gateway.events
    assert event["resource"] == "/items/{id}"
    assert event["path"] == "/items/a b"
    assert event["httpMethod"] == "GET"
    assert event["pathParameters"] == {"id": "a b"}
    assert event["queryStringParameters"] == {"tag": "y", "empty": ""}
    assert event["multiValueQueryStringParameters"] == {"tag": ["x", "y"], "empty": [""]}
    assert event["headers"]["X-Trace"] == "t1"
    assert event["multiValueHeaders"]["X-Trace"] == ["t1"]
    assert event["headers"]["X-Forwarded-Proto"] == "http"
    assert event["body"] is None and event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert (context["stage"], context["path"], context["resourcePath"], context["httpMethod"]) == (
        "v1", "/items/a b", "/items/{id}", "GET")  # served at the root locally: no stage in the path
    assert context["identity"]["sourceIp"] == "127.0.0.1"
    assert context["requestId"]


def test_a_literal_route_wins_over_a_parameter(gateway: Gateway) -> None:
    requests.get(f"{gateway.url}/items/special", timeout=10)

    assert gateway.events[0]["resource"] == "/items/special"
    assert gateway.events[0]["pathParameters"] is None


def test_a_greedy_parameter_takes_the_rest_of_the_path_for_any_method(gateway: Gateway) -> None:
    requests.delete(f"{gateway.url}/files/a/b/c.txt", timeout=10)

    assert gateway.events[0]["pathParameters"] == {"path": "a/b/c.txt"}
    assert gateway.events[0]["httpMethod"] == "DELETE"


def test_a_text_body_is_passed_as_text_and_a_binary_media_type_as_base64(gateway: Gateway) -> None:
    requests.post(f"{gateway.url}/items", data="a=1&b=%C3%A9", timeout=10,
                  headers={"Content-Type": "application/x-www-form-urlencoded"})
    requests.post(f"{gateway.url}/items", data=b"\x89PNG\x00", headers={"Content-Type": "image/png"}, timeout=10)

    form, image = gateway.events
    assert (form["body"], form["isBase64Encoded"]) == ("a=1&b=%C3%A9", False)
    assert image["isBase64Encoded"] is True
    assert base64.b64decode(image["body"]) == b"\x89PNG\x00"


def test_an_unknown_route_is_a_json_404_and_a_wrong_method_a_405(gateway: Gateway) -> None:
    missing = requests.get(f"{gateway.url}/nothing", timeout=10)
    wrong = requests.put(f"{gateway.url}/items", timeout=10)

    assert missing.status_code == 404 and "message" in missing.json()
    assert wrong.status_code == 405 and wrong.headers["Allow"] == "POST"
    assert gateway.events == []


@pytest.mark.parametrize("gateway", [([ApiTrigger(name="Get", path="/x", method="GET")], lambda e, c: {
    "statusCode": 201, "headers": {"X-One": "1"}, "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
    "body": base64.b64encode(b"\x00\xff").decode(), "isBase64Encoded": True})], indirect=True)
def test_the_proxy_answer_becomes_the_http_answer(gateway: Gateway) -> None:
    answer = requests.get(f"{gateway.url}/x", timeout=10)

    assert answer.status_code == 201
    assert answer.content == b"\x00\xff"
    assert answer.headers["X-One"] == "1"
    assert answer.raw.headers.getlist("Set-Cookie") == ["a=1", "b=2"]
    assert answer.headers["Content-Type"] == "application/json"  # API Gateway's default


@pytest.mark.parametrize("gateway", [([ApiTrigger(name="Get", path="/x", method="GET")], lambda e, c: "not a proxy answer")],
                         indirect=True)
def test_an_answer_that_is_not_a_proxy_response_is_a_502(gateway: Gateway) -> None:
    answer = requests.get(f"{gateway.url}/x", timeout=10)

    assert answer.status_code == 502
    assert answer.json() == {"message": "Internal server error"}


@pytest.mark.parametrize("gateway", [([ApiTrigger(name="Get", path="/x", method="GET")], lambda e, c: 1 / 0)],
                         indirect=True)
def test_a_function_that_raises_is_a_502(gateway: Gateway) -> None:
    assert requests.get(f"{gateway.url}/x", timeout=10).status_code == 502


@pytest.mark.parametrize("gateway", [([ApiTrigger(name="Post", path="/h", method="POST", kind="http")], _ok)],
                         indirect=True)
def test_an_http_api_route_gets_a_payload_2_event_with_form_posts_base64_encoded(gateway: Gateway) -> None:
    requests.post(f"{gateway.url}/h?a=1&a=2", data="x=1", timeout=10,
                  headers={"Content-Type": "application/x-www-form-urlencoded"})

    [event] = gateway.events
    assert event["version"] == "2.0"
    assert event["routeKey"] == "POST /h"
    assert event["rawQueryString"] == "a=1&a=2"
    assert event["queryStringParameters"] == {"a": "1,2"}
    assert event["requestContext"]["http"]["method"] == "POST"
    assert event["isBase64Encoded"] is True and base64.b64decode(event["body"]) == b"x=1"


def test_the_local_routes_run_a_function_and_list_emails(gateway: Gateway) -> None:
    run = requests.post(f"{gateway.url}/_local/run/probe", timeout=10)
    unknown = requests.post(f"{gateway.url}/_local/run/nope", timeout=10)
    emails = requests.get(f"{gateway.url}/_local/emails", timeout=10)

    assert run.status_code == 200 and run.json()["result"] == {"ran": "probe"}
    assert gateway.runs == [("probe", None)]
    assert unknown.status_code == 404 and unknown.json()["functions"] == ["probe"]
    assert emails.json() == [{"subject": "hi"}]


def test_given_a_credential_in_the_query_when_logged_then_its_value_is_masked_and_other_values_kept(
        gateway: Gateway, caplog: pytest.LogCaptureFixture) -> None:
    # Given an inbound route called with its shared `?token=` (and a Vonage-style `sig`)
    with caplog.at_level("INFO", logger="local.apigw"):
        requests.get(f"{gateway.url}/items/1?token=inbound-T0KEN-77&sig=abc123def&page=2", timeout=10)

    # Then the access log names the parameters but shows neither value; the others stay readable
    [line] = [record.getMessage() for record in caplog.records if record.name == "local.apigw"]
    assert "/items/1?token=**********&sig=**********&page=2" in line
    assert "inbound-T0KEN-77" not in line and "abc123def" not in line
