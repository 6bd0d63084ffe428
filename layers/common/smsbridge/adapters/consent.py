"""The consent ledger in DynamoDB: the state per (provider, phone number), and its history."""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from smsbridge.clock import iso_utc
from smsbridge.core.consent import ConsentState


_BATCH_GET_MAX = 100  # keys per BatchGetItem
_UNPROCESSED_ROUNDS = 5

# History items under this prefix mark provider event ids already seen; they are not events.
SEEN_PREFIX = "seen#"




@dataclass(frozen=True)
class ConsentEvent:
    """One thing a number said (or an operator set) about its consent."""

    provider: str
    phone: str
    state: ConsentState
    event_at: datetime  # the provider's own time of the event, which decides the order
    source: str = "sms"
    keyword: str | None = None
    text: str | None = None
    event_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    # The provider's own id of the event (its message id), when it has one: a webhook it
    # delivers again is then recognised even though it arrives at another time.
    provider_event_id: str | None = None
    # Double opt-in: a request (`opt_in_requested`) can be confirmed until then.
    confirm_by: datetime | None = None


@dataclass(frozen=True)
class Applied:
    """What `apply` did: whether the event became the current state, and whether it had been seen before."""

    current: bool
    duplicate: bool


class ConsentLedger:
    def __init__(self, table_name: str, history_table_name: str, *, dynamodb=None):
        resource = dynamodb or boto3.resource("dynamodb")
        self._table = resource.Table(table_name)
        self._history = resource.Table(history_table_name)

    def get(self, provider_id: str, phone: str) -> dict[str, Any] | None:
        """The current consent record of a number, or None when it never said anything."""
        return self._table.get_item(Key={"provider": provider_id, "phone": phone}, ConsistentRead=True).get("Item")

    def state(self, provider_id: str, phone: str) -> ConsentState | None:
        item = self.get(provider_id, phone)
        return ConsentState(item["state"]) if item else None

    def states(self, subjects: list[tuple[str, str]]) -> dict[tuple[str, str], ConsentState | None]:
        """The state of each (provider, phone), by strongly consistent BatchGetItem: one call per 100."""
        wanted = list(dict.fromkeys(subjects))
        found: dict[tuple[str, str], ConsentState | None] = dict.fromkeys(wanted)
        client = self._table.meta.client
        for start in range(0, len(wanted), _BATCH_GET_MAX):
            chunk = wanted[start:start + _BATCH_GET_MAX]
            request = {self._table.name: {"Keys": [{"provider": p, "phone": n} for p, n in chunk],
                                          "ConsistentRead": True, "ProjectionExpression": "provider, phone, #s",
                                          "ExpressionAttributeNames": {"#s": "state"}}}
            for _ in range(_UNPROCESSED_ROUNDS):
                answer = client.batch_get_item(RequestItems=request)
                for item in answer.get("Responses", {}).get(self._table.name, []):
                    found[(item["provider"], item["phone"])] = ConsentState(item["state"])
                request = answer.get("UnprocessedKeys") or {}
                if not request:
                    break
                time.sleep(0.05)
            else:
                raise RuntimeError("DynamoDB left consent keys unprocessed after several rounds")
        return found

    def apply(self, event: ConsentEvent, *, now: datetime | None = None,
              only_if_state: ConsentState | None = None) -> Applied:
        """Record the event in the history and make it the current state unless a newer one is there.

        The newest event by the provider's timestamp wins whatever the arrival order: the write
        is conditional on the stored event being older. At the very same time, an opt-out beats
        an opt-in (the safe reading). The history entry is keyed by the event's time and id, so
        a webhook the provider delivers twice is recorded once (`duplicate`). With `only_if_state`
        the state changes only if it is still that one when written (a double opt-in's
        confirmation: a STOP that came in between wins)."""
        now = now or datetime.now(UTC)
        at = iso_utc(event.event_at)
        if event.provider_event_id is not None:
            at = self._first_seen_at(event, at)
        current = self._write_state(event, at, iso_utc(now), only_if_state)
        entry = {"subject": subject_of(event.provider, event.phone), "event": f"{at}#{event.event_id}",
                 "time": at, "state": event.state.value, "source": event.source, "recorded_at": iso_utc(now),
                 "applied": current}
        if event.confirm_by is not None:
            entry["confirm_by"] = iso_utc(event.confirm_by)
        if event.keyword is not None:
            entry["keyword"] = event.keyword
        if event.text is not None:
            entry["text"] = event.text
        try:
            self._history.put_item(Item=entry, ConditionExpression="attribute_not_exists(#e)",
                                   ExpressionAttributeNames={"#e": "event"})
            duplicate = False
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            duplicate = True
        return Applied(current=current, duplicate=duplicate)

    def _first_seen_at(self, event: ConsentEvent, at: str) -> str:
        """The time under which this provider event was first recorded (a redelivery carries no
        provider timestamp of its own, so its arrival time would differ): the first one sticks."""
        key = {"subject": subject_of(event.provider, event.phone), "event": f"{SEEN_PREFIX}{event.provider_event_id}"}
        try:
            self._history.put_item(Item={**key, "time": at}, ConditionExpression="attribute_not_exists(#e)",
                                   ExpressionAttributeNames={"#e": "event"})
            return at
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
        return self._history.get_item(Key=key, ConsistentRead=True)["Item"]["time"]

    def _write_state(self, event: ConsentEvent, at: str, updated_at: str,
                     only_if_state: ConsentState | None = None) -> bool:
        item = {"provider": event.provider, "phone": event.phone, "state": event.state.value, "event_at": at,
                "event_id": event.event_id, "source": event.source, "updated_at": updated_at}
        if event.keyword is not None:
            item["keyword"] = event.keyword
        if event.confirm_by is not None:
            item["confirm_by"] = iso_utc(event.confirm_by)
        condition = "attribute_not_exists(phone) OR event_at < :at"
        values: dict[str, Any] = {":at": at}
        if event.state is ConsentState.OPTED_OUT:
            condition += " OR (event_at = :at AND #state IN (:in, :req))"
            values[":in"] = ConsentState.OPTED_IN.value
            values[":req"] = ConsentState.OPT_IN_REQUESTED.value
        if only_if_state is not None:
            condition = "event_at < :at AND #state = :only"
            values = {":at": at, ":only": only_if_state.value}
        try:
            self._table.put_item(Item=item, ConditionExpression=condition, ExpressionAttributeValues=values,
                                 **({"ExpressionAttributeNames": {"#state": "state"}} if len(values) > 1 else {}))
            return True
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return False

    def set(self, provider_id: str, phone: str, state: ConsentState | str, source: str = "api", *,
            now: datetime | None = None, reason: str | None = None) -> dict[str, Any] | None:
        """An operator's decision (the admin API), timed now: it wins over every earlier event.
        The operator's `reason` is kept as the event's text. Returns the current record afterwards."""
        now = now or datetime.now(UTC)
        self.apply(ConsentEvent(provider=provider_id, phone=phone, state=ConsentState(state), event_at=now,
                                source=source, text=reason), now=now)
        return self.get(provider_id, phone)

    def history(self, provider_id: str, phone: str) -> list[dict[str, Any]]:
        """Every event of a number, oldest first (by the provider's time)."""
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"KeyConditionExpression": Key("subject").eq(subject_of(provider_id, phone)),
                                  "ScanIndexForward": True, "ConsistentRead": True}
        while True:
            page = self._history.query(**kwargs)
            items.extend(i for i in page.get("Items", []) if not i["event"].startswith(SEEN_PREFIX))
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def subject_of(provider_id: str, phone: str) -> str:
    """The history's partition key for one number of one provider."""
    return f"{provider_id}#{phone}"
