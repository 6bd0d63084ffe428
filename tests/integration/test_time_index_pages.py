"""Paging a month-sharded time index (adapters.time_index) on moto: whatever the items, filters, page size and
query budget, the pages hold every matching item once, newest first, and each page moves on."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from unittest import mock

import boto3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from smsbridge.adapters import time_index as reader
from smsbridge.adapters.store import MessageStore
from smsbridge.clock import iso_utc
from smsbridge.core import time_index
from smsbridge.models.status import MessageStatus, StatusChange

START = datetime(2026, 9, 20, tzinfo=UTC)
STATUSES = ["sent", "failed", "blocked"]

message = st.tuples(st.integers(min_value=0, max_value=80 * 24 * 60),  # minutes after START: three months
                    st.sampled_from(STATUSES), st.sampled_from(["acme", "beta"]))


def _table(dynamodb) -> str:
    name = f"messages-{uuid.uuid4().hex[:8]}"
    dynamodb.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in ("id", "month_shard", "created_key")],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[{"IndexName": "by-time", "Projection": {"ProjectionType": "ALL"},
                                 "KeySchema": [{"AttributeName": "month_shard", "KeyType": "HASH"},
                                               {"AttributeName": "created_key", "KeyType": "RANGE"}]}])
    return name


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages=st.lists(message, max_size=30), limit=st.integers(min_value=1, max_value=7),
       status=st.none() | st.sampled_from(STATUSES), provider=st.none() | st.just("acme"),
       budget=st.integers(min_value=4, max_value=12))
def test_given_any_messages_when_paged_then_every_match_once_newest_first(messages, limit, status, provider,
                                                                          budget) -> None:
    with mock_aws(), mock.patch.object(reader, "MAX_QUERIES_PER_PAGE", budget), \
            mock.patch.object(reader, "FILTERED_READ_ITEMS", 2):
        dynamodb = boto3.resource("dynamodb", region_name="us-east-1")
        store = MessageStore(_table(dynamodb), dynamodb=dynamodb)
        expected = []
        for i, (minutes, state, owner) in enumerate(messages):
            at = START + timedelta(minutes=minutes)
            store.create(f"m{i}", StatusChange(status=MessageStatus(state), at=iso_utc(at)), provider=owner)
            if (status is None or state == status) and (provider is None or owner == provider):
                expected.append((iso_utc(at), f"m{i}"))
        expected.sort(reverse=True)

        seen, before, pages = [], time_index.upper_bound(iso_utc(START + timedelta(days=90))), 0
        while before is not None:
            page = store.newest(since=iso_utc(START), before=before, limit=limit, provider=provider,
                                statuses=[status] if status else None)
            assert len(page.items) <= limit
            assert page.before is None or page.before < before  # each page moves on
            seen.extend(item["id"] for item in page.items)
            before, pages = page.before, pages + 1
            assert pages < 200

        assert seen == [message_id for _, message_id in expected]
