"""Random and malformed bodies, headers and query strings on the webhook routes never produce a 5xx (Hypothesis)."""
from __future__ import annotations

import base64
import json
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smsbridge.core.inbound_parse import FIELD_MAX_CHARS
from smsbridge.core.signatures import hmac_signature
from tests.support.apigw_events import api_event, put_provider
from tests.support.stack import LambdaContext, moto_stack

SECRET = "fuzz-secret"
PROVIDERS = [
    {"id": "twilio", "request": {"url": "https://api.twilio.com/x", "body": {"to": "{{to}}", "text": "{{text}}"}},
     "auth": {"type": "basic", "username": "AC1", "password": "tok"},
     "inbound": {"auth": {"type": "twilio"}, "fields": {"from": "From", "to": "To", "text": "Body", "id": "MessageSid"}},
     "status": {"fields": {"message_id": "MessageSid", "status": "MessageStatus"}, "map": {"delivered": "delivered"}}},
    {"id": "signed", "request": {"url": "https://sms.example.com/x", "body": {"to": "{{to}}", "text": "{{text}}"}},
     "inbound": {"auth": {"type": "hmac", "secret": SECRET, "timestamp_header": "X-Timestamp"}, "format": "json",
                 "fields": {"from": "from", "to": "to", "text": "text", "id": "id", "timestamp": "at"}},
     "status": {"fields": {"message_id": "id", "status": "status", "timestamp": "at"}, "map": {"ok": "delivered"}}},
    {"id": "openjson", "request": {"url": "https://sms.example.com/x", "body": {"to": "{{to}}", "text": "{{text}}"}},
     "inbound": {"auth": {"type": "none"}, "format": "json",
                 "fields": {"from": "a.b[0]", "to": "to", "text": "text", "id": "id", "timestamp": "at"}},
     "status": {"fields": {"message_id": "id", "status": "status"}, "map": {"ok": "delivered", "s": "sent"}}},
    {"id": "openform", "request": {"url": "https://sms.example.com/x", "body": {"to": "{{to}}", "text": "{{text}}"}},
     "inbound": {"auth": {"type": "none"}, "format": "query", "fields": {"from": "msisdn", "text": "text", "timestamp": "ts"}},
     "status": {"fields": {"message_id": "id", "status": "status"}, "map": {"ok": "delivered"}}},
    {"id": "basic", "request": {"url": "https://sms.example.com/x", "body": {"to": "{{to}}", "text": "{{text}}"}},
     "inbound": {"auth": {"type": "basic", "username": "u", "password": "p"}}},
    {"id": "token", "request": {"url": "https://sms.example.com/x", "body": {"to": "{{to}}", "text": "{{text}}"}},
     "inbound": {"auth": {"type": "token", "token": "t"}}},
]


@pytest.fixture(scope="module")
def handler():
    with moto_stack("InboundFunction"):
        for config in PROVIDERS:
            put_provider(config)
        import inbound_handler

        yield lambda event: inbound_handler.lambda_handler(event, LambdaContext())


texts = st.text(max_size=30)
json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | texts,
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
                           max_leaves=10)
documents = st.one_of(
    json_values,
    st.fixed_dictionaries({}, optional={"from": json_values | st.just("+33612345678"), "to": json_values,
                                        "text": json_values | st.sampled_from(["STOP", "start", "HELP", "hi"]),
                                        "id": json_values, "at": json_values | st.sampled_from(["0", "-1e12", "9e99",
                                        "0001-01-01T00:00:00-23:59", "9999-12-31T23:59:59+00:00", "nan", "1700000000"]),
                                        "status": json_values | st.just("ok"),
                                        "a": st.fixed_dictionaries({"b": st.lists(json_values, max_size=2)})}),
)
paths = st.sampled_from(["/inbound/twilio", "/inbound/signed", "/inbound/openjson", "/inbound/openform",
                         "/inbound/basic", "/inbound/token", "/status/twilio", "/status/signed", "/status/openjson",
                         "/status/openform", "/status/basic", "/inbound/missing", "/status/", "/inbound"]) | \
    st.text(min_size=1, max_size=20).map(lambda s: "/inbound/" + s)
header_names = st.sampled_from(["Content-Type", "X-Twilio-Signature", "X-Signature", "X-Timestamp", "Authorization",
                                "Host", "X-Forwarded-Proto", "X-Forwarded-Port"]) | st.text(min_size=1, max_size=10)
headers = st.dictionaries(header_names, st.text(max_size=40), max_size=5)
queries = st.lists(st.tuples(st.sampled_from(["msisdn", "text", "ts", "token", "bodySHA256", "From"]) | texts,
                             texts | st.just("+33612345678")), max_size=4)
bodies = st.one_of(st.binary(max_size=200), documents.map(lambda d: json.dumps(d).encode()),
                   st.lists(st.tuples(texts, texts), max_size=4).map(
                       lambda pairs: "&".join(f"{k}={v}" for k, v in pairs).encode()))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(method=st.sampled_from(["GET", "POST"]), path=paths, body=bodies | st.none(), extra=headers, query=queries,
       base64_body=st.booleans(), garble=st.booleans())
def test_given_random_requests_on_the_webhook_routes_then_never_a_5xx(handler, method, path, body, extra, query,
                                                                      base64_body, garble):
    event = api_event(method, path, body=body, headers=extra, query=query, base64_body=base64_body and body is not None)
    if garble and body is not None:
        event["isBase64Encoded"] = True
        event["body"] = body.decode("latin-1")
    answer = handler(event)
    assert answer["statusCode"] < 500
    json.loads(answer["body"]) if answer["body"].startswith("{") else None


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(document=documents, path=st.sampled_from(["/inbound/signed", "/status/signed"]), skew=st.integers(-400, 400))
def test_given_correctly_signed_random_payloads_then_never_a_5xx(handler, document, path, skew):
    body = json.dumps(document).encode()
    stamp = str(int(time.time()) + skew)
    event = api_event("POST", path, body=body, headers={
        "X-Timestamp": stamp, "X-Signature": hmac_signature(SECRET, stamp.encode() + b"." + body)})
    answer = handler(event)
    assert answer["statusCode"] < 500
    if abs(skew) > 305:
        assert answer["statusCode"] == 403


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=queries, body=st.binary(max_size=100))
def test_given_unsigned_random_payloads_to_providers_without_auth_then_never_a_5xx(handler, query, body):
    for path in ("/inbound/openform", "/inbound/openjson", "/status/openform", "/status/openjson"):
        event = api_event("GET" if "form" in path else "POST", path, body=body, query=query)
        assert handler(event)["statusCode"] < 500
    raw = api_event("POST", "/inbound/openjson", body=b"{}")
    raw["body"] = base64.b64encode(body).decode()
    assert handler(raw)["statusCode"] < 500


# Every field at every length around its limit, in narrow and four-byte characters, through the
# keyword, message and receipt paths: a field too long for storage is a 400 naming it, never a 5xx.
_LENGTHS = sorted({0, 1, 63, 64, 65, 199, 200, 201, 500, 1024, 2049, 5000, 10_000, 10_001, 20_000})
_FIELD_OF_KEY = {"from": "from", "to": "to", "text": "text", "id": "id", "at": "timestamp"}
_RECEIPT_FIELD_OF_KEY = {"id": "message_id", "status": "status", "at": "timestamp"}
long_values = st.builds(lambda n, char: char * n, st.sampled_from(_LENGTHS), st.sampled_from(["7", "é", "🎉", "+"]))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(path=st.sampled_from(["/inbound/signed", "/status/signed"]),
       document=st.fixed_dictionaries({"from": st.just("+33612345678") | long_values, "id": long_values,
                                       "status": st.just("ok") | long_values},
                                      optional={"to": long_values, "text": st.sampled_from(["STOP", "HELP", "hi"]) |
                                                long_values, "at": long_values}))
def test_given_any_field_at_any_length_then_never_a_5xx_and_a_too_long_field_is_named(handler, path, document):
    body = json.dumps(document).encode()
    stamp = str(int(time.time()))
    answer = handler(api_event("POST", path, body=body, headers={
        "X-Timestamp": stamp, "X-Signature": hmac_signature(SECRET, stamp.encode() + b"." + body)}))
    assert answer["statusCode"] < 500
    fields = _FIELD_OF_KEY if path.startswith("/inbound") else _RECEIPT_FIELD_OF_KEY
    too_long = [name for key, name in fields.items() if len(document.get(key, "")) > FIELD_MAX_CHARS[name]]
    if too_long:
        assert answer["statusCode"] == 400
        assert any(f"field {name!r}" in json.loads(answer["body"])["message"] for name in too_long)
