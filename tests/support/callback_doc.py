"""The callback verifier documented in docs/callbacks.md, taken from the doc itself, so that the tests run what readers copy."""
from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "callbacks.md"


def documented_verifier() -> Callable[..., bool]:
    """`verify_callback(secret, timestamp, signature, body, tolerance_s=300)` as docs/callbacks.md defines it."""
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    [snippet] = [b for b in blocks if "def verify_callback" in b]
    namespace: dict = {}
    exec(compile(snippet, str(DOC), "exec"), namespace)  # noqa: S102 - the project's own documentation
    return namespace["verify_callback"]
