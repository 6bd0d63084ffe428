"""Classifying a provider's answer: sent, retry (and when), or failed, with the provider's message id."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import Any, Literal

import jmespath

from smsbridge.models.provider import BatchSpec, ResponseSpec
from smsbridge.models.wire import HttpResponse

EXCERPT_CHARS = 500  # of the answer's body kept with a status change: enough to diagnose, small to store
ERROR_TEXT_CHARS = 200  # of the provider's own error text quoted in a reason
MAX_RETRY_AFTER_S = 12 * 3600.0  # a provider asking for more is misbehaving; the message expiry still applies
DEFAULT_RETRY_STATUS = frozenset({408, 425, 429})  # plus any 5xx

Verdict = Literal["sent", "retry", "failed"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one message's attempt."""

    verdict: Verdict
    reason: str
    retry_after_s: float | None = None  # for "retry": when the provider asked to be called again
    provider_message_id: str | None = None
    status_code: int | None = None
    body_excerpt: str | None = None
    # The attempt proves the provider did not take the message (SPEC 3 `failover`): it could not be
    # reached before the request went out, or it answered 5xx or 429. A failover provider may then
    # send it at once; a timeout after the request went out is no such proof.
    not_taken: bool = False


def proves_not_taken(status_code: int) -> bool:
    """A 5xx or a 429 answer: the provider did not take the message."""
    return status_code == 429 or 500 <= status_code < 600


def classify_response(spec: ResponseSpec, response: HttpResponse, now: datetime) -> Outcome:
    """Sent, retry or failed, from the status code, the answer's text and JSON, and Retry-After."""
    return _Answer(spec, response).outcome(now)


def classify_batch_response(spec: ResponseSpec, batch: BatchSpec, response: HttpResponse, count: int,
                            now: datetime) -> list[Outcome]:
    """One outcome per recipient of a batch request, in the order they were rendered.

    An answer that is not a success applies to every recipient. A successful one with
    `batch.results_jmespath` is read per recipient: element i is recipient i's result.
    """
    answer = _Answer(spec, response)
    overall = answer.outcome(now)
    if overall.verdict != "sent" or batch.results_jmespath is None:
        return [overall] * count
    results = answer.search(batch.results_jmespath)
    if not isinstance(results, list):
        results = []
    return [_recipient_outcome(spec, batch, response, results[i] if i < len(results) else None)
            for i in range(count)]


# ---------------------------------------------------------------- one answer

class _Answer:
    """One answer with its JSON parsed at most once, and only when an expression needs it."""

    def __init__(self, spec: ResponseSpec, response: HttpResponse) -> None:
        self.spec = spec
        self.response = response
        self._parsed: Any = _UNPARSED

    @property
    def is_json(self) -> bool:
        return self.data is not _NOT_JSON

    @property
    def data(self) -> Any:
        if self._parsed is _UNPARSED:
            try:
                self._parsed = json.loads(self.response.body)
            except ValueError:  # JSONDecodeError and UnicodeDecodeError both are
                self._parsed = _NOT_JSON
        return self._parsed

    def search(self, expression: str) -> Any:
        data = self.data
        return None if data is _NOT_JSON else _compiled(expression).search(data)

    def outcome(self, now: datetime) -> Outcome:
        status = self.response.status_code
        spec = self.spec
        if _is_success_status(spec, status):
            problem = self._success_check_problem()
            if problem is None:
                message_id = _message_id(self.search(spec.message_id_jmespath)) if spec.message_id_jmespath else None
                return self._outcome("sent", f"accepted by the provider (status {status})", message_id=message_id)
            return self._outcome("failed", self._with_error_text(f"status {status} but {problem}"))
        if _is_retry_status(spec, status):
            return self._outcome("retry", self._with_error_text(f"provider answered {status} (retryable)"),
                                 retry_after_s=retry_after_s(self.response.headers.get("retry-after"), now))
        if 300 <= status < 400:
            return self._outcome("failed", f"provider answered {status}, a redirect (not followed: fix the URL)")
        return self._outcome("failed", self._with_error_text(f"provider answered {status}"))

    def _success_check_problem(self) -> str | None:
        spec = self.spec
        if spec.success_contains is not None and spec.success_contains not in self.response.text:
            return f"the answer did not contain {spec.success_contains!r}"
        if spec.success_jmespath is not None:
            if not self.is_json:
                return f"the answer is not JSON, so success_jmespath {spec.success_jmespath!r} cannot hold"
            if not _truthy(self.search(spec.success_jmespath)):
                return f"success_jmespath {spec.success_jmespath!r} is not true in the answer"
        return None

    def _with_error_text(self, reason: str) -> str:
        if self.spec.error_jmespath is None:
            return reason
        text = _error_text(self.search(self.spec.error_jmespath))
        return f"{reason}: {text}" if text else reason

    def _outcome(self, verdict: Verdict, reason: str, *, retry_after_s: float | None = None,
                 message_id: str | None = None) -> Outcome:
        status = self.response.status_code
        return Outcome(verdict, reason, retry_after_s=retry_after_s, provider_message_id=message_id,
                       status_code=status, body_excerpt=_body_excerpt(self.response.body),
                       not_taken=verdict != "sent" and proves_not_taken(status))


_UNPARSED = object()
_NOT_JSON = object()


def _recipient_outcome(spec: ResponseSpec, batch: BatchSpec, response: HttpResponse, result: Any) -> Outcome:
    status = response.status_code
    if result is None:
        return Outcome("failed", "no result for this recipient in the provider's answer", status_code=status,
                       body_excerpt=_body_excerpt(response.body))
    excerpt = _excerpt(json.dumps(result, ensure_ascii=False))
    accepted = _truthy(_compiled(batch.result_success_jmespath).search(result)) if batch.result_success_jmespath else True
    if not accepted:
        error = _error_text(_compiled(spec.error_jmespath).search(result)) if spec.error_jmespath else None
        reason = "provider refused this recipient" + (f": {error}" if error else "")
        return Outcome("failed", reason, status_code=status, body_excerpt=excerpt)
    message_id = (_message_id(_compiled(batch.result_message_id_jmespath).search(result))
                  if batch.result_message_id_jmespath else None)
    return Outcome("sent", f"accepted by the provider (status {status})", provider_message_id=message_id,
                   status_code=status, body_excerpt=excerpt)


# ---------------------------------------------------------------- small rules

def _is_success_status(spec: ResponseSpec, status: int) -> bool:
    return 200 <= status < 300 if spec.success_status is None else status in spec.success_status


def _is_retry_status(spec: ResponseSpec, status: int) -> bool:
    if spec.retry_status is None:
        return status in DEFAULT_RETRY_STATUS or 500 <= status < 600
    return status in spec.retry_status


def retry_after_s(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), clamped to [0, 12 h]."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:  # "-0000" means UTC without saying so
            when = when.replace(tzinfo=UTC)
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        seconds = (when - now).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)


def _truthy(value: Any) -> bool:
    # JMESPath's own truthiness (the config field is a JMESPath expression): only null, false and
    # empty strings, lists and objects are false; the number 0 is true.
    return not (value is None or value is False or value in ("", [], {}))


def _message_id(value: Any) -> str | None:
    if isinstance(value, list):  # e.g. `messages[*].id` for a single message
        value = value[0] if value else None
    if value is None or isinstance(value, (bool, dict, list)):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def _error_text(value: Any) -> str | None:
    if value is None or value in ("", [], {}):
        return None
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = " ".join(text.split())  # one line in a reason, whatever the provider's layout
    return text[:ERROR_TEXT_CHARS] + "…" if len(text) > ERROR_TEXT_CHARS else text


def _body_excerpt(body: bytes) -> str | None:
    # Decode only what the excerpt can hold (a UTF-8 character is at most 4 bytes), not a 1 MiB answer.
    return _excerpt(body[: EXCERPT_CHARS * 4 + 4].decode("utf-8", errors="replace"))


def _excerpt(text: str) -> str | None:
    if not text:
        return None
    return text[:EXCERPT_CHARS] + "…" if len(text) > EXCERPT_CHARS else text


@lru_cache(maxsize=256)
def _compiled(expression: str) -> jmespath.parser.ParsedResult:
    return jmespath.compile(expression)
