"""The admin API's side of spend limits: `GET /providers/{provider}/spend` shows what the senders counted (SPEC 3 `spend_limit`)."""
from __future__ import annotations

from smsbridge.adapters.spend import SpendLedger
from smsbridge.clock import utc_now
from smsbridge.core.spend import month_of
from tests.support.apigw_events import AdminApi


def provider_document(provider_id: str, **fields) -> dict:
    return {"id": provider_id, "default_sender": "ACME",
            "request": {"url": "https://sms.example.com/v1", "body": {"to": "{{to}}", "text": "{{text}}"}}, **fields}


def test_given_senders_counted_8_of_10_segments_when_spend_is_got_then_the_count_percentage_and_alert_show(
        api: AdminApi) -> None:
    assert api.call("POST", "/providers", provider_document(
        "acme", spend_limit={"segments_per_month": 10, "email": ["ops@example.com"]})).status == 201
    senders = SpendLedger(api.stack.env["TRAFFIC_TABLE"], client=api.stack.session.client("dynamodb"))
    month = month_of(utc_now())
    assert senders.add("acme", month, 8, 10).added
    assert senders.claim_alert("acme", month, 80, utc_now())
    assert not senders.add("acme", month, 3, 10).added  # over the limit: not counted

    answer = api.call("GET", "/providers/acme/spend")

    assert answer.status == 200
    view = answer.json()
    assert (view["month"], view["segments"], view["limit"], view["percent"], view["reached"]) == (month, 8, 10, 80.0,
                                                                                                    False)
    assert view["types"] == ["MARKETING"] and list(view["alerts_sent"]) == ["80"]


def test_given_a_provider_without_a_limit_or_none_at_all_when_spend_is_got_then_nothing_counted_or_404(
        api: AdminApi) -> None:
    assert api.call("POST", "/providers", provider_document("plain")).status == 201

    plain = api.call("GET", "/providers/plain/spend")
    ghost = api.call("GET", "/providers/ghost/spend")

    assert plain.status == 200 and plain.json()["limit"] is None and plain.json()["segments"] == 0
    assert ghost.status == 404


def test_when_the_openapi_document_is_got_then_it_describes_the_spend_route(api: AdminApi) -> None:
    document = api.call("GET", "/openapi.json").json()

    operation = document["paths"]["/providers/{provider}/spend"]["get"]
    assert "spend_limit" in operation["summary"]
    assert "SpendView" in str(operation["responses"]["200"])
