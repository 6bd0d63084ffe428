"""Official SDKs that cannot live in the project's venv, run as oracles in their own (`make oracles`).

Each oracle `<name>` has its pins in tests/oracles/<name>.txt, its venv in .venv/oracles/<name> and a script
in tests/oracles/ that reads one JSON order on stdin, makes one SDK call and writes what the SDK returned
as JSON on stdout. `run_oracle` runs that script with that venv's interpreter: inside
`SdkWireBench.capture_sdk`, the one request it makes reaches the bench's loopback server.
"""
from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
ORACLE_SCRIPTS = ROOT / "tests" / "oracles"
ORACLE_VENVS = ROOT / ".venv" / "oracles"


def oracle_python(name: str) -> Path:
    """The interpreter of oracle `name`'s venv; a test fails, saying how to install it, when it is missing."""
    python = ORACLE_VENVS / name / "bin" / "python"
    if not (ORACLE_VENVS / name / ".installed").is_file():
        pytest.fail(f"the {name} oracle venv ({python.parent.parent}) is not installed: run `make oracles`",
                    pytrace=False)
    return python


def run_oracle(name: str, script: str, order: dict[str, Any], *, timeout_s: float = 60) -> Any:
    """Run tests/oracles/`script` in oracle `name`'s venv with `order` on stdin; the JSON it printed."""
    finished = subprocess.run([str(oracle_python(name)), str(ORACLE_SCRIPTS / script)], input=json.dumps(order),
                              capture_output=True, text=True, timeout=timeout_s, check=False, cwd=ORACLE_SCRIPTS)
    assert finished.returncode == 0, f"{script} exited with {finished.returncode}:\n{finished.stderr}"
    return json.loads(finished.stdout)
