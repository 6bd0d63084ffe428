"""The admin routes the console needs (issue 10), on moto: dead letters, stats, provider summary, presets, meta,
validating and previewing an unsaved draft, and each of them in the OpenAPI document."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from smsbridge.clock import iso_utc
from smsbridge.core.balance import BalanceRecord, BalanceState
from smsbridge.models.status import MessageStatus
from tests.integration.test_api_messages_search import acme, put_message
from tests.support.apigw_events import AdminApi as Api

NOW = datetime.now(UTC)
SECRET = "tok-SECRET-5d1"
MASK = "**********"


# ---------------------------------------------------------------- dead letters

def dead_letter(api: Api, body: str, reason: str, message_id: str | None = None) -> None:
    """A body dead-lettered the way the send path does it (adapters.queue)."""
    from smsbridge.wiring import outbound_queue

    outbound_queue().dead_letter(body, reason, message_id=message_id)


def test_given_dead_letters_when_listed_then_each_with_its_reason_and_they_stay_in_the_queue(api: Api) -> None:
    dead_letter(api, '{"to": "+336', "invalid message: body: not JSON")
    dead_letter(api, '{"id": "m-9", "to": "nope", "text": "hi"}', "invalid message: to: not a phone number", "m-9")

    first = api.call("GET", "/dead-letters")
    second = api.call("GET", "/dead-letters")

    assert first.status == 200
    items = first.json()["items"]
    assert sorted((i["body"], i["reason"], i["message_id"]) for i in items) == [
        ('{"id": "m-9", "to": "nope", "text": "hi"}', "invalid message: to: not a phone number", "m-9"),
        ('{"to": "+336', "invalid message: body: not JSON", None)]
    assert all(i["id"] and i["sent_at"].endswith("Z") for i in items)
    assert sorted(i["id"] for i in second.json()["items"]) == sorted(i["id"] for i in items)


def test_given_a_limit_when_dead_letters_are_listed_then_at_most_that_many(api: Api) -> None:
    for n in range(4):
        dead_letter(api, f"bad {n}", "invalid message")

    answer = api.call("GET", "/dead-letters", query={"limit": "3"})

    assert len(answer.json()["items"]) == 3


def test_given_a_dead_letter_when_redriven_by_id_then_its_body_is_back_on_the_outbound_queue_alone(api: Api) -> None:
    dead_letter(api, "keep me here", "invalid message")
    dead_letter(api, '{"to": "+33612345678"}', "invalid message: text: Field required")
    chosen = next(i["id"] for i in api.call("GET", "/dead-letters").json()["items"] if i["body"] != "keep me here")

    answer = api.call("POST", "/dead-letters/redrive", {"ids": [chosen]})

    assert answer.status == 200
    assert answer.json() == {"redriven": 1}
    assert [m["Body"] for m in api.stack.session.client("sqs").receive_message(
        QueueUrl=api.stack.queue_url, MaxNumberOfMessages=10)["Messages"]] == ['{"to": "+33612345678"}']
    assert [i["body"] for i in api.call("GET", "/dead-letters").json()["items"]] == ["keep me here"]


def test_given_dead_letters_when_all_are_redriven_then_the_queue_is_empty_and_every_body_is_queued(api: Api) -> None:
    for n in range(12):
        dead_letter(api, f"body {n}", "invalid message")

    answer = api.call("POST", "/dead-letters/redrive", {"all": True})

    assert answer.json() == {"redriven": 12}
    assert api.call("GET", "/dead-letters").json()["items"] == []
    assert sorted(api.queued_raw()) == sorted(f"body {n}" for n in range(12))


def test_given_a_dead_letter_when_deleted_then_204_and_gone_and_a_second_delete_is_404(api: Api) -> None:
    dead_letter(api, "drop me", "invalid message")
    letter_id = api.call("GET", "/dead-letters").json()["items"][0]["id"]

    assert api.call("DELETE", f"/dead-letters/{letter_id}").status == 204
    assert api.call("GET", "/dead-letters").json()["items"] == []
    again = api.call("DELETE", f"/dead-letters/{letter_id}")
    assert again.status == 404
    assert letter_id in again.json()["message"]


@pytest.mark.parametrize("body", [{}, {"ids": ["a"], "all": True}, {"all": False}, {"ids": []}, {"ids": "a"},
                                  {"every": True}])
def test_given_a_redrive_naming_nothing_or_both_when_posted_then_4xx_and_nothing_moves(api: Api, body: dict) -> None:
    dead_letter(api, "stay", "invalid message")

    answer = api.call("POST", "/dead-letters/redrive", body)

    assert answer.status in (400, 422)
    assert answer.json()["message"]
    assert len(api.call("GET", "/dead-letters").json()["items"]) == 1


# ---------------------------------------------------------------- stats and provider summary

@pytest.fixture
def traffic(api: Api) -> Api:
    assert api.call("POST", "/providers", acme()).status == 201
    assert api.call("POST", "/providers", acme("beta")).status == 201
    base = NOW.replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
    plan = [("a1", 0, "acme", MessageStatus.SENT), ("a2", 5, "acme", MessageStatus.DELIVERED),
            ("a3", 70, "acme", MessageStatus.FAILED), ("a4", 75, "acme", MessageStatus.BLOCKED),
            ("b1", 10, "beta", MessageStatus.SENT), ("b2", 130, "beta", MessageStatus.QUEUED),
            ("old", -60 * 30, "acme", MessageStatus.SENT)]
    for message_id, minutes, provider, status in plan:
        put_message(message_id, base + timedelta(minutes=minutes), provider=provider, status=status)
    from smsbridge.wiring import traffic_report

    traffic_report()._balances.put(BalanceRecord(provider="acme", checked_at=NOW - timedelta(minutes=5), balance=3.5,
                                                 minimum=10.0, state=BalanceState.BELOW))
    api.base = base  # type: ignore[attr-defined]
    return api


def test_given_traffic_when_stats_are_asked_for_a_range_then_counts_by_every_status_series_and_balances(
        traffic: Api) -> None:
    base = traffic.base  # type: ignore[attr-defined]

    answer = traffic.call("GET", "/stats", query={"since": iso_utc(base), "until": iso_utc(base + timedelta(hours=3))})

    assert answer.status == 200
    stats = answer.json()
    assert stats["counts"] == {"queued": 1, "sent": 2, "delivered": 1, "failed": 1, "expired": 0, "blocked": 1,
                               "rejected": 0, "scheduled": 0, "canceled": 0, "unknown": 0}
    assert stats["bucket_s"] == 300
    assert stats["complete"] is True
    assert sum(p["sent"] for p in stats["series"] if p["provider"] == "acme") == 2  # sent and delivered
    assert sum(p["failed"] for p in stats["series"]) == 1
    assert sum(p["blocked"] for p in stats["series"]) == 1
    assert {p["provider"] for p in stats["series"]} == {"acme", "beta"}
    first = next(p for p in stats["series"] if p["provider"] == "acme" and p["at"] == iso_utc(base))
    assert (first["sent"], first["failed"], first["blocked"]) == (1, 0, 0)
    assert stats["balances"] == [{"provider": "acme", "balance": 3.5, "minimum": 10.0,
                                  "checked_at": iso_utc(NOW - timedelta(minutes=5)), "state": "below"}]


def test_given_no_range_when_stats_are_asked_then_the_last_24_hours(traffic: Api) -> None:
    stats = traffic.call("GET", "/stats").json()

    assert sum(stats["counts"].values()) == 6  # not the message of 30 hours ago
    assert stats["bucket_s"] == 900
    assert datetime.fromisoformat(stats["until"]) - datetime.fromisoformat(stats["since"]) == timedelta(hours=24)


def test_given_a_provider_when_stats_are_asked_then_only_its_messages(traffic: Api) -> None:
    stats = traffic.call("GET", "/stats", query={"provider": "beta"}).json()

    assert stats["counts"]["sent"] == 1 and stats["counts"]["queued"] == 1 and stats["counts"]["failed"] == 0
    assert stats["balances"] == []


@pytest.mark.parametrize(("query", "status"), [
    ({"provider": "ghost"}, 404),
    ({"since": "2026-11-02T00:00:00Z", "until": "2026-11-01T00:00:00Z"}, 400),
    ({"since": "2020-01-01T00:00:00Z"}, 400),
    ({"until": "tomorrow"}, 422),
])
def test_given_bad_stats_parameters_when_asked_then_4xx_with_a_message(traffic: Api, query: dict, status: int) -> None:
    answer = traffic.call("GET", "/stats", query=query)

    assert answer.status == status
    assert answer.json()["message"]


def test_given_providers_with_traffic_when_summarised_then_last_send_balance_and_failures_of_the_hour(
        traffic: Api) -> None:
    put_message("fresh-fail", NOW - timedelta(minutes=20), provider="beta", status=MessageStatus.FAILED)

    answer = traffic.call("GET", "/providers/summary")

    assert answer.status == 200
    summary = {p["id"]: p for p in answer.json()}
    assert summary["acme"]["name"] == "ACME" and summary["acme"]["default"] is True and summary["acme"]["enabled"]
    assert summary["acme"]["last_send"]["status"] == "failed"  # a3, the newest send of acme (a4 was blocked)
    assert summary["acme"]["balance"]["state"] == "below"
    assert summary["acme"]["errors_last_hour"] == 0
    assert summary["beta"]["last_send"]["status"] == "failed"
    assert summary["beta"]["balance"] is None
    assert summary["beta"]["errors_last_hour"] == 1


def test_given_a_provider_that_never_sent_when_summarised_then_last_send_is_null(api: Api) -> None:
    assert api.call("POST", "/providers", acme()).status == 201

    [only] = api.call("GET", "/providers/summary").json()

    assert only["last_send"] is None and only["balance"] is None and only["errors_last_hour"] == 0


# ---------------------------------------------------------------- presets and meta

def test_given_the_presets_when_listed_then_each_with_title_sources_and_the_fields_to_fill(api: Api) -> None:
    answer = api.call("GET", "/presets")

    assert answer.status == 200
    presets = {p["name"]: p for p in answer.json()}
    from smsbridge.core.presets import available_presets

    assert sorted(presets) == available_presets()
    twilio = presets["twilio"]
    assert twilio["title"] == "Twilio Programmable Messaging"
    assert "https://www.twilio.com/docs/messaging/api/message-resource" in twilio["sources"]
    assert twilio["needs"] == ["auth.username", "auth.password", "request.url", "balance.url"]
    assert "ACCOUNT_SID" in twilio["hints"]["request.url"]
    assert presets["termii"]["needs"][0] == "secrets.api_key"
    assert all(p["sources"] for p in presets.values())


def test_given_a_preset_name_when_got_then_its_document_as_merged_and_an_unknown_one_is_404(api: Api) -> None:
    answer = api.call("GET", "/presets/vonage")

    assert answer.status == 200
    assert answer.json()["document"]["request"]["url"].startswith("https://")
    assert not any(key.startswith("_") for key in answer.json()["document"])
    missing = api.call("GET", "/presets/nope")
    assert missing.status == 404
    assert "twilio" in missing.json()["message"]


def test_given_meta_when_got_then_placeholders_auth_types_statuses_and_the_provider_schema(api: Api) -> None:
    meta = api.call("GET", "/meta").json()

    placeholders = {p["name"]: p for p in meta["placeholders"]}
    assert placeholders["to"]["aliases"] == ["$$To", "%TO%"]
    assert placeholders["text"]["aliases"] == ["$$Body", "%MESSAGE%"]
    assert "{{credits}}" in placeholders["segments"]["aliases"]
    assert {"vars.NAME", "secrets.NAME", "is_unicode", "now_unix"} <= set(placeholders)
    assert all(p["description"] for p in meta["placeholders"])
    assert set(meta["auth_types"]) == {"none", "basic", "api_key", "hmac", "oauth2", "jwt", "sigv4"}
    assert meta["auth_types"]["basic"]["required"] == ["type", "username", "password"]
    assert {"twilio", "hmac", "vonage", "telnyx", "none"} <= set(meta["inbound_auth_types"])
    assert meta["statuses"][:3] == ["scheduled", "queued", "sent"] and "blocked" in meta["statuses"]
    assert "request" in meta["provider_schema"]["properties"]


def test_given_every_canonical_placeholder_when_meta_is_got_then_each_is_listed(api: Api) -> None:
    from smsbridge.models.placeholders import CANONICAL_PLACEHOLDERS

    names = {p["name"] for p in api.call("GET", "/meta").json()["placeholders"]}

    assert set(CANONICAL_PLACEHOLDERS) <= names


# ---------------------------------------------------------------- unsaved drafts

def test_given_a_valid_draft_when_validated_then_valid_and_nothing_is_stored(api: Api) -> None:
    answer = api.call("POST", "/providers/validate", acme())

    assert answer.status == 200
    assert answer.json() == {"valid": True, "errors": []}
    assert api.call("GET", "/providers").json()["providers"] == []


def test_given_a_preset_draft_when_validated_then_the_preset_is_merged_first(api: Api) -> None:
    draft = {"id": "tw", "preset": "twilio", "auth": {"type": "basic", "username": "AC123", "password": "x-SECRET"}}

    answer = api.call("POST", "/providers/validate", draft)

    assert answer.json() == {"valid": True, "errors": []}


@pytest.mark.parametrize(("draft", "loc"), [
    (acme(request={"url": "https://sms.example.com/v1", "method": "POST", "content_type": "json",
                   "body": {"text": "{{text}}"}}), "body.request"),
    (acme(id="Bad Id"), "body.id"),
    ({**acme(), "preset": "nope"}, "body"),
    (acme(auth={"type": "basic", "username": "a b", "password": "p"}), "body.auth.basic.username"),
])
def test_given_an_invalid_draft_when_validated_then_200_not_valid_with_the_field_a_create_would_name(
        api: Api, draft: dict, loc: str) -> None:
    answer = api.call("POST", "/providers/validate", draft)

    assert answer.status == 200
    assert answer.json()["valid"] is False
    assert loc in [e["loc"] for e in answer.json()["errors"]]
    create = api.call("POST", "/providers", draft)
    assert create.status == 422 and loc in [e["loc"] for e in create.json()["errors"]]


def test_given_a_draft_with_a_secret_and_an_emoji_when_previewed_then_the_request_masked_and_the_encoding(
        api: Api) -> None:
    answer = api.call("POST", "/providers/preview", {
        "provider": acme(), "message": {"to": "+33612345678", "text": "Party 🎉 tonight ©", "sender": "ACME"}})

    assert answer.status == 200
    preview = answer.json()
    assert preview["headers"]["Authorization"] == f"Bearer {MASK}"
    assert SECRET not in answer.text
    assert preview["json_body"] == {"to": "+33612345678", "text": "Party 🎉 tonight ©"}
    assert preview["curl"].startswith("curl ")
    assert preview["encoding"] == {"is_unicode": True, "segments": 1, "units": 18, "ucs2_characters": ["🎉", "©"],
                                   "smart_text": None, "replaced": []}
    assert api.call("GET", "/providers").json()["providers"] == []


def test_given_a_gsm_text_when_a_draft_is_previewed_then_no_ucs2_characters_and_gsm_segments(api: Api) -> None:
    text = "€" * 81  # an extension character: two septets each

    encoding = api.call("POST", "/providers/preview", {"provider": acme(), "message": {
        "to": "+33612345678", "text": text}}).json()["encoding"]

    assert encoding == {"is_unicode": False, "segments": 2, "units": 162, "ucs2_characters": [],
                        "smart_text": None, "replaced": []}


def test_given_curly_quotes_when_a_draft_is_previewed_then_the_substituted_text_what_was_replaced_and_gsm7(
        api: Api) -> None:
    answer = api.call("POST", "/providers/preview", {"provider": acme(), "message": {
        "to": "+33612345678", "text": "Don’t “panic” – it’s fine…"}}).json()

    assert answer["json_body"]["text"] == "Don't \"panic\" - it's fine..."
    assert answer["encoding"] == {
        "is_unicode": False, "segments": 1, "units": 28, "ucs2_characters": [],
        "smart_text": "Don't \"panic\" - it's fine...",
        "replaced": [{"original": "’", "replacement": "'", "count": 2}, {"original": "“", "replacement": '"', "count": 1},
                     {"original": "”", "replacement": '"', "count": 1}, {"original": "–", "replacement": "-", "count": 1},
                     {"original": "…", "replacement": "...", "count": 1}]}


def test_given_smart_encoding_off_when_a_draft_is_previewed_then_the_text_is_ucs2_as_written(api: Api) -> None:
    answer = api.call("POST", "/providers/preview", {"provider": acme(smart_encoding=False), "message": {
        "to": "+33612345678", "text": "Don’t panic"}}).json()

    assert answer["json_body"]["text"] == "Don’t panic"
    assert answer["encoding"]["is_unicode"] is True
    assert answer["encoding"]["ucs2_characters"] == ["’"]
    assert answer["encoding"]["replaced"] == []


def test_given_an_invalid_draft_when_previewed_then_422_with_the_draft_fields(api: Api) -> None:
    draft = acme(request={"url": "https://sms.example.com/v1", "method": "POST", "content_type": "json",
                          "body": {"to": "{{to}}", "text": "{{txt}}"}})

    answer = api.call("POST", "/providers/preview", {"provider": draft, "message": {"to": "+33612345678",
                                                                                    "text": "hi"}})

    assert answer.status == 422
    assert "body.provider.request" in [e["loc"] for e in answer.json()["errors"]]
    assert "{{txt}}" in answer.json()["message"]


def test_given_an_invalid_message_when_a_draft_is_previewed_then_422_naming_the_message_field(api: Api) -> None:
    answer = api.call("POST", "/providers/preview", {"provider": acme(), "message": {"to": "nope", "text": "hi"}})

    assert answer.status == 422
    assert "body.message.to" in [e["loc"] for e in answer.json()["errors"]]


# ---------------------------------------------------------------- consent reason, OpenAPI, Swagger

def test_given_a_reason_when_consent_is_set_then_the_history_keeps_it(api: Api) -> None:
    assert api.call("POST", "/providers", acme()).status == 201

    answer = api.call("PUT", "/consent/acme/+33612345678", {"state": "opted_out", "reason": "asked by phone"})

    assert answer.status == 200
    assert answer.json()["history"][-1]["text"] == "asked by phone"


def test_given_the_openapi_document_then_every_console_route_is_in_it_with_its_parameters(api: Api) -> None:
    document = api.call("GET", "/openapi.json").json()

    paths = document["paths"]
    for path, method in [("/messages", "get"), ("/inbound-messages", "get"), ("/dead-letters", "get"),
                         ("/dead-letters/redrive", "post"), ("/dead-letters/{id}", "delete"), ("/stats", "get"),
                         ("/providers/summary", "get"), ("/presets", "get"), ("/presets/{name}", "get"),
                         ("/meta", "get"), ("/providers/validate", "post"), ("/providers/preview", "post")]:
        assert method in paths[path], (path, method)
    search = {p["name"] for p in paths["/messages"]["get"]["parameters"]}
    assert search == {"phone", "status", "provider", "since", "until", "limit", "cursor"}


def test_given_the_template_then_every_route_of_the_api_function_is_an_api_gateway_event() -> None:
    """A route missing from template.yaml answers 403 when deployed (API Gateway knows no such resource)."""
    import api_handler
    from local.template import ApiTrigger, Template
    from tests.support.stack import ROOT

    template = Template.load(ROOT / "template.yaml", endpoint_url="https://sqs.us-east-1.amazonaws.com")
    declared = {(t.method.upper(), t.path) for t in template.function("ApiFunction").triggers_of(ApiTrigger)}
    served = {(route.method.upper(), route.openapi_path)
              for route in api_handler.app._static_routes + api_handler.app._dynamic_routes}

    assert served - declared == set()


@pytest.mark.parametrize(("context_path", "server"), [("/swagger", "/"), ("/dev/swagger", "/dev")])
def test_given_where_the_swagger_page_was_called_then_try_it_out_calls_that_base_path(
        api: Api, context_path: str, server: str) -> None:
    """Locally the routes are at the root (the local gateway gives the path as called); deployed, under the stage."""
    answer = api.call("GET", "/swagger", query={"format": "json"}, context_path=context_path)

    assert json.loads(answer.text)["servers"] == [{"url": server}]
