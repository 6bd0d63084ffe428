"""Classifying provider answers: sent, retry (with Retry-After) or failed, and per-recipient batch results."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from smsbridge.core.classify import (
    Outcome,
    classify_batch_response,
    classify_response,
)
from smsbridge.models.provider import BatchSpec, ResponseSpec
from smsbridge.models.wire import HttpResponse

NOW = datetime(2026, 11, 21, 12, 0, 0, tzinfo=UTC)


def answer(status: int, body: object = b"", **headers: str) -> HttpResponse:
    raw = body if isinstance(body, bytes) else body.encode() if isinstance(body, str) else json.dumps(body).encode()
    return HttpResponse(status_code=status, headers={k.replace("_", "-").lower(): v for k, v in headers.items()},
                        body=raw)


# ---------------------------------------------------------------- success

def test_any_2xx_is_sent_by_default():
    outcome = classify_response(ResponseSpec(), answer(202, "queued"), NOW)

    assert outcome.verdict == "sent"
    assert outcome.status_code == 202
    assert outcome.body_excerpt == "queued"


def test_201_gives_the_provider_message_id_from_json():
    spec = ResponseSpec(message_id_jmespath="id")

    outcome = classify_response(spec, answer(201, {"id": "SM123"}), NOW)

    assert outcome == Outcome("sent", outcome.reason, provider_message_id="SM123", status_code=201,
                              body_excerpt='{"id": "SM123"}')


def test_a_numeric_message_id_is_given_as_text():
    spec = ResponseSpec(message_id_jmespath="messages[0].id")

    outcome = classify_response(spec, answer(200, {"messages": [{"id": 98765432101}]}), NOW)

    assert outcome.provider_message_id == "98765432101"


def test_a_non_json_answer_has_no_message_id_but_is_still_sent():
    outcome = classify_response(ResponseSpec(message_id_jmespath="id"), answer(200, "OK"), NOW)

    assert (outcome.verdict, outcome.provider_message_id) == ("sent", None)


def test_success_contains_passes_when_the_text_is_in_the_answer():
    outcome = classify_response(ResponseSpec(success_contains="OK"), answer(200, "OK: 1 message queued"), NOW)

    assert outcome.verdict == "sent"


def test_success_contains_fails_a_2xx_without_the_text():
    outcome = classify_response(ResponseSpec(success_contains="OK"), answer(200, "ERR: no credit"), NOW)

    assert outcome.verdict == "failed"
    assert "did not contain 'OK'" in outcome.reason


def test_success_jmespath_falsy_fails_a_2xx_with_the_providers_error():
    spec = ResponseSpec(success_jmespath="status == 'ok'", error_jmespath="error.message")

    outcome = classify_response(spec, answer(200, {"status": "error", "error": {"message": "Invalid sender"}}), NOW)

    assert outcome.verdict == "failed"
    assert "success_jmespath" in outcome.reason
    assert outcome.reason.endswith("Invalid sender")


def test_success_jmespath_on_a_non_json_answer_fails():
    outcome = classify_response(ResponseSpec(success_jmespath="ok"), answer(200, "<html>maintenance</html>"), NOW)

    assert outcome.verdict == "failed"
    assert "not JSON" in outcome.reason


def test_success_jmespath_counts_zero_as_true_like_jmespath_does():
    outcome = classify_response(ResponseSpec(success_jmespath="code"), answer(200, {"code": 0}), NOW)

    assert outcome.verdict == "sent"


def test_custom_success_status_refuses_other_2xx():
    outcome = classify_response(ResponseSpec(success_status=[200]), answer(202), NOW)

    assert outcome.verdict == "failed"
    assert "202" in outcome.reason


# ---------------------------------------------------------------- retry

def test_429_with_retry_after_seconds_is_retried_after_that_delay():
    outcome = classify_response(ResponseSpec(), answer(429, "slow down", retry_after="7"), NOW)

    assert (outcome.verdict, outcome.retry_after_s) == ("retry", 7.0)
    assert "429" in outcome.reason


def test_retry_after_as_an_http_date_counts_from_now():
    header = format_datetime(NOW + timedelta(seconds=90), usegmt=True)

    outcome = classify_response(ResponseSpec(), answer(503, retry_after=header), NOW)

    assert outcome.retry_after_s == 90.0


@pytest.mark.parametrize(("header", "expected"), [
    ("-5", 0.0),
    ("999999", 12 * 3600.0),
    ("Thu, 01 Jan 2026 00:00:00 GMT", 0.0),  # already past
    ("soon", None),
])
def test_retry_after_is_clamped_to_zero_and_twelve_hours_and_ignored_when_unreadable(header, expected):
    outcome = classify_response(ResponseSpec(), answer(429, retry_after=header), NOW)

    assert (outcome.verdict, outcome.retry_after_s) == ("retry", expected)


@pytest.mark.parametrize("status", [408, 425, 429, 500, 502, 503, 504])
def test_default_retry_statuses_are_retried_without_a_delay_when_none_is_asked(status):
    outcome = classify_response(ResponseSpec(), answer(status), NOW)

    assert (outcome.verdict, outcome.retry_after_s) == ("retry", None)


def test_custom_retry_status_replaces_the_defaults():
    spec = ResponseSpec(retry_status=[409])

    assert classify_response(spec, answer(409), NOW).verdict == "retry"
    assert classify_response(spec, answer(503), NOW).verdict == "failed"


# ---------------------------------------------------------------- failed

def test_400_is_failed_with_the_status_and_the_providers_error_text():
    spec = ResponseSpec(error_jmespath="errors[0].detail")

    outcome = classify_response(spec, answer(400, {"errors": [{"detail": "Invalid 'To' number"}]}), NOW)

    assert outcome.verdict == "failed"
    assert outcome.reason == "provider answered 400: Invalid 'To' number"
    assert outcome.retry_after_s is None


def test_a_redirect_is_failed_not_followed():
    outcome = classify_response(ResponseSpec(), answer(301, location="https://elsewhere.example/"), NOW)

    assert outcome.verdict == "failed"
    assert "redirect" in outcome.reason


def test_the_body_excerpt_is_truncated():
    outcome = classify_response(ResponseSpec(), answer(500, "x" * 5000), NOW)

    assert len(outcome.body_excerpt) <= 501


# ---------------------------------------------------------------- batch

BATCH = BatchSpec(key="messages", results_jmespath="results", result_success_jmespath="status == 'accepted'",
                  result_message_id_jmespath="id")


def test_batch_results_mark_the_refused_recipient_failed_and_the_others_sent():
    body = {"results": [{"status": "accepted", "id": "a1"},
                        {"status": "rejected", "error": "number blocked"},
                        {"status": "accepted", "id": 3}]}

    outcomes = classify_batch_response(ResponseSpec(error_jmespath="error"), BATCH, answer(200, body), 3, NOW)

    assert [o.verdict for o in outcomes] == ["sent", "failed", "sent"]
    assert [o.provider_message_id for o in outcomes] == ["a1", None, "3"]
    assert outcomes[1].reason == "provider refused this recipient: number blocked"


def test_batch_recipients_without_a_result_are_failed():
    outcomes = classify_batch_response(ResponseSpec(), BATCH, answer(200, {"results": [{"status": "accepted"}]}),
                                       2, NOW)

    assert [o.verdict for o in outcomes] == ["sent", "failed"]
    assert "no result for this recipient" in outcomes[1].reason


def test_batch_result_present_counts_as_success_without_a_success_expression():
    batch = BatchSpec(key="messages", results_jmespath="ids")

    outcomes = classify_batch_response(ResponseSpec(), batch, answer(200, {"ids": ["a", "b"]}), 2, NOW)

    assert [o.verdict for o in outcomes] == ["sent", "sent"]


def test_a_batch_answer_that_is_not_a_success_applies_to_every_recipient():
    outcomes = classify_batch_response(ResponseSpec(), BATCH, answer(429, retry_after="3"), 3, NOW)

    assert [(o.verdict, o.retry_after_s) for o in outcomes] == [("retry", 3.0)] * 3


@pytest.mark.parametrize(("status", "not_taken"), [(503, True), (500, True), (429, True), (408, False),
                                                    (400, False), (200, False)])
def test_given_an_answer_when_classified_then_only_5xx_and_429_prove_the_provider_did_not_take_it(
        status: int, not_taken: bool) -> None:
    outcome = classify_response(ResponseSpec(), HttpResponse(status, {}, b"{}", 0.01), NOW)

    assert outcome.not_taken is not_taken


# ---------------------------------------------------------------- edges a provider's answer reaches (issue 16)

def test_given_a_list_of_message_ids_when_one_message_was_sent_then_its_id_is_the_first_of_the_list():
    spec = ResponseSpec(message_id_jmespath="messages[*].id")

    sent = classify_response(spec, answer(200, {"messages": [{"id": "MSG-1"}, {"id": "MSG-2"}]}), NOW)
    empty = classify_response(spec, answer(200, {"messages": []}), NOW)

    assert sent.provider_message_id == "MSG-1"
    assert (empty.verdict, empty.provider_message_id) == ("sent", None)


@pytest.mark.parametrize(("error", "shown"), [
    ({"code": 21211, "message": "bad  'To'\nnumber"}, '{"code": 21211, "message": "bad \'To\'\\nnumber"}'),
    (21211, "21211"),
    (["blocked", "spam"], '["blocked", "spam"]'),
])
def test_given_a_provider_error_that_is_not_a_string_when_failed_then_the_reason_quotes_it_as_json(error, shown):
    outcome = classify_response(ResponseSpec(error_jmespath="error"), answer(400, {"error": error}), NOW)

    assert outcome.reason == f"provider answered 400: {shown}"


def test_given_an_empty_provider_error_when_failed_then_the_reason_is_the_status_alone():
    outcome = classify_response(ResponseSpec(error_jmespath="error"), answer(400, {"error": {}}), NOW)

    assert outcome.reason == "provider answered 400"


def test_given_a_long_provider_error_when_failed_then_the_reason_quotes_200_characters_and_an_ellipsis():
    outcome = classify_response(ResponseSpec(error_jmespath="error"), answer(422, {"error": "e" * 300}), NOW)

    assert outcome.reason == "provider answered 422: " + "e" * 200 + "…"


def test_given_an_answer_that_is_not_utf8_when_classified_then_it_is_sent_with_no_id_and_a_readable_excerpt():
    outcome = classify_response(ResponseSpec(message_id_jmespath="id"), answer(200, b"OK \xff\xfe id=7"), NOW)

    assert (outcome.verdict, outcome.provider_message_id) == ("sent", None)
    assert outcome.body_excerpt == "OK \ufffd\ufffd id=7"


def test_given_success_jmespath_and_an_answer_that_is_not_utf8_when_classified_then_it_failed_as_not_json():
    outcome = classify_response(ResponseSpec(success_jmespath="ok"), answer(200, b"\xff{\"ok\": true}"), NOW)

    assert outcome.verdict == "failed"
    assert "not JSON" in outcome.reason


@pytest.mark.parametrize("results", [{"0": {"status": "accepted"}}, "accepted", None])
def test_given_batch_results_that_are_not_a_list_when_classified_then_every_recipient_failed_with_no_result(results):
    outcomes = classify_batch_response(ResponseSpec(), BATCH, answer(200, {"results": results}), 2, NOW)

    assert [o.verdict for o in outcomes] == ["failed", "failed"]
    assert all(o.reason == "no result for this recipient in the provider's answer" for o in outcomes)


@pytest.mark.parametrize(("status", "verdict"), [(199, "failed"), (200, "sent"), (299, "sent"), (300, "failed")])
def test_given_the_default_success_statuses_when_classified_then_only_200_to_299_are_sent(status, verdict):
    assert classify_response(ResponseSpec(), answer(status), NOW).verdict == verdict


def test_given_status_300_when_classified_then_it_is_a_redirect_not_followed():
    outcome = classify_response(ResponseSpec(), answer(300), NOW)

    assert outcome.reason == "provider answered 300, a redirect (not followed: fix the URL)"


def test_given_a_batch_answer_when_classified_then_each_recipient_keeps_the_status_its_result_and_a_reason():
    body = {"results": [{"status": "accepted", "id": "a1", "to": "Zoé"}, {"status": "rejected"},
                        {"status": "rejected", "error": ""}]}
    raw = json.dumps(body).encode()

    outcomes = classify_batch_response(ResponseSpec(error_jmespath="error"), BATCH, answer(207, raw), 4, NOW)

    assert outcomes == [
        Outcome("sent", "accepted by the provider (status 207)", provider_message_id="a1", status_code=207,
                body_excerpt='{"status": "accepted", "id": "a1", "to": "Zoé"}'),
        Outcome("failed", "provider refused this recipient", status_code=207, body_excerpt='{"status": "rejected"}'),
        Outcome("failed", "provider refused this recipient", status_code=207,
                body_excerpt='{"status": "rejected", "error": ""}'),
        Outcome("failed", "no result for this recipient in the provider's answer", status_code=207,
                body_excerpt=raw.decode()),
    ]


@pytest.mark.parametrize(("status", "verdict", "not_taken"), [(599, "retry", True), (600, "failed", False)])
def test_given_the_edge_of_the_5xx_range_when_classified_then_600_is_no_server_error(status, verdict, not_taken):
    outcome = classify_response(ResponseSpec(), answer(status), NOW)

    assert (outcome.verdict, outcome.not_taken) == (verdict, not_taken)
