"""Balance watch against moto (the template's DynamoDB tables, Secrets Manager, SES, in process) and a real
balance endpoint on 127.0.0.1."""
from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any

import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from smsbridge.adapters.balance_store import BalanceStore
from smsbridge.adapters.email import AlertMailer
from smsbridge.adapters.http import ProviderTransport
from smsbridge.adapters.provider_client import ProviderClient
from smsbridge.adapters.store import ProviderStore
from smsbridge.core.balance import AlertKind, BalanceState
from smsbridge.models.provider import ProviderConfig
from smsbridge.services.balance import BalanceService
from tests.support.loopback import LoopbackProvider
from tests.support.stack import REGION, LambdaContext, Stack, moto_stack

SENDER = "alerts@example.com"  # the template's AlertSenderEmail, which moto_stack verifies in SES
START = datetime(2026, 11, 21, 9, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def stack() -> Iterator[Stack]:
    """The template's resources in moto and the balance function's environment, metrics on."""
    with moto_stack("BalanceFunction", metrics=True) as stack:
        yield stack


def provider_store(stack: Stack, **options: Any) -> ProviderStore:
    return ProviderStore(stack.env["PROVIDERS_TABLE"], stack.env["SECRET_PREFIX"],
                         dynamodb=stack.session.resource("dynamodb"), **options)


@pytest.fixture
def endpoint() -> Iterator[LoopbackProvider]:
    """The provider's balance endpoint: `{"balance": n}` like the local sandbox, settable per test."""
    with LoopbackProvider() as server:
        server.balance = 500
        server.on("/v1/balance", lambda request: (200, {}, {"balance": server.balance}))
        yield server


@pytest.fixture
def watch(stack, endpoint) -> Iterator[SimpleNamespace]:
    providers = provider_store(stack, cache_s=0)
    providers.put(ProviderConfig.model_validate({
        "id": "sandbox", "name": "Sandbox SMS",
        "request": {"url": endpoint.url_for("/v1/messages"), "body": {"to": "{{to}}", "text": "{{text}}"}},
        "auth": {"type": "api_key", "token": "sandbox-token", "header": "Authorization", "prefix": "Bearer "},
        "timeout_s": 0.5,
        "balance": {"url": endpoint.url_for("/v1/balance"), "every": "5m", "minimum": 100,
                    "email": ["ops@example.com", "finance@example.com"]}}))
    clock = Clock()
    balances = BalanceStore(stack.env["BALANCE_TABLE"], dynamodb=stack.session.resource("dynamodb"))
    with ProviderTransport(local_runtime=True) as transport:
        mailer = AlertMailer(stack.env["ALERT_SENDER_EMAIL"], ses=stack.session.client("ses"))
        service = BalanceService(providers=providers, balances=balances, client=ProviderClient(transport),
                                 mailer=mailer, clock=clock)

        def run_after(minutes: float = 5):
            clock.advance(minutes=minutes)
            return service.run()

        yield SimpleNamespace(service=service, clock=clock, balances=balances, run_after=run_after)


def emails() -> list[dict[str, Any]]:
    """What moto's SES received, oldest first."""
    backend = ses_backends[DEFAULT_ACCOUNT_ID][REGION]
    return [{"source": m.source, "to": m.destinations["ToAddresses"], "subject": m.subject, "body": m.body}
            for m in backend.sent_messages]


def test_given_a_balance_under_the_minimum_when_checked_then_exactly_one_email_names_provider_and_balance(
        watch, endpoint, stack):
    endpoint.balance = 42
    run = watch.run_after(0)
    assert run.checked == {"sandbox": 42.0} and run.emails == [("sandbox", AlertKind.LOW)]
    (email,) = emails()
    assert email["source"] == SENDER and email["to"] == ["ops@example.com", "finance@example.com"]
    assert "sandbox" in email["subject"] and "42" in email["subject"]
    assert "Balance: 42" in email["body"] and "Minimum: 100" in email["body"]
    assert "sandbox-token" not in email["body"]
    # The call went out with the provider's auth, as sending does.
    assert endpoint.last.header("Authorization") == "Bearer sandbox-token"
    assert stack.session.client("ses").get_send_statistics()["SendDataPoints"][0]["DeliveryAttempts"] == 2


def test_given_a_low_balance_email_when_checked_again_the_same_day_then_no_second_email(watch, endpoint):
    endpoint.balance = 42
    watch.run_after(0)
    for _ in range(3):
        assert watch.run_after(5).emails == []
    assert len(emails()) == 1
    assert watch.balances.get("sandbox").state is BalanceState.BELOW


def test_given_a_low_balance_for_a_day_when_checked_then_one_reminder(watch, endpoint):
    endpoint.balance = 42
    watch.run_after(0)
    assert watch.run_after(24 * 60).emails == [("sandbox", AlertKind.REMINDER)]
    assert watch.run_after(5).emails == []
    assert len(emails()) == 2


def test_given_a_low_balance_when_it_is_raised_then_one_recovered_email(watch, endpoint):
    endpoint.balance = 42
    watch.run_after(0)
    endpoint.balance = 250
    assert watch.run_after(5).emails == [("sandbox", AlertKind.RECOVERED)]
    assert watch.run_after(5).emails == []
    subjects = [email["subject"] for email in emails()]
    assert len(subjects) == 2 and "recovered" in subjects[1].lower() and "250" in subjects[1]


@pytest.mark.parametrize("fault", ["timeout", "http_500"])
def test_given_a_failing_balance_endpoint_when_checked_three_times_then_no_crash_and_one_check_failing_email(
        watch, endpoint, fault):
    if fault == "timeout":
        endpoint.on("/v1/balance", lambda request: (200, {}, {"balance": 1}))
        endpoint.latency_s = 1.0  # the provider's timeout_s is 0.5
    else:
        endpoint.on("/v1/balance", (500, {}, "internal error"))
    runs = [watch.run_after(5) for _ in range(5)]
    assert all(run.checked == {"sandbox": None} and run.errors == {} for run in runs)
    assert [run.emails for run in runs] == [[], [], [("sandbox", AlertKind.CHECK_FAILING)], [], []]
    (email,) = emails()
    assert "check failing" in email["subject"].lower()
    assert ("timeout" if fault == "timeout" else "HTTP 500") in email["body"]
    record = watch.balances.get("sandbox")
    assert record.consecutive_failures == 5 and record.failing_alert_at is not None


def test_given_an_answer_with_no_number_when_checked_then_the_check_fails_with_that_reason(watch, endpoint):
    endpoint.on("/v1/balance", (200, {}, "OK"))
    watch.run_after(0)
    assert watch.balances.get("sandbox").last_error == "the answer holds no number"


def test_given_the_handler_when_invoked_with_a_failing_endpoint_then_it_returns_normally(
        stack, endpoint, capsys):
    import balance_handler

    provider_store(stack).put(ProviderConfig.model_validate({
        "id": "down", "request": {"url": endpoint.url_for("/v1/messages"), "body": {"to": "{{to}}", "text": "{{text}}"}},
        "balance": {"url": endpoint.url_for("/v1/balance"), "minimum": 100, "email": ["ops@example.com"]}}))
    endpoint.on("/v1/balance", (500, {}, "internal error"))
    context = LambdaContext(function_name="smsbridge-balance", remaining_ms=60_000)
    answer = balance_handler.lambda_handler({"source": "aws.events"}, context)
    assert answer["checked"] == {"down": None} and answer["errors"] == {}
    assert json.loads(json.dumps(answer)) == answer  # what Lambda returns must be JSON


def test_given_a_balance_read_when_checked_then_a_metric_per_provider_is_emitted(watch, endpoint, capsys):
    endpoint.balance = 321
    watch.run_after(0)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    balance = next(line for line in lines if "ProviderBalance" in line)
    assert balance["provider"] == "sandbox" and balance["ProviderBalance"] == [321.0]
    assert balance["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service", "provider"]]


def test_given_a_jwt_key_that_cannot_sign_when_checked_then_a_failed_check_is_stored_and_alerted_like_any_other(
        watch, endpoint, stack):
    not_a_key = "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5IGF0IGFsbA==\n-----END PRIVATE KEY-----"
    provider_store(stack).put(ProviderConfig.model_validate({
        "id": "sandbox", "request": {"url": endpoint.url_for("/v1/messages"), "body": {"to": "{{to}}", "text": "{{text}}"}},
        "auth": {"type": "jwt", "algorithm": "RS256", "private_key": not_a_key, "claims": {"iss": "acme"}},
        "balance": {"url": endpoint.url_for("/v1/balance"), "every": "5m", "minimum": 100,
                    "email": ["ops@example.com"]}}))

    runs = [watch.run_after(5) for _ in range(3)]

    assert all(run.checked == {"sandbox": None} and run.errors == {} for run in runs)
    assert [run.emails for run in runs] == [[], [], [("sandbox", AlertKind.CHECK_FAILING)]]
    record = watch.balances.get("sandbox")
    assert record.consecutive_failures == 3
    assert record.last_error == "jwt: the configured key cannot sign with RS256"
    (email,) = emails()
    assert "cannot sign" in email["body"] and "bm90IGEga2V5" not in email["body"]
    assert endpoint.requests == []  # nothing went out unsigned
