"""The one Logger and Metrics of SMS Bridge (Powertools, configured by the template's Globals), and the
net that masks every secret the process knows in whatever is logged.

No Powertools Tracer: it needs aws-xray-sdk, which costs about 0.3 s of cold start; the
functions' `Tracing: Active` still gives each invocation its X-Ray segment.

What is logged is masked where it is written (services mask provider answers and reasons before
logging them); the formatters below are the net behind that: they mask, in every formatted line,
each secret registered with `remember_secrets` (providers' secrets as they are loaded, the
credentials the bridge obtained or signed as it uses them)."""
from __future__ import annotations

import contextvars
import logging
import threading
from collections.abc import Iterable
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

from smsbridge.core.secrets import MIN_SECRET_CHARS, Masker

# Enough for every provider's secrets and a day of rotating tokens; past it, the oldest are
# forgotten (an OAuth token or JWT that old has expired, and providers' secrets are registered
# again each time they are loaded).
MAX_KNOWN_SECRETS = 4096
# Per provider, the credentials last applied: a provider can only echo what it was just sent.
MAX_CREDENTIALS_PER_PROVIDER = 16


class SecretRegistry:
    """The secrets this process knows, in the order they were last seen (thread-safe)."""

    def __init__(self, limit: int = MAX_KNOWN_SECRETS) -> None:
        self._limit = limit
        self._values: dict[str, None] = {}
        self._by_provider: dict[str, dict[str, None]] = {}
        self._masker: Masker | None = Masker(())
        self._lock = threading.Lock()

    def remember(self, values: Iterable[str], provider_id: str | None = None) -> None:
        """Register secrets; with `provider_id`, also as credentials applied for that provider."""
        # The send path calls this for every request: only a new value takes the lock and
        # invalidates the compiled pattern.
        values = [v for v in values if isinstance(v, str) and len(v) >= MIN_SECRET_CHARS]
        fresh = [v for v in values if v not in self._values]
        known = self._by_provider.get(provider_id) if provider_id is not None else None
        if not fresh and (provider_id is None or (known is not None and all(v in known for v in values))):
            return
        with self._lock:
            for value in fresh:
                self._values[value] = None
            while len(self._values) > self._limit:
                del self._values[next(iter(self._values))]
            if provider_id is not None:
                recent = self._by_provider.setdefault(provider_id, {})
                for value in values:
                    recent.pop(value, None)
                    recent[value] = None
                while len(recent) > MAX_CREDENTIALS_PER_PROVIDER:
                    del recent[next(iter(recent))]
            if fresh:
                self._masker = None

    def credentials(self, provider_id: str) -> list[str]:
        """The credentials last applied for this provider (tokens, JWTs, signatures)."""
        with self._lock:
            return list(self._by_provider.get(provider_id, ()))

    def mask(self, text: str) -> str:
        masker = self._masker
        if masker is None:
            with self._lock:
                masker = self._masker = Masker(list(self._values))
        return masker.mask(text)

    def values(self) -> list[str]:
        with self._lock:
            return list(self._values)


known_secrets = SecretRegistry()


def remember_secrets(values: Iterable[str], provider_id: str | None = None) -> None:
    """Register secrets for the logging net (`mask_known`); with `provider_id`, as credentials
    applied for that provider, which `services.dispatch` masks in its answers."""
    known_secrets.remember(values, provider_id)


def mask_known(text: str) -> str:
    """`text` with every secret the process knows masked."""
    return known_secrets.mask(text)


class MaskingPowertoolsFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON lines, with the known secrets masked (JSON-escaped forms included)."""

    def format(self, record: logging.LogRecord) -> str:  # noqa: A003 - the stdlib's name
        return mask_known(super().format(record))


logger = Logger(service="smsbridge", logger_formatter=MaskingPowertoolsFormatter())
metrics = Metrics(namespace="SmsBridge", service="smsbridge")


def invocation_context_for_workers() -> dict[str, Any]:
    """ThreadPoolExecutor arguments that run each worker thread in a copy of the calling thread's
    context variables: what an invocation keeps in them (the local runtime's IAM check knows by one
    which function is calling, docs/iam.md) follows its work into the batch's threads, which a plain
    executor starts with an empty context."""
    return {"initializer": _enter_context, "initargs": (contextvars.copy_context(),)}


def _enter_context(context: contextvars.Context) -> None:
    for variable, value in context.items():
        variable.set(value)
