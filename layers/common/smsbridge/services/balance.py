"""The `balance` use case: check each provider's credit balance that is due, store it, and email alerts."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

from smsbridge.core.balance import (
    AlertKind,
    BalanceRecord,
    BalanceState,
    BalanceUnreadable,
    CheckResult,
    alert_email,
    decide,
    extract_balance,
    is_due,
)
from smsbridge.core.render import RenderError, render_balance_request
from smsbridge.models.provider import ProviderConfig
from smsbridge.clock import utc_now
from smsbridge.observability import logger, metrics
from smsbridge.services.dispatch import Dispatcher
from smsbridge.services.ports import BalanceRecords, Mailer, ProviderCaller, ProviderSource

BALANCE_METRIC = "ProviderBalance"
BELOW_METRIC = "ProviderBalanceBelowMinimum"
MAX_BALANCE_TIMEOUT_S = 10.0  # one slow provider must not eat the whole run (the function has 60 s)




@dataclass
class BalanceRun:
    """What one run did, per provider id."""

    checked: dict[str, float | None] = field(default_factory=dict)  # the balance read, None when the check failed
    skipped: list[str] = field(default_factory=list)  # not due yet, or left for the next run (no time)
    emails: list[tuple[str, AlertKind]] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)  # unexpected errors (the run went on)


class BalanceService:
    def __init__(self, *, providers: ProviderSource, balances: BalanceRecords, mailer: Mailer,
                 client: ProviderCaller | None = None, dispatch: Dispatcher | None = None,
                 clock: Callable[[], datetime] = utc_now) -> None:
        self._providers = providers
        self._balances = balances
        self._dispatch = dispatch if dispatch is not None else Dispatcher(client, clock=clock)
        self._mailer = mailer
        self._clock = clock

    def run(self, remaining_s: Callable[[], float] | None = None, *, force: bool = False) -> BalanceRun:
        """Check every enabled provider whose balance check is due (all of them with `force`); one
        provider's failure never stops the others.

        `remaining_s` gives the time left in the invocation: a check that might not finish in it is
        left for the next run rather than cut off half way."""
        run = BalanceRun()
        for provider in self._providers.list():
            spec = provider.balance
            if spec is None or not provider.enabled:
                continue
            try:
                previous = self._balances.get(provider.id) or BalanceRecord(provider=provider.id)
                if not force and not is_due(spec.every, previous.checked_at, self._clock()):
                    run.skipped.append(provider.id)
                    continue
                if remaining_s is not None and remaining_s() < _timeout_of(provider) + 5:
                    logger.warning("no time left for this balance check: next run", provider=provider.id)
                    run.skipped.append(provider.id)
                    continue
                self._check(provider, previous, run)
            except Exception as error:  # noqa: BLE001 - one provider's bug or outage must not stop the others
                logger.exception("balance check crashed", provider=provider.id)
                metrics.add_metric(name="BalanceCheckErrors", unit=MetricUnit.Count, value=1)
                run.errors[provider.id] = type(error).__name__
        return run

    def _check(self, provider: ProviderConfig, previous: BalanceRecord, run: BalanceRun) -> None:
        spec = provider.balance
        result = self.read_balance(provider)
        now = self._clock()
        decision = decide(previous, result, spec.minimum, now)
        run.checked[provider.id] = result.balance
        if result.ok:
            logger.info("balance read", provider=provider.id, balance=result.balance, minimum=spec.minimum,
                        state=decision.record.state.value)
            _publish(provider.id, result.balance, decision.record.state is BalanceState.BELOW)
        else:
            logger.warning("balance check failed", provider=provider.id, reason=result.error,
                           consecutive_failures=decision.record.consecutive_failures)
            metrics.add_metric(name="BalanceCheckFailures", unit=MetricUnit.Count, value=1)
        if decision.alert is not None:
            # The record (with the alert marked sent) is stored only once the email is out: when SES
            # refuses, the same alert is decided again on the next run instead of being lost.
            self._email(provider, decision.record, decision.alert, now)
            run.emails.append((provider.id, decision.alert))
        self._balances.put(decision.record)

    def read_balance(self, provider: ProviderConfig) -> CheckResult:
        """One call to the provider's balance endpoint (with its auth when `use_auth`), and the balance read."""
        spec = provider.balance
        try:
            request = render_balance_request(provider)
        except RenderError as error:  # a header the secrets would break: a failed check, alerted on like any other
            return CheckResult(error=str(error))
        # Through dispatch, as sending: every auth type (OAuth2 tokens included) works alike, and an
        # auth that cannot sign (a JWT key that is not a key) is a failed check, stored and alerted on.
        caller = provider.model_copy(update={"timeout_s": _timeout_of(provider)})
        reply = self._dispatch.call(caller, request, authenticated=spec.use_auth)
        response = reply.response
        if response is None:
            return CheckResult(error=reply.outcome.reason)
        if not 200 <= response.status_code < 300:
            return CheckResult(error=f"the balance endpoint answered HTTP {response.status_code}")
        try:
            return CheckResult(balance=extract_balance(response.text, spec.field))
        except BalanceUnreadable as error:
            return CheckResult(error=str(error))

    def _email(self, provider: ProviderConfig, record: BalanceRecord, kind: AlertKind, now: datetime) -> None:
        recipients = provider.balance.email
        if not recipients:
            logger.warning("balance alert with no recipient: set balance.email", provider=provider.id, alert=kind.value)
            return
        email = alert_email(kind, provider_id=provider.id, provider_name=provider.name, record=record,
                            every=provider.balance.every, now=now)
        self._mailer.send(recipients, email.subject, email.text)
        logger.info("balance alert sent", provider=provider.id, alert=kind.value, recipients=len(recipients))
        metrics.add_metric(name="BalanceAlertsSent", unit=MetricUnit.Count, value=1)


def _timeout_of(provider: ProviderConfig) -> float:
    return min(provider.timeout_s, MAX_BALANCE_TIMEOUT_S)


def _publish(provider_id: str, balance: float, below: bool) -> None:
    """The balance as a CloudWatch metric with a `provider` dimension, flushed on its own so that
    providers' dimensions never mix with each other or with the run's other metrics."""
    if is_metrics_disabled():  # single_metric prints even when POWERTOOLS_METRICS_DISABLED is set
        return
    for name, value in ((BALANCE_METRIC, balance), (BELOW_METRIC, 1.0 if below else 0.0)):
        with single_metric(name=name, unit=MetricUnit.Count, value=value, namespace=metrics.namespace,
                           default_dimensions={"service": metrics.service}) as metric:
            metric.add_dimension(name="provider", value=provider_id)
