"""POST /messages refuses SPEC 2's bad input with a 4xx naming the field, and queues nothing."""
from __future__ import annotations

import pytest

from tests.support.apigw_events import AdminApi as Api

PROVIDER = {"id": "acme", "default": True, "default_sender": "ACME",
            "request": {"url": "https://sms.example.com/v1/messages", "body": {"to": "{{to}}", "text": "{{text}}"}}}


@pytest.fixture
def with_acme(api: Api) -> Api:
    assert api.call("POST", "/providers", PROVIDER).status == 201
    return api


@pytest.mark.parametrize(("raw", "field", "words"), [
    ('{"to": "+33612345678", "text": "code\\u00001234"}', "text", "control character U+0000"),
    ('{"to": "+33612345678", "text": " \\n\\t "}', "text", "white space"),
    ('{"to": "+33612345678", "text": "hi", "sender": "TOO LONG SENDER"}', "sender", "alphanumeric"),
    ('{"to": "+33612345678", "text": "hi", "sender": "+1234567890123456"}', "sender", "at most 15"),
    ('{"to": "+33612345678", "text": "hi", "vars": {"a": {"b": [NaN]}}}', "vars", "finite"),
    ('{"to": "+33612345678", "text": "hi", "template_variables": {"x": Infinity}}', "template_variables", "finite"),
    # Found by schemathesis: a number DynamoDB cannot store answered 500 (boto3's Decimal overflow)
    ('{"to": "+33612345678", "text": "hi", "metadata": {"x": 1.7976931348623155e+308}}', "metadata", "DynamoDB"),
    ('{"to": "+33612345678", "text": "hi", "metadata": {"x": [%d]}}' % 10**39, "metadata", "38 significant"),
])
def test_given_bad_input_of_spec_2_when_posted_then_4xx_naming_the_field_and_nothing_queued(with_acme, raw, field,
                                                                                            words):
    answer = with_acme.call("POST", "/messages", raw=raw)

    assert 400 <= answer.status < 500, answer.text
    assert field in answer.text and words in answer.text
    assert with_acme.queued() == []


def test_given_metadata_with_a_number_dynamodb_cannot_store_when_test_sent_then_422_and_no_message_is_stored(
        with_acme) -> None:
    # Given the body schemathesis found (seed 739040183): test-send with a float beyond DynamoDB's range
    raw = '{"to": "+447700900123", "text": "hi", "metadata": {"n": [[true]], "big": 1.7976931348623155e+308}}'

    # When it is posted to test-send
    answer = with_acme.call("POST", "/providers/acme/test-send", raw=raw)

    # Then a 422 names the field, and nothing was stored or sent
    assert answer.status == 422, answer.text
    assert "metadata" in answer.text and "DynamoDB" in answer.text
    assert with_acme.call("GET", "/messages").json().get("items", []) == []
