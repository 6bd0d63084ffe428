"""The local AWS stand-in writes a DynamoDB stream's GetRecords answer directly (local/aws.py
`stream_records_json`): the document must be the one moto's own serializer writes, for any item."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from moto.core.responses import ActionContext, ActionResult
from moto.core.serialize import get_serializer_class
from moto.core.utils import get_service_model
from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

from local.aws import stream_records_json


def moto_serialized(result: dict[str, Any]) -> dict[str, Any]:
    """What moto's generic serializer writes for a GetRecords result."""
    model = get_service_model("dynamodbstreams")
    context = ActionContext(model, model.operation_model("GetRecords"),
                            get_serializer_class("dynamodbstreams", model.protocol), DynamoDBStreamsHandler())
    status, _, body = ActionResult(result).execute_result(context)
    assert status == 200
    return json.loads(body)


names = st.text(min_size=1, max_size=8)
texts = st.text(max_size=12)
numbers = st.from_regex(r"-?[0-9]{1,6}(\.[0-9]{1,3})?", fullmatch=True)
scalars = st.one_of(
    st.builds(lambda v: {"S": v}, texts), st.builds(lambda v: {"N": v}, numbers),
    st.builds(lambda v: {"BOOL": v}, st.booleans()), st.just({"NULL": True}),
    st.builds(lambda v: {"SS": sorted(v)}, st.sets(texts, min_size=1, max_size=3)),
    st.builds(lambda v: {"NS": sorted(v)}, st.sets(numbers, min_size=1, max_size=3)))
attributes = st.recursive(scalars, lambda inner: st.one_of(
    st.builds(lambda v: {"M": v}, st.dictionaries(names, inner, max_size=3)),
    st.builds(lambda v: {"L": v}, st.lists(inner, max_size=3))), max_leaves=12)
images = st.dictionaries(names, attributes, max_size=6)
times = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2040, 1, 1))


def record(sequence: int, new: dict[str, Any] | None, old: dict[str, Any] | None, created: datetime) -> dict[str, Any]:
    """A record as moto's `StreamRecord` holds it."""
    change: dict[str, Any] = {"StreamViewType": "NEW_AND_OLD_IMAGES", "ApproximateCreationDateTime": created,
                              "SequenceNumber": str(sequence), "SizeBytes": 120, "Keys": {"id": {"S": "m-1"}}}
    if new is not None:
        change["NewImage"] = {"id": {"S": "m-1"}, **new}
    if old is not None:
        change["OldImage"] = {"id": {"S": "m-1"}, **old}
    name = "MODIFY" if new is not None and old is not None else "INSERT" if new is not None else "REMOVE"
    return {"eventID": f"e{sequence}", "eventName": name, "eventSource": "aws:dynamodb", "eventVersion": "1.0",
            "awsRegion": "us-east-1", "dynamodb": change}


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.one_of(st.none(), images), st.one_of(st.none(), images), times), max_size=4))
def test_given_stream_records_of_any_attribute_kind_then_the_direct_answer_is_moto_serializers_document(
        changes: list[tuple[Any, Any, datetime]]) -> None:
    # Given records of items holding strings, numbers, booleans, nulls, sets, maps and lists
    result = {"NextShardIterator": "arn:iterator",
              "Records": [record(100 + i, new, old, created) for i, (new, old, created) in enumerate(changes)]}

    # When the answer is written directly
    written = stream_records_json(result)

    # Then it is the document moto's serializer writes
    assert written is not None
    assert json.loads(written) == moto_serialized(result)


def test_given_a_record_with_a_binary_attribute_then_moto_serializer_writes_the_answer() -> None:
    # Given an item holding a binary value (moto's serializer encodes it as it chooses)
    result = {"NextShardIterator": "arn:iterator",
              "Records": [record(1, {"blob": {"B": "aGVsbG8="}}, None, datetime(2026, 1, 1, 12, 0, 0, 123456))]}

    # When / Then the direct writer leaves it to moto
    assert stream_records_json(result) is None


def test_given_an_empty_shard_then_the_answer_is_no_records_and_the_next_iterator() -> None:
    result = {"NextShardIterator": "arn:iterator", "Records": []}
    assert json.loads(stream_records_json(result) or "null") == moto_serialized(result) == {
        "Records": [], "NextShardIterator": "arn:iterator"}
