"""EventBridge: publishing inbound SMS for applications to consume (`detail-type` `sms.inbound`)."""
from __future__ import annotations

import json
from typing import Any

import boto3

EVENT_SOURCE = "smsbridge"
INBOUND_DETAIL_TYPE = "sms.inbound"


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
