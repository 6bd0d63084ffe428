"""Random and malformed input to the admin API never produces a 5xx: bad input is a 4xx with a JSON message."""
from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.apigw_events import AdminApi
from tests.support.stack import moto_stack

PROVIDER = {"id": "acme", "default": True, "default_sender": "ACME",
            "request": {"url": "https://sms.example.com/v1/messages", "body": {"to": "{{to}}", "text": "{{text}}"}},
            "auth": {"type": "basic", "username": "acct", "password": "pw-SECRET-1"}}

# Routes that take a body, with path parameters a caller could get wrong.
ROUTES = [("POST", "/messages"), ("POST", "/providers"), ("PUT", "/providers/acme"), ("PUT", "/providers/{x}"),
          ("POST", "/providers/acme/preview"), ("POST", "/providers/{x}/preview"), ("POST", "/providers/import-curl"),
          ("PUT", "/consent/acme/{x}"), ("GET", "/consent/acme/{x}"), ("GET", "/messages/{x}"),
          ("GET", "/providers/{x}"), ("DELETE", "/providers/{x}")]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=12)
# Bodies shaped like the real ones, with fields missing, mistyped or unknown.
near_miss = st.fixed_dictionaries({}, optional={
    "to": st.text(max_size=20) | st.integers(), "text": st.text(max_size=40) | st.none(), "id": st.text(max_size=40),
    "type": st.sampled_from(["NOTIFICATION", "MARKETING", "OTHER", ""]), "provider": st.text(max_size=10),
    "expires_at": st.text(max_size=25), "vars": json_values, "state": st.sampled_from(["opted_in", "opted_out", "x"]),
    "request": json_values, "auth": json_values, "curl": st.text(max_size=80), "preset": st.text(max_size=10)})
bodies = st.one_of(json_values.map(json.dumps), near_miss.map(json.dumps), st.text(max_size=60), st.just(""))
segments = st.text(alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="/?#"), min_size=1,
                   max_size=20)


@pytest.fixture(scope="module")
def api():
    with moto_stack("ApiFunction") as stack:
        admin = AdminApi(stack)
        assert admin.call("POST", "/providers", PROVIDER).status == 201
        yield admin


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(route=st.sampled_from(ROUTES), segment=segments, body=bodies,
       content_type=st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded"]))
def test_given_any_input_when_called_then_the_answer_is_never_a_5xx(api, route, segment, body, content_type):
    method, path = route
    answer = api.call(method, path.replace("{x}", segment), raw=body or None, content_type=content_type)

    assert answer.status < 500, (method, path, segment, body, answer.text)
    if answer.status >= 400:
        assert "message" in answer.json()
    assert "pw-SECRET-1" not in answer.text
