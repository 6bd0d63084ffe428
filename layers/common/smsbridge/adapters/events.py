"""EventBridge: publishing inbound SMS (`detail-type` `sms.inbound`) and status changes (`sms.status`) for applications to consume."""
from __future__ import annotations

import json
import time
from typing import Any

import boto3

EVENT_SOURCE = "smsbridge"
INBOUND_DETAIL_TYPE = "sms.inbound"
STATUS_DETAIL_TYPE = "sms.status"
PUT_EVENTS_MAX = 10  # entries per PutEvents call
_PUT_ROUNDS = 3  # a failed entry (throttled, internal) is put again this many times in all
_PUT_PAUSE_S = 0.2


class PublishFailed(RuntimeError):
    pass


class InboundEvents:
    def __init__(self, bus_name: str = "default", *, events=None):
        self._events = events or boto3.client("events")
        self._bus = bus_name

    def publish_inbound(self, detail: dict[str, Any]) -> None:
        answer = self._events.put_events(Entries=[{
            "Source": EVENT_SOURCE, "DetailType": INBOUND_DETAIL_TYPE,
            "Detail": json.dumps(detail, ensure_ascii=False, default=str), "EventBusName": self._bus}])
        if answer.get("FailedEntryCount"):
            code = (answer.get("Entries") or [{}])[0].get("ErrorCode", "unknown")
            raise PublishFailed(f"EventBridge refused the inbound event: {code}")


class StatusEvents:
    """Puts `sms.status` events, ten per PutEvents call; the entries EventBridge fails are put again."""

    def __init__(self, bus_name: str = "default", *, events=None):
        self._events = events or boto3.client("events")
        self._bus = bus_name

    def publish(self, details: list[dict[str, Any]]) -> dict[int, str]:
        """Publish each detail; returns the ones still failed after a few rounds, by index, with the reason."""
        pending = list(range(len(details)))
        failed: dict[int, str] = {}
        for round_ in range(_PUT_ROUNDS):
            failed = {}
            for start in range(0, len(pending), PUT_EVENTS_MAX):
                chunk = pending[start:start + PUT_EVENTS_MAX]
                entries = [{"Source": EVENT_SOURCE, "DetailType": STATUS_DETAIL_TYPE, "EventBusName": self._bus,
                            "Detail": json.dumps(details[i], ensure_ascii=False)} for i in chunk]
                try:
                    answer = self._events.put_events(Entries=entries)
                except Exception as exc:  # noqa: BLE001 - the whole call failed: every entry of it is put again
                    failed.update({i: f"PutEvents failed: {type(exc).__name__}" for i in chunk})
                    continue
                for index, result in zip(chunk, answer.get("Entries") or []):
                    if result.get("ErrorCode"):
                        failed[index] = f"EventBridge refused the event: {result['ErrorCode']}"
            if not failed:
                return {}
            pending = sorted(failed)
            if round_ + 1 < _PUT_ROUNDS:
                time.sleep(_PUT_PAUSE_S * (round_ + 1))
        return failed
