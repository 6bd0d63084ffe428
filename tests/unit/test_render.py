"""Placeholder rendering of a provider's request (SPEC 4)."""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from smsbridge.core.render import RenderError, message_context, render_balance_request, render_request, render_text
from smsbridge.models.message import OutboundMessage, control_character_in
from smsbridge.models.provider import ProviderConfig

NOW = datetime(2026, 11, 21, 10, 30, 5, tzinfo=timezone.utc)
TRICKY_TEXT = 'He said "hi"\n& ü 🎉'


# A provider must carry each message's recipient and content (SPEC 3): these headers do, so that a
# test can look at one part of the request (a body, a query) without repeating them in it.
CARRIER_HEADERS = {"X-Recipient": "{{to}}", "X-Template": "{{template_id}}"}


def provider(**request: Any) -> ProviderConfig:
    extra = request.pop("provider_fields", {})
    request["headers"] = {**CARRIER_HEADERS, **request.get("headers", {})}
    return ProviderConfig.model_validate({"id": "acme", "request": {"url": "https://sms.example.com/send", **request},
                                          **extra})


def message(text: str = "Your code is 1234", **fields: Any) -> OutboundMessage:
    return OutboundMessage(to="+33612345678", text=text, **fields)


def json_body(config: ProviderConfig, *messages: OutboundMessage) -> Any:
    return json.loads(render_request(config, list(messages or [message()]), NOW).body)


def form_pairs(config: ProviderConfig, *messages: OutboundMessage) -> list[tuple[str, str]]:
    body = render_request(config, list(messages or [message()]), NOW).body
    return parse_qsl(body.decode("ascii"), keep_blank_values=True, strict_parsing=bool(body))


FULL_MESSAGE = dict(id="msg-42", sender="ACME", type="NOTIFICATION", template_id="tpl-7",
                    template_variables={"code": 1234}, campaign_id="camp-9", vars={"name": "Zoé", "n": 3})


# ---------------------------------------------------------------- placeholders and aliases

@pytest.mark.parametrize(("template", "expected"), [
    ("{{to}}", "+33612345678"),
    ("$$To", "+33612345678"),
    ("%TO%", "+33612345678"),
    ("{{to_digits}}", "33612345678"),
    ("{{text}}", "Your code is 1234"),
    ("$$Body", "Your code is 1234"),
    ("%MESSAGE%", "Your code is 1234"),
    ("{{id}}", "msg-42"),
    ("$$MessageID", "msg-42"),
    ("{{sender}}", "ACME"),
    ("{{type}}", "NOTIFICATION"),
    ("{{is_unicode}}", "false"),
    ("{{segments}}", "1"),
    ("{{credits}}", "1"),
    ("{{template_id}}", "tpl-7"),
    ("$$TemplateID", "tpl-7"),
    ("{{template_variables}}", '{"code":1234}'),
    ("$$TemplateVariables", '{"code":1234}'),
    ("{{campaign_id}}", "camp-9"),
    ("$$CampaignID", "camp-9"),
    ("{{vars.name}}", "Zoé"),
    ("$$name", "Zoé"),
    ("{{now_iso}}", "2026-11-21T10:30:05Z"),
    ("{{now_unix}}", str(int(NOW.timestamp()))),
    ("{{ to }}", "+33612345678"),
])
def test_given_a_placeholder_in_text_when_rendered_then_it_is_replaced_by_its_value(template, expected):
    config = provider(body={"value": f"<{template}>"})

    assert json_body(config, message(**FULL_MESSAGE)) == {"value": f"<{expected}>"}


def test_given_uuid_placeholder_when_rendered_twice_then_each_render_has_a_fresh_uuid4():
    config = provider(body={"value": "{{uuid}}"})

    first, second = json_body(config)["value"], json_body(config)["value"]

    assert uuid.UUID(first).version == 4
    assert first != second


def test_given_no_sender_when_provider_has_a_default_sender_then_sender_is_the_default():
    config = provider(body={"from": "{{sender}}", "type": "{{type}}"}, provider_fields={"default_sender": "BRIDGE"})

    assert json_body(config) == {"from": "BRIDGE", "type": "NOTIFICATION"}


def test_given_no_sender_and_no_default_sender_when_rendered_then_type_is_marketing():
    config = provider(body={"from": "{{sender}}", "type": "{{type}}"})

    assert json_body(config) == {"from": None, "type": "MARKETING"}


def test_given_the_message_context_then_values_keep_their_types():
    context = message_context(message("hi 🎉", **FULL_MESSAGE), provider(), NOW)

    assert context["is_unicode"] is True
    assert context["segments"] == context["credits"] == 1
    assert context["now_unix"] == int(NOW.timestamp())
    assert context["template_variables"] == {"code": 1234}
    assert context["text"] == "hi 🎉"


# ---------------------------------------------------------------- JSON bodies

def test_given_a_json_leaf_that_is_one_placeholder_when_rendered_then_it_takes_the_values_json_type():
    config = provider(body={"unicode": "{{is_unicode}}", "credits": "{{segments}}", "vars": "{{template_variables}}",
                            "n": "{{vars.n}}", "at": "{{now_unix}}", "missing": "{{campaign_id}}"})

    body = json_body(config, message("🎉", template_variables={"code": [1, 2]}, vars={"n": 3}))

    assert body == {"unicode": True, "credits": 1, "vars": {"code": [1, 2]}, "n": 3,
                    "at": int(NOW.timestamp()), "missing": None}


def test_given_a_json_leaf_mixing_text_and_placeholders_when_rendered_then_it_is_a_string():
    config = provider(body={"note": "{{segments}} part(s), unicode={{is_unicode}}"})

    assert json_body(config) == {"note": "1 part(s), unicode=false"}


def test_given_placeholders_in_json_keys_when_rendered_then_keys_are_rendered_as_text():
    config = provider(body={"{{to_digits}}": {"text": "{{text}}"}})

    assert json_body(config) == {"33612345678": {"text": "Your code is 1234"}}


def test_given_non_string_json_values_when_rendered_then_they_are_kept_as_they_are():
    config = provider(body={"priority": 3, "flash": False, "extra": None, "list": [1, "{{to}}"]})

    assert json_body(config) == {"priority": 3, "flash": False, "extra": None, "list": [1, "+33612345678"]}


def test_given_quotes_newlines_and_emoji_when_rendered_in_json_then_the_body_is_valid_json_with_the_text_intact():
    config = provider(body={"to": "%TO%", "body": "%MESSAGE%"})

    body = render_request(config, [message(TRICKY_TEXT)], NOW).body

    assert json.loads(body.decode("utf-8")) == {"to": "+33612345678", "body": TRICKY_TEXT}


def test_given_a_json_body_when_rendered_then_content_type_is_json_utf8():
    request = render_request(provider(body={"to": "{{to}}"}), [message()], NOW)

    assert request.headers["Content-Type"] == "application/json; charset=utf-8"
    assert request.method == "POST"


@pytest.mark.parametrize("literal", ["{{to}}", "%TO%", "$$Body", "{{ text }}", "$$name", "{{tto}}"])
def test_given_message_text_containing_placeholders_when_rendered_then_it_is_sent_literally(literal):
    text = f"see {literal} here"
    config = provider(body={"body": "%MESSAGE%", "note": "text: {{text}}"})

    body = json_body(config, message(text, vars={"name": "X"}))

    assert body == {"body": text, "note": f"text: {text}"}


def test_given_a_var_holding_placeholders_when_rendered_then_it_is_sent_literally():
    config = provider(content_type="form", body={"msg": "{{vars.greeting}} {{text}}"})

    assert form_pairs(config, message("hi", vars={"greeting": "%TO%$$Body"})) == [("msg", "%TO%$$Body hi")]


@given(st.text(min_size=1).filter(lambda t: t.strip() and control_character_in(t) is None))  # SPEC 2 texts
@settings(max_examples=200, deadline=None)
def test_property_any_text_survives_json_rendering_unchanged(text):
    # Smart encoding off: this is about escaping; what smart encoding changes is tested below.
    config = provider(body={"to": "%TO%", "body": "%MESSAGE%"}, provider_fields={"smart_encoding": False})

    assert json.loads(render_request(config, [message(text)], NOW).body)["body"] == text


@pytest.mark.parametrize("content_type", ["json", "form"])
def test_given_a_lone_surrogate_in_a_var_when_rendered_then_a_render_error_explains_it(content_type):
    # pydantic refuses one in `text`, but `vars` holds any JSON, and JSON can spell "\ud800"
    config = provider(content_type=content_type, body={"ref": "{{vars.ref}}"})

    with pytest.raises(RenderError, match="cannot be encoded"):
        render_request(config, [message(vars=json.loads('{"ref": "a\\ud800b"}'))], NOW)


# ---------------------------------------------------------------- form bodies

def test_given_reserved_characters_when_rendered_in_a_form_then_they_are_percent_encoded_once():
    config = provider(content_type="form", body={"Body": "{{text}}"})

    body = render_request(config, [message("a&b=c+d e%f🎉")], NOW).body

    assert body == b"Body=a%26b%3Dc%2Bd+e%25f%F0%9F%8E%89"


def test_given_a_form_body_when_rendered_then_content_type_is_form_utf8():
    request = render_request(provider(content_type="form", body={"To": "{{to}}"}), [message()], NOW)

    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded; charset=utf-8"


def test_given_form_pairs_with_a_repeated_key_when_rendered_then_order_and_repeats_are_kept():
    config = provider(content_type="form", body=[["to", "{{to}}"], ["tag", "a"], ["to", "+441234567890"], ["b", "1"]])

    assert form_pairs(config) == [("to", "+33612345678"), ("tag", "a"), ("to", "+441234567890"), ("b", "1")]


def test_given_booleans_and_missing_values_in_a_form_when_rendered_then_they_are_true_false_and_empty():
    config = provider(content_type="form", body={"unicode": "{{is_unicode}}", "campaign": "{{campaign_id}}"})

    assert form_pairs(config) == [("unicode", "false"), ("campaign", "")]


@given(st.text(min_size=1).filter(lambda t: t.strip() and control_character_in(t) is None))  # SPEC 2 texts
@settings(max_examples=200, deadline=None)
def test_property_any_text_survives_form_rendering_unchanged(text):
    config = provider(content_type="form", body={"To": "%TO%", "Body": "%MESSAGE%"},
                      provider_fields={"smart_encoding": False})

    body = render_request(config, [message(text)], NOW).body.decode("ascii")

    assert parse_qsl(body, keep_blank_values=True, strict_parsing=True) == [("To", "+33612345678"), ("Body", text)]


# ---------------------------------------------------------------- URL, query and headers

def test_given_a_query_when_rendered_then_it_is_encoded_once_and_merged_with_the_urls_own_query():
    config = provider(url="https://sms.example.com/send?api=2", method="GET", content_type="none",
                      query={"to": "{{to}}", "text": "{{text}}"})

    request = render_request(config, [message("a&b c")], NOW)

    assert request.url == "https://sms.example.com/send?api=2&to=%2B33612345678&text=a%26b+c"
    assert request.body is None
    assert "Content-Type" not in request.headers


def test_given_a_query_and_no_query_in_the_url_when_rendered_then_a_question_mark_starts_it():
    config = provider(method="GET", content_type="none", query={"to": "$$To"})

    assert render_request(config, [message()], NOW).url == "https://sms.example.com/send?to=%2B33612345678"


def test_given_a_placeholder_in_the_url_path_when_rendered_then_its_value_is_percent_encoded_whole():
    config = provider(url="https://sms.example.com/accounts/{{vars.account}}/messages", body={})

    url = render_request(config, [message(vars={"account": "a/b?c#d"})], NOW).url

    assert url == "https://sms.example.com/accounts/a%2Fb%3Fc%23d/messages"
    assert urlsplit(url).path == "/accounts/a%2Fb%3Fc%23d/messages"


def test_given_header_templates_when_rendered_then_values_are_filled_as_text():
    config = provider(headers={"X-Message-Id": "$$MessageID", "X-Sender": "{{sender}}"}, body={})

    request = render_request(config, [message(id="msg-1", sender="ACME")], NOW)

    assert request.headers["X-Message-Id"] == "msg-1"
    assert request.headers["X-Sender"] == "ACME"


@pytest.mark.parametrize("value", ["evil\r\nX-Injected: 1", "evil\nX-Injected: 1", "evil\r"])
def test_given_a_value_with_a_line_break_when_rendered_in_a_header_then_it_is_refused(value):
    config = provider(headers={"X-Ref": "{{vars.ref}}"}, body={})

    with pytest.raises(RenderError, match="X-Ref"):
        render_request(config, [message(vars={"ref": value})], NOW)


def test_given_a_header_template_with_a_line_break_when_the_provider_is_saved_then_it_is_refused():
    with pytest.raises(ValidationError, match="not allowed in a header"):
        provider(headers={"X-Ref": "a\r\nX-Injected: 1"}, body={})


def test_given_a_value_a_header_cannot_carry_when_rendered_in_a_header_then_it_is_refused():
    config = provider(headers={"X-Text": "{{text}}"}, body={})

    with pytest.raises(RenderError, match="X-Text"):
        render_request(config, [message("party 🎉")], NOW)


# ---------------------------------------------------------------- checks when a provider is saved

@pytest.mark.parametrize("request_fields", [
    {"body": {"to": "{{tto}}"}},
    {"body": {"to": "{{vars}}"}},
    {"body": {"to": "{{vars.}}"}},
    {"body": {"{{nope}}": "x"}},
    {"body": {"items": [{"to": "{{ too }}"}]}},
    {"url": "https://sms.example.com/{{account}}/send", "body": {}},
    {"query": {"to": "{{destination}}"}, "body": {}},
    {"headers": {"X-To": "{{phone}}"}, "body": {}},
    {"content_type": "form", "body": {"to": "{{number}}"}},
    {"body": {"messages": [{"to": "{{recipient}}"}]}, "batch": {"key": "messages"}},
])
def test_given_an_unknown_placeholder_when_the_provider_is_saved_then_it_is_refused(request_fields):
    with pytest.raises(ValidationError, match="unknown placeholder"):
        provider(**request_fields)


def test_given_several_unknown_placeholders_when_refused_then_the_error_names_each_of_them():
    with pytest.raises(ValidationError) as refused:
        provider(body={"to": "{{tto}}", "text": "{{txt}}"})

    assert "{{tto}}" in str(refused.value)
    assert "{{txt}}" in str(refused.value)


def test_given_only_known_placeholders_and_aliases_when_the_provider_is_saved_then_it_is_accepted():
    config = provider(body={"a": "{{ to }} $$To %TO% {{vars.x}} $$Anything {{credits}} {{uuid}} {{now_iso}}"})

    assert config.request.body["a"].startswith("{{ to }}")


# ---------------------------------------------------------------- vars

def test_given_a_var_the_message_lacks_when_rendered_then_a_render_error_names_it():
    config = provider(body={"ref": "{{vars.order}}"})

    with pytest.raises(RenderError, match=r"^message has no vars\.order, which the provider's template uses$"):
        render_request(config, [message()], NOW)


def test_given_a_dollar_alias_for_a_var_the_message_lacks_when_rendered_then_a_render_error_names_it():
    config = provider(content_type="form", body={"ref": "$$OrderRef"})

    with pytest.raises(RenderError, match=r"vars\.OrderRef"):
        render_request(config, [message()], NOW)


# ---------------------------------------------------------------- batching

BATCH_BODY = {"from": "{{sender}}", "campaign": "{{campaign_id}}",
              "messages": {"to": "{{to}}", "text": "{{text}}", "ref": "{{id}}"}}


def test_given_batching_when_three_messages_are_rendered_then_the_array_has_one_element_per_message():
    config = provider(body=BATCH_BODY, batch={"key": "messages", "max_size": 3})
    messages = [OutboundMessage(id=f"m{n}", to=f"+3361234567{n}", text=f"text {n}", sender=f"S{n}", campaign_id="c")
                for n in range(3)]

    body = json_body(config, *messages)

    assert body["messages"] == [{"to": f"+3361234567{n}", "text": f"text {n}", "ref": f"m{n}"} for n in range(3)]


def test_given_batching_when_rendered_then_the_rest_of_the_request_comes_from_the_first_message():
    config = provider(url="https://sms.example.com/{{vars.account}}", headers={"X-Sender": "{{sender}}"},
                      query={"c": "{{campaign_id}}"}, body=BATCH_BODY, batch={"key": "messages"})
    first = OutboundMessage(to="+33612345670", text="one", sender="FIRST", campaign_id="c1", vars={"account": "a1"})
    second = OutboundMessage(to="+33612345671", text="two", sender="SECOND", campaign_id="c2", vars={"account": "a2"})

    request = render_request(config, [first, second], NOW)
    body = json.loads(request.body)

    assert (body["from"], body["campaign"]) == ("FIRST", "c1")
    assert request.url == "https://sms.example.com/a1?c=c1"
    assert request.headers["X-Sender"] == "FIRST"


def test_given_a_one_element_list_as_batch_template_when_rendered_then_it_is_the_element_template():
    config = provider(body={"messages": [{"to": "{{to}}"}]}, batch={"key": "messages"})
    messages = [message(), OutboundMessage(to="+441234567890", text="x")]

    assert json_body(config, *messages) == {"messages": [{"to": "+33612345678"}, {"to": "+441234567890"}]}


def test_given_batching_when_one_message_is_rendered_then_the_array_holds_one_element():
    config = provider(body=BATCH_BODY, batch={"key": "messages"})

    body = json_body(config, message(id="only"))

    assert body["messages"] == [{"to": "+33612345678", "text": "Your code is 1234", "ref": "only"}]


def test_given_a_batch_template_list_of_two_elements_when_the_provider_is_saved_then_it_is_refused():
    with pytest.raises(ValidationError, match="exactly one element"):
        provider(body={"messages": [{"to": "{{to}}"}, {"to": "{{to}}"}]}, batch={"key": "messages"})


def test_given_more_messages_than_the_batch_size_when_rendered_then_it_is_refused():
    config = provider(body=BATCH_BODY, batch={"key": "messages", "max_size": 2})

    with pytest.raises(ValueError, match="max_size 2"):
        render_request(config, [message(), message(), message()], NOW)


def test_given_no_batching_when_two_messages_are_rendered_then_it_is_refused():
    with pytest.raises(ValueError, match="no request.batch"):
        render_request(provider(body={"to": "{{to}}"}), [message(), message()], NOW)


# ---------------------------------------------------------------- render_text

def test_given_extra_context_values_when_rendering_text_then_any_name_in_the_context_is_filled():
    assert render_text("{{method}}\n{{path}}\n{{ timestamp }}", {"method": "POST", "path": "/v1?a=1",
                                                                    "timestamp": 1700000000}) \
        == "POST\n/v1?a=1\n1700000000"


def test_given_a_name_missing_from_the_context_when_rendering_text_then_a_render_error_names_it():
    with pytest.raises(RenderError, match=r"\{\{key_id\}\}"):
        render_text("HMAC {{key_id}}:", {"method": "POST"})


# ---------------------------------------------------------------- {{secrets.NAME}}

SECRET_VALUE = 'k3y"&=+/ é'  # JSON, form and URL reserved characters: each form must escape it its own way


def with_secret(**request: Any) -> ProviderConfig:
    return provider(**request, provider_fields={"secrets": {"apikey": SECRET_VALUE}})


def test_given_a_secret_in_a_json_body_when_rendered_then_it_is_a_json_string_with_the_value_intact():
    config = with_secret(body={"auth": {"key": "{{secrets.apikey}}"}, "note": "key={{secrets.apikey}}"})

    assert json_body(config) == {"auth": {"key": SECRET_VALUE}, "note": f"key={SECRET_VALUE}"}


def test_given_a_secret_in_a_form_body_when_rendered_then_it_is_percent_encoded_once():
    config = with_secret(content_type="form", body={"apikey": "{{secrets.apikey}}", "message": "{{text}}"})

    body = render_request(config, [message()], NOW).body

    assert body.startswith(b"apikey=k3y%22%26%3D%2B%2F+%C3%A9&")
    assert form_pairs(config)[0] == ("apikey", SECRET_VALUE)


def test_given_a_secret_in_the_query_and_the_url_path_when_rendered_then_each_is_percent_encoded_whole():
    config = with_secret(url="https://sms.example.com/{{secrets.apikey}}/send", method="GET", content_type="none",
                         query={"key": "{{secrets.apikey}}"})

    url = render_request(config, [message()], NOW).url

    assert urlsplit(url).path == "/k3y%22%26%3D%2B%2F%20%C3%A9/send"
    assert parse_qsl(urlsplit(url).query) == [("key", SECRET_VALUE)]


def test_given_a_secret_in_a_header_when_rendered_then_the_header_holds_it():
    config = provider(headers={"X-Api-Key": "{{secrets.token}}"}, body={},
                      provider_fields={"secrets": {"token": "tok-123"}})

    assert render_request(config, [message()], NOW).headers["X-Api-Key"] == "tok-123"


def test_given_a_message_text_spelling_a_secret_placeholder_when_rendered_then_it_is_sent_literally():
    config = with_secret(body={"text": "{{text}}"})

    assert json_body(config, message("show {{secrets.apikey}}")) == {"text": "show {{secrets.apikey}}"}


def test_given_a_secret_the_provider_does_not_define_when_saved_then_it_is_refused_naming_it():
    with pytest.raises(ValidationError, match=r"\{\{secrets\.api_secret\}\} \(in request\): no secret of that name "
                                              r"in `secrets` \(defined: apikey\)"):
        with_secret(body={"key": "{{secrets.apikey}}", "secret": "{{secrets.api_secret}}"})


def test_given_a_balance_url_and_header_with_secrets_when_rendered_then_both_are_filled():
    config = provider(body={}, provider_fields={
        "secrets": {"apikey": "a b/c", "token": "t-1"},
        "balance": {"url": "https://sms.example.com/balance?apikey={{secrets.apikey}}",
                    "headers": {"X-Token": "{{secrets.token}}"}}})

    request = render_balance_request(config)

    assert request.url == "https://sms.example.com/balance?apikey=a%20b%2Fc"
    assert request.headers == {"X-Token": "t-1"}
    assert request.method == "GET" and request.body is None


@pytest.mark.parametrize("balance", [
    {"url": "https://sms.example.com/balance/{{to}}"},
    {"url": "https://sms.example.com/balance", "headers": {"X-Key": "{{secrets.nope}}"}},
])
def test_given_a_balance_template_that_cannot_render_when_saved_then_it_is_refused(balance):
    with pytest.raises(ValidationError, match=r"balance"):
        provider(body={}, provider_fields={"balance": balance})


# ---------------------------------------------------------------- choice {{NAME?a:b}}

@pytest.mark.parametrize(("text", "expected"), [("Prix: 5€ 🎉", "unicode"), ("Your code is 1234", "text")])
def test_given_a_choice_on_is_unicode_when_rendered_then_it_gives_the_first_value_for_unicode_else_the_second(
        text, expected):
    config = provider(body={"type": "{{is_unicode?unicode:text}}", "mixed": "t={{ is_unicode ? unicode : text }}"})

    assert json_body(config, message(text)) == {"type": expected, "mixed": f"t={expected}"}


def test_given_a_choice_in_a_form_when_rendered_then_it_is_a_form_value():
    config = provider(content_type="form", body={"type": "{{is_unicode?unicode:text}}"})

    assert form_pairs(config, message("Привет")) == [("type", "unicode")]


def test_given_a_choice_on_a_var_the_message_lacks_when_rendered_then_it_gives_the_second_value():
    config = provider(body={"priority": "{{vars.urgent?high:normal}}"})

    assert json_body(config, message(vars={"urgent": True})) == {"priority": "high"}
    assert json_body(config, message()) == {"priority": "normal"}


@pytest.mark.parametrize(("template", "error"), [
    ("{{unicode?yes:no}}", "unknown placeholder"),
    ("{{secrets.apikey?yes:no}}", "a choice"),
])
def test_given_a_choice_on_a_name_that_cannot_choose_when_saved_then_it_is_refused(template, error):
    with pytest.raises(ValidationError, match=error):
        with_secret(body={"type": template})


# ---------------------------------------------------------------- recipient and content (SPEC 3)

def bare(**request: Any) -> ProviderConfig:
    """A provider with exactly the request given: no carrier headers."""
    return ProviderConfig.model_validate({"id": "acme", "request": {"url": "https://sms.example.com/send", **request}})


@pytest.mark.parametrize("request_fields", [
    {"body": {"to": "{{to}}", "text": "{{text}}"}},
    {"body": {"to": "$$To", "text": "$$Body"}},
    {"content_type": "form", "body": {"to": "%TO%", "text": "%MESSAGE%"}},
    {"body": {"msisdn": "{{to_digits}}", "template": "{{template_id}}"}},
    {"url": "https://sms.example.com/send/{{to_digits}}", "method": "GET", "content_type": "none",
     "query": {"text": "{{text}}"}},
    {"headers": {"X-To": "{{to}}"}, "body": {"text": "{{text}}"}},
])
def test_given_a_request_carrying_recipient_and_content_when_saved_then_it_is_accepted(request_fields):
    assert bare(**request_fields).request.url


@pytest.mark.parametrize(("request_fields", "missing"), [
    ({"body": {"to": "+33612345678", "text": "{{text}}"}}, "carries no recipient"),
    ({"body": {"to": "{{to}}", "text": "Hello"}}, "carries no content"),
    ({"body": {"to": "{{to?x:y}}", "text": "{{text}}"}}, "carries no recipient"),
    ({"body": {"from": "{{sender}}"}}, "carries no recipient.*carries no content"),
])
def test_given_a_request_without_recipient_or_content_when_saved_then_it_is_refused_naming_what_is_missing(
        request_fields, missing):
    with pytest.raises(ValidationError, match=missing):
        bare(**request_fields)


def test_given_batching_with_the_recipient_outside_the_element_when_saved_then_it_is_refused_naming_the_element():
    with pytest.raises(ValidationError, match=r"carries no recipient.*batch element \(request\.body\.messages\)"):
        bare(body={"to": "{{to}}", "messages": [{"text": "{{text}}"}]}, batch={"key": "messages"})


def test_given_batching_with_the_recipient_in_the_element_when_saved_then_it_is_accepted():
    assert bare(body={"messages": [{"to": "{{to}}", "text": "{{text}}"}]}, batch={"key": "messages"}).request.batch


# ---------------------------------------------------------------- smart encoding (SPEC 3)

def test_given_curly_quotes_when_rendered_with_smart_encoding_then_the_provider_gets_gsm7_and_its_segments():
    config = provider(body={"to": "{{to}}", "text": "{{text}}", "unicode": "{{is_unicode}}", "parts": "{{segments}}",
                            "credits": "{{credits}}"})

    body = json_body(config, message("Don’t “panic” – it’s fine… " + "x" * 120))

    assert body == {"to": "+33612345678", "text": "Don't \"panic\" - it's fine... " + "x" * 120,
                    "unicode": False, "parts": 1, "credits": 1}


def test_given_smart_encoding_off_when_rendered_then_the_text_is_sent_as_written_in_ucs2_segments():
    config = provider(body={"text": "{{text}}", "unicode": "{{is_unicode}}", "parts": "{{segments}}"},
                      provider_fields={"smart_encoding": False})

    body = json_body(config, message("Don’t “panic” – it’s fine… " + "x" * 120))

    assert body == {"text": "Don’t “panic” – it’s fine… " + "x" * 120, "unicode": True, "parts": 3}


def test_given_an_emoji_beside_curly_quotes_when_rendered_then_nothing_is_replaced():
    config = provider(body={"text": "{{text}}", "unicode": "{{is_unicode}}"})

    assert json_body(config, message("“Party” 🎉")) == {"text": "“Party” 🎉", "unicode": True}


# ---------------------------------------------------------------- typed values as text (issue 16)

TWO_SEGMENTS_GSM7 = "a" * 161  # 161 GSM-7 characters: two segments of 153
UNICODE_TEXT = "Ünïcödé ✓"  # ✓ is not GSM-7


def test_given_a_two_segment_message_when_rendered_in_a_form_and_json_then_segments_is_the_integer_2():
    form = provider(content_type="form", body={"parts": "{{segments}}", "credits": "{{credits}} credits"})
    json_config = provider(body={"parts": "{{segments}}", "note": "{{segments}} parts"})

    assert form_pairs(form, message(TWO_SEGMENTS_GSM7)) == [("parts", "2"), ("credits", "2 credits")]
    rendered = render_request(json_config, [message(TWO_SEGMENTS_GSM7)], NOW).body
    assert b'"parts":2,' in rendered and json.loads(rendered)["note"] == "2 parts"


def test_given_a_unicode_message_when_rendered_in_a_form_url_and_header_then_is_unicode_is_true():
    config = provider(content_type="form", url="https://sms.example.com/send/{{is_unicode}}",
                      headers={"X-Unicode": "{{is_unicode}}"}, body={"unicode": "{{is_unicode}}",
                                                                   "mode": "{{is_unicode?ucs2:gsm}}"})

    request = render_request(config, [message(UNICODE_TEXT)], NOW)

    assert parse_qsl(request.body.decode()) == [("unicode", "true"), ("mode", "ucs2")]
    assert request.url == "https://sms.example.com/send/true"
    assert request.headers["X-Unicode"] == "true"


@pytest.mark.parametrize(("value", "text"), [(True, "true"), (False, "false"), (None, ""), (0, "0"), (2.5, "2.5"),
                                             ({"a": [1, "é"]}, '{"a":[1,"é"]}')])
def test_given_typed_values_when_rendered_as_text_then_each_has_its_json_spelling(value, text):
    assert render_text("[{{v}}]", {"v": value}) == f"[{text}]"


@pytest.mark.parametrize(("url", "sent"), [
    ("https://sms.example.com/send#top", "https://sms.example.com/send?to=%2B33612345678#top"),
    ("https://sms.example.com/send?", "https://sms.example.com/send?to=%2B33612345678"),
    ("https://sms.example.com/send?v=2&", "https://sms.example.com/send?v=2&to=%2B33612345678"),
    ("https://sms.example.com/send?v=2", "https://sms.example.com/send?v=2&to=%2B33612345678"),
])
def test_given_a_url_with_a_fragment_or_an_open_query_when_query_fields_are_added_then_they_join_it_once(url, sent):
    config = provider(url=url, method="GET", content_type="none", body=None, query={"to": "{{to}}"})

    assert render_request(config, [message()], NOW).url == sent


def test_given_a_balance_check_by_post_when_rendered_then_it_sends_an_empty_body():
    config = provider(body={}, provider_fields={"balance": {"url": "https://sms.example.com/balance", "method": "POST"}})

    request = render_balance_request(config)

    assert (request.method, request.body) == ("POST", b"")


def test_given_no_message_when_a_request_is_rendered_then_the_error_says_so():
    with pytest.raises(ValueError, match="^render_request needs at least one message$"):
        render_request(provider(body={"to": "{{to}}"}), [], NOW)
