"""Balance watch rules: extraction, due-ness, the alert state machine, and the service with in-memory fakes."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsbridge.adapters.http import TransportError
from smsbridge.core.balance import (
    AlertKind,
    BalanceRecord,
    BalanceState,
    BalanceUnreadable,
    CheckResult,
    alert_email,
    decide,
    extract_balance,
    first_number,
    is_due,
)
from smsbridge.models.provider import ProviderConfig
from smsbridge.models.wire import HttpRequest, HttpResponse
from smsbridge.services.balance import BalanceService

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=timezone.utc)
MINIMUM = 100.0


# ---------------------------------------------------------------- extraction

@pytest.mark.parametrize(("body", "expected"), [
    ("Credits: 1,234.50", 1234.5),
    ("<balance>12.5</balance>", 12.5),
    ('{"data": {"credits": 7}}', 7.0),
    ('{"balance": -3.25}', -3.25),
    ("Balance: -42 EUR", -42.0),
    ("12,345,678 credits left", 12345678.0),
    ("42", 42.0),
    ('{"currency": "EUR", "balance": "12.50"}', 12.5),
    ('{"account": "v2", "data": {"credits": 7}}', 7.0),
])
def test_given_a_body_without_field_when_extracting_then_the_first_number_is_the_balance(body, expected):
    assert extract_balance(body) == expected


def test_given_a_hyphen_inside_a_word_when_extracting_then_it_is_not_a_minus_sign():
    assert first_number("account ACME-2024") == 2024.0


def test_given_commas_not_in_groups_of_three_when_extracting_then_they_end_the_number():
    assert first_number("1,23 left") == 1.0


@pytest.mark.parametrize("body", ["OK", "", "   ", '{"status": "ok"}', "<balance>none</balance>", '{"ok": true}'])
def test_given_a_body_with_no_number_when_extracting_then_the_check_fails_with_a_reason(body):
    with pytest.raises(BalanceUnreadable, match="no number|empty"):
        extract_balance(body)


def test_given_a_field_when_extracting_then_the_jmespath_value_is_the_balance():
    assert extract_balance('{"id": 99, "account": {"balance": 55.5}}', "account.balance") == 55.5


def test_given_a_field_holding_text_when_extracting_then_the_number_in_it_is_the_balance():
    assert extract_balance('{"balance": "1,234.50 EUR"}', "balance") == 1234.5


def test_given_a_field_missing_from_the_answer_when_extracting_then_the_check_fails_naming_the_field():
    with pytest.raises(BalanceUnreadable, match="'account.balance' is not in the answer"):
        extract_balance('{"credits": 5}', "account.balance")


def test_given_a_field_and_a_body_that_is_not_json_when_extracting_then_the_check_fails():
    with pytest.raises(BalanceUnreadable, match="not JSON"):
        extract_balance("Credits: 5", "credits")


def test_given_a_field_holding_a_boolean_when_extracting_then_the_check_fails():
    with pytest.raises(BalanceUnreadable, match="bool"):
        extract_balance('{"credits": true}', "credits")


@given(st.decimals(min_value=-10**9, max_value=10**9, places=2, allow_nan=False, allow_infinity=False))
def test_given_any_amount_written_with_thousands_commas_when_extracting_then_it_reads_back(amount):
    assert first_number(f"Credits: {amount:,.2f} left") == pytest.approx(float(amount))


# ---------------------------------------------------------------- due-ness

def test_given_no_check_yet_when_asking_then_it_is_due():
    assert is_due("1d", None, NOW)


@pytest.mark.parametrize(("every", "since", "due"), [
    ("5m", timedelta(minutes=4, seconds=58), True),  # the schedule's jitter must not skip a run
    ("5m", timedelta(minutes=2), False),
    ("1h", timedelta(minutes=30), False),
    ("1h", timedelta(minutes=59, seconds=59), True),
    ("1d", timedelta(hours=23), False),
    ("1d", timedelta(days=1), True),
])
def test_given_the_last_check_when_asking_then_the_period_decides(every, since, due):
    assert is_due(every, NOW - since, NOW) is due


# ---------------------------------------------------------------- alert state machine

def step(record: BalanceRecord, at: datetime, balance: float | None = None, error: str | None = None):
    decision = decide(record, CheckResult(balance=balance, error=error), MINIMUM, at)
    return decision.record, decision.alert


def test_given_an_ok_balance_when_it_crosses_below_the_minimum_then_one_low_alert():
    record, _ = step(BalanceRecord(provider="acme"), NOW, balance=500)
    record, alert = step(record, NOW + timedelta(hours=1), balance=50)
    assert alert is AlertKind.LOW
    assert record.state is BalanceState.BELOW and record.low_alert_at == NOW + timedelta(hours=1)


def test_given_a_first_check_below_the_minimum_when_deciding_then_one_low_alert():
    assert step(BalanceRecord(provider="acme"), NOW, balance=50)[1] is AlertKind.LOW


def test_given_a_low_alert_when_checked_again_the_same_day_then_no_email():
    record, _ = step(BalanceRecord(provider="acme"), NOW, balance=50)
    for minutes in (5, 60, 23 * 60):
        record, alert = step(record, NOW + timedelta(minutes=minutes), balance=40)
        assert alert is None


def test_given_still_below_a_day_after_the_low_alert_when_checked_then_one_reminder():
    record, _ = step(BalanceRecord(provider="acme"), NOW, balance=50)
    record, alert = step(record, NOW + timedelta(days=1), balance=40)
    assert alert is AlertKind.REMINDER
    record, alert = step(record, NOW + timedelta(days=1, minutes=5), balance=40)
    assert alert is None


def test_given_below_when_the_balance_is_back_at_the_minimum_then_one_recovered_alert():
    record, _ = step(BalanceRecord(provider="acme"), NOW, balance=50)
    record, alert = step(record, NOW + timedelta(hours=2), balance=MINIMUM)
    assert alert is AlertKind.RECOVERED and record.state is BalanceState.OK
    record, alert = step(record, NOW + timedelta(hours=3), balance=MINIMUM + 1)
    assert alert is None


def test_given_an_ok_balance_when_it_stays_above_then_no_email():
    record, alert = step(BalanceRecord(provider="acme"), NOW, balance=500)
    assert alert is None
    assert step(record, NOW + timedelta(days=3), balance=400)[1] is None


def test_given_no_minimum_when_any_balance_is_read_then_no_email():
    decision = decide(BalanceRecord(provider="acme"), CheckResult(balance=-5), None, NOW)
    assert decision.alert is None and decision.record.state is BalanceState.OK


def test_given_three_failed_checks_in_a_row_when_deciding_then_one_check_failing_alert():
    record = BalanceRecord(provider="acme")
    alerts = []
    for i in range(6):
        record, alert = step(record, NOW + timedelta(minutes=5 * i), error="timeout")
        alerts.append(alert)
    assert alerts == [None, None, AlertKind.CHECK_FAILING, None, None, None]
    assert record.consecutive_failures == 6 and record.last_error == "timeout"


def test_given_the_check_failing_alert_when_a_check_succeeds_then_the_next_three_failures_alert_again():
    record = BalanceRecord(provider="acme")
    for i in range(3):
        record, _ = step(record, NOW + timedelta(minutes=i), error="HTTP 500")
    record, alert = step(record, NOW + timedelta(minutes=3), balance=500)
    assert alert is None and record.consecutive_failures == 0 and record.failing_alert_at is None
    alerts = []
    for i in range(3):
        record, alert = step(record, NOW + timedelta(minutes=4 + i), error="HTTP 500")
        alerts.append(alert)
    assert alerts == [None, None, AlertKind.CHECK_FAILING]


def test_given_two_failures_then_a_success_when_failing_again_then_the_count_starts_over():
    record = BalanceRecord(provider="acme")
    for i in range(2):
        record, _ = step(record, NOW + timedelta(minutes=i), error="timeout")
    record, _ = step(record, NOW + timedelta(minutes=2), balance=500)
    record, alert = step(record, NOW + timedelta(minutes=3), error="timeout")
    assert alert is None and record.consecutive_failures == 1


def test_given_below_when_checks_fail_then_the_state_and_last_balance_are_kept():
    record, _ = step(BalanceRecord(provider="acme"), NOW, balance=50)
    record, _ = step(record, NOW + timedelta(minutes=5), error="timeout")
    assert record.state is BalanceState.BELOW and record.balance == 50
    # Still below once the check works again, and the same day: no second low alert.
    assert step(record, NOW + timedelta(minutes=10), balance=50)[1] is None


# ---------------------------------------------------------------- emails

def test_given_a_low_alert_when_writing_the_email_then_it_names_provider_balance_minimum_time_and_what_to_do():
    record = decide(BalanceRecord(provider="acme"), CheckResult(balance=42.5), MINIMUM, NOW).record
    email = alert_email(AlertKind.LOW, provider_id="acme", provider_name="Acme SMS", record=record, every="1h", now=NOW)
    assert "acme" in email.subject and "42.5" in email.subject and "100" in email.subject
    for fact in ("Provider: acme", "Name: Acme SMS", "Balance: 42.5", "Minimum: 100", "2026-11-21 10:00 UTC", "top up", "balance.minimum",
                 "PUT /providers/acme"):
        assert fact in email.text


def test_given_a_check_failing_alert_when_writing_the_email_then_it_gives_the_reason_and_no_url():
    record = BalanceRecord(provider="acme", consecutive_failures=3, last_error="timeout after 10 s waiting for x.io")
    email = alert_email(AlertKind.CHECK_FAILING, provider_id="acme", provider_name=None, record=record,
                        every="5m", now=NOW)
    assert "check failing" in email.subject.lower() and "timeout after 10 s" in email.text
    assert "http" not in email.text.lower()



def test_given_a_reminder_when_writing_the_email_then_the_whole_text_is_the_daily_reminder():
    record = BalanceRecord(provider="acme", balance=1234.5, minimum=2000.0)
    email = alert_email(AlertKind.REMINDER, provider_id="acme", provider_name=None, record=record, every="1d", now=NOW)
    assert email.subject == "[SMS Bridge] Low balance (still below: daily reminder): acme has 1,234.5, minimum 2,000"
    assert email.text == (
        "The SMS credit balance of acme is below its minimum (still below: daily reminder).\n\n"
        "Provider: acme\nBalance: 1,234.5\nMinimum: 2,000\nChecked at: 2026-11-21 10:00 UTC\n\n"
        "What to do: top up the account at the provider before the credits run out; once the balance is back "
        "at or above 2,000, you get one 'recovered' email. Until then a reminder is sent once a day.\n"
        "To change the threshold, set `balance.minimum` in the provider's configuration (PUT /providers/acme); "
        "the balance is checked every 1d.\n")


def test_given_a_low_alert_when_writing_the_email_then_its_subject_is_no_reminder():
    record = BalanceRecord(provider="acme", balance=0.05, minimum=10.0)
    email = alert_email(AlertKind.LOW, provider_id="acme", provider_name="", record=record, every="1h", now=NOW)
    assert email.subject == "[SMS Bridge] Low balance: acme has 0.05, minimum 10"
    assert email.text.startswith("The SMS credit balance of acme is below its minimum.\n\nProvider: acme\nBalance: 0.05\n")


def test_given_a_recovered_balance_when_writing_the_email_then_the_whole_text_says_it_is_back():
    record = BalanceRecord(provider="acme", balance=150.0, minimum=100.0)
    email = alert_email(AlertKind.RECOVERED, provider_id="acme", provider_name="Acme SMS", record=record, every="1h", now=NOW)
    assert email.subject == "[SMS Bridge] Balance recovered: acme has 150, minimum 100"
    assert email.text == (
        "The SMS credit balance of acme is back at or above its minimum.\n\n"
        "Provider: acme\nName: Acme SMS\nBalance: 150\nMinimum: 100\nChecked at: 2026-11-21 10:00 UTC\n\n"
        "To change the threshold, set `balance.minimum` in the provider's configuration (PUT /providers/acme); "
        "the balance is checked every 1h.\n")


def test_given_a_failing_check_with_a_last_balance_when_writing_the_email_then_it_says_when_that_balance_was_read():
    read_at = datetime(2026, 11, 20, 8, 5, tzinfo=timezone.utc)
    known = BalanceRecord(provider="acme", balance=12.0, balance_at=read_at, consecutive_failures=3, last_error="HTTP 500")
    never = BalanceRecord(provider="acme", consecutive_failures=3, last_error="HTTP 500")
    known_text = alert_email(AlertKind.CHECK_FAILING, provider_id="acme", provider_name=None, record=known,
                             every="5m", now=NOW).text
    never_text = alert_email(AlertKind.CHECK_FAILING, provider_id="acme", provider_name=None, record=never,
                             every="5m", now=NOW).text
    assert "Last error: HTTP 500\nLast known balance: 12 (at 2026-11-20 08:05 UTC)\nMinimum: unknown\n" in known_text
    assert "Last known balance: unknown\nMinimum: unknown\nChecked at: 2026-11-21 10:00 UTC\n" in never_text


def test_given_a_check_when_decided_then_the_record_keeps_when_it_was_checked_and_read():
    failed = decide(BalanceRecord(provider="acme", balance=5.0), CheckResult(error="HTTP 500"), MINIMUM, NOW).record
    assert failed.checked_at == NOW and failed.last_error == "HTTP 500" and failed.balance == 5.0
    read = decide(failed, CheckResult(balance=7.0), MINIMUM, NOW + timedelta(minutes=5)).record
    assert read.checked_at == read.balance_at == NOW + timedelta(minutes=5)
    assert read.last_error is None and read.consecutive_failures == 0


def test_given_a_recovery_when_decided_then_the_record_keeps_when_the_recovered_email_went():
    below = BalanceRecord(provider="acme", balance=5.0, minimum=MINIMUM, state=BalanceState.BELOW, low_alert_at=NOW)
    decision = decide(below, CheckResult(balance=500.0), MINIMUM, NOW + timedelta(hours=1))
    assert decision.alert is AlertKind.RECOVERED
    assert decision.record.recovered_alert_at == NOW + timedelta(hours=1)


def test_given_a_check_exactly_one_period_less_the_slack_after_the_last_when_asked_then_it_is_due():
    assert is_due("1h", NOW, NOW + timedelta(minutes=59))
    assert not is_due("1h", NOW, NOW + timedelta(minutes=58, seconds=59))


@pytest.mark.parametrize(("body", "field", "reason"), [
    ('{"status": "ok"}', None, "the answer (JSON) holds no number"),
    ("OK", None, "the answer holds no number"),
    ("  ", None, "the answer is empty"),
])
def test_given_an_answer_without_a_number_when_extracting_then_the_reason_says_which(body, field, reason):
    with pytest.raises(BalanceUnreadable) as refused:
        extract_balance(body, field)
    assert str(refused.value) == reason


def test_given_a_json_answer_with_the_number_in_a_nested_list_when_extracting_then_it_is_found():
    assert extract_balance('{"accounts": [{"name": "main", "credit": "EUR 17.25"}]}') == 17.25


# ---------------------------------------------------------------- the service, with fakes

class FakeBalances:
    def __init__(self) -> None:
        self.records: dict[str, BalanceRecord] = {}

    def get(self, provider_id: str) -> BalanceRecord | None:
        return self.records.get(provider_id)

    def put(self, record: BalanceRecord) -> None:
        self.records[record.provider] = record


class FakeClient:
    """Answers per provider id: an HttpResponse, or an exception to raise."""

    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers
        self.calls: list[tuple[ProviderConfig, HttpRequest]] = []

    def send(self, provider: ProviderConfig, request: HttpRequest, now: datetime) -> HttpResponse:
        self.calls.append((provider, request))
        answer = self.answers[provider.id]
        if isinstance(answer, Exception):
            raise answer
        return answer


class FakeMailer:
    def __init__(self, fail: bool = False) -> None:
        self.sent: list[tuple[list[str], str, str]] = []
        self.fail = fail

    def send(self, recipients: list[str], subject: str, text: str) -> str:
        if self.fail:
            raise RuntimeError("SES refused")
        self.sent.append((recipients, subject, text))
        return "id"


class FakeProviders:
    def __init__(self, *providers: ProviderConfig) -> None:
        self.providers = list(providers)

    def list(self) -> list[ProviderConfig]:
        return self.providers


def provider(provider_id: str, **balance: Any) -> ProviderConfig:
    return ProviderConfig.model_validate({
        "id": provider_id, "request": {"url": "https://sms.example.com/send", "body": {"to": "{{to}}", "text": "{{text}}"}},
        "auth": {"type": "api_key", "token": "s3cret-token", "header": "Authorization", "prefix": "Bearer "},
        "balance": {"url": f"https://sms.example.com/{provider_id}/balance", "every": "5m", "minimum": MINIMUM,
                    "email": ["ops@example.com"], **balance}})


def answer(body: str, status: int = 200) -> HttpResponse:
    return HttpResponse(status_code=status, headers={}, body=body.encode())


def service(providers, client, mailer=None, balances=None, at=NOW):
    clock = {"now": at}
    built = BalanceService(providers=providers, balances=balances or FakeBalances(), client=client,
                           mailer=mailer or FakeMailer(), clock=lambda: clock["now"])
    return built, clock


def test_given_one_provider_timing_out_when_running_then_the_others_are_still_checked():
    client = FakeClient({"slow": TransportError("timeout after 10 s waiting for sms.example.com"),
                         "fine": answer('{"balance": 500}')})
    balances = FakeBalances()
    balance_service, _ = service(FakeProviders(provider("slow"), provider("fine")), client, balances=balances)
    run = balance_service.run()
    assert run.checked == {"slow": None, "fine": 500.0}
    assert balances.records["slow"].consecutive_failures == 1 and balances.records["fine"].balance == 500


def test_given_a_provider_whose_store_crashes_when_running_then_the_run_goes_on():
    class Broken(FakeBalances):
        def get(self, provider_id):
            if provider_id == "bad":
                raise RuntimeError("boom")
            return super().get(provider_id)

    client = FakeClient({"bad": answer("1"), "fine": answer("500")})
    balance_service, _ = service(FakeProviders(provider("bad"), provider("fine")), client, balances=Broken())
    run = balance_service.run()
    assert run.errors == {"bad": "RuntimeError"} and run.checked == {"fine": 500.0}


def test_given_a_check_not_due_when_running_then_the_endpoint_is_not_called():
    client = FakeClient({"acme": answer("500")})
    balance_service, clock = service(FakeProviders(provider("acme", every="1h")), client)
    balance_service.run()
    clock["now"] = NOW + timedelta(minutes=30)
    run = balance_service.run()
    assert run.skipped == ["acme"] and len(client.calls) == 1


def test_given_a_disabled_provider_or_no_balance_spec_when_running_then_it_is_not_checked():
    disabled = provider("off").model_copy(update={"enabled": False})
    plain = provider("plain").model_copy(update={"balance": None})
    client = FakeClient({})
    balance_service, _ = service(FakeProviders(disabled, plain), client)
    assert balance_service.run().checked == {} and client.calls == []


def test_given_use_auth_when_checking_then_the_provider_auth_goes_along_and_without_it_none_does():
    client = FakeClient({"acme": answer("500"), "open": answer("500")})
    balance_service, _ = service(FakeProviders(provider("acme"), provider("open", use_auth=False)), client)
    balance_service.run()
    auths = {p.id: p.auth.type for p, _ in client.calls}
    assert auths == {"acme": "api_key", "open": "none"}


def test_given_ses_refusing_when_an_alert_is_due_then_nothing_is_stored_and_the_next_run_alerts_again():
    client = FakeClient({"acme": answer("Credits: 5")})
    balances = FakeBalances()
    mailer = FakeMailer(fail=True)
    balance_service, clock = service(FakeProviders(provider("acme")), client, mailer=mailer, balances=balances)
    assert balance_service.run().errors == {"acme": "RuntimeError"}
    assert "acme" not in balances.records
    mailer.fail = False
    clock["now"] = NOW + timedelta(minutes=5)
    assert balance_service.run().emails == [("acme", AlertKind.LOW)]


def test_given_alerts_when_emailed_then_no_secret_of_the_provider_appears():
    client = FakeClient({"acme": answer("Credits: 5")})
    mailer = FakeMailer()
    balance_service, _ = service(FakeProviders(provider("acme")), client, mailer=mailer)
    balance_service.run()
    (recipients, subject, text), = mailer.sent
    assert recipients == ["ops@example.com"]
    assert "s3cret-token" not in subject + text and "/acme/balance" not in text


def test_given_a_check_not_due_when_forced_then_the_endpoint_is_called():
    client = FakeClient({"acme": answer("500")})
    balance_service, _ = service(FakeProviders(provider("acme", every="1d")), client)
    balance_service.run()
    assert balance_service.run(force=True).checked == {"acme": 500.0} and len(client.calls) == 2


def test_given_a_balance_url_and_header_with_named_secrets_when_checked_then_the_request_carries_their_values():
    config = ProviderConfig.model_validate({
        "id": "keyed", "request": {"url": "https://sms.example.com/send", "body": {"to": "{{to}}", "text": "{{text}}"}},
        "secrets": {"apikey": "k/1 2", "account": "AC9"},
        "balance": {"url": "https://sms.example.com/balance?apikey={{secrets.apikey}}",
                    "headers": {"X-Account": "{{secrets.account}}"}}})
    client = FakeClient({"keyed": answer('{"balance": 42}')})
    balance_service, _ = service(FakeProviders(config), client)

    balance_service.run()

    [(_, request)] = client.calls
    assert request.url == "https://sms.example.com/balance?apikey=k%2F1%202"
    assert request.headers == {"X-Account": "AC9"}
