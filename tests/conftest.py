"""Fixtures shared by every test suite, and the session-wide check that no secret the suite uses shows in a log."""
from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import secret_watch
from tests.support.loopback import LoopbackProvider


@pytest.fixture
def loopback_provider() -> Iterator[LoopbackProvider]:
    """A real HTTP server on 127.0.0.1 standing in for an SMS provider (see tests/support/loopback.py)."""
    with LoopbackProvider() as provider:
        yield provider


# ---------------------------------------------------------------- no secret in any log, session-wide

_STANDARD_RECORD_KEYS = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


class _LogCapture(logging.Handler):
    """Keeps what every log record of the session says (message, extra keys, exception): the raw
    records, before any formatter's masking net, so that the check holds what the code logs."""

    def __init__(self) -> None:
        super().__init__(level=logging.NOTSET)
        self.texts: list[str] = []

    def filter(self, record: logging.LogRecord) -> bool:  # noqa: A003 - the stdlib's name
        # Powertools puts a SuppressFilter on every root handler against duplicate lines of its own
        # logger: this handler must see those records too.
        return True

    def emit(self, record: logging.LogRecord) -> None:
        try:
            extra = {k: v for k, v in record.__dict__.items() if k not in _STANDARD_RECORD_KEYS}
            text = record.getMessage()
            if extra:
                text += " " + json.dumps(extra, default=str, ensure_ascii=False)
            if record.exc_info:
                text += "\n" + logging.Formatter().formatException(record.exc_info)
            self.texts.append(text)
        except Exception:  # noqa: BLE001 - a record that cannot be read is no reason to break a test
            self.handleError(record)


_capture = _LogCapture()


def pytest_configure(config: pytest.Config) -> None:
    logging.getLogger().addHandler(_capture)
    # The local IAM check's hook on every botocore client made from now on (docs/iam.md); it checks
    # only what runs inside a function's invocation.
    from local import iam

    iam.install_hook()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the session when a secret the suite used shows, in any form, in a log record of this
    process or in the output of a local runtime the e2e tests started."""
    logging.getLogger().removeHandler(_capture)
    secrets = set(secret_watch.watched) | set(secret_watch.issued_tokens) | set(_sandbox_secrets())
    observability = sys.modules.get("smsbridge.observability")
    if observability is not None:  # every provider secret loaded and credential applied in this process
        secrets |= set(observability.known_secrets.values())
    sources = {"log records": "\n".join(_capture.texts)}
    for path in secret_watch.runtime_logs:
        if path.exists():
            sources[f"local runtime output {path}"] = path.read_text(encoding="utf-8", errors="replace")
    found = {where: leaked for where, text in sources.items() if (leaked := secret_watch.leaks(text, secrets))}
    if found:
        report = session.config.get_terminal_writer()
        report.line(f"\nSecrets found in logs ({len(secrets)} secrets watched):", red=True, bold=True)
        for where, leaked in found.items():
            report.line(f"  {where}: {', '.join(leaked)}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _sandbox_secrets() -> list[str]:
    document = json.loads((Path(__file__).resolve().parents[1] / "local/sandbox/provider.json").read_text())
    found = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("token", "secret", "password", "client_secret", "private_key") and isinstance(value, str):
                    found.append(value)
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(document)
    return found
