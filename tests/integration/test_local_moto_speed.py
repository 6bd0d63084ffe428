"""The AWS stand-in's shortcuts (local/aws.py) answer as moto does: a cancelled DynamoDB transaction
still leaves every item as it was, and SQS still lists, counts and delivers what it should."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from local.aws import EndpointSession, MotoServer


@pytest.fixture(scope="module")
def session() -> Iterator[EndpointSession]:
    server = MotoServer(port=0).start()
    yield EndpointSession(server.url)
    server.stop()


def _table(session: EndpointSession) -> str:
    name = f"t-{uuid.uuid4().hex[:8]}"
    session.client("dynamodb").create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST", AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
    return name


def test_given_a_transaction_whose_last_condition_fails_then_no_item_it_wrote_is_changed(
        session: EndpointSession) -> None:
    # Given a table with two items (and many others, as the local runtime's tables grow)
    dynamodb, table = session.client("dynamodb"), _table(session)
    for i in range(200):
        dynamodb.put_item(TableName=table, Item={"id": {"S": f"other-{i}"}})
    dynamodb.put_item(TableName=table, Item={"id": {"S": "kept"}, "n": {"N": "1"}})
    dynamodb.put_item(TableName=table, Item={"id": {"S": "gone"}, "n": {"N": "1"}})

    # When a transaction updates one, deletes the other, puts a new one, then fails a condition
    with pytest.raises(ClientError, match="TransactionCanceled"):
        dynamodb.transact_write_items(TransactItems=[
            {"Update": {"TableName": table, "Key": {"id": {"S": "kept"}}, "UpdateExpression": "SET n = :two",
                        "ExpressionAttributeValues": {":two": {"N": "2"}}}},
            {"Delete": {"TableName": table, "Key": {"id": {"S": "gone"}}}},
            {"Put": {"TableName": table, "Item": {"id": {"S": "new"}}}},
            {"ConditionCheck": {"TableName": table, "Key": {"id": {"S": "other-0"}},
                                "ConditionExpression": "attribute_not_exists(id)"}}])

    # Then every item is as it was
    def item(key: str) -> dict | None:
        return dynamodb.get_item(TableName=table, Key={"id": {"S": key}}).get("Item")

    assert item("kept") == {"id": {"S": "kept"}, "n": {"N": "1"}}
    assert item("gone") == {"id": {"S": "gone"}, "n": {"N": "1"}}
    assert item("new") is None
    assert dynamodb.scan(TableName=table, Select="COUNT")["Count"] == 202


def test_given_a_transaction_that_holds_then_every_write_is_applied(session: EndpointSession) -> None:
    dynamodb, table = session.client("dynamodb"), _table(session)
    dynamodb.put_item(TableName=table, Item={"id": {"S": "a"}, "n": {"N": "1"}})

    dynamodb.transact_write_items(TransactItems=[
        {"Update": {"TableName": table, "Key": {"id": {"S": "a"}}, "UpdateExpression": "SET n = :two",
                    "ConditionExpression": "n = :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}, ":two": {"N": "2"}}}},
        {"Put": {"TableName": table, "Item": {"id": {"S": "b"}}, "ConditionExpression": "attribute_not_exists(id)"}}])

    assert dynamodb.get_item(TableName=table, Key={"id": {"S": "a"}})["Item"]["n"] == {"N": "2"}
    assert dynamodb.get_item(TableName=table, Key={"id": {"S": "b"}})["Item"] == {"id": {"S": "b"}}


def test_given_many_messages_some_in_flight_then_sqs_counts_and_delivers_each_once(session: EndpointSession) -> None:
    # Given 30 messages, 10 of them received (in flight)
    sqs = session.client("sqs")
    url = sqs.create_queue(QueueName=f"q-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    for start in range(0, 30, 10):
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": json.dumps(start + i)}
                                                      for i in range(10)])
    held = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60)["Messages"]

    # Then the counts say so, and the other 20 are delivered once each
    counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert (counts["ApproximateNumberOfMessages"], counts["ApproximateNumberOfMessagesNotVisible"]) == ("20", "10")
    rest = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60).get("Messages"):
        rest += [json.loads(m["Body"]) for m in messages]
    assert sorted(rest + [json.loads(m["Body"]) for m in held]) == list(range(30))
    assert len(rest) == 20


def test_given_update_expressions_then_valid_ones_apply_and_invalid_ones_are_refused_as_moto_refuses(
        session: EndpointSession) -> None:
    dynamodb, table = session.client("dynamodb"), _table(session)
    dynamodb.put_item(TableName=table, Item={"id": {"S": "a"}, "n": {"N": "1"}})
    key = {"id": {"S": "a"}}

    dynamodb.update_item(TableName=table, Key=key, UpdateExpression="SET n = :two, m = :two, o = :two REMOVE p",
                         ExpressionAttributeValues={":two": {"N": "2"}})
    with pytest.raises(ClientError, match="Two document paths overlap"):
        dynamodb.update_item(TableName=table, Key=key, UpdateExpression="SET n = :two, m = :two, n = :two",
                             ExpressionAttributeValues={":two": {"N": "3"}})
    with pytest.raises(ClientError, match="The \"SET\" section can only be used once"):
        dynamodb.update_item(TableName=table, Key=key, UpdateExpression="SET n = :two SET m = :two",
                             ExpressionAttributeValues={":two": {"N": "3"}})

    assert dynamodb.get_item(TableName=table, Key=key)["Item"] == {
        "id": {"S": "a"}, "n": {"N": "2"}, "m": {"N": "2"}, "o": {"N": "2"}}


# UpdateItem requests covering what moto's expression processors do (if_not_exists, list_append,
# arithmetic, ADD/DELETE on sets, nested and indexed paths, REMOVE) and what they refuse: each is
# run on the shortcut server and on plain moto in a fresh process, and the answers must match.
_UPDATE_CASES: list[tuple[str, dict | None, dict]] = [
    ("claim of a new item", None, {
        "UpdateExpression": "SET #c = if_not_exists(#c, :at), #h = if_not_exists(#h, :first), #s = if_not_exists(#s, :q), "
                            "#cu = :until, #a = :next",
        "ConditionExpression": "(attribute_not_exists(#s) OR #s = :q) AND (attribute_not_exists(#a) OR #a = :seen)",
        "ExpressionAttributeNames": {"#c": "created_at", "#h": "history", "#s": "status", "#cu": "claimed_until",
                                     "#a": "attempts"},
        "ExpressionAttributeValues": {":at": {"S": "2026-11-30"}, ":first": {"L": [{"M": {"s": {"S": "queued"}}}]},
                                      ":q": {"S": "queued"}, ":until": {"N": "100"}, ":next": {"N": "1"},
                                      ":seen": {"N": "0"}}}),
    ("claim of an item already there", {"created_at": {"S": "old"}, "status": {"S": "queued"}}, {
        "UpdateExpression": "SET #c = if_not_exists(#c, :at), #s = if_not_exists(#s, :q), #u = :at",
        "ExpressionAttributeNames": {"#c": "created_at", "#s": "status", "#u": "updated_at"},
        "ExpressionAttributeValues": {":at": {"S": "new"}, ":q": {"S": "sent"}}}),
    ("final record", {"history": {"L": [{"S": "a"}]}, "claimed_by": {"S": "t"}, "claimed_until": {"N": "5"}}, {
        "UpdateExpression": "SET #h = list_append(if_not_exists(#h, :empty), :h), #s = :s REMOVE #cu, #cb",
        "ConditionExpression": "#cb = :token",
        "ExpressionAttributeNames": {"#h": "history", "#s": "status", "#cu": "claimed_until", "#cb": "claimed_by"},
        "ExpressionAttributeValues": {":h": {"L": [{"S": "b"}]}, ":empty": {"L": []}, ":s": {"S": "sent"},
                                      ":token": {"S": "t"}}}),
    ("final record whose claim was lost", {"claimed_by": {"S": "other"}}, {
        "UpdateExpression": "SET #s = :s REMOVE #cb", "ConditionExpression": "#cb = :token",
        "ExpressionAttributeNames": {"#s": "status", "#cb": "claimed_by"},
        "ExpressionAttributeValues": {":s": {"S": "sent"}, ":token": {"S": "t"}}}),
    ("arithmetic", {"n": {"N": "5"}}, {
        "UpdateExpression": "SET n = n + :one, m = :ten - :one, k = if_not_exists(k, :one) + :one",
        "ExpressionAttributeValues": {":one": {"N": "1"}, ":ten": {"N": "10"}}}),
    ("ADD and DELETE on sets", {"tags": {"SS": ["a", "b"]}, "count": {"N": "1"}}, {
        "UpdateExpression": "ADD #n :two, more :set DELETE tags :a",
        "ExpressionAttributeNames": {"#n": "count"},
        "ExpressionAttributeValues": {":two": {"N": "2"}, ":set": {"NS": ["1", "2"]}, ":a": {"SS": ["a"]}}}),
    ("nested and indexed paths", {"m": {"M": {"b": {"M": {"c": {"S": "x"}}}}}, "l": {"L": [{"S": "0"}, {"S": "1"}, {"S": "2"}]}}, {
        "UpdateExpression": "SET m.b.c = :v, m.b.d = :v, l[1] = :v REMOVE l[0], l[2]",
        "ExpressionAttributeValues": {":v": {"S": "new"}}}),
    ("conditions of every form, held", {"n": {"N": "3"}, "s": {"S": "abc"}, "m": {"M": {"k": {"L": [{"S": "x"}]}}}}, {
        "UpdateExpression": "SET done = :t",
        "ConditionExpression": "begins_with(s, :a) AND size(m.k) = :one AND n BETWEEN :one AND :five AND "
                               "NOT (n IN (:one, :five)) AND (attribute_type(s, :S) OR contains(s, :a)) AND n <> :one",
        "ExpressionAttributeValues": {":t": {"BOOL": True}, ":a": {"S": "ab"}, ":one": {"N": "1"}, ":five": {"N": "5"},
                                      ":S": {"S": "S"}}}),
    ("conditions of every form, failed", {"n": {"N": "5"}}, {
        "UpdateExpression": "SET done = :t", "ConditionExpression": "n >= :one AND NOT n = :five",
        "ExpressionAttributeValues": {":t": {"BOOL": True}, ":one": {"N": "1"}, ":five": {"N": "5"}}}),
    ("a reserved word in a condition", {}, {"UpdateExpression": "SET a = :v", "ConditionExpression": "status = :v",
                                           "ExpressionAttributeValues": {":v": {"S": "x"}}}),
    ("overlapping paths", {}, {"UpdateExpression": "SET a = :v, b = :v, a = :v",
                               "ExpressionAttributeValues": {":v": {"S": "x"}}}),
    ("two SET clauses", {}, {"UpdateExpression": "SET a = :v SET b = :v", "ExpressionAttributeValues": {":v": {"S": "x"}}}),
    ("the key updated", {}, {"UpdateExpression": "SET id = :v", "ExpressionAttributeValues": {":v": {"S": "x"}}}),
    ("an undefined value", {}, {"UpdateExpression": "SET a = :nope"}),
    ("a path under a missing attribute", {}, {"UpdateExpression": "SET a.b = :v",
                                             "ExpressionAttributeValues": {":v": {"S": "x"}}}),
    ("a number plus a string", {"n": {"N": "1"}}, {"UpdateExpression": "SET n = n + :s",
                                                  "ExpressionAttributeValues": {":s": {"S": "x"}}}),
    ("list_append of a missing attribute", {}, {"UpdateExpression": "SET l = list_append(nope, :l)",
                                               "ExpressionAttributeValues": {":l": {"L": []}}}),
    ("a reserved word", {}, {"UpdateExpression": "SET status = :v", "ExpressionAttributeValues": {":v": {"S": "x"}}}),
    ("an empty string for an index key", {}, {"UpdateExpression": "SET gk = :e",
                                             "ExpressionAttributeValues": {":e": {"S": ""}}}),
    ("a wrong type for an index key", {}, {"UpdateExpression": "SET gk = :n",
                                          "ExpressionAttributeValues": {":n": {"N": "1"}}}),
]


def run_update_cases(dynamodb: object) -> list[list]:
    """Each case on an item of its own, then as one transaction of two: the answer and the item."""
    table = f"u-{uuid.uuid4().hex[:8]}"
    dynamodb.create_table(  # type: ignore[attr-defined]
        TableName=table, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}, {"AttributeName": "gk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[{"IndexName": "by-gk", "KeySchema": [{"AttributeName": "gk", "KeyType": "HASH"}],
                                 "Projection": {"ProjectionType": "ALL"}}])
    results: list[list] = []
    for n, (name, before, request) in enumerate(_UPDATE_CASES):
        for how in ("update_item", "transaction"):
            key = {"id": {"S": f"{how}-{n}"}}
            if before is not None:
                dynamodb.put_item(TableName=table, Item={**key, **before})  # type: ignore[attr-defined]
            try:
                if how == "update_item":
                    dynamodb.update_item(TableName=table, Key=key, **request)  # type: ignore[attr-defined]
                else:
                    dynamodb.transact_write_items(TransactItems=[  # type: ignore[attr-defined]
                        {"Update": {"TableName": table, "Key": key, **request}},
                        {"Put": {"TableName": table, "Item": {"id": {"S": f"other-{n}"}}}}])
                answer = "ok"
            except Exception as exc:  # noqa: BLE001 - the answer compared is the error's code and message
                answer = f"{type(exc).__name__}: {exc}"
            item = dynamodb.get_item(TableName=table, Key=key).get("Item")  # type: ignore[attr-defined]
            results.append([name, how, answer, item])
    return results


_PLAIN_MOTO = """
import json, sys, boto3
from moto import mock_aws
sys.path.insert(0, sys.argv[1])
from tests.integration.test_local_moto_speed import run_update_cases
with mock_aws():
    client = boto3.client("dynamodb", region_name="us-east-1", aws_access_key_id="testing",
                          aws_secret_access_key="testing")
    print(json.dumps(run_update_cases(client), sort_keys=True))
"""


def test_given_update_expressions_of_every_kind_then_the_shortcut_server_answers_each_as_plain_moto(
        session: EndpointSession) -> None:
    # Given plain moto's answers, from a process where no shortcut was applied
    root = Path(__file__).resolve().parents[2]
    plain = subprocess.run([sys.executable, "-c", _PLAIN_MOTO, str(root)], capture_output=True, text=True,
                           timeout=120, cwd=root, env={k: v for k, v in os.environ.items() if not k.startswith("AWS_")})
    assert plain.returncode == 0, plain.stderr
    expected = json.loads(plain.stdout)

    # When the same requests go to the local runtime's AWS stand-in
    got = json.loads(json.dumps(run_update_cases(session.client("dynamodb")), sort_keys=True))

    # Then every answer and every item is the same, refusals included
    assert [r[:2] for r in got] == [r[:2] for r in expected]
    for mine, theirs in zip(got, expected, strict=True):
        assert mine == theirs, f"{mine[0]} ({mine[1]})"
    assert sum(1 for r in got if r[2] != "ok") >= 12  # the refusals were exercised, not only successes
