"""GET /messages and GET /inbound-messages on moto: filters, newest first, pages, bad input, and Query (never Scan) on the indexes."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest

from smsbridge.clock import iso_utc
from smsbridge.models.status import MessageStatus, StatusChange
from tests.support.apigw_events import AdminApi as Api

NOW = datetime.now(UTC).replace(microsecond=0)


def acme(provider_id: str = "acme", **changes) -> dict:
    return {"id": provider_id, "name": provider_id.upper(), "default": provider_id == "acme", "default_sender": "ACME",
            "request": {"url": "https://sms.example.com/v1/messages", "method": "POST", "content_type": "json",
                        "body": {"to": "{{to}}", "text": "{{text}}"}},
            "auth": {"type": "api_key", "header": "Authorization", "prefix": "Bearer ", "token": "tok-SECRET-5d1"},
            **changes}


def put_message(message_id: str, at: datetime, *, to: str = "+33612345678", provider: str = "acme",
                status: MessageStatus = MessageStatus.SENT) -> None:
    """A message as the API and the send path write it: created queued at `at`, then its status."""
    from smsbridge.wiring import message_store

    store = message_store()
    store.create(message_id, StatusChange(status=MessageStatus.QUEUED, at=iso_utc(at)), to=to, provider=provider,
                 type="NOTIFICATION", segments=1, is_unicode=False)
    if status != MessageStatus.QUEUED:
        store.record(message_id, StatusChange(status=status, at=iso_utc(at + timedelta(seconds=2)), attempt=1))


@contextmanager
def dynamodb_calls() -> Iterator[list[str]]:
    """The DynamoDB operations the API makes on the messages and inbound tables meanwhile."""
    from smsbridge.wiring import inbox_desk, message_store

    calls: list[str] = []
    clients = {message_store()._table.meta.client, inbox_desk()._inbox._table.meta.client}

    def record(model, **_):
        calls.append(model.name)

    for client in clients:
        client.meta.events.register("before-call.dynamodb", record)
    try:
        yield calls
    finally:
        for client in clients:
            client.meta.events.unregister("before-call.dynamodb", record)


@pytest.fixture
def traffic(api: Api) -> Api:
    """Two providers and nine messages over three days, two phones, several statuses."""
    assert api.call("POST", "/providers", acme()).status == 201
    assert api.call("POST", "/providers", acme("beta")).status == 201
    for i in range(9):
        put_message(f"m-{i}", NOW - timedelta(hours=8 * (9 - i)),
                    to="+33612345678" if i % 2 == 0 else "+33698765432",
                    provider="acme" if i < 6 else "beta",
                    status=MessageStatus.FAILED if i in (2, 7) else MessageStatus.SENT)
    return api


def ids(answer) -> list[str]:
    return [item["id"] for item in answer.json()["items"]]


def test_given_messages_when_searched_without_filters_then_every_one_newest_first_with_the_index_fields(
        traffic: Api) -> None:
    answer = traffic.call("GET", "/messages")

    assert answer.status == 200
    assert ids(answer) == [f"m-{i}" for i in range(8, -1, -1)]
    first = answer.json()["items"][0]
    assert first == {"id": "m-8", "status": "sent", "to": "+33612345678", "provider": "beta", "type": "NOTIFICATION",
                     "segments": 1, "created_at": iso_utc(NOW - timedelta(hours=8)),
                     "updated_at": iso_utc(NOW - timedelta(hours=8) + timedelta(seconds=2))}
    assert answer.json()["cursor"] is None


def test_given_a_phone_in_any_form_when_searched_then_only_its_messages_by_query_never_scan(traffic: Api) -> None:
    traffic.call("GET", "/messages")  # the clients exist, so that their calls can be counted

    with dynamodb_calls() as calls:
        answer = traffic.call("GET", "/messages", query={"phone": "0033 6 98 76 54 32"})

    assert ids(answer) == ["m-7", "m-5", "m-3", "m-1"]
    assert calls and set(calls) == {"Query"}


def test_given_status_and_provider_filters_when_searched_then_only_messages_matching_both_by_query(
        traffic: Api) -> None:
    traffic.call("GET", "/messages")

    with dynamodb_calls() as calls:
        failed = traffic.call("GET", "/messages", query={"status": "failed"})
        failed_acme = traffic.call("GET", "/messages", query={"status": "failed", "provider": "acme"})
        beta = traffic.call("GET", "/messages", query={"provider": "beta"})

    assert ids(failed) == ["m-7", "m-2"]
    assert ids(failed_acme) == ["m-2"]
    assert ids(beta) == ["m-8", "m-7", "m-6"]
    assert set(calls) == {"Query"}


def test_given_a_time_range_when_searched_then_only_messages_created_in_it(traffic: Api) -> None:
    answer = traffic.call("GET", "/messages", query={"since": iso_utc(NOW - timedelta(hours=33)),
                                                     "until": iso_utc(NOW - timedelta(hours=16))})

    assert ids(answer) == ["m-7", "m-6", "m-5"]


def test_given_a_limit_when_paged_with_the_cursor_then_every_message_once_newest_first_and_null_at_the_end(
        traffic: Api) -> None:
    pages, cursor = [], None
    while True:
        answer = traffic.call("GET", "/messages", query={"limit": "4", **({"cursor": cursor} if cursor else {})})
        assert answer.status == 200
        pages.append(ids(answer))
        cursor = answer.json()["cursor"]
        if cursor is None:
            break

    assert [len(page) for page in pages] == [4, 4, 1]
    assert [i for page in pages for i in page] == [f"m-{i}" for i in range(8, -1, -1)]


def test_given_messages_in_two_months_when_searched_then_both_months_newest_first(api: Api) -> None:
    assert api.call("POST", "/providers", acme()).status == 201
    put_message("october", datetime(2026, 10, 31, 23, 59, tzinfo=UTC))
    put_message("november", datetime(2026, 11, 1, 0, 1, tzinfo=UTC))
    put_message("september", datetime(2026, 9, 15, tzinfo=UTC))

    answer = api.call("GET", "/messages", query={"since": "2026-10-01T00:00:00Z", "until": "2026-11-02T00:00:00Z"})

    assert ids(answer) == ["november", "october"]


def test_given_a_message_posted_when_searched_by_its_phone_then_it_is_found_queued(api: Api) -> None:
    assert api.call("POST", "/providers", acme()).status == 201
    posted = api.call("POST", "/messages", {"to": "+33611112222", "text": "hi", "sender": "ACME"}).json()["id"]

    answer = api.call("GET", "/messages", query={"phone": "+33611112222"})

    assert [(item["id"], item["status"]) for item in answer.json()["items"]] == [(posted, "queued")]


def test_given_a_rejected_body_recorded_by_the_send_path_only_when_searched_then_it_is_found(api: Api) -> None:
    from smsbridge.wiring import message_store

    message_store().record("bad-1", StatusChange(status=MessageStatus.REJECTED, at=iso_utc(NOW), reason="invalid"))

    answer = api.call("GET", "/messages", query={"status": "rejected"})

    assert ids(answer) == ["bad-1"]


@pytest.mark.parametrize(("query", "status", "words"), [
    ({"limit": "0"}, 422, "limit"),
    ({"limit": "201"}, 422, "limit"),
    ({"limit": "many"}, 422, "limit"),
    ({"status": "lost"}, 422, "status"),
    ({"since": "yesterday"}, 422, "since"),
    ({"provider": "Not An Id"}, 422, "provider"),
    ({"phone": "not a phone"}, 400, "phone"),
    ({"cursor": "garbage!"}, 400, "cursor"),
    ({"since": "2026-11-02T00:00:00Z", "until": "2026-11-01T00:00:00Z"}, 400, "since"),
    ({"since": "0001-01-01T00:00:00Z"}, 400, "since"),
    ({"until": "9999-12-31T23:59:59Z"}, 400, "until"),
])
def test_given_bad_search_parameters_when_searched_then_4xx_naming_the_parameter(
        traffic: Api, query: dict, status: int, words: str) -> None:
    answer = traffic.call("GET", "/messages", query=query)

    assert answer.status == status
    assert words in answer.json()["message"]


def test_given_a_cursor_of_another_search_when_used_then_400(traffic: Api) -> None:
    cursor = traffic.call("GET", "/messages", query={"limit": "2"}).json()["cursor"]

    answer = traffic.call("GET", "/messages", query={"limit": "2", "status": "failed", "cursor": cursor})

    assert answer.status == 400
    assert "another search" in answer.json()["message"]


# ---------------------------------------------------------------- inbound messages

def put_inbound(item_id: str, at: datetime, text: str) -> None:
    from smsbridge.wiring import inbox_desk

    inbox_desk()._inbox.add({"id": item_id, "provider": "acme", "from": "+33612345678", "to": "+33757000000",
                             "text": text, "sent_at": iso_utc(at), "received_at": iso_utc(at)}, at)


def test_given_inbound_messages_when_listed_then_newest_first_in_pages_by_query(api: Api) -> None:
    for i in range(5):
        put_inbound(f"acme#in-{i}", NOW - timedelta(minutes=10 * (5 - i)), f"hello {i}")
    api.call("GET", "/inbound-messages")

    with dynamodb_calls() as calls:
        first = api.call("GET", "/inbound-messages", query={"limit": "3"})
        second = api.call("GET", "/inbound-messages", query={"limit": "3", "cursor": first.json()["cursor"]})

    assert ids(first) == ["acme#in-4", "acme#in-3", "acme#in-2"]
    assert ids(second) == ["acme#in-1", "acme#in-0"]
    assert second.json()["cursor"] is None
    assert first.json()["items"][0] == {"id": "acme#in-4", "provider": "acme", "from": "+33612345678",
                                        "to": "+33757000000", "text": "hello 4",
                                        "sent_at": iso_utc(NOW - timedelta(minutes=10)),
                                        "received_at": iso_utc(NOW - timedelta(minutes=10))}
    assert set(calls) == {"Query"}


def test_given_since_when_inbound_listed_then_only_the_later_ones(api: Api) -> None:
    put_inbound("acme#old", NOW - timedelta(days=3), "old")
    put_inbound("acme#new", NOW - timedelta(hours=1), "new")

    answer = api.call("GET", "/inbound-messages", query={"since": iso_utc(NOW - timedelta(days=1))})

    assert ids(answer) == ["acme#new"]


@pytest.mark.parametrize("query", [{"since": iso_utc(NOW + timedelta(days=2))},
                                   {"since": iso_utc(NOW + timedelta(days=2)), "phone": "+33612345678"},
                                   {"until": "2001-01-01T00:00:00Z"}])
def test_given_a_range_where_no_message_can_be_when_searched_then_an_empty_last_page(traffic: Api, query: dict) -> None:
    answer = traffic.call("GET", "/messages", query=query)

    assert answer.status == 200
    assert answer.json() == {"items": [], "cursor": None}


def test_given_a_since_in_the_future_when_inbound_is_listed_then_an_empty_last_page(api: Api) -> None:
    answer = api.call("GET", "/inbound-messages", query={"since": iso_utc(NOW + timedelta(days=2))})

    assert answer.status == 200
    assert answer.json() == {"items": [], "cursor": None}


def test_given_a_since_in_the_future_when_stats_are_asked_then_400_naming_since(api: Api) -> None:
    answer = api.call("GET", "/stats", query={"since": iso_utc(NOW + timedelta(days=2))})

    assert answer.status == 400
    assert answer.json()["message"].startswith("since:")
