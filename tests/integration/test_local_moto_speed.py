"""The AWS stand-in's shortcuts (local/aws.py) answer as moto does: a cancelled DynamoDB transaction
still leaves every item as it was, and SQS still lists, counts and delivers what it should."""
from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

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
