"""A provider's circuit (SPEC 3 `failover`): closed, open after repeated failures that prove the provider did not take a message, half-open for one probe.

What opens it: consecutive attempts that prove non-acceptance because the provider is down
(connection refused, DNS or TLS failure, 5xx). Not a 429 (the provider is up and asks to slow
down: the limiter pauses instead) and not a timeout after the request went out (the provider may
have taken it; a circuit opened by timeouts would send the retries of those very messages to the
failover provider, twice on the handset).

While open, no request goes to the provider until `half_open_at`; then one sender wins the
probe (a lease of `probe_lease_s`, so that a sender that dies mid-probe does not keep it shut);
the probe's success closes the circuit, its failure opens it for another cool-down. Times are
integer milliseconds since the epoch, shared between machines (see core/throughput.py).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from smsbridge.core.throughput import epoch_ms

CircuitState = Literal["closed", "open", "half_open"]
PROBE_CHECK_S = 1.0  # how soon a sender held back by another's probe looks again
Admission = Literal["send", "probe", "wait"]


@dataclass(frozen=True)
class CircuitPolicy:
    failures: int = 3  # consecutive failures that open it
    cooldown_s: float = 30.0  # open this long before a probe
    probe_lease_s: float = 15.0  # a probe's winner holds it this long at most


@dataclass(frozen=True)
class Circuit:
    failures: int = 0  # consecutive failures proving non-acceptance
    opened_at: int | None = None  # ms
    half_open_at: int | None = None  # ms: a probe may go from then
    probe_until: int | None = None  # ms: a probe is under way until then

    def state(self, now: datetime) -> CircuitState:
        if self.opened_at is None:
            return "closed"
        return "half_open" if epoch_ms(now) >= (self.half_open_at or 0) else "open"

    def admission(self, now: datetime) -> Admission:
        """`send` when closed; `probe` when half-open and nobody probes; else `wait`."""
        state = self.state(now)
        if state == "closed":
            return "send"
        if state == "half_open" and (self.probe_until is None or self.probe_until <= epoch_ms(now)):
            return "probe"
        return "wait"

    def wait_s(self, now: datetime) -> float:
        """Seconds until a request may go again: the half-open time; while another sender's probe is
        under way, at most PROBE_CHECK_S (a probe takes one request's time, its lease is only
        for a sender that dies holding it: waiting the whole lease would hold back recovered traffic)."""
        now_ms = epoch_ms(now)
        if self.half_open_at is not None and self.half_open_at > now_ms:
            return (self.half_open_at - now_ms) / 1000
        if self.probe_until is not None and self.probe_until > now_ms:
            return min(PROBE_CHECK_S, (self.probe_until - now_ms) / 1000)
        return 0.0

    @property
    def healthy(self) -> bool:
        """Nothing to write on a success."""
        return self.failures == 0 and self.opened_at is None


def after_failure(circuit: Circuit, policy: CircuitPolicy, now: datetime, *, probing: bool = False) -> Circuit:
    """One more failure proving non-acceptance; a failed probe, or the threshold reached, opens it."""
    now_ms = epoch_ms(now)
    failures = circuit.failures + 1
    if probing or (circuit.opened_at is None and failures >= policy.failures):
        return Circuit(failures=failures, opened_at=now_ms, half_open_at=now_ms + round(policy.cooldown_s * 1000))
    return replace(circuit, failures=failures)


def after_success() -> Circuit:
    return Circuit()


def probe_won(circuit: Circuit, policy: CircuitPolicy, now: datetime) -> Circuit:
    return replace(circuit, probe_until=epoch_ms(now) + round(policy.probe_lease_s * 1000))
