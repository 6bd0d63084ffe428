"""The admin API's side of throughput and failover: `GET /traffic` shows what the senders share, and a
failover list naming no provider is refused at save (SPEC 3 `throughput`, `failover`)."""
from __future__ import annotations

from smsbridge.adapters.provider_state import ProviderState
from smsbridge.clock import utc_now
from smsbridge.core.circuit import CircuitPolicy
from smsbridge.core.throughput import limits_of
from smsbridge.models.message import MessageType
from smsbridge.models.provider import Throughput
from tests.support.apigw_events import AdminApi


def provider_document(provider_id: str, **fields) -> dict:
    return {"id": provider_id, "default_sender": "ACME",
            "request": {"url": "https://sms.example.com/v1", "body": {"to": "{{to}}", "text": "{{text}}"}}, **fields}


def test_given_a_failover_naming_a_missing_provider_when_saved_then_422_names_the_field_and_nothing_is_stored(
        api: AdminApi) -> None:
    assert api.call("POST", "/providers", provider_document("spare")).status == 201

    created = api.call("POST", "/providers", provider_document("acme", failover=["spare", "ghost"]))
    replaced = api.call("PUT", "/providers/acme", provider_document("acme", failover=["ghost"]))
    validated = api.call("POST", "/providers/validate", provider_document("acme", failover=["spare", "ghost"]))

    assert created.status == 422
    assert created.json()["errors"] == [{"loc": "body.failover.1", "msg": "no provider 'ghost'"}]
    assert replaced.status == 422
    assert validated.json() == {"valid": False, "errors": [{"loc": "body.failover.1", "msg": "no provider 'ghost'"}]}
    assert api.call("GET", "/providers/acme").status == 404


def test_given_a_failover_naming_the_provider_itself_or_twice_when_saved_then_it_is_refused(api: AdminApi) -> None:
    assert api.call("POST", "/providers", provider_document("spare")).status == 201

    itself = api.call("POST", "/providers", provider_document("acme", failover=["acme"]))
    twice = api.call("POST", "/providers", provider_document("acme", failover=["spare", "spare"]))

    assert itself.status == 422 and "itself" in itself.json()["message"]
    assert twice.status == 422 and "more than once" in twice.json()["message"]


def test_given_senders_granted_and_a_circuit_opened_when_traffic_is_got_then_each_provider_shows_its_state(
        api: AdminApi) -> None:
    assert api.call("POST", "/providers", provider_document("spare")).status == 201
    assert api.call("POST", "/providers", provider_document(
        "acme", throughput={"per_second": 20, "burst": 10}, failover=["spare"])).status == 201
    senders = ProviderState(api.stack.env["TRAFFIC_TABLE"], client=api.stack.session.client("dynamodb"))
    for _ in range(3):
        senders.failed("spare", CircuitPolicy(failures=3, cooldown_s=30), utc_now())
    # Granted last, just before the GET: the answer counts the grants of the last second by the clock
    senders.reserve("acme", limits_of(Throughput(per_second=20, burst=10)), 7, MessageType.NOTIFICATION, utc_now())

    answer = api.call("GET", "/traffic")

    assert answer.status == 200
    shown = {item["provider"]: item for item in answer.json()["providers"]}
    acme, spare = shown["acme"], shown["spare"]
    assert (acme["per_second"], acme["burst"], acme["granted_last_second"]) == (20, 10, 7)
    assert (acme["circuit"], acme["failures"], acme["failover"]) == ("closed", 0, ["spare"])
    assert spare["per_second"] is None and spare["circuit"] == "open" and spare["failures"] == 3
    assert spare["opened_at"] < spare["half_open_at"]


def test_when_the_openapi_document_is_got_then_it_describes_get_traffic(api: AdminApi) -> None:
    document = api.call("GET", "/openapi.json").json()

    operation = document["paths"]["/traffic"]["get"]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["$ref"].endswith("/TrafficView")
    assert "circuit" in document["components"]["schemas"]["ProviderTrafficView"]["properties"]
