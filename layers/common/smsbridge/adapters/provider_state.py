"""Each provider's shared traffic state in DynamoDB: its throughput window and its circuit, one item per provider.

Every invocation of the send function shares one item per provider (`TrafficTable`):

- the limiter's grants (`core/throughput.py`) are replaced with optimistic concurrency: a write
  is conditional on the version the writer last saw, and a conflict hands back the current item
  (`ReturnValuesOnConditionCheckFailure: ALL_OLD`), so that the retry needs no read. With a
  current copy (the last answer is kept), granting a batch costs one UpdateItem; refusing one
  costs nothing, since the item can only hold more grants than the copy (grants leave by time
  alone, pauses only grow);
- a 429's pause bumps the version too, so that every other writer sees it at its next grant;
- the circuit's fields are written only on failures and transitions, without the version (they
  never conflict with grants), and read from the copy, refreshed at most every `cache_s`.

Numbers are integer milliseconds; the low-level client with boto3's (de)serialisers, since
`ALL_OLD` comes back in DynamoDB's wire format either way.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import boto3
from botocore.exceptions import ClientError

from smsbridge.adapters.attribute_values import attribute_values, plain_item
from smsbridge.core.circuit import Circuit, CircuitPolicy, after_failure, probe_won
from smsbridge.core.throughput import Grant, Limits, Window, epoch_ms, given_back, grant, paused, regrant
from smsbridge.models.message import MessageType

MAX_CONFLICTS = 8  # concurrent writers are a handful of invocations: past this, the batch waits a little
CONFLICT_WAIT_S = 0.2



@dataclass(frozen=True)
class ProviderTrafficState:
    """What the item says of one provider."""

    window: Window
    circuit: Circuit


class ProviderState:
    def __init__(self, table_name: str, *, cache_s: float = 1.0, client=None) -> None:
        self._table = table_name
        self._client = client or boto3.client("dynamodb")
        self._cache_s = cache_s
        self._copies: dict[str, tuple[float, dict[str, Any] | None]] = {}  # provider id → (monotonic, item)
        self._lock = threading.Lock()
        self._reading: dict[str, threading.Lock] = {}

    # ------------------------------------------------------------ throughput

    def reserve(self, provider_id: str, limits: Limits, count: int, lane: MessageType, now: datetime) -> Grant:
        """Grant up to `count` requests now, written before they go out. The copy is used however
        old: a write on a stale one fails and brings the current item back, with no read first."""
        return self._granting(provider_id, lambda window: grant(window, limits, count, lane, now))

    def regrant(self, provider_id: str, limits: Limits, at_ms: int, count: int, lane: MessageType,
                now: datetime) -> Grant:
        """Move `count` unstarted requests of the grant made at `at_ms` to a grant of now, all or none
        (`core.throughput.regrant`), in one write as `reserve`."""
        return self._granting(provider_id, lambda window: regrant(window, limits, at_ms, count, lane, now))

    def _granting(self, provider_id: str, decide: Callable[[Window], Grant]) -> Grant:
        kept = self._copies.get(provider_id)
        item = kept[1] if kept is not None else None
        for _ in range(MAX_CONFLICTS):
            decision = decide(_window(item))
            if decision.granted == 0:
                return decision
            written, item = self._write_grants(provider_id, decision.window.grants,
                                               int(item["v"]) if item and "v" in item else None)
            if written:
                return decision
        return Grant(0, CONFLICT_WAIT_S, _window(item))

    def give_back(self, provider_id: str, at_ms: int, count: int) -> None:
        """Take `count` requests that were granted at `at_ms` and never sent off the window, so that the
        next grant may use them: as `reserve`, a write conditioned on the version of the kept copy
        (which holds this process's own grant), and a conflict brings the current item back."""
        kept = self._copies.get(provider_id)
        item = kept[1] if kept is not None else None
        for _ in range(MAX_CONFLICTS):
            window = _window(item)
            after = given_back(window, at_ms, count)
            if after.grants == window.grants or not item or "v" not in item:
                return  # that grant has left the window (or holds nothing more to give back)
            written, item = self._write_grants(provider_id, after.grants, int(item["v"]))
            if written:
                return

    def _write_grants(self, provider_id: str, grants: tuple[tuple[int, int], ...], version: int | None) -> tuple[bool, dict[str, Any] | None]:
        """Write the window's `grants` if the item is still at `version` (None: no item yet). Either way the
        item as it now stands is kept and answered, with whether this write made it."""
        values = {":grants": [list(pair) for pair in grants], ":next": (version or 0) + 1}
        if version is None:
            condition = "attribute_not_exists(#v)"
        else:
            condition, values[":v"] = "#v = :v", version
        try:
            answer = self._client.update_item(
                TableName=self._table, Key=_key(provider_id),
                UpdateExpression="SET #g = :grants, #v = :next",
                ConditionExpression=condition,
                ExpressionAttributeNames={"#g": "grants", "#v": "v"},
                ExpressionAttributeValues=attribute_values(values),
                ReturnValues="ALL_NEW", ReturnValuesOnConditionCheckFailure="ALL_OLD")
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            item = plain_item(error.response.get("Item"))
            self._keep(provider_id, item)
            return False, item
        item = plain_item(answer.get("Attributes"))
        self._keep(provider_id, item)
        return True, item

    def pause(self, provider_id: str, seconds: float, now: datetime, *, slow_for_s: float) -> None:
        """After a 429: nothing granted for `seconds` by anyone, then half the rate for `slow_for_s`."""
        window = paused(Window(), seconds, now, slow_for_s=slow_for_s)
        try:
            answer = self._client.update_item(
                TableName=self._table, Key=_key(provider_id),
                UpdateExpression="SET #p = :p, #s = :s ADD #v :one",
                ConditionExpression="attribute_not_exists(#p) OR #p < :p",
                ExpressionAttributeNames={"#p": "paused_until", "#s": "slow_until", "#v": "v"},
                ExpressionAttributeValues=attribute_values({":p": window.paused_until, ":s": window.slow_until, ":one": 1}),
                ReturnValues="ALL_NEW", ReturnValuesOnConditionCheckFailure="ALL_OLD")
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            self._keep(provider_id, plain_item(error.response.get("Item")))  # paused longer already
            return
        self._keep(provider_id, plain_item(answer.get("Attributes")))

    # ------------------------------------------------------------ circuit

    def circuit(self, provider_id: str) -> Circuit:
        """The circuit as last seen, read again when the copy is older than `cache_s`."""
        return _circuit(self._copy(provider_id))

    def failed(self, provider_id: str, policy: CircuitPolicy, now: datetime, *, probing: bool = False) -> Circuit:
        """Count a failure proving non-acceptance; open the circuit when it is the threshold's or a probe's."""
        answer = self._client.update_item(
            TableName=self._table, Key=_key(provider_id), UpdateExpression="ADD #f :one",
            ExpressionAttributeNames={"#f": "failures"}, ExpressionAttributeValues=attribute_values({":one": 1}),
            ReturnValues="ALL_NEW")
        item = plain_item(answer.get("Attributes"))
        counted = _circuit(item)
        before = Circuit(failures=counted.failures - 1, opened_at=counted.opened_at,
                         half_open_at=counted.half_open_at, probe_until=counted.probe_until)
        target = after_failure(before, policy, now, probing=probing)
        if target.opened_at is not None and target.opened_at != counted.opened_at:
            condition = None if probing else "attribute_not_exists(#o)"
            try:
                answer = self._client.update_item(
                    TableName=self._table, Key=_key(provider_id),
                    UpdateExpression="SET #o = :o, #h = :h REMOVE #pr",
                    ExpressionAttributeNames={"#o": "opened_at", "#h": "half_open_at", "#pr": "probe_until"},
                    ExpressionAttributeValues=attribute_values({":o": target.opened_at, ":h": target.half_open_at}),
                    ReturnValues="ALL_NEW", **({"ConditionExpression": condition} if condition else {}))
                item = plain_item(answer.get("Attributes"))
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                    raise  # another sender opened it first: the count above is all there is to write
        self._keep(provider_id, item)
        return _circuit(item)

    def succeeded(self, provider_id: str) -> None:
        """Close the circuit and clear the count (called only when they are not clear already)."""
        answer = self._client.update_item(
            TableName=self._table, Key=_key(provider_id),
            UpdateExpression="SET #f = :zero REMOVE #o, #h, #pr",
            ExpressionAttributeNames={"#f": "failures", "#o": "opened_at", "#h": "half_open_at",
                                      "#pr": "probe_until"},
            ExpressionAttributeValues=attribute_values({":zero": 0}), ReturnValues="ALL_NEW")
        self._keep(provider_id, plain_item(answer.get("Attributes")))

    def try_probe(self, provider_id: str, policy: CircuitPolicy, now: datetime) -> bool:
        """Whether this sender wins the half-open circuit's one probe."""
        now_ms = epoch_ms(now)
        lease = probe_won(Circuit(), policy, now).probe_until
        try:
            answer = self._client.update_item(
                TableName=self._table, Key=_key(provider_id), UpdateExpression="SET #pr = :lease",
                ConditionExpression="attribute_exists(#o) AND #h <= :now AND "
                                    "(attribute_not_exists(#pr) OR #pr <= :now)",
                ExpressionAttributeNames={"#o": "opened_at", "#h": "half_open_at", "#pr": "probe_until"},
                ExpressionAttributeValues=attribute_values({":now": now_ms, ":lease": lease}),
                ReturnValues="ALL_NEW", ReturnValuesOnConditionCheckFailure="ALL_OLD")
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            self._keep(provider_id, plain_item(error.response.get("Item")))
            return False
        self._keep(provider_id, plain_item(answer.get("Attributes")))
        return True

    # ------------------------------------------------------------ the admin API

    def states(self, provider_ids: Iterable[str]) -> dict[str, ProviderTrafficState]:
        """Each provider's state, read now (uncached); a provider without an item has a fresh one."""
        ids = list(dict.fromkeys(provider_ids))
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(ids), 100):
            pending: dict[str, Any] = {self._table: {"Keys": [_key(i) for i in ids[start:start + 100]]}}
            while pending:
                answer = self._client.batch_get_item(RequestItems=pending)
                for raw in answer.get("Responses", {}).get(self._table, []):
                    item = plain_item(raw)
                    found[item["provider"]] = item
                pending = answer.get("UnprocessedKeys") or {}
        return {i: ProviderTrafficState(_window(found.get(i)), _circuit(found.get(i))) for i in ids}

    # ------------------------------------------------------------ the copy

    def _copy(self, provider_id: str) -> dict[str, Any] | None:
        kept = self._fresh(provider_id)
        if kept is not None:
            return kept[1]
        # One read per provider at a time: the batch's threads that find the copy stale together
        # (ten messages sent at once) wait for that read instead of each making their own.
        with self._lock:
            reading = self._reading.setdefault(provider_id, threading.Lock())
        with reading:
            kept = self._fresh(provider_id)
            if kept is not None:
                return kept[1]
            answer = self._client.get_item(TableName=self._table, Key=_key(provider_id))
            item = plain_item(answer.get("Item"))
            self._keep(provider_id, item)
            return item

    def _fresh(self, provider_id: str) -> tuple[float, dict[str, Any] | None] | None:
        kept = self._copies.get(provider_id)
        return kept if kept is not None and time.monotonic() - kept[0] < self._cache_s else None

    def _keep(self, provider_id: str, item: dict[str, Any] | None) -> None:
        with self._lock:
            self._copies[provider_id] = (time.monotonic(), item)


def _key(provider_id: str) -> dict[str, Any]:
    return {"provider": {"S": provider_id}}




def _number(item: dict[str, Any] | None, name: str) -> int | None:
    value = item.get(name) if item else None
    return None if value is None else int(value)


def _window(item: dict[str, Any] | None) -> Window:
    if not item:
        return Window()
    grants = tuple((int(at), int(count)) for at, count in item.get("grants") or ())
    return Window(grants=grants, paused_until=_number(item, "paused_until") or 0,
                  slow_until=_number(item, "slow_until") or 0)


def _circuit(item: dict[str, Any] | None) -> Circuit:
    if not item:
        return Circuit()
    return Circuit(failures=_number(item, "failures") or 0, opened_at=_number(item, "opened_at"),
                   half_open_at=_number(item, "half_open_at"), probe_until=_number(item, "probe_until"))
