"""Routing rules (SPEC 12) through the admin API (`GET|PUT /routing`) and through the send function to
real loopback providers, on moto: Must show 6 of issue 11."""
from __future__ import annotations

import json

import pytest

from smsbridge.models.provider import ProviderConfig
from smsbridge.models.routing import RoutingRules
from tests.support.apigw_events import AdminApi
from tests.support.loopback import LoopbackProvider

UK, FRANCE = "+447400123456", "+33612345678"
UK_RULE = {"match": {"prefixes": ["+44"]}, "provider": "uk", "sender": "ACMEUK"}


def provider_document(provider_id: str, url: str, **fields) -> dict:
    return {"id": provider_id, "default_sender": "ACME", "request": {"url": url, "body": {
        "to": "{{to}}", "text": "{{text}}", "from": "{{sender}}"}}, **fields}


# ---------------------------------------------------------------- admin API

def test_given_no_rules_when_read_then_the_list_is_empty(api: AdminApi) -> None:
    answer = api.call("GET", "/routing")

    assert answer.status == 200 and answer.json() == {"rules": []}


def test_given_existing_providers_when_rules_are_put_then_they_read_back_in_order(api: AdminApi) -> None:
    for provider_id in ("acme", "uk"):
        assert api.call("POST", "/providers", provider_document(provider_id, "https://sms.example.com/v1",
                                                                default=provider_id == "acme")).status == 201
    rules = {"rules": [UK_RULE, {"match": {"countries": ["fr"], "type": "MARKETING"}, "provider": "acme"}]}

    put = api.call("PUT", "/routing", rules)

    assert put.status == 200
    assert api.call("GET", "/routing").json()["rules"] == [
        {"match": {"countries": None, "prefixes": ["+44"], "type": None}, "provider": "uk", "sender": "ACMEUK"},
        {"match": {"countries": ["FR"], "prefixes": None, "type": "MARKETING"}, "provider": "acme", "sender": None}]


def test_given_a_rule_naming_a_missing_provider_when_put_then_422_names_the_field_and_nothing_changes(
        api: AdminApi) -> None:
    assert api.call("POST", "/providers", provider_document("acme", "https://sms.example.com/v1")).status == 201
    assert api.call("PUT", "/routing", {"rules": [{"provider": "acme"}]}).status == 200

    answer = api.call("PUT", "/routing", {"rules": [{"provider": "acme"}, {"provider": "ghost"}]})

    assert answer.status == 422
    assert answer.json()["errors"] == [{"loc": "body.rules.1.provider", "msg": "no provider 'ghost'"}]
    assert [rule["provider"] for rule in api.call("GET", "/routing").json()["rules"]] == ["acme"]


@pytest.mark.parametrize(("rule", "where"), [
    ({"match": {"countries": ["UK"]}, "provider": "acme"}, "body.rules.0.match.countries"),
    ({"match": {"prefixes": ["44"]}, "provider": "acme"}, "body.rules.0.match.prefixes"),
    ({"match": {"type": "OTP"}, "provider": "acme"}, "body.rules.0.match.type"),
    ({"match": {}, "provider": "acme", "sender": "NOT/VALID"}, "body.rules.0.sender"),
    ({"match": {}}, "body.rules.0.provider"),
])
def test_given_an_invalid_rule_when_put_then_422_names_its_field(api: AdminApi, rule: dict, where: str) -> None:
    answer = api.call("PUT", "/routing", {"rules": [rule]})

    assert answer.status == 422
    assert any(error["loc"].startswith(where) for error in answer.json()["errors"]), answer.json()


def test_given_a_body_that_is_not_json_when_put_then_400(api: AdminApi) -> None:
    assert api.call("PUT", "/routing", raw="{rules: [").status == 400


def test_given_a_uk_rule_when_a_uk_message_is_posted_then_it_is_queued_for_the_uk_provider_with_the_rule_named(
        api: AdminApi) -> None:
    api.call("POST", "/providers", provider_document("acme", "https://sms.example.com/v1", default=True))
    api.call("POST", "/providers", provider_document("uk", "https://uk.example.com/v1"))
    api.call("PUT", "/routing", {"rules": [UK_RULE]})

    api.call("POST", "/messages", {"id": "m-uk", "to": UK, "text": "hi", "type": "NOTIFICATION"})
    api.call("POST", "/messages", {"id": "m-fr", "to": FRANCE, "text": "hi", "type": "NOTIFICATION"})

    queued = {body["id"]: body for body in api.queued()}
    assert (queued["m-uk"]["provider"], queued["m-uk"]["sender"]) == ("uk", "ACMEUK")
    assert queued["m-fr"]["provider"] == "acme"
    uk = api.call("GET", "/messages/m-uk").json()
    assert uk["provider"] == "uk"
    assert uk["history"][0]["reason"] == "routed by rule 1: +44 → uk"
    assert api.call("GET", "/messages/m-fr").json()["history"][0]["reason"] == \
        "no routing rule matched: default provider acme"


# ---------------------------------------------------------------- the send path

def test_given_a_plus_44_rule_when_messages_are_sent_then_uk_goes_to_it_france_to_the_default_and_named_to_its_own(
        stack) -> None:
    """Must show 6: a UK number goes to the second provider, a French number to the default, and a
    message naming its provider goes to it whatever the rules say."""
    from send_handler import lambda_handler
    from smsbridge.wiring import message_store, provider_store, routing_store

    with LoopbackProvider() as default, LoopbackProvider() as second:
        provider_store().put(ProviderConfig.model_validate(provider_document("acme", default.url_for("/sms"),
                                                                             default=True)))
        provider_store().put(ProviderConfig.model_validate(provider_document("uk", second.url_for("/sms"))))
        routing_store().put(RoutingRules.model_validate({"rules": [UK_RULE]}))
        stack.enqueue({"id": "to-uk", "to": UK, "text": "hello UK", "type": "NOTIFICATION"})
        stack.enqueue({"id": "to-fr", "to": FRANCE, "text": "bonjour", "type": "NOTIFICATION"})
        stack.enqueue({"id": "named", "to": UK, "text": "named", "provider": "acme", "type": "NOTIFICATION"})

        for _ in range(3):
            stack.deliver(stack.receive(), lambda_handler)

        at_second = [json.loads(r.body) for r in second.requests]
        at_default = sorted((json.loads(r.body) for r in default.requests), key=lambda b: b["text"])
    assert at_second == [{"to": UK, "text": "hello UK", "from": "ACMEUK"}]
    assert at_default == [{"to": FRANCE, "text": "bonjour", "from": "ACME"}, {"to": UK, "text": "named", "from": "ACME"}]
    records = {mid: message_store().get(mid) for mid in ("to-uk", "to-fr", "named")}
    assert {mid: (r["provider"], r["status"]) for mid, r in records.items()} == {
        "to-uk": ("uk", "sent"), "to-fr": ("acme", "sent"), "named": ("acme", "sent")}
    assert records["to-uk"]["history"][0]["reason"] == "routed by rule 1: +44 → uk"
    assert records["to-fr"]["history"][0]["reason"] == "no routing rule matched: default provider acme"
    assert records["named"]["history"][0]["reason"] == "provider named by the message"


def test_given_a_rule_to_a_deleted_provider_when_sent_then_the_message_is_dead_lettered_with_the_reason(stack) -> None:
    from send_handler import lambda_handler
    from smsbridge.wiring import message_store, provider_store, routing_store

    with LoopbackProvider() as default:
        provider_store().put(ProviderConfig.model_validate(provider_document("acme", default.url_for("/sms"),
                                                                             default=True)))
        routing_store().put(RoutingRules.model_validate({"rules": [UK_RULE]}))  # "uk" was deleted since
        stack.enqueue({"id": "lost-route", "to": UK, "text": "hi"})

        stack.deliver(stack.receive(), lambda_handler)

        assert default.requests == []
    assert message_store().get("lost-route")["status"] == "rejected"
    letters = stack.dead_letters()
    assert len(letters) == 1
    assert "no provider 'uk' (chosen by routing rule 1)" in json.dumps(letters[0])
