"""The sandbox SMS provider: a small JSON SMS API on loopback with an inbox page, a balance,
switchable faults, and signed inbound messages and delivery receipts sent back to the bridge."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

PROVIDER_FILE = Path(__file__).with_name("provider.json")
DEFAULT_ORIGIN = "http://127.0.0.1:4010"  # where provider.json says the sandbox is


def provider_document(sandbox_url: str = DEFAULT_ORIGIN) -> dict[str, Any]:
    """The `sandbox` provider configuration, its URLs pointing at `sandbox_url`."""
    text = PROVIDER_FILE.read_text(encoding="utf-8")
    return json.loads(text.replace(DEFAULT_ORIGIN, sandbox_url.rstrip("/")))
