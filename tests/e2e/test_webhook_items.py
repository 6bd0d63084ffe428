"""A provider that reports several deliveries in one webhook (Infobip's `results`) moves every message, through the local runtime."""
from __future__ import annotations

import itertools
import uuid

import requests

from tests.e2e.local_stack import LocalStack, wait_for
from tests.support.loopback import LoopbackProvider

# Payload: https://www.infobip.com/docs/api/channels/sms/sms-messaging/logs-and-status-reports/receive-outbound-sms-message-report


def test_one_infobip_report_webhook_with_three_results_moves_all_three_messages(stack: LocalStack) -> None:
    # Given a provider made from the Infobip preset, pointed at a stand-in that answers as Infobip does
    suffix = uuid.uuid4().hex[:8]
    provider_id, token = f"ib-{suffix}", f"hook-{suffix}"
    ids = (f"ib-{suffix}-{n}" for n in itertools.count())
    with LoopbackProvider(lambda request: (200, {}, {"messages": [{"messageId": next(ids),
                                                                   "status": {"groupName": "PENDING"}}]})) as infobip:
        created = requests.post(f"{stack.api}/providers", timeout=10, json={
            "id": provider_id, "preset": "infobip", "default_sender": "InfoSMS",
            "request": {"url": infobip.url_for("/sms/2/text/advanced")}, "auth": {"token": "api-key"},
            "inbound": {"auth": {"token": token}}, "balance": {"url": infobip.url_for("/account/1/balance")}})
        assert created.status_code in (200, 201), created.text

        # And three messages it has sent
        numbers = ["+33612345671", "+33612345672", "+33612345673"]
        message_ids = [requests.post(f"{stack.api}/messages", timeout=10, json={
            "provider": provider_id, "to": number, "text": f"hello {suffix}", "sender": "ACME"}).json()["id"]
            for number in numbers]
        views = [wait_for(lambda m=m: (v := requests.get(f"{stack.api}/messages/{m}", timeout=10).json())
                          .get("status") == "sent" and v, timeout_s=20, what="status sent") for m in message_ids]

        # When Infobip reports all three in one webhook
        results = [{"messageId": view["provider_message_id"], "to": number.lstrip("+"),
                    "doneAt": "2026-11-30T10:00:05.000+0000", "status": {"groupName": group, "name": group},
                    "error": {"name": "NO_ERROR"}}
                   for view, number, group in zip(views, numbers, ["DELIVERED", "DELIVERED", "UNDELIVERABLE"])]
        answer = requests.post(f"{stack.api}/status/{provider_id}", params={"token": token},
                               json={"results": results}, timeout=10)

        # Then the answer counts three applied, and every message has moved
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"ok": True, "received": 3, "applied": 3}
        statuses = [requests.get(f"{stack.api}/messages/{m}", timeout=10).json()["status"] for m in message_ids]
        assert statuses == ["delivered", "delivered", "failed"]
