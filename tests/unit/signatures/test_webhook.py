"""What every scheme shares: the URL a provider called rebuilt behind API Gateway and proxies, timestamps in
seconds, milliseconds or ISO-8601, the replay window, and the webhook's headers, form and JSON as read."""
from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from smsbridge.core.signatures import SignatureRefused, WebhookRequest, called_urls, parse_timestamp, verify_webhook
from smsbridge.core.signatures.webhook import bearer_token, refuse_replay

from .support import NOW


def _request(headers: dict[str, str] | None = None, **fields) -> WebhookRequest:
    return WebhookRequest(**{"method": "POST", "path": "/inbound/twilio", "headers": headers or {}, **fields})


# ---------------------------------------------------------------- the URL the provider called
# Twilio signs the URL it called, port included when the URL has one, and its own validators try the
# URL with and without the default port: https://www.twilio.com/docs/usage/webhooks/webhooks-security

def test_given_a_proxy_on_a_non_default_port_when_the_url_is_rebuilt_then_the_port_is_in_the_host():
    request = _request({"host": "sms.example.com", "x-forwarded-proto": "https", "x-forwarded-port": "8443"})

    assert called_urls(request, None) == ["https://sms.example.com:8443/inbound/twilio"]


def test_given_a_host_that_names_the_default_port_when_the_url_is_rebuilt_then_it_is_tried_with_and_without():
    request = _request({"host": "sms.example.com:443", "x-forwarded-proto": "https", "x-forwarded-port": "443"})

    assert called_urls(request, None) == ["https://sms.example.com:443/inbound/twilio",
                                          "https://sms.example.com/inbound/twilio"]


def test_given_plain_http_on_port_80_when_the_url_is_rebuilt_then_it_is_tried_without_then_with_the_port():
    request = _request({"host": "sms.example.com", "x-forwarded-proto": "http", "x-forwarded-port": "80"})

    assert called_urls(request, None) == ["http://sms.example.com/inbound/twilio",
                                          "http://sms.example.com:80/inbound/twilio"]


@pytest.mark.parametrize("proto", ["HTTPS, http", None, "", " ", ", http"])
def test_given_a_list_or_no_forwarded_proto_when_the_url_is_rebuilt_then_the_first_or_https_is_used(proto):
    headers = {"host": "sms.example.com"} | ({"x-forwarded-proto": proto} if proto is not None else {})

    assert called_urls(_request(headers), None)[0] == "https://sms.example.com/inbound/twilio"


def test_given_a_custom_domain_with_a_base_path_when_the_url_is_rebuilt_then_the_path_as_called_comes_first():
    request = _request({"host": "api.example.com"}, request_path="/v1/inbound/twilio", stage="prod")

    assert called_urls(request, None) == ["https://api.example.com/v1/inbound/twilio",
                                          "https://api.example.com:443/v1/inbound/twilio",
                                          "https://api.example.com/inbound/twilio",
                                          "https://api.example.com:443/inbound/twilio"]


def test_given_an_execute_api_host_without_the_called_path_when_rebuilt_then_the_stage_path_comes_first():
    host = "abc.execute-api.eu-west-1.amazonaws.com"
    request = _request({"host": host}, stage="prod", query=[("a", "x y~"), ("b", "1")])

    assert called_urls(request, None) == [
        f"https://{host}/prod/inbound/twilio?a=x%20y~&b=1", f"https://{host}/prod/inbound/twilio?a=x+y~&b=1",
        f"https://{host}:443/prod/inbound/twilio?a=x%20y~&b=1", f"https://{host}:443/prod/inbound/twilio?a=x+y~&b=1",
        f"https://{host}/inbound/twilio?a=x%20y~&b=1", f"https://{host}/inbound/twilio?a=x+y~&b=1",
        f"https://{host}:443/inbound/twilio?a=x%20y~&b=1", f"https://{host}:443/inbound/twilio?a=x+y~&b=1"]


def test_given_a_stage_on_a_custom_domain_when_rebuilt_then_no_stage_path_is_made_up():
    request = _request({"host": "api.example.com"}, stage="prod", request_path="/elsewhere")

    assert called_urls(request, None) == ["https://api.example.com/inbound/twilio",
                                          "https://api.example.com:443/inbound/twilio"]


def test_given_a_public_url_with_a_query_when_rebuilt_then_it_is_the_only_url_tried():
    assert called_urls(_request(query=[("a", "1")]), "https://pub.example/hook?x=1") == ["https://pub.example/hook?x=1"]


def test_given_a_public_url_naming_the_whole_path_when_rebuilt_then_the_path_is_not_appended_twice():
    request = _request(query=[("a", "x y")])

    assert called_urls(request, "https://pub.example/base/inbound/twilio/") == [
        "https://pub.example/base/inbound/twilio?a=x%20y", "https://pub.example/base/inbound/twilio?a=x+y"]
    assert called_urls(_request(), "https://pub.example/base/") == ["https://pub.example/base/inbound/twilio",
                                                                    "https://pub.example/base"]


def test_given_no_host_header_and_no_public_url_when_the_url_is_rebuilt_then_there_is_nothing_to_match():
    assert called_urls(_request({"x-forwarded-proto": "https", "x-forwarded-port": "443"}), None) == []


def test_given_a_host_that_names_its_non_default_port_when_the_url_is_rebuilt_then_the_port_is_not_added_again():
    for headers in ({"host": "sms.example.com:8443", "x-forwarded-port": "8443"}, {"host": "sms.example.com:8443"}):
        assert called_urls(_request(headers), None) == ["https://sms.example.com:8443/inbound/twilio"]


def test_given_an_ipv6_host_on_the_default_port_when_the_url_is_rebuilt_then_only_the_port_is_taken_off():
    request = _request({"host": "[2001:db8::1]:443", "x-forwarded-proto": "https"})

    assert called_urls(request, None) == ["https://[2001:db8::1]:443/inbound/twilio",
                                          "https://[2001:db8::1]/inbound/twilio"]


def test_given_a_query_value_with_a_slash_when_the_url_is_rebuilt_then_both_spellings_encode_it():
    request = _request({"host": "sms.example.com"}, query=[("next", "/a b")])

    assert called_urls(request, None)[:2] == ["https://sms.example.com/inbound/twilio?next=%2Fa%20b",
                                              "https://sms.example.com/inbound/twilio?next=%2Fa+b"]


def test_given_a_public_url_whose_path_ends_in_a_capital_x_when_rebuilt_then_only_the_slash_is_taken_off():
    assert called_urls(_request(), "https://pub.example/API-X/")[0] == "https://pub.example/API-X/inbound/twilio"


# ---------------------------------------------------------------- timestamps

@pytest.mark.parametrize("value", [
    str(int(NOW.timestamp())), f" {int(NOW.timestamp())} ", str(int(NOW.timestamp()) * 1000),
    f"{NOW.timestamp():.3f}", "2026-11-21T12:00:00Z", "2026-11-21T13:00:00+01:00", "2026-11-21T12:00:00",
])
def test_given_a_time_in_seconds_milliseconds_or_iso_8601_when_read_then_it_is_the_same_utc_moment(value):
    moment = parse_timestamp(value)

    assert moment == NOW and moment.tzinfo is not None and moment.utcoffset() == timedelta(0)


@pytest.mark.parametrize("value", ["2026-11-21T12:00:00Z", "2026-11-21T21:00:00+09:00", "2026-11-21T12:00:00"])
def test_given_a_machine_in_another_time_zone_when_an_iso_time_is_read_then_it_is_still_utc(value, monkeypatch):
    # A time without an offset is UTC whatever the machine's zone (Lambda runs in UTC; a laptop may not).
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        moment = parse_timestamp(value)
    finally:
        monkeypatch.undo()
        time.tzset()

    assert moment == NOW and moment.tzinfo is UTC


def test_given_milliseconds_with_a_remainder_when_read_then_the_milliseconds_are_kept():
    assert parse_timestamp(str(int(NOW.timestamp()) * 1000 + 250)) == NOW + timedelta(milliseconds=250)


@pytest.mark.parametrize(("value", "moment"), [
    ("100000000000", datetime(5138, 11, 16, 9, 46, 40, tzinfo=UTC)),  # 1e11 is still seconds
    ("100000000001", datetime(1973, 3, 3, 9, 46, 40, 1000, tzinfo=UTC)),  # above it, milliseconds
    ("100000000000000", datetime(5138, 11, 16, 9, 46, 40, tzinfo=UTC)),  # 1e14 ms is the last accepted
    ("-1795262400000", datetime(1913, 2, 10, 12, 0, tzinfo=UTC)),  # before 1970, milliseconds too
])
def test_given_numbers_at_the_seconds_and_milliseconds_bounds_when_read_then_each_reads_as_documented(value, moment):
    assert parse_timestamp(value) == moment


@pytest.mark.parametrize("value", ["100000000000001", "nan", "inf", "-inf", "yesterday"])
def test_given_a_number_beyond_any_clock_or_not_a_time_when_read_then_it_is_a_value_error(value):
    with pytest.raises(ValueError):
        parse_timestamp(value)


@pytest.mark.parametrize(("offset_s", "refused"), [(-300, False), (300, False), (-301, True), (301, True)])
def test_given_a_signed_time_when_checked_against_the_window_then_only_beyond_it_either_way_is_refused(offset_s,
                                                                                                      refused):
    signed_at = NOW + timedelta(seconds=offset_s)
    if not refused:
        refuse_replay(signed_at, NOW, 300)
        return
    with pytest.raises(SignatureRefused) as refusal:
        refuse_replay(signed_at, NOW, 300)
    assert (refusal.value.status, refusal.value.reason) == (
        403, "the signed timestamp is outside the tolerance: replay refused")


# ---------------------------------------------------------------- the webhook as read

def test_given_mixed_case_header_names_when_read_then_the_lookup_ignores_case():
    assert _request({"x-signature": "abc"}).header("X-Signature") == "abc"


def test_given_a_repeated_query_parameter_when_read_then_the_first_value_is_given():
    request = _request(query=[("a", "1"), ("b", "2"), ("b", "3")])

    assert (request.query_value("b"), request.query_value("c")) == ("2", None)


@pytest.mark.parametrize(("content_type", "body", "pairs"), [
    ("application/x-www-form-urlencoded; charset=utf-8", b"a=1&b=&c=%C3%A9", [("a", "1"), ("b", ""), ("c", "é")]),
    ("Application/X-WWW-Form-Urlencoded", b"a=1", [("a", "1")]),
    (None, b"a=1", [("a", "1")]),
    ("application/json", b"a=1", []),
    ("application/x-www-form-urlencoded", b"a=\xff", []),
])
def test_given_a_body_when_read_as_a_form_then_only_a_form_in_utf8_gives_its_pairs_blank_values_kept(content_type,
                                                                                                     body, pairs):
    headers = {"content-type": content_type} if content_type else {}

    assert _request(headers, body=body).form() == pairs


@pytest.mark.parametrize(("body", "document"), [(b'{"a": 1}', {"a": 1}), (b"[1]", None), (b"{", None),
                                                (b"\xff", None), (b"[" * 100_000, None)])
def test_given_a_body_when_read_as_json_then_only_an_object_is_given(body, document):
    assert _request(body=body).json_object() == document


@pytest.mark.parametrize(("authorization", "token"), [("Bearer abc.def", "abc.def"), ("bearer   abc  ", "abc"),
                                                      ("Basic abc", None), ("Bearer ", None), (None, None)])
def test_given_an_authorization_header_when_read_then_only_a_bearer_token_is_given(authorization, token):
    headers = {"authorization": authorization} if authorization is not None else {}

    assert bearer_token(_request(headers)) == token


def test_given_a_refusal_when_it_is_shown_as_an_exception_then_it_reads_as_its_reason():
    assert str(SignatureRefused(403, "the X-Signature signature does not match")) == \
        "the X-Signature signature does not match"


def test_given_an_auth_that_is_no_inbound_scheme_when_verified_then_it_is_403():
    with pytest.raises(SignatureRefused) as refused:
        verify_webhook(object(), _request(), NOW)
    assert (refused.value.status, refused.value.reason) == (403, "unsupported inbound authentication")
