"""Must-show 1 of issue 12 through the local runtime: a message with a `callback_url` on a loopback receiver gets
`queued`, `sent` and, after a sandbox receipt, `delivered` callbacks that verify with the snippet of
docs/callbacks.md; the same changes are in `/_local/events`; a receiver down for 30 s still gets every callback."""
from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

from tests.e2e.local_stack import LocalStack, wait_for
from tests.support import secret_watch
from tests.support.callback_doc import documented_verifier


class CallbackReceiver:
    """An application's callback endpoint on 127.0.0.1 that can go down (connections refused) and come back
    on the same port."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self.port = 0
        self.up()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/sms-status"

    def up(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            wbufsize = -1  # one write per answer (NOTES: HTTP on loopback)
            disable_nagle_algorithm = True

            def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    receiver.received.append({"headers": dict(self.headers), "body": body, "at": time.time()})
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def down(self) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()  # the port refuses connections until `up()`

    def statuses(self) -> list[str]:
        with self._lock:
            return [json.loads(r["body"])["status"] for r in self.received]


def callback_secret(stack: LocalStack) -> str:
    secret = requests.get(f"{stack.api}/callback-secret", timeout=10).json()["secret"]
    secret_watch.watch([secret])  # the session fails if the runtime's log shows it
    return secret


def send_with_callback(stack: LocalStack, url: str, text: str) -> str:
    answer = requests.post(f"{stack.api}/messages", timeout=10, json={
        "to": "+33612345678", "text": text, "sender": "ACME", "callback_url": url,
        "metadata": {"order": "A-17", "items": 3}})
    assert answer.status_code == 202, answer.text
    return answer.json()["id"]


def receipt(stack: LocalStack, text: str) -> None:
    [sms] = wait_for(lambda: stack.inbox(text=text), timeout_s=20, what="the SMS in the sandbox inbox")
    answer = requests.post(f"{stack.sandbox}/api/status", json={"id": sms["id"], "status": "delivered"}, timeout=30)
    assert answer.status_code == 200, answer.text


def test_a_message_with_a_callback_url_gets_queued_sent_and_delivered_callbacks_that_verify(stack: LocalStack):
    # Given a receiver on loopback and the stack's callback secret
    verify = documented_verifier()
    secret = callback_secret(stack)
    receiver = CallbackReceiver()
    text = f"callbacks {uuid.uuid4()}"
    try:
        # When a message names it, is sent, and the sandbox reports it delivered
        message_id = send_with_callback(stack, receiver.url, text)
        wait_for(lambda: {"queued", "sent"} <= set(receiver.statuses()), timeout_s=20, what="queued and sent callbacks")
        receipt(stack, text)
        wait_for(lambda: "delivered" in receiver.statuses(), timeout_s=20, what="the delivered callback")
    finally:
        receiver.down()

    # Then each callback verifies with the documented snippet and carries the event
    events = []
    for callback in receiver.received:
        headers = {k.lower(): v for k, v in callback["headers"].items()}
        assert verify(secret, headers["x-smsbridge-timestamp"], headers["x-smsbridge-signature"], callback["body"])
        assert not verify(secret, headers["x-smsbridge-timestamp"], headers["x-smsbridge-signature"],
                          callback["body"].replace(b"A-17", b"A-18"))
        events.append(json.loads(callback["body"]))
    ordered = sorted(events, key=lambda e: e["at"])
    assert [(e["previous_status"], e["status"]) for e in ordered] == [
        (None, "queued"), ("queued", "sent"), ("sent", "delivered")]
    assert {(e["id"], json.dumps(e["metadata"], sort_keys=True)) for e in events} == {
        (message_id, '{"items": 3, "order": "A-17"}')}

    # And the same changes are on the bus, listed by /_local/events and printed by the runtime
    listed = wait_for(lambda: len(on_bus := requests.get(f"{stack.api}/_local/events", timeout=10,
                                                         params={"id": message_id}).json()) >= 3 and on_bus,
                      timeout_s=10, what="three events in /_local/events")
    assert [(e["source"], e["detail-type"]) for e in listed] == [("smsbridge", "sms.status")] * 3
    assert sorted((e["detail"] for e in listed), key=lambda d: d["at"]) == ordered
    for line in (f"sms.status {message_id} (new) → queued", f"sms.status {message_id} queued → sent",
                 f"sms.status {message_id} sent → delivered"):
        assert line in stack.output()


def test_callbacks_to_a_receiver_down_for_30_s_all_arrive_once_it_is_back(stack: LocalStack):
    # Given a receiver that is down (its port refuses connections)
    receiver = CallbackReceiver()
    receiver.down()
    text = f"outage {uuid.uuid4()}"
    try:
        # When a message is queued, sent and delivered meanwhile, and the receiver comes back 30 s later
        send_with_callback(stack, receiver.url, text)
        receipt(stack, text)
        time.sleep(30)
        assert receiver.received == []
        back_at = time.time()
        receiver.up()

        # Then every callback arrives once it is back (retries after 5, 10, 20 s... reach past the outage)
        wait_for(lambda: sorted(receiver.statuses()) == ["delivered", "queued", "sent"], timeout_s=60,
                 what="the three callbacks after the outage")
    finally:
        receiver.down()
    assert all(r["at"] >= back_at for r in receiver.received)
