"""Looking for secrets where they must never be: each secret in every form a provider or a log
could show it in, computed here independently of the masking code under test; and what the
session-wide check of tests/conftest.py collects (secrets used, runtime logs to read)."""
from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import quote, quote_plus

MIN_WATCHED_CHARS = 3  # as the masking rule: shorter values are not secrets (core.secrets.MIN_SECRET_CHARS)
WHOLE_WORD_BELOW = 6

# Secrets the suite's fixtures use, watched even when no test registers them.
FIXTURE_SECRETS = {"sandbox-token"}

watched: set[str] = set(FIXTURE_SECRETS)  # every secret the session used (tests and loopback servers add to it)
issued_tokens: set[str] = set()  # access tokens the loopback token endpoints handed out
runtime_logs: list[Path] = []  # the local runtime's output files (tests/e2e/local_stack.py adds to it)


def watch(values: Iterable[str]) -> None:
    watched.update(v for v in values if isinstance(v, str) and len(v) >= MIN_WATCHED_CHARS)


def encodings(secret: str) -> dict[str, str]:
    """The forms a secret can be echoed in: as is, base64, percent-encoded, JSON-escaped (PHP-style
    too), and each of those percent-encoded or JSON-escaped once more (a query string echoed in a form)."""
    def escapes(name: str, text: str) -> dict[str, str]:
        once = json.dumps(text)[1:-1]
        return {f"quote({name})": quote(text, safe=""), f"quote_plus({name})": quote_plus(text),
                f"json({name})": once, f"php_json({name})": once.replace("/", "\\/")}

    first = {"raw": secret, "base64": base64.b64encode(secret.encode()).decode(), **escapes("raw", secret)}
    forms = dict(first)
    for name, form in first.items():
        forms.update(escapes(name, form))
    return {name: form for name, form in forms.items() if len(form) >= MIN_WATCHED_CHARS}


def basic_form(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


def leaks(text: str, secrets: Iterable[str]) -> list[str]:
    """Which secrets show in `text`, and in which form (e.g. "base64 of 'tok…'"), as one scan.

    A form shorter than WHOLE_WORD_BELOW counts only as a whole word: a test's password "tok" is
    not leaked by every log line that says "token"."""
    by_form: dict[str, str] = {}
    for secret in secrets:
        for name, form in encodings(secret).items():
            by_form.setdefault(form, f"{name} of {secret[:4]!r}…")
    if not by_form or not text:
        return []
    alternatives = []
    for form in sorted(by_form, key=len, reverse=True):
        escaped = re.escape(form)
        alternatives.append(escaped if len(form) >= WHOLE_WORD_BELOW else rf"(?<![A-Za-z0-9]){escaped}(?![A-Za-z0-9])")
    pattern = re.compile("|".join(alternatives))
    return sorted({by_form[match.group(0)] for match in pattern.finditer(text)})
