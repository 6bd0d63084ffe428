"""What the bridge puts on EventBridge, seen locally (`GET /_local/events`): a local-only rule on the default bus
sends every `smsbridge` event to a local-only SQS queue, which a thread drains into a bounded list and the
runtime's log (one line per `sms.status`: message id, previous → status).

A rule and a queue, rather than a hook into moto: the events reach the list the way an application's
own rule would receive them, through the stand-in's EventBridge (its pattern matching included)."""
from __future__ import annotations

import json
import logging
import threading
from collections import deque
from typing import Any

log = logging.getLogger("local.events")

RULE_NAME = "smsbridge-local-event-log"
QUEUE_NAME = "smsbridge-local-event-log"
EVENT_PATTERN = {"source": ["smsbridge"]}
MAX_EVENTS = 1000
_WAIT_S = 1  # long-poll wait: also how soon stop() is noticed


class EventLog:
    """The last MAX_EVENTS events put on the default bus by the bridge, oldest first."""

    def __init__(self, session: Any, *, limit: int = MAX_EVENTS, bus_name: str = "default"):
        self._sqs = session.client("sqs")
        self._events = session.client("events")
        self._bus = bus_name
        self._items: deque[dict[str, Any]] = deque(maxlen=limit)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="event-log", daemon=True)
        self.queue_url = ""

    def start(self) -> EventLog:
        self.queue_url = self._sqs.create_queue(QueueName=QUEUE_NAME)["QueueUrl"]
        queue_arn = self._sqs.get_queue_attributes(QueueUrl=self.queue_url,
                                                   AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self._events.put_rule(Name=RULE_NAME, EventBusName=self._bus, EventPattern=json.dumps(EVENT_PATTERN),
                              State="ENABLED", Description="local runtime only: GET /_local/events")
        self._events.put_targets(Rule=RULE_NAME, EventBusName=self._bus,
                                 Targets=[{"Id": "local-event-log", "Arn": queue_arn}])
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout=_WAIT_S + 5)

    def events(self, detail_type: str | None = None, message_id: str | None = None) -> list[dict[str, Any]]:
        """The events kept, oldest first; optionally of one `detail-type`, or about one message (`detail.id`)."""
        with self._lock:
            items = list(self._items)
        if detail_type:
            items = [e for e in items if e.get("detail-type") == detail_type]
        if message_id:
            items = [e for e in items if isinstance(e.get("detail"), dict) and e["detail"].get("id") == message_id]
        return items

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                answer = self._sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10,
                                                   WaitTimeSeconds=_WAIT_S)
                messages = answer.get("Messages") or []
                if not messages:
                    continue
                for message in messages:
                    self._keep(message.get("Body", ""))
                self._sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)])
            except Exception:  # noqa: BLE001 - the log must outlive a hiccup of the AWS stand-in
                if self._stopping.is_set():
                    return
                log.exception("reading the event log's queue failed; trying again in 1 s")
                self._stopping.wait(1)

    def _keep(self, body: str) -> None:
        try:
            event = json.loads(body)
        except ValueError:
            log.warning("an event that is not JSON was put on the bus")
            return
        with self._lock:
            self._items.append(event)
        detail = event.get("detail") if isinstance(event.get("detail"), dict) else {}
        if event.get("detail-type") == "sms.status":
            log.info("sms.status %s %s → %s", detail.get("id"), detail.get("previous_status") or "(new)",
                     detail.get("status"))
        else:
            log.info("%s %s", event.get("detail-type"), detail.get("id", ""))
