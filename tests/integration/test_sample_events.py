"""The sample events of events/ (one per trigger, for `sam local invoke`) are accepted by their handlers."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.support.apigw_events import put_provider
from tests.support.loopback import LoopbackProvider
from tests.support.stack import LambdaContext, moto_stack

EVENTS = Path(__file__).resolve().parents[2] / "events"


def sample(name: str) -> dict:
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))


def default_provider(server: LoopbackProvider) -> dict:
    return {"id": "acme", "default": True, "default_sender": "ACME",
            "request": {"url": server.url_for("/sms"), "body": {"to": "{{to}}", "text": "{{text}}"}},
            "inbound": {"auth": {"type": "twilio", "secret": "twilio-auth-token"}}}


def test_the_sqs_sample_is_sent_by_the_send_handler(provider):
    with moto_stack("SendFunction") as stack:
        put_provider(default_provider(provider))
        from send_handler import lambda_handler

        answer = lambda_handler(sample("send-sqs.json"), LambdaContext())

        assert answer == {"batchItemFailures": []}
        assert provider.last.json() == {"to": "+33612345678", "text": "Your code is 1234"}
        assert stack.table("MessagesTable").get_item(Key={"id": "order-1234-otp"})["Item"]["status"] == "sent"


def test_the_api_sample_queues_a_message(provider):
    with moto_stack("ApiFunction") as stack:
        put_provider(default_provider(provider))
        from api_handler import lambda_handler

        answer = lambda_handler(sample("api-post-message.json"), LambdaContext())

        assert answer["statusCode"] == 202, answer
        assert [m["text"] for m in stack.queued()] == ["Hello from SMS Bridge"]


def test_the_inbound_sample_reaches_signature_verification_and_is_refused(provider):
    # The sample carries a placeholder signature: replace it with a real one to go further.
    with moto_stack("InboundFunction") as stack:
        put_provider({**default_provider(provider), "id": "sandbox"})
        before = stack.snapshot()
        from inbound_handler import lambda_handler

        answer = lambda_handler(sample("inbound-apigw.json"), LambdaContext())

        assert answer["statusCode"] == 403, answer
        assert stack.snapshot() == before


def test_the_schedule_sample_runs_the_balance_check(provider):
    provider.on("/balance", (200, {}, {"balance": 500}))
    with moto_stack("BalanceFunction") as stack:
        put_provider({**default_provider(provider), "balance": {"url": provider.url_for("/balance"), "field": "balance",
                                                                "minimum": 100, "email": ["ops@example.com"]}})
        from balance_handler import lambda_handler

        lambda_handler(sample("balance-schedule.json"), LambdaContext())

        assert [r.path for r in provider.requests] == ["/balance"]
        [state] = stack.scan("BalanceTable")
        assert state["provider"] == "acme" and state["balance"] == 500


def test_the_sweep_sample_queues_the_scheduled_messages_that_are_due():
    with moto_stack("ScheduleFunction") as stack:
        from schedule_handler import lambda_handler
        from smsbridge.core.schedule import SendAtPlan
        from smsbridge.models.message import OutboundMessage
        from smsbridge.models.provider import ProviderConfig
        from smsbridge.services.send import scheduled_record
        from smsbridge.wiring import message_store

        # Given a message scheduled beyond 15 minutes whose time has come (a sweep was missed)
        due = OutboundMessage(id="due-now", to="+33612345678", text="hi",
                              send_at=datetime.now(UTC) - timedelta(seconds=1))
        provider = ProviderConfig.model_validate({"id": "acme", "default_sender": "ACME", "request": {
            "url": "http://127.0.0.1:9/sms", "body": {"to": "{{to}}", "text": "{{text}}"}}})
        first = scheduled_record(due, provider, datetime.now(UTC) - timedelta(hours=1), SendAtPlan("table"))
        message_store().create(due.id, first.change, **first.fields)

        answer = lambda_handler(sample("schedule-sweep.json"), LambdaContext())

        assert answer["queued"] == 1
        assert [body["id"] for body in stack.queued()] == ["due-now"]
