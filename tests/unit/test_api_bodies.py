"""Every admin route that takes a body answers a body it cannot read (another content type, bytes that are
not UTF-8, JSON nested past any parser) with a 4xx JSON error, before any use case runs (issue 15)."""
from __future__ import annotations

import base64
import json

import pytest

from tests.support.apigw_events import api_event
from tests.support.stack import LambdaContext

# Every route of the admin API that takes a body, as schemathesis found them answering 500 (issue 15).
BODY_ROUTES = [("POST", "/messages"), ("POST", "/providers"), ("PUT", "/providers/acme"),
               ("POST", "/providers/acme/preview"), ("POST", "/providers/acme/test-send"),
               ("PUT", "/consent/acme/+33612345678"), ("POST", "/providers/import-curl"),
               ("POST", "/providers/validate"), ("POST", "/providers/preview"), ("POST", "/dead-letters/redrive"),
               ("PUT", "/routing")]
NOT_UTF8 = b"1\xff|\x0e\r"  # the body schemathesis sent (issue 15)


def answer_to(method: str, path: str, body: bytes | None, content_type: str | None) -> tuple[int, dict]:
    import api_handler

    headers = {} if content_type is None else {"Content-Type": content_type}
    event = api_event(method, path, body=body, headers=headers)
    event["pathParameters"] = None  # the resolver reads the path itself
    answer = api_handler.lambda_handler(event, LambdaContext())
    text = answer["body"] or ""
    if answer.get("isBase64Encoded"):
        text = base64.b64decode(text).decode()
    return answer["statusCode"], json.loads(text)


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
@pytest.mark.parametrize(("content_type", "body"), [
    ("multipart/form-data", b"state=opted_in"),  # no boundary: Powertools raised a bare ValueError
    ("multipart/form-data", None),
    ("multipart/form-data; boundary=x", b'--x\r\nContent-Disposition: form-data; name="state"\r\n\r\nopted_in\r\n--x--\r\n'),
    ("application/x-www-form-urlencoded", b"state=opted_in&to=%2B33612345678&text=hi"),
    ("text/plain", b'{"to": "+33612345678", "text": "hi"}'),
    ("application/json; charset=latin-1", b'{"to": "+33612345678", "text": "hi"}'),
])
def test_given_a_body_route_when_the_body_is_not_json_then_the_answer_is_415_json(method, path, content_type, body):
    status, payload = answer_to(method, path, body, content_type)

    assert status == 415
    assert payload["message"] == "send the body as application/json"


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8", None])
def test_given_a_body_route_when_the_bytes_are_not_utf8_then_the_answer_is_400_json(method, path, content_type):
    status, payload = answer_to(method, path, NOT_UTF8, content_type)

    assert status == 400
    assert "not UTF-8" in payload["message"]


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
@pytest.mark.parametrize(("body", "said"), [(b"[" * 100_000 + b"]" * 100_000, "RecursionError"),
                                            (b'{"to": ' + b"9" * 5_000 + b"}", "ValueError"),
                                            (b'{"to": "+3361', "not valid JSON")])
def test_given_a_body_route_when_the_json_cannot_be_read_then_the_answer_is_400_json(method, path, body, said):
    status, payload = answer_to(method, path, body, "application/json")

    assert status == 400
    assert said in payload["message"]


def test_given_the_resolver_when_a_route_is_built_then_it_validates_with_the_json_only_reader():
    import api_handler

    assert type(api_handler.app._request_validation_middleware) is api_handler.JsonBodyValidation
