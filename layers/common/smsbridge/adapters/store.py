"""DynamoDB and Secrets Manager access for providers and messages."""
from __future__ import annotations

import json
import threading
import time
from dataclasses import replace
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import boto3
from boto3.dynamodb.conditions import Attr, Key
from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError

from smsbridge.adapters.time_index import Page, TimeIndex
from smsbridge.core import time_index
from smsbridge.core.secrets import join_secrets, provider_secrets, split_secrets
from smsbridge.models.claim import (IN_FLIGHT, PINNED_PROVIDER, SPEND_MONTH, WAITING, ClaimAnswer, ClaimRequest,
                                   FinalRecord, FirstRecord, InFlight, MessageState)
from smsbridge.models.provider import ProviderConfig
from smsbridge.models.status import MessageStatus, StatusChange
from smsbridge.observability import logger, remember_secrets


class ProviderNotFound(LookupError):
    pass


class ProviderStore:
    """Provider configurations: the masked document in DynamoDB, the secrets in Secrets Manager
    (one secret per provider, a JSON object of dotted path to value).

    Reads are cached for `cache_s` seconds per provider, so the send path does not pay two
    network calls per message; a change made through the API reaches senders within that time."""

    def __init__(self, table_name: str, secret_prefix: str, *, cache_s: float = 30.0,
                 dynamodb=None, secretsmanager=None):
        self._table = (dynamodb or boto3.resource("dynamodb")).Table(table_name)
        self._secrets = secretsmanager or boto3.client("secretsmanager")
        self._prefix = secret_prefix
        self._cache_s = cache_s
        self._cache: dict[str, tuple[float, ProviderConfig]] = {}
        self._default: tuple[float, str] | None = None  # when it was read, and the default provider's id
        self._lock = threading.Lock()

    def get(self, provider_id: str) -> ProviderConfig:
        now = time.monotonic()
        cached = self._cache.get(provider_id)
        if cached and now - cached[0] < self._cache_s:
            return cached[1]
        item = self._table.get_item(Key={"id": provider_id}).get("Item")
        if item is None:
            raise ProviderNotFound(f"no provider {provider_id!r}")
        config = self._load(item)
        with self._lock:
            self._cache[provider_id] = (now, config)
        return config

    def default(self) -> ProviderConfig:
        """The provider marked `default`, or the only provider there is; which one it is is
        cached like the providers themselves (a Scan per message was the send path's dearest call)."""
        now = time.monotonic()
        known = self._default
        if known and now - known[0] < self._cache_s:
            try:
                return self.get(known[1])
            except ProviderNotFound:
                pass  # deleted since: look again
        items = self._scan()
        marked = [i for i in items if i.get("default")]
        if len(marked) == 1 or len(items) == 1:
            chosen = (marked or items)[0]["id"]
            with self._lock:
                self._default = (now, chosen)
            return self.get(chosen)
        if not items:
            raise ProviderNotFound("no provider is configured")
        raise ProviderNotFound("the message names no provider and no single provider is marked default")

    def list(self) -> list[ProviderConfig]:
        return [self._load(item) for item in sorted(self._scan(), key=lambda i: i["id"])]

    def put(self, config: ProviderConfig) -> None:
        public, secrets = split_secrets(config)
        remember_secrets(provider_secrets(config))
        name = self._prefix + config.id
        payload = json.dumps(secrets)
        try:
            self._secrets.put_secret_value(SecretId=name, SecretString=payload)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
            self._secrets.create_secret(Name=name, SecretString=payload)
        self._table.put_item(Item={"id": config.id, "default": config.default, "enabled": config.enabled,
                                   "config": json.dumps(public)})
        with self._lock:
            self._cache.pop(config.id, None)
            self._default = None

    def delete(self, provider_id: str) -> bool:
        old = self._table.delete_item(Key={"id": provider_id}, ReturnValues="ALL_OLD").get("Attributes")
        if old is not None:
            try:
                self._secrets.delete_secret(SecretId=self._prefix + provider_id, ForceDeleteWithoutRecovery=True)
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                    raise
        with self._lock:
            self._cache.pop(provider_id, None)
            self._default = None
        return old is not None

    def _scan(self) -> list[dict[str, Any]]:
        items, kwargs = [], {}
        while True:
            page = self._table.scan(**kwargs)
            items.extend(page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _load(self, item: dict[str, Any]) -> ProviderConfig:
        public = json.loads(item["config"])
        try:
            secret = self._secrets.get_secret_value(SecretId=self._prefix + item["id"])["SecretString"]
            secrets = json.loads(secret)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
            secrets = {}
        config = ProviderConfig.model_validate(join_secrets(public, secrets))
        remember_secrets(provider_secrets(config))  # for the logging net (observability)
        return config


def _plain(value: Any) -> Any:
    """DynamoDB's Decimals back to ints and floats."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


class MessageStore:
    """One item per message: its current status, the fields the API shows, and the history of
    every status change (oldest first)."""

    def __init__(self, table_name: str, *, retention_days: int = 90, dynamodb=None):
        self._table = (dynamodb or boto3.resource("dynamodb")).Table(table_name)
        # The resource's client: it takes and returns plain Python values, like the Table.
        self._client = self._table.meta.client
        self._retention = timedelta(days=retention_days)
        self.by_time = TimeIndex(self._table, BY_TIME_INDEX, SEARCH_PARTITION, SEARCH_SORT)
        self.by_phone = TimeIndex(self._table, BY_PHONE_INDEX, "to", SEARCH_SORT)

    def create(self, message_id: str, change: StatusChange, **fields: Any) -> bool:
        """Create the message's item with its first status, unless it exists already (the API
        and the send function both call this; whoever comes first writes it)."""
        at = datetime.fromisoformat(change.at)
        item = {"id": message_id, "status": change.status.value, "created_at": change.at, "updated_at": change.at,
                "history": [change.model_dump(mode="json", exclude_none=True)],
                "ttl": int((at + self._retention).timestamp()),
                SEARCH_PARTITION: time_index.partition_key(message_id, change.at),
                SEARCH_SORT: time_index.sort_key(message_id, change.at),
                **{k: v for k, v in fields.items() if v is not None}}
        try:
            self._table.put_item(Item=_dynamo(item), ConditionExpression="attribute_not_exists(id)")
            return True
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return False

    # ------------------------------------------------------------ the send path's claims (models/claim.py)

    def states(self, message_ids: list[str]) -> dict[str, MessageState]:
        """What the send path needs of each message (absent ones too), by strongly consistent
        BatchGetItem: one call per 100 messages."""
        wanted = list(dict.fromkeys(message_ids))
        found: dict[str, MessageState] = {i: MessageState() for i in wanted}
        for start in range(0, len(wanted), _BATCH_GET_MAX):
            request = {self._table.name: {"Keys": [{"id": i} for i in wanted[start:start + _BATCH_GET_MAX]],
                                          "ConsistentRead": True,
                                          "ProjectionExpression": "#i, #s, #cu, #a, #p, #w, #sm, #if",
                                          "ExpressionAttributeNames": {"#i": "id", "#s": "status",
                                                                       "#cu": "claimed_until", "#a": "attempts",
                                                                       "#p": PINNED_PROVIDER, "#w": WAITING,
                                                                       "#sm": SPEND_MONTH, "#if": IN_FLIGHT}}}
            for _ in range(_UNPROCESSED_ROUNDS):
                answer = self._client.batch_get_item(RequestItems=request)
                for item in answer.get("Responses", {}).get(self._table.name, []):
                    found[item["id"]] = _state_of(item)
                request = answer.get("UnprocessedKeys") or {}
                if not request:
                    break
                time.sleep(_UNPROCESSED_PAUSE_S)
            else:
                raise RuntimeError("DynamoDB left keys unprocessed after several rounds")
        return found

    def claim(self, requests: list[ClaimRequest]) -> dict[str, ClaimAnswer]:
        """Make each request's write, all of them in one transaction (up to 100 messages).

        When the transaction is cancelled, its reasons (with the message as it was) say which
        messages were settled already (`done`) or claimed elsewhere (`busy`); the others are
        written again in a second transaction, a stale read corrected from what DynamoDB
        returned. What still cannot be taken after a few rounds answers `busy` (tried later)."""
        answers: dict[str, ClaimAnswer] = {}
        for start in range(0, len(requests), _TRANSACTION_MAX):
            answers.update(self._claim_chunk(requests[start:start + _TRANSACTION_MAX]))
        return answers

    def _claim_chunk(self, requests: list[ClaimRequest]) -> dict[str, ClaimAnswer]:
        answers: dict[str, ClaimAnswer] = {}
        pending = list(requests)
        for _ in range(_TRANSACTION_ROUNDS):
            if not pending:
                break
            now_s = time.time()
            try:
                self._client.transact_write_items(TransactItems=[self._claim_item(r, now_s) for r in pending])
                answers.update({r.message_id: ClaimAnswer("taken", r.seen) for r in pending})
                return answers
            except ClientError as exc:
                reasons = _cancellation_reasons(exc)
                if reasons is None or len(reasons) != len(pending):
                    raise
            again = []
            for request, reason in zip(pending, reasons):
                code = reason.get("Code")
                if code == "ConditionalCheckFailed":
                    state = _state_of(_deserialize(reason["Item"])) if reason.get("Item") else MessageState()
                    if state.settled:
                        answers[request.message_id] = ClaimAnswer("done", state)
                        continue
                    if state.busy(now_s) or state.in_flight != request.seen.in_flight:
                        # Claimed elsewhere, or an attempt in flight that the decision (send again,
                        # `unknown`) was not made on: decided again at the record's next delivery.
                        answers[request.message_id] = ClaimAnswer("busy", state)
                        continue
                    request = replace(request, seen=state)  # read stale: the write follows what is there
                # "None" (not at fault), TransactionConflict (another write on it just now),
                # throttling: written again in the next round.
                again.append(request)
            pending = again
        answers.update({r.message_id: ClaimAnswer("busy", r.seen) for r in pending})
        return answers

    def _claim_item(self, request: ClaimRequest, now_s: float) -> dict[str, Any]:
        first = request.first
        at = first.change.at
        names = {"#s": "status", "#h": "history", "#c": "created_at", "#u": "updated_at", "#t": "ttl",
                 "#sp": SEARCH_PARTITION, "#sk": SEARCH_SORT, "#cu": "claimed_until", "#cb": "claimed_by",
                 "#a": "attempts"}
        values: dict[str, Any] = {
            ":queued": MessageStatus.QUEUED.value, ":first": [first.change.model_dump(mode="json", exclude_none=True)],
            ":at": at, ":now": now_s,
            ":sp": time_index.partition_key(request.message_id, at),
            ":sk": time_index.sort_key(request.message_id, at)}
        # The first record's fields only where nobody wrote them before (the API, an earlier try).
        sets = ["#c = if_not_exists(#c, :at)", "#sp = if_not_exists(#sp, :sp)", "#sk = if_not_exists(#sk, :sk)"]
        for i, (name, value) in enumerate(first.fields.items()):
            if value is not None:
                names[f"#f{i}"], values[f":f{i}"] = name, value
                sets.append(f"#f{i} = if_not_exists(#f{i}, :f{i})")
        condition = ("(attribute_not_exists(#s) OR #s = :queued OR #s = :scheduled) "
                     "AND (attribute_not_exists(#cu) OR #cu < :now)")
        values[":scheduled"] = MessageStatus.SCHEDULED.value
        # A scheduled message leaves the due index as it is claimed (a sweep that stopped after
        # queueing it would otherwise queue it again).
        removes = ["#cu", "#cb", "#if"]
        names["#if"] = IN_FLIGHT
        # The attempt in flight is the one read (or none): what the send path decided on.
        if request.seen.in_flight is None:
            condition += " AND attribute_not_exists(#if)"
        else:
            names["#ifs"] = "since"
            values[":if_since"] = request.seen.in_flight.since
            condition += " AND #if.#ifs = :if_since"
        if request.seen.status == MessageStatus.SCHEDULED.value:
            names.update({"#ds": DUE_SHARD, "#dk": DUE_KEY, "#sb": SCHEDULED_BODY})
            removes += ["#ds", "#dk", "#sb"]
        if request.settle_with:
            last = request.settle_with[-1]
            values.update({":changes": [c.model_dump(mode="json", exclude_none=True) for c in request.settle_with],
                           ":status": last.status.value, ":u": last.at, ":ttl": self._ttl(last.at)})
            sets += ["#h = list_append(if_not_exists(#h, :first), :changes)", "#s = :status", "#u = :u",
                     "#t = :ttl"]
            expression = "SET " + ", ".join(sets) + " REMOVE " + ", ".join(removes)
            names.pop("#a")
        else:
            values.update({":until": request.claimed_until, ":token": request.token,
                           ":next": request.seen.attempts + 1, ":ttl": self._ttl(at)})
            history = "if_not_exists(#h, :first)"
            if request.due is not None:
                # Its time came: `scheduled` becomes `queued`, with the change in the history, as it is taken.
                values.update({":due": [request.due.model_dump(mode="json", exclude_none=True)],
                               ":due_at": request.due.at})
                history = "list_append(#h, :due)"
                sets += ["#s = :queued", "#u = :due_at"]
                values.pop(":first")  # the item exists: its first record is there
                condition += " AND #s = :scheduled"
            else:
                sets += ["#s = if_not_exists(#s, :queued)", "#u = if_not_exists(#u, :at)"]
            if request.notes:
                values[":notes"] = [c.model_dump(mode="json", exclude_none=True) for c in request.notes]
                history = f"list_append({history}, :notes)"
            sets.append(f"#h = {history}")
            if request.pin is not None:
                names["#pin"], values[":pin"] = PINNED_PROVIDER, request.pin
                sets.append("#pin = :pin")
            sets += ["#t = if_not_exists(#t, :ttl)", "#cu = :until", "#cb = :token", "#a = :next"]
            removes = [name for name in removes if name not in ("#cu", "#cb")]
            if request.in_flight is not None:
                # Written before the request leaves, in the claim's own write: no call of its own.
                values[":if"] = request.in_flight.as_item()
                sets.append("#if = :if")
                removes.remove("#if")
            expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
            # The attempt counter read is still the one there: the next attempt's number is right.
            # A try that sent nothing (an open circuit, no OAuth2 token) leaves the counter at 0, not absent.
            values[":seen"] = request.seen.attempts
            condition += " AND #a = :seen" if request.seen.attempts else " AND (attribute_not_exists(#a) OR #a = :seen)"
        return {"Update": {"TableName": self._table.name, "Key": {"id": request.message_id},
                           "UpdateExpression": expression, "ConditionExpression": condition,
                           "ExpressionAttributeNames": names, "ExpressionAttributeValues": _dynamo(values),
                           "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}}

    def note_wait(self, message_id: str, first: FirstRecord, change: StatusChange, key: str) -> bool:
        """Say in a `queued` message's history why it waits (`change`), once per wait: `key` names
        the wait, and a message already waiting for it is left as it is. The status stays `queued`;
        the message's first record is written too where nobody wrote it yet. Returns whether it wrote."""
        at = first.change.at
        names = {"#s": "status", "#h": "history", "#c": "created_at", "#u": "updated_at", "#t": "ttl",
                 "#sp": SEARCH_PARTITION, "#sk": SEARCH_SORT, "#w": WAITING, "#cu": "claimed_until"}
        values: dict[str, Any] = {
            ":queued": MessageStatus.QUEUED.value, ":at": at, ":key": key, ":now": time.time(),
            ":first": [first.change.model_dump(mode="json", exclude_none=True)],
            ":change": [change.model_dump(mode="json", exclude_none=True)], ":ttl": self._ttl(at),
            ":sp": time_index.partition_key(message_id, at), ":sk": time_index.sort_key(message_id, at)}
        sets = ["#h = list_append(if_not_exists(#h, :first), :change)", "#s = if_not_exists(#s, :queued)",
                "#c = if_not_exists(#c, :at)", "#u = if_not_exists(#u, :at)", "#t = if_not_exists(#t, :ttl)",
                "#sp = if_not_exists(#sp, :sp)", "#sk = if_not_exists(#sk, :sk)", "#w = :key"]
        for i, (name, value) in enumerate(first.fields.items()):
            if value is not None:
                names[f"#f{i}"], values[f":f{i}"] = name, value
                sets.append(f"#f{i} = if_not_exists(#f{i}, :f{i})")
        try:
            self._client.update_item(
                TableName=self._table.name, Key={"id": message_id}, UpdateExpression="SET " + ", ".join(sets),
                ConditionExpression="(attribute_not_exists(#s) OR #s = :queued) AND "
                                    "(attribute_not_exists(#w) OR #w <> :key) AND "
                                    "(attribute_not_exists(#cu) OR #cu < :now)",
                ExpressionAttributeNames=names, ExpressionAttributeValues=_dynamo(values))
            return True
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return False  # said already, settled, or being sent elsewhere

    def settle(self, finals: list[FinalRecord]) -> None:
        """Write each final record and release its claim: all in one transaction (up to 100), or,
        when that is refused (a claim lost, a conflict), one by one."""
        for start in range(0, len(finals), _TRANSACTION_MAX):
            chunk = finals[start:start + _TRANSACTION_MAX]
            try:
                self._client.transact_write_items(TransactItems=[{"Update": self._final_update(f)} for f in chunk])
                continue
            except ClientError as exc:
                # Cancelled (a claim lost, a conflict) or refused whole (one item too large):
                # each on its own, so that one message's trouble does not lose its neighbours'.
                logger.info("final records written one by one", reason=exc.response.get("Error", {}).get("Code"))
            for final in chunk:
                self._settle_one(final)

    def _settle_one(self, final: FinalRecord) -> None:
        try:
            self._client.update_item(**self._final_update(final))
            return
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
        # The claim is no longer ours (it expired and another invocation took the message): what
        # happened here is history all the same, and the status moves only from `queued`.
        logger.warning("claim lost before its result was written", message_id=final.message_id)
        for change in final.changes:
            # A result that comes after all moves an `unknown` message (SPEC 11) to what it was.
            moves_from = {MessageStatus.QUEUED.value}
            if change.status in (MessageStatus.SENT, MessageStatus.FAILED):
                moves_from.add(MessageStatus.UNKNOWN.value)
            self.record(final.message_id, change, apply_if_status_in=moves_from, **final.fields)

    def _final_update(self, final: FinalRecord) -> dict[str, Any]:
        last = final.changes[-1]
        names = {"#h": "history", "#s": "status", "#t": "ttl", "#u": "updated_at", "#a": "attempts",
                 "#cu": "claimed_until", "#cb": "claimed_by", "#if": IN_FLIGHT}
        values: dict[str, Any] = {":h": [c.model_dump(mode="json", exclude_none=True) for c in final.changes],
                                  ":empty": [], ":s": last.status.value, ":t": self._ttl(last.at), ":u": last.at,
                                  ":a": final.attempts, ":token": final.token}
        sets = ["#h = list_append(if_not_exists(#h, :empty), :h)", "#s = :s", "#t = :t", "#u = :u", "#a = :a"]
        for i, (name, value) in enumerate(final.fields.items()):
            if value is not None:
                names[f"#f{i}"], values[f":f{i}"] = name, value
                sets.append(f"#f{i} = :f{i}")
        return {"TableName": self._table.name, "Key": {"id": final.message_id},
                "UpdateExpression": "SET " + ", ".join(sets) + " REMOVE #cu, #cb, #if",
                "ConditionExpression": "#cb = :token",
                "ExpressionAttributeNames": names, "ExpressionAttributeValues": _dynamo(values)}

    def _ttl(self, at: str) -> int:
        return int((datetime.fromisoformat(at) + self._retention).timestamp())

    def next_attempt(self, message_id: str) -> int:
        """Count one more request to the provider for this message; returns its number."""
        answer = self._table.update_item(Key={"id": message_id}, UpdateExpression="ADD attempts :one",
                                         ExpressionAttributeValues={":one": 1}, ReturnValues="UPDATED_NEW")
        return int(answer["Attributes"]["attempts"])

    def record(self, message_id: str, change: StatusChange, *, apply_if_status_in: set[str] | None = None,
               **fields: Any) -> bool:
        """Append `change` to the history and, unless the guard refuses, make it the status.

        With `apply_if_status_in`, the status (and fields) change only when the current status
        is one of those; the change is still appended to the history. Returns whether the status
        was applied."""
        entry = change.model_dump(mode="json", exclude_none=True)
        at = datetime.fromisoformat(change.at)
        names = {"#h": "history", "#s": "status", "#t": "ttl", "#u": "updated_at", "#c": "created_at",
                 "#sp": SEARCH_PARTITION, "#sk": SEARCH_SORT}
        values: dict[str, Any] = {":h": [entry], ":empty": [], ":s": change.status.value,
                                  ":t": int((at + self._retention).timestamp()), ":u": change.at,
                                  ":sp": time_index.partition_key(message_id, change.at),
                                  ":sk": time_index.sort_key(message_id, change.at)}
        # A message first seen here (a rejected body, read by the send path) is searchable all the same.
        sets = ["#h = list_append(if_not_exists(#h, :empty), :h)", "#s = :s", "#t = :t", "#u = :u",
                "#c = if_not_exists(#c, :u)", "#sp = if_not_exists(#sp, :sp)", "#sk = if_not_exists(#sk, :sk)"]
        for i, (name, value) in enumerate(fields.items()):
            if value is None:
                continue
            names[f"#f{i}"] = name
            values[f":f{i}"] = value
            sets.append(f"#f{i} = :f{i}")
        kwargs: dict[str, Any] = {}
        if apply_if_status_in is not None:
            kwargs["ConditionExpression"] = Attr("status").is_in(sorted(apply_if_status_in))
        try:
            self._table.update_item(Key={"id": message_id}, UpdateExpression="SET " + ", ".join(sets),
                                    ExpressionAttributeNames=names,
                                    ExpressionAttributeValues=_dynamo(values), **kwargs)
            return True
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
        # The guard refused the status: keep the event in the history all the same.
        self._table.update_item(Key={"id": message_id},
                                UpdateExpression="SET #h = list_append(if_not_exists(#h, :empty), :h)",
                                ExpressionAttributeNames={"#h": "history"},
                                ExpressionAttributeValues={":h": [entry], ":empty": []})
        return False

    # ------------------------------------------------------------ scheduled messages (core/schedule.py)

    def keep_due(self, message_id: str, fields: dict[str, Any]) -> bool:
        """Put a `scheduled` message (written before without them) in the due index with `fields`
        (its due keys and body); False when it is no longer `scheduled`."""
        names = {"#s": "status", **{f"#f{i}": name for i, name in enumerate(fields)}}
        values = {":scheduled": MessageStatus.SCHEDULED.value, **{f":f{i}": v for i, v in enumerate(fields.values())}}
        try:
            self._table.update_item(Key={"id": message_id},
                                    UpdateExpression="SET " + ", ".join(f"#f{i} = :f{i}" for i in range(len(fields))),
                                    ConditionExpression="#s = :scheduled", ExpressionAttributeNames=names,
                                    ExpressionAttributeValues=_dynamo(values))
            return True
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return False

    def due(self, shard: str, horizon: str) -> Iterator[dict[str, Any]]:
        """The messages of one due index partition whose due key is at most `horizon`, soonest
        first: `id`, `type`, `send_at`, `scheduled_body`."""
        kwargs: dict[str, Any] = {"IndexName": DUE_INDEX,
                                  "KeyConditionExpression": Key(DUE_SHARD).eq(shard) & Key(DUE_KEY).lte(horizon)}
        while True:
            page = self._table.query(**kwargs)
            yield from (_plain(item) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def leave_due(self, message_id: str) -> None:
        """Take a message out of the due index (it is on its queue now); its status stays."""
        try:
            self._table.update_item(Key={"id": message_id}, UpdateExpression="REMOVE #ds, #dk, #sb",
                                    ConditionExpression="attribute_exists(id)",
                                    ExpressionAttributeNames={"#ds": DUE_SHARD, "#dk": DUE_KEY, "#sb": SCHEDULED_BODY})
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise

    def cancel(self, message_id: str, change: StatusChange) -> bool:
        """Make a `scheduled` message `canceled` (`change` appended to its history) and take it out
        of the due index, in one conditional write; False when it is not `scheduled` (or absent)."""
        try:
            self._table.update_item(
                Key={"id": message_id},
                UpdateExpression="SET #s = :c, #h = list_append(#h, :h), #u = :u, #t = :t REMOVE #ds, #dk, #sb",
                ConditionExpression="#s = :scheduled",
                ExpressionAttributeNames={"#s": "status", "#h": "history", "#u": "updated_at", "#t": "ttl",
                                          "#ds": DUE_SHARD, "#dk": DUE_KEY, "#sb": SCHEDULED_BODY},
                ExpressionAttributeValues=_dynamo({":c": change.status.value, ":scheduled": MessageStatus.SCHEDULED.value,
                                                   ":h": [change.model_dump(mode="json", exclude_none=True)],
                                                   ":u": change.at, ":t": self._ttl(change.at)}))
            return True
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return False

    def get(self, message_id: str) -> dict[str, Any] | None:
        item = self._table.get_item(Key={"id": message_id}, ConsistentRead=True).get("Item")
        return _plain(item) if item else None

    def find_by_provider_message_id(self, provider_id: str, provider_message_id: str) -> str | None:
        page = self._table.query(IndexName="provider-message-id",
                                 KeyConditionExpression="provider_ref = :r",
                                 ExpressionAttributeValues={":r": provider_ref(provider_id, provider_message_id)})
        items = page.get("Items", [])
        return items[0]["id"] if items else None


    def newest(self, *, since: str, before: str, limit: int, phone: str | None = None,
               statuses: list[str] | None = None, provider: str | None = None) -> Page:
        """Messages created in [since, before) matching the filters, newest first, by Query on the
        phone index (with a phone) or the month-sharded time index (without)."""
        where = _filters(statuses, provider)
        if phone is not None:
            return self.by_phone.newest([([phone], before)], since, before, limit, where=where)
        return self.by_time.newest(time_index.month_windows(since, before), since, before, limit, where=where)

    def created_between(self, since: str, before: str, *, provider: str | None = None,
                        max_items: int) -> list[dict[str, Any]]:
        """The index view (status, provider, created_at) of every message created in [since, before), for counting."""
        return [_plain(item) for item in self.by_time.each(
            time_index.month_windows(since, before), since, before, where=_filters(None, provider),
            attributes=("status", "provider", "created_at"), max_items=max_items)]


# The messages table's search indexes (template.yaml): a month shard or the phone number, then `time#id`.
BY_TIME_INDEX = "by-time"
BY_PHONE_INDEX = "by-phone"
# The sparse index of scheduled messages waiting in the table (core/schedule.py): only their items
# carry these attributes, from when they are scheduled until they are queued or canceled.
DUE_INDEX = "due"
DUE_SHARD = "due_shard"
DUE_KEY = "due_key"
SCHEDULED_BODY = "scheduled_body"
SEARCH_PARTITION = "month_shard"
SEARCH_SORT = "created_key"


# DynamoDB's limits: items per BatchGetItem and per TransactWriteItems.
_BATCH_GET_MAX = 100
_TRANSACTION_MAX = 100
_TRANSACTION_ROUNDS = 3
_UNPROCESSED_ROUNDS = 5
_UNPROCESSED_PAUSE_S = 0.05
_DESERIALIZER = TypeDeserializer()


def _deserialize(item: dict[str, Any]) -> dict[str, Any]:
    """An item in DynamoDB's JSON (a cancellation reason's, which boto3 leaves as it came)."""
    return {name: _DESERIALIZER.deserialize(value) for name, value in item.items()}


def _state_of(item: dict[str, Any]) -> MessageState:
    until = item.get("claimed_until")
    return MessageState(exists=True, status=item.get("status"), claimed_until=float(until) if until is not None else None,
                        attempts=int(item.get("attempts", 0)), pinned_provider=item.get(PINNED_PROVIDER),
                        waiting=item.get(WAITING), spend_month=item.get(SPEND_MONTH),
                        in_flight=InFlight.of_item(item.get(IN_FLIGHT)))


def _cancellation_reasons(error: ClientError) -> list[dict[str, Any]] | None:
    """The reasons of a cancelled transaction, one per item in order; None for any other error."""
    if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
        return None
    return error.response.get("CancellationReasons")


def _filters(statuses: list[str] | None, provider: str | None):
    where = None
    if statuses:
        where = Attr("status").is_in(statuses)
    if provider:
        where = Attr("provider").eq(provider) if where is None else where & Attr("provider").eq(provider)
    return where


def provider_ref(provider_id: str, provider_message_id: str) -> str:
    """The key of the index on the provider's message id (ids are unique per provider only)."""
    return f"{provider_id}#{provider_message_id}"


def _dynamo(value: Any) -> Any:
    """Floats as Decimals, which is all DynamoDB takes."""
    return json.loads(json.dumps(value), parse_float=Decimal)
