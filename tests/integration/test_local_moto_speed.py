"""The AWS stand-in's shortcuts (local/aws.py) answer as moto does: a cancelled DynamoDB transaction
still leaves every item as it was, SQS still lists, counts and delivers what it should, a stream
gives the same records and an EventBridge rule delivers the same events."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests
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


# An item of every type, and the longest text (two-byte characters, then one-byte ones) that moto
# lets an update add to it, to exactly 405,000 bytes (with a key of 14 characters, as
# `run_update_cases` gives): one byte more and moto refuses it.
_SIZED_ITEM = {"m": {"M": {"k": {"S": "x" * 100}, "n": {"N": "12.5"}}},
               "l": {"L": [{"N": "12345"}, {"BOOL": True}, {"NULL": True}]},
               "ss": {"SS": ["ab", "cd"]}, "ns": {"NS": ["1", "22"]}, "bs": {"BS": [b"xyz"]}, "b": {"B": b"\x00\x01"}}
_SIZE_LIMIT_TEXT = "é" * 202_419 + "aaa"


def _sized_update(text: str) -> dict:
    return {"UpdateExpression": "SET big = :big, small = :s",
            "ExpressionAttributeValues": {":big": {"S": text}, ":s": {"S": "z"}}}


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
    # On an item that does not exist yet, moto validates twice (the stand-in, once when it can).
    ("a new item whose expression reads its key", None, {"UpdateExpression": "SET a = id"}),
    ("a new item whose expression reads its key by a name", None, {
        "UpdateExpression": "SET a = if_not_exists(#k, :v)", "ExpressionAttributeNames": {"#k": "id"},
        "ExpressionAttributeValues": {":v": {"S": "x"}}}),
    ("a new item with an undefined value", None, {"UpdateExpression": "SET a = :nope"}),
    ("a new item with a reserved word", None, {"UpdateExpression": "SET status = :v",
                                               "ExpressionAttributeValues": {":v": {"S": "x"}}}),
    ("a new item with a path under a missing attribute", None, {
        "UpdateExpression": "SET a.b = :v", "ExpressionAttributeValues": {":v": {"S": "x"}}}),
    ("a new item with its key updated", None, {"UpdateExpression": "SET #k = :v",
                                               "ExpressionAttributeNames": {"#k": "id"},
                                               "ExpressionAttributeValues": {":v": {"S": "x"}}}),
    ("a new item with arithmetic on missing attributes", None, {
        "UpdateExpression": "SET n = if_not_exists(n, :one) + :one, l = list_append(if_not_exists(l, :e), :e)",
        "ExpressionAttributeValues": {":one": {"N": "1"}, ":e": {"L": [{"S": "x"}]}}}),
    # The same texts again with other names and values: what the stand-in keeps of an expression
    # (its first checks, a condition's syntax tree) must not carry one request's names or values
    # into the next.
    ("an expression through a name, first on a plain attribute", {}, {
        "UpdateExpression": "SET #k = :v", "ExpressionAttributeNames": {"#k": "a"},
        "ExpressionAttributeValues": {":v": {"S": "x"}}}),
    ("the same expression through a name, now on the key", {}, {
        "UpdateExpression": "SET #k = :v", "ExpressionAttributeNames": {"#k": "id"},
        "ExpressionAttributeValues": {":v": {"S": "x"}}}),
    ("the same expression through a name, on an index key with the wrong type", {}, {
        "UpdateExpression": "SET #k = :v", "ExpressionAttributeNames": {"#k": "gk"},
        "ExpressionAttributeValues": {":v": {"N": "1"}}}),
    ("a condition that holds", {"n": {"N": "3"}, "m": {"N": "9"}}, {
        "UpdateExpression": "SET #d = :t", "ConditionExpression": "#n = :n AND #n BETWEEN :lo AND :hi",
        "ExpressionAttributeNames": {"#d": "done", "#n": "n"},
        "ExpressionAttributeValues": {":t": {"BOOL": True}, ":n": {"N": "3"}, ":lo": {"N": "1"}, ":hi": {"N": "5"}}}),
    ("the same condition, failed by its values", {"n": {"N": "3"}, "m": {"N": "9"}}, {
        "UpdateExpression": "SET #d = :t", "ConditionExpression": "#n = :n AND #n BETWEEN :lo AND :hi",
        "ExpressionAttributeNames": {"#d": "done", "#n": "n"},
        "ExpressionAttributeValues": {":t": {"BOOL": True}, ":n": {"N": "4"}, ":lo": {"N": "1"}, ":hi": {"N": "5"}}}),
    ("the same condition, failed by its names", {"n": {"N": "3"}, "m": {"N": "9"}}, {
        "UpdateExpression": "SET #d = :t", "ConditionExpression": "#n = :n AND #n BETWEEN :lo AND :hi",
        "ExpressionAttributeNames": {"#d": "done", "#n": "m"},
        "ExpressionAttributeValues": {":t": {"BOOL": True}, ":n": {"N": "3"}, ":lo": {"N": "1"}, ":hi": {"N": "5"}}}),
    ("the same condition, held through other names", {"n": {"N": "3"}, "m": {"N": "3"}}, {
        "UpdateExpression": "SET #d = :t", "ConditionExpression": "#n = :n AND #n BETWEEN :lo AND :hi",
        "ExpressionAttributeNames": {"#d": "other", "#n": "m"},
        "ExpressionAttributeValues": {":t": {"S": "y"}, ":n": {"N": "3"}, ":lo": {"N": "1"}, ":hi": {"N": "5"}}}),
    # moto's item size limit (405,000 bytes as moto counts them, every type): one byte under, one over
    (_SIZE_UNDER := "an item just under moto's size limit", _SIZED_ITEM, _sized_update(_SIZE_LIMIT_TEXT)),
    (_SIZE_OVER := "an item just over moto's size limit", _SIZED_ITEM, _sized_update(_SIZE_LIMIT_TEXT + "a")),
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
            if item and "big" in item:
                item["big"] = {"S": f"{len(item['big']['S'].encode())} bytes"}  # what matters, shortly
            results.append([name, how, answer, _printable(item)])
    return results


def _printable(item: dict | None) -> dict | None:
    """Binary values as text, so that the answers can be compared through JSON."""
    if item is None:
        return None
    return json.loads(json.dumps(item, default=lambda value: f"bytes:{bytes(value).hex()}"))


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
    answers = {(r[0], r[1]): r[2] for r in got}
    for how in ("update_item", "transaction"):  # the size limit was reached, not merely approached
        assert answers[(_SIZE_UNDER, how)] == "ok" and answers[(_SIZE_OVER, how)] != "ok"


def test_given_a_condition_parsed_once_then_a_later_request_missing_a_value_or_with_a_null_bound_is_refused_as_moto_does(
        session: EndpointSession) -> None:
    from moto.dynamodb.comparisons import IncorrectOperandType, get_filter_expression

    # Given a condition the stand-in has parsed once (its syntax tree kept)
    text, names = "#n = :n AND #n BETWEEN :lo AND :hi", {"#n": "n"}
    values = {":n": {"N": "3"}, ":lo": {"N": "1"}, ":hi": {"N": "5"}}
    get_filter_expression(text, names, values)

    # When the same text comes with one of its values missing, or a NULL bound
    # Then moto's own errors are raised (the server answers them as moto does), and with the
    # values it holds the condition still reads this request's values
    with pytest.raises(KeyError, match=":hi"):
        get_filter_expression(text, names, {":n": {"N": "3"}, ":lo": {"N": "1"}})
    with pytest.raises(IncorrectOperandType, match="NULL"):
        get_filter_expression(text, names, {**values, ":lo": {"NULL": True}})
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    item = Item(DynamoType({"S": "k"}), None, {"id": {"S": "k"}, "n": {"N": "7"}})
    assert not get_filter_expression(text, names, values).expr(item)
    assert get_filter_expression(text, names, {":n": {"N": "7"}, ":lo": {"N": "7"}, ":hi": {"N": "9"}}).expr(item)
    assert not get_filter_expression(text, {"#n": "m"}, {":n": {"N": "7"}, ":lo": {"N": "7"}, ":hi": {"N": "9"}}).expr(item)


def run_sqs_cases(sqs: object) -> list[list]:
    """Counts of a queue with delayed, in-flight and visible messages, and deletes of every kind: by
    the newest receipt handle, by an older one of a message received again, twice, and by a handle
    that never was (refused). Each answer, then the counts and what is left."""
    url = sqs.create_queue(QueueName=f"s-{uuid.uuid4().hex[:8]}")["QueueUrl"]  # type: ignore[attr-defined]
    results: list[list] = []

    def counts(step: str) -> None:
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]  # type: ignore[attr-defined]
        results.append([step, {name: attributes[name] for name in (
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed")}])

    def delete(step: str, handle: str) -> None:
        try:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=handle)  # type: ignore[attr-defined]
            results.append([step, "ok"])
        except Exception as exc:  # noqa: BLE001 - the answer compared is the error's code and message
            results.append([step, f"{type(exc).__name__}: {exc}"])

    for i in range(6):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{i}", DelaySeconds=60 if i >= 4 else 0)  # type: ignore[attr-defined]
    counts("4 visible, 2 delayed")
    first = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2, VisibilityTimeout=0)["Messages"]  # type: ignore[attr-defined]
    again = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60)["Messages"]  # type: ignore[attr-defined]
    counts("4 in flight, 2 delayed")
    by_body = {m["Body"]: m["ReceiptHandle"] for m in again}
    delete("by the newest handle", by_body[sorted(by_body)[-1]])
    delete("by an older handle of a message received again", first[0]["ReceiptHandle"])
    delete("the same message again", first[0]["ReceiptHandle"])
    delete("by a handle that never was", first[0]["ReceiptHandle"][:-8] + "AAAAAAAA")
    counts("after the deletes")
    sqs.send_message(QueueUrl=url, MessageBody="late")  # type: ignore[attr-defined]
    left = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]  # type: ignore[attr-defined]
    results.append(["visible at the end", sorted(m["Body"] for m in left)])
    return results


_PLAIN_MOTO_SQS = """
import json, sys, boto3
from moto import mock_aws
sys.path.insert(0, sys.argv[1])
from tests.integration.test_local_moto_speed import run_sqs_cases
with mock_aws():
    client = boto3.client("sqs", region_name="us-east-1", aws_access_key_id="testing",
                          aws_secret_access_key="testing")
    print(json.dumps(run_sqs_cases(client), sort_keys=True))
"""


def test_given_delayed_in_flight_and_deleted_messages_then_the_shortcut_server_counts_and_deletes_as_plain_moto(
        session: EndpointSession) -> None:
    # Given plain moto's answers, from a process where no shortcut was applied
    root = Path(__file__).resolve().parents[2]
    plain = subprocess.run([sys.executable, "-c", _PLAIN_MOTO_SQS, str(root)], capture_output=True, text=True,
                           timeout=120, cwd=root, env={k: v for k, v in os.environ.items() if not k.startswith("AWS_")})
    assert plain.returncode == 0, plain.stderr
    expected = json.loads(plain.stdout)

    # When the same requests go to the local runtime's AWS stand-in
    got = json.loads(json.dumps(run_sqs_cases(session.client("sqs")), sort_keys=True))

    # Then every count, every delete's answer and what is left are the same
    assert got == expected
    assert expected[1][1]["ApproximateNumberOfMessagesDelayed"] == "2"  # each count was exercised
    assert expected[1][1]["ApproximateNumberOfMessagesNotVisible"] == "4"
    assert [answer for _, answer in expected[2:6]][:3] == ["ok", "ok", "ok"] and expected[5][1] != "ok"


def run_stream_and_event_cases(client: Any) -> list[list]:
    """What a table's stream gives after writes of every attribute kind (binary included), a
    transaction and a delete, and what an EventBridge rule delivers to its SQS target: the records
    and the events, without what differs by nature (random ids, clocks)."""
    dynamodb, streams, events, sqs = (client(s) for s in ("dynamodb", "dynamodbstreams", "events", "sqs"))
    table = f"s-{uuid.uuid4().hex[:8]}"
    arn = dynamodb.create_table(
        TableName=table, BillingMode="PAY_PER_REQUEST", AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})["TableDescription"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    dynamodb.put_item(TableName=table, Item={
        "id": {"S": "a"}, "n": {"N": "1.50"}, "t": {"BOOL": True}, "z": {"NULL": True}, "ss": {"SS": ["x", "y"]},
        "ns": {"NS": ["1", "2"]}, "m": {"M": {"k": {"S": "v"}, "e": {"M": {}}, "l": {"L": [{"N": "3"}, {"S": "é"}]}}}})
    dynamodb.update_item(TableName=table, Key={"id": {"S": "a"}}, UpdateExpression="SET n = n + :one, h = list_append(if_not_exists(h, :none), :h)",
                         ExpressionAttributeValues={":one": {"N": "1"}, ":none": {"L": []}, ":h": {"L": [{"M": {"s": {"S": "sent"}}}]}})
    dynamodb.transact_write_items(TransactItems=[
        {"Put": {"TableName": table, "Item": {"id": {"S": "b"}, "blob": {"B": b"\x00\xffbytes"}, "nested": {"M": {
            "b": {"B": b"\x01"}, "bs": {"BS": [b"\x02"]}, "l": {"L": [{"B": b"\x03"}, {"M": {"ss": {"SS": ["q"]}}}]}}}}}},
        {"Update": {"TableName": table, "Key": {"id": {"S": "c"}}, "UpdateExpression": "SET s = :s",
                    "ExpressionAttributeValues": {":s": {"S": "queued"}}}}])
    dynamodb.delete_item(TableName=table, Key={"id": {"S": "a"}})
    results: list[list] = []
    for limit in (2, 10, 10):
        answer = streams.get_records(ShardIterator=iterator, Limit=limit)
        iterator = answer["NextShardIterator"]
        for record in answer["Records"]:
            change = dict(record["dynamodb"])
            assert isinstance(change.pop("ApproximateCreationDateTime"), datetime)
            assert change.pop("SizeBytes") > 0  # the length of the record's JSON, the clock's digits included
            results.append(["record", record["eventName"], record["eventSource"], record["awsRegion"],
                            _printable(change)])
        results.append(["page", limit, len(answer["Records"])])

    queue = sqs.create_queue(QueueName=f"e-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    rule = f"r-{uuid.uuid4().hex[:8]}"
    events.put_rule(Name=rule, EventPattern=json.dumps({"source": ["smsbridge"], "detail": {"status": ["sent", "failed"]}}))
    events.put_targets(Rule=rule, Targets=[{"Id": "q", "Arn": queue_arn}])
    put = events.put_events(Entries=[
        {"Source": "smsbridge", "DetailType": "sms.status", "Detail": json.dumps({"id": f"m{i}", "status": status})}
        for i, status in enumerate(["sent", "queued", "failed", "sent"])] + [
        {"Source": "other", "DetailType": "sms.status", "Detail": json.dumps({"id": "x", "status": "sent"})}])
    results.append(["put", put["FailedEntryCount"], len(put["Entries"])])
    delivered = []
    while messages := sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages"):
        for message in messages:
            event = json.loads(message["Body"])
            delivered.append({k: v for k, v in event.items() if k not in ("id", "time")})
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    results.append(["delivered", sorted(delivered, key=lambda e: e["detail"]["id"])])
    return results


_PLAIN_MOTO_STREAMS_EVENTS = """
import json, sys, boto3
from moto import mock_aws
sys.path.insert(0, sys.argv[1])
from tests.integration.test_local_moto_speed import run_stream_and_event_cases
with mock_aws():
    client = lambda service: boto3.client(service, region_name="us-east-1", aws_access_key_id="testing",
                                          aws_secret_access_key="testing")
    print(json.dumps(run_stream_and_event_cases(client), sort_keys=True))
"""


def test_given_stream_records_and_rule_targets_then_the_shortcut_server_gives_what_plain_moto_gives(
        session: EndpointSession) -> None:
    # Given plain moto's stream records and rule deliveries, from a process where no shortcut was applied
    root = Path(__file__).resolve().parents[2]
    plain = subprocess.run([sys.executable, "-c", _PLAIN_MOTO_STREAMS_EVENTS, str(root)], capture_output=True,
                           text=True, timeout=120, cwd=root,
                           env={k: v for k, v in os.environ.items() if not k.startswith("AWS_")})
    assert plain.returncode == 0, plain.stderr
    expected = json.loads(plain.stdout)

    # When the same writes, reads and events go to the local runtime's AWS stand-in
    got = json.loads(json.dumps(run_stream_and_event_cases(session.client), sort_keys=True))

    # Then every record (binary values included), every page and every delivered event is the same
    assert got == expected
    assert [r[1] for r in expected if r[0] == "record"] == ["INSERT", "MODIFY", "INSERT", "INSERT", "INSERT", "REMOVE"]
    assert [e["detail"]["id"] for e in expected[-1][1]] == ["m0", "m2", "m3"]  # the pattern was applied


def test_given_calls_to_the_stand_in_then_its_cpu_by_call_counts_them(session: EndpointSession) -> None:
    # Given the CPU the stand-in had spent so far, by kind of call
    def by_call() -> dict:
        answer = requests.get(f"{session.endpoint_url}/_local/cpu", timeout=10)
        answer.raise_for_status()
        return answer.json()

    before = by_call().get("AmazonSQS.ListQueues", {"calls": 0, "cpu_s": 0.0})

    # When a client lists the queues three times
    for _ in range(3):
        session.client("sqs").list_queues()

    # Then three more such calls are counted, with the CPU they took
    after = by_call()["AmazonSQS.ListQueues"]
    assert after["calls"] - before["calls"] == 3
    assert after["cpu_s"] > before["cpu_s"]


_CLIENT_CASES = """
import json, sys, uuid
sys.path.insert(0, sys.argv[1])
from local.aws import MotoServer, EndpointSession, faster_botocore_attribute_values
if sys.argv[2] == "faster":
    faster_botocore_attribute_values()
server = MotoServer(port=0).start()
client = EndpointSession(server.url).client("dynamodb", config=__import__("botocore.config").config.Config(retries={"max_attempts": 1}))
client.create_table(TableName="t", BillingMode="PAY_PER_REQUEST", AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                    KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
answers = []
item = {"id": {"S": "a"}, "n": {"N": "1.50"}, "t": {"BOOL": True}, "z": {"NULL": True}, "b": {"B": b"\\x00\\xff"},
        "m": {"M": {"l": {"L": [{"S": "y"}, {"BOOL": False}, {"BS": [b"1"]}, {"M": {"ss": {"SS": ["a", "b"]}}}]},
                    "ns": {"NS": ["1", "2"]}}}}
client.put_item(TableName="t", Item=item)
answers.append(client.get_item(TableName="t", Key={"id": {"S": "a"}}, ConsistentRead=True)["Item"])
answers.append(client.batch_get_item(RequestItems={"t": {"Keys": [{"id": {"S": "a"}}]}})["Responses"])
for bad in ({"S": 1}, {"S": "x", "N": "1"}, {"Q": "x"}, {"M": {"k" * 65536: {"S": "x"}}}, {"M": {"k" * 65535: {"S": "x"}}},
            {"L": [{"S": None}]}, {"SS": ["a", 1]}, {"M": {"k": {"S": "x", "N": "1"}}}, {"BOOL": "yes"}):
    try:
        client.put_item(TableName="t", Item={"id": {"S": "b"}, "v": bad})
        answers.append(["ok", client.get_item(TableName="t", Key={"id": {"S": "b"}})["Item"]])
    except Exception as exc:
        answers.append(f"{type(exc).__name__}: {exc}")
from decimal import Decimal
from boto3.dynamodb.types import Binary
table = EndpointSession(server.url).resource("dynamodb").Table("t")
params = {"id": "r", "n": Decimal("1.5"), "s": {"a", "b"}, "b": Binary(b"\\x00"), "l": [{"k": ["x", 1, True, None]}]}
before = repr(params)
table.put_item(Item=params)
answers.append(repr(params) == before)  # the caller's parameters are not changed
answers.append(table.get_item(Key={"id": "r"})["Item"])
print(json.dumps(answers, sort_keys=True, default=lambda value: f"bytes:{bytes(value).hex()}"
                 if isinstance(value, (bytes, Binary)) else sorted(value) if isinstance(value, set) else str(value)))
"""


def test_given_attribute_values_of_every_kind_then_the_runtimes_faster_botocore_sends_reads_and_refuses_them_as_botocore_does() -> None:
    # Given what plain botocore sends, reads back and refuses, each in a process of its own
    root = Path(__file__).resolve().parents[2]

    def answers(mode: str) -> list:
        run = subprocess.run([sys.executable, "-c", _CLIENT_CASES, str(root), mode], capture_output=True, text=True,
                             timeout=120, cwd=root, env={k: v for k, v in os.environ.items() if not k.startswith("AWS_")})
        assert run.returncode == 0, run.stderr
        return json.loads(run.stdout.strip().splitlines()[-1])

    plain, faster = answers("plain"), answers("faster")

    # Then the local runtime's shortcuts give the same items, answers and refusals
    assert faster == plain
    assert sum(1 for a in plain if isinstance(a, str) and a.startswith("ParamValidationError")) >= 5
    assert plain[0]["b"] == {"B": "bytes:00ff"} and plain[0]["m"]["M"]["l"]["L"][2] == {"BS": ["bytes:31"]}
    assert plain[-2] is True and plain[-1]["b"] == "bytes:00" and plain[-1]["s"] == ["a", "b"]
