"""Scheduled sends on moto in-process (SPEC 2 `send_at`, `scheduled`, `canceled`; issue 12): the API's
two waits (the queue's delay within 15 minutes, the table's due index beyond), the schedule sweep,
cancel, and the send path for bodies an application wrote to SQS itself."""
from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.apigw_events import AdminApi
from tests.support.aws_calls import counting_aws_calls
from tests.support.loopback import LoopbackProvider
from tests.support.stack import LambdaContext, reset_cached_clients


@pytest.fixture
def provider() -> Iterator[LoopbackProvider]:
    with LoopbackProvider() as server:
        server.handler = lambda request: (200, {}, {"id": "pm-" + request.json()["text"]})
        yield server


@pytest.fixture
def api_with_provider(api: AdminApi, provider: LoopbackProvider) -> AdminApi:
    answer = api.call("POST", "/providers", {
        "id": "acme", "default": True, "default_sender": "ACME",
        "request": {"url": provider.url_for("/sms"), "body": {"to": "{{to}}", "text": "{{text}}"}},
        "response": {"message_id_jmespath": "id"}})
    assert answer.status == 201, answer.text
    return api


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def in_(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


def post(api: AdminApi, message_id: str, send_at: datetime, **extra: Any):
    return api.call("POST", "/messages", {"id": message_id, "to": "+33612345678", "text": f"hello {message_id}",
                                          "send_at": iso(send_at), **extra})


def queue_counts(api: AdminApi) -> dict[str, int]:
    """Messages on the notification lane: visible now, and held back by a delay."""
    attributes = api.stack.session.client("sqs").get_queue_attributes(
        QueueUrl=api.stack.queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesDelayed"])["Attributes"]
    return {"visible": int(attributes["ApproximateNumberOfMessages"]),
            "delayed": int(attributes["ApproximateNumberOfMessagesDelayed"])}


def send_what_is_visible(api: AdminApi, wait_s: int = 0) -> dict:
    from send_handler import lambda_handler

    return api.stack.deliver(api.stack.receive(wait_s=wait_s), lambda_handler)


def sweep(at: datetime):
    from smsbridge.services.schedule import ScheduleSweep
    from smsbridge.wiring import message_store, outbound_queue

    return ScheduleSweep(messages=message_store(), log=message_store(), queue=outbound_queue(), clock=lambda: at).run()


def due_index(api: AdminApi) -> list[str]:
    items = api.stack.table("MessagesTable").scan(IndexName="due").get("Items", [])
    return sorted(item["id"] for item in items)


def statuses(api: AdminApi, message_id: str) -> list[str]:
    return [change["status"] for change in api.call("GET", f"/messages/{message_id}").json()["history"]]


# ---------------------------------------------------------------- within 15 minutes: the queue's delay

def test_given_send_at_3_s_ahead_when_posted_then_it_is_scheduled_and_held_on_the_queue_until_then(
        api_with_provider: AdminApi, provider: LoopbackProvider) -> None:
    send_at = in_(3)

    answer = post(api_with_provider, "soon", send_at)

    assert answer.status == 202, answer.text
    view = api_with_provider.call("GET", "/messages/soon").json()
    assert view["status"] == "scheduled"
    assert view["send_at"].startswith(iso(send_at)[:19])
    assert view["history"][0]["reason"].startswith(f"scheduled for {iso(send_at)[:19]}")
    assert queue_counts(api_with_provider) == {"visible": 0, "delayed": 1}
    assert due_index(api_with_provider) == []  # within 15 minutes: not in the table's due index

    records = []
    while not records and datetime.now(UTC) < send_at + timedelta(seconds=5):
        records = api_with_provider.stack.receive(wait_s=1)
    received = datetime.now(UTC)
    from send_handler import lambda_handler
    api_with_provider.stack.deliver(records, lambda_handler)

    assert received >= send_at - timedelta(seconds=1)
    assert [r.json()["text"] for r in provider.requests] == ["hello soon"]
    assert statuses(api_with_provider, "soon") == ["scheduled", "queued", "sent"]
    assert api_with_provider.call("GET", "/messages/soon").json()["history"][1]["reason"].startswith("send_at reached")


def test_given_send_at_in_the_past_when_posted_then_it_is_queued_and_sent_as_usual(
        api_with_provider: AdminApi, provider: LoopbackProvider) -> None:
    answer = post(api_with_provider, "late", in_(-60))

    assert answer.status == 202
    assert queue_counts(api_with_provider) == {"visible": 1, "delayed": 0}
    send_what_is_visible(api_with_provider)
    assert statuses(api_with_provider, "late") == ["queued", "sent"]


def test_given_send_at_more_than_a_year_ahead_when_posted_then_422_and_nothing_is_recorded(
        api_with_provider: AdminApi) -> None:
    answer = post(api_with_provider, "far", in_(366 * 86400))

    assert answer.status == 422
    assert answer.json()["errors"][0]["loc"] == "body.send_at"
    assert "365 days" in answer.json()["message"]
    assert api_with_provider.call("GET", "/messages/far").status == 404
    assert queue_counts(api_with_provider) == {"visible": 0, "delayed": 0}


# ---------------------------------------------------------------- beyond 15 minutes: the due index and the sweep

def test_given_send_at_2_hours_ahead_when_posted_then_it_waits_in_the_due_index_not_on_the_queue(
        api_with_provider: AdminApi) -> None:
    answer = post(api_with_provider, "later", in_(7200))

    assert answer.status == 202
    assert api_with_provider.call("GET", "/messages/later").json()["status"] == "scheduled"
    assert queue_counts(api_with_provider) == {"visible": 0, "delayed": 0}
    assert due_index(api_with_provider) == ["later"]


def test_given_a_message_due_in_2_hours_when_the_sweep_runs_now_then_nothing_moves(
        api_with_provider: AdminApi) -> None:
    post(api_with_provider, "later", in_(7200))

    run = sweep(datetime.now(UTC))

    assert run.queued == 0
    assert due_index(api_with_provider) == ["later"]


def test_given_a_message_due_in_10_minutes_when_the_sweep_runs_then_it_is_queued_delayed_to_its_time(
        api_with_provider: AdminApi) -> None:
    send_at = in_(7200)
    post(api_with_provider, "later", send_at)
    post(api_with_provider, "much-later", send_at + timedelta(minutes=6))

    run = sweep(send_at - timedelta(minutes=10))

    assert run.queued == 1
    assert due_index(api_with_provider) == ["much-later"]
    assert queue_counts(api_with_provider) == {"visible": 0, "delayed": 1}
    assert api_with_provider.call("GET", "/messages/later").json()["status"] == "scheduled"  # until it is sent


def as_if_due_since(api: AdminApi, message_id: str, seconds: float) -> None:
    """Move a message of the due index back in time: its send_at passed `seconds` ago and no sweep ran."""
    table = api.stack.table("MessagesTable")
    item = table.get_item(Key={"id": message_id})["Item"]
    send_at = iso(in_(-seconds))
    body = {**json.loads(item["scheduled_body"]), "send_at": send_at}
    table.update_item(Key={"id": message_id}, UpdateExpression="SET due_key = :k, send_at = :s, scheduled_body = :b",
                      ExpressionAttributeValues={":k": f"{send_at}#{message_id}", ":s": send_at,
                                                 ":b": json.dumps(body)})


def test_given_a_message_whose_time_passed_while_no_sweep_ran_then_the_next_sweep_queues_it_at_once(
        api_with_provider: AdminApi, provider: LoopbackProvider) -> None:
    post(api_with_provider, "missed", in_(7200))
    as_if_due_since(api_with_provider, "missed", 300)  # the runs around its time failed

    run = sweep(datetime.now(UTC))

    assert run.queued == 1
    assert queue_counts(api_with_provider) == {"visible": 1, "delayed": 0}
    send_what_is_visible(api_with_provider)
    assert statuses(api_with_provider, "missed") == ["scheduled", "queued", "sent"]


def test_given_scheduled_messages_when_the_sweep_finds_nothing_due_then_it_made_one_query_per_shard(
        api_with_provider: AdminApi) -> None:
    from smsbridge.core.schedule import DUE_SHARDS

    for i in range(6):
        post(api_with_provider, f"later-{i}", in_(7200 + i))
    reset_cached_clients()

    with counting_aws_calls() as calls:
        sweep(datetime.now(UTC))

    assert dict(calls) == {("dynamodb", "Query"): DUE_SHARDS}


def test_given_the_schedule_function_when_invoked_then_it_answers_what_it_queued(
        api_with_provider: AdminApi) -> None:
    import schedule_handler

    post(api_with_provider, "past-due", in_(7200))
    as_if_due_since(api_with_provider, "past-due", 5)

    answer = schedule_handler.lambda_handler({}, LambdaContext())

    assert answer == {"queued": 1, "rejected": 0, "errors": 0, "stopped_early": False}
    assert due_index(api_with_provider) == []


# ---------------------------------------------------------------- cancel

def test_given_a_scheduled_message_when_deleted_then_it_is_canceled_and_leaves_the_due_index(
        api_with_provider: AdminApi) -> None:
    send_at = in_(7200)
    post(api_with_provider, "cancel-me", send_at)

    answer = api_with_provider.call("DELETE", "/messages/cancel-me")

    assert answer.status == 200, answer.text
    assert answer.json()["status"] == "canceled"
    assert answer.json()["history"][-1]["reason"] == "canceled through the API"
    assert due_index(api_with_provider) == []
    assert sweep(send_at).queued == 0


def test_given_a_canceled_message_whose_queue_copy_arrives_then_it_is_never_sent(
        api_with_provider: AdminApi, provider: LoopbackProvider) -> None:
    send_at = in_(2)
    post(api_with_provider, "held", send_at)
    assert api_with_provider.call("DELETE", "/messages/held").status == 200

    records = []
    while not records and datetime.now(UTC) < send_at + timedelta(seconds=5):
        records = api_with_provider.stack.receive(wait_s=1)
    from send_handler import lambda_handler
    answer = api_with_provider.stack.deliver(records, lambda_handler)

    assert len(records) == 1  # the copy came
    assert answer == {"batchItemFailures": []}  # and was consumed
    assert provider.requests == []
    assert statuses(api_with_provider, "held") == ["scheduled", "canceled"]


def test_given_a_sent_message_when_deleted_then_409_with_its_status(
        api_with_provider: AdminApi, provider: LoopbackProvider) -> None:
    api_with_provider.call("POST", "/messages", {"id": "gone", "to": "+33612345678", "text": "hi"})
    send_what_is_visible(api_with_provider)

    answer = api_with_provider.call("DELETE", "/messages/gone")

    assert answer.status == 409
    assert answer.json()["status"] == "sent"
    assert "only a scheduled message can be canceled" in answer.json()["message"]
    assert statuses(api_with_provider, "gone") == ["queued", "sent"]


def test_given_a_queued_message_when_deleted_then_409_and_it_is_still_sent(
        api_with_provider: AdminApi, provider: LoopbackProvider) -> None:
    api_with_provider.call("POST", "/messages", {"id": "on-its-way", "to": "+33612345678", "text": "hi"})

    answer = api_with_provider.call("DELETE", "/messages/on-its-way")

    assert answer.status == 409
    assert answer.json()["status"] == "queued"
    send_what_is_visible(api_with_provider)
    assert len(provider.requests) == 1


def test_given_a_canceled_message_when_deleted_again_then_409_canceled(api_with_provider: AdminApi) -> None:
    post(api_with_provider, "twice", in_(7200))
    api_with_provider.call("DELETE", "/messages/twice")

    answer = api_with_provider.call("DELETE", "/messages/twice")

    assert answer.status == 409
    assert answer.json()["status"] == "canceled"


def test_given_an_unknown_id_when_deleted_then_404_and_nothing_is_created(api_with_provider: AdminApi) -> None:
    answer = api_with_provider.call("DELETE", "/messages/nobody")

    assert answer.status == 404
    assert api_with_provider.stack.table("MessagesTable").get_item(Key={"id": "nobody"}).get("Item") is None


def test_given_the_openapi_document_then_it_describes_the_cancel_route() -> None:
    import api_handler

    spec = json.loads(api_handler.app.get_openapi_json_schema())
    cancel = spec["paths"]["/messages/{id}"]["delete"]
    assert {"200", "404", "409"} <= set(cancel["responses"])


# ---------------------------------------------------------------- the send path: bodies written to SQS directly

def enqueue_direct(api: AdminApi, message_id: str, send_at: datetime) -> None:
    api.stack.enqueue({"id": message_id, "to": "+33612345678", "text": f"hello {message_id}", "send_at": iso(send_at)})


def test_given_a_body_due_in_30_minutes_on_the_queue_then_the_send_path_records_it_scheduled_in_the_due_index(
        api_with_provider: AdminApi, provider: LoopbackProvider) -> None:
    send_at = in_(1800)
    enqueue_direct(api_with_provider, "direct-later", send_at)

    answer = send_what_is_visible(api_with_provider)

    assert answer == {"batchItemFailures": []}  # consumed: the sweep queues it when it is due
    assert provider.requests == []
    assert api_with_provider.call("GET", "/messages/direct-later").json()["status"] == "scheduled"
    assert due_index(api_with_provider) == ["direct-later"]
    assert queue_counts(api_with_provider) == {"visible": 0, "delayed": 0}

    as_if_due_since(api_with_provider, "direct-later", 1)  # half an hour later
    assert sweep(datetime.now(UTC)).queued == 1
    send_what_is_visible(api_with_provider, wait_s=2)
    assert [r.json()["text"] for r in provider.requests] == ["hello direct-later"]
    assert statuses(api_with_provider, "direct-later") == ["scheduled", "queued", "sent"]


def test_given_a_body_due_in_3_s_on_the_queue_then_the_send_path_holds_it_on_the_queue_and_sends_it_then(
        api_with_provider: AdminApi, provider: LoopbackProvider) -> None:
    send_at = in_(3)
    enqueue_direct(api_with_provider, "direct-soon", send_at)

    first = send_what_is_visible(api_with_provider)

    assert len(first["batchItemFailures"]) == 1  # back on the queue, invisible until its time
    assert provider.requests == []
    assert api_with_provider.call("GET", "/messages/direct-soon").json()["status"] == "scheduled"
    while not provider.requests and datetime.now(UTC) < send_at + timedelta(seconds=5):
        send_what_is_visible(api_with_provider, wait_s=1)
    assert datetime.now(UTC) >= send_at - timedelta(seconds=1)
    assert [r.json()["text"] for r in provider.requests] == ["hello direct-soon"]
    assert statuses(api_with_provider, "direct-soon") == ["scheduled", "queued", "sent"]


def test_given_a_body_due_beyond_a_year_on_the_queue_then_it_is_dead_lettered_with_the_reason(
        api_with_provider: AdminApi, provider: LoopbackProvider) -> None:
    enqueue_direct(api_with_provider, "direct-far", in_(400 * 86400))

    answer = send_what_is_visible(api_with_provider)

    assert answer == {"batchItemFailures": []}
    [letter] = api_with_provider.stack.dead_letters()
    assert "365 days" in letter["MessageAttributes"]["reason"]["StringValue"]
    assert api_with_provider.call("GET", "/messages/direct-far").json()["status"] == "rejected"
    assert provider.requests == []


def test_given_a_message_without_send_at_then_the_send_path_reads_and_writes_as_before(
        api_with_provider: AdminApi, provider: LoopbackProvider) -> None:
    api_with_provider.stack.enqueue({"id": "plain", "to": "+33612345678", "text": "hi"})
    records = api_with_provider.stack.receive()
    reset_cached_clients()
    from send_handler import lambda_handler

    with counting_aws_calls() as calls:
        lambda_handler({"Records": records}, LambdaContext())

    # BatchGetItem of its state, one claim, one settle (and the cold provider read): no schedule call.
    assert calls[("dynamodb", "TransactWriteItems")] == 2
    assert calls[("dynamodb", "BatchGetItem")] == 1
    assert ("dynamodb", "UpdateItem") not in calls and ("dynamodb", "PutItem") not in calls
    assert ("sqs", "ChangeMessageVisibility") not in calls and ("sqs", "ChangeMessageVisibilityBatch") not in calls
