"""Reads a time-ordered DynamoDB index (core.time_index keys) newest first, by Query only, a bounded number of calls per page."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from boto3.dynamodb.conditions import ConditionBase, Key

# Queries one page may cost. Every shard of a window is read once per round, so each round moves
# every shard on and a page that stops for the budget still leaves a cursor further than it began.
MAX_QUERIES_PER_PAGE = 24
# Filtered reads evaluate this many index items per call at least: a status seen once in a
# thousand messages is then found in a few calls, not hundreds.
FILTERED_READ_ITEMS = 200


@dataclass
class Page:
    items: list[dict[str, Any]]
    before: str | None  # the sort key the next page starts strictly before; None at the end
    queries: int


@dataclass
class _Shard:
    partition: str
    found: list[dict[str, Any]] = field(default_factory=list)
    start: dict[str, Any] | None = None  # DynamoDB's ExclusiveStartKey
    frontier: str | None = None  # read down to this key (inclusive); None once exhausted
    done: bool = False


class TimeIndex:
    """One index whose partition key is a month shard (or a phone number) and whose sort key is
    `ISO time#id`; `windows` are lists of partitions read together, newest window first."""

    def __init__(self, table: Any, index_name: str, partition_attr: str, sort_attr: str):
        self._table = table
        self.index_name = index_name
        self.partition_attr = partition_attr
        self.sort_attr = sort_attr

    def newest(self, windows: list[tuple[list[str], str]], low: str, before: str, limit: int, *,
               where: ConditionBase | None = None) -> Page:
        """Up to `limit` items with `low <= key < before` matching `where`, newest first. Each window
        is its partitions and the key every item of the window sorts below (the next month's start)."""
        taken: list[dict[str, Any]] = []
        queries = 0
        if low >= before:
            return Page(taken, None, queries)
        for partitions, top in windows:
            need = limit - len(taken)
            shards = [_Shard(partition) for partition in partitions]
            rounds = 0
            while any(not shard.done for shard in shards):
                active = [shard for shard in shards if not shard.done]
                if queries and queries + len(active) > MAX_QUERIES_PER_PAGE:
                    break
                for shard in active:
                    self._read(shard, low, before, need, where)
                    queries += 1
                rounds += 1
            if not rounds and any(not shard.done for shard in shards):
                # Out of budget before this window: the newer ones were read whole, go on from its top.
                return Page(taken, min(top, before), queries)
            # Every shard is read at least down to `bound`: what lies above it is complete.
            frontiers = [shard.frontier for shard in shards if shard.frontier is not None]
            bound = max(frontiers) if frontiers else None
            merged = sorted((item for shard in shards for item in shard.found),
                            key=lambda item: item[self.sort_attr], reverse=True)
            safe = [item for item in merged if bound is None or item[self.sort_attr] >= bound]
            taken.extend(safe[:need])
            if len(taken) >= limit:
                return Page(taken, taken[-1][self.sort_attr], queries)
            if bound is not None:
                return Page(taken, bound, queries)
        return Page(taken, None, queries)

    def each(self, windows: list[tuple[list[str], str]], low: str, before: str, *, where: ConditionBase | None = None,
             attributes: tuple[str, ...] = (), max_items: int) -> Iterator[dict[str, Any]]:
        """Every item of the range, in no particular order, at most `max_items` (for counting)."""
        seen = 0
        if low >= before:
            return
        attributes = (*attributes, self.sort_attr) if attributes else ()
        for partitions, _ in windows:
            for partition in partitions:
                start = None
                while True:
                    answer = self._table.query(**self._request(partition, low, before, where, 1000, start,
                                                               attributes))
                    for item in answer.get("Items", []):
                        if item[self.sort_attr] == before:
                            continue
                        yield item
                        seen += 1
                        if seen >= max_items:
                            return
                    start = answer.get("LastEvaluatedKey")
                    if not start:
                        break

    def _read(self, shard: _Shard, low: str, before: str, need: int, where: ConditionBase | None) -> None:
        page_size = max(need, FILTERED_READ_ITEMS) if where is not None else need
        answer = self._table.query(**self._request(shard.partition, low, before, where, page_size, shard.start))
        shard.found.extend(item for item in answer.get("Items", []) if item[self.sort_attr] != before)
        shard.start = answer.get("LastEvaluatedKey")
        if len(shard.found) >= need:
            del shard.found[need:]
            shard.frontier, shard.done = shard.found[-1][self.sort_attr], True
        elif not shard.start:
            shard.frontier, shard.done = None, True
        else:
            shard.frontier = shard.start[self.sort_attr]

    def _request(self, partition: str, low: str, before: str, where: ConditionBase | None, limit: int,
                 start: dict[str, Any] | None, attributes: tuple[str, ...] = ()) -> dict[str, Any]:
        request: dict[str, Any] = {
            "IndexName": self.index_name, "ScanIndexForward": False, "Limit": limit,
            "KeyConditionExpression": Key(self.partition_attr).eq(partition) & Key(self.sort_attr).between(low, before),
        }
        if where is not None:
            request["FilterExpression"] = where
        if start:
            request["ExclusiveStartKey"] = start
        if attributes:
            names = {f"#a{i}": name for i, name in enumerate(attributes)}
            request["ProjectionExpression"] = ", ".join(names)
            request["ExpressionAttributeNames"] = names
        return request
