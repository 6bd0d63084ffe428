"""The console's pure scripts (API calls and IAM errors, the router, the chart's axes and buckets),
run by Node's own test runner from tests/unit/console_js/: the browser is console-browser's."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent / "console_js"


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed (the browser tests cover the console)")
def test_the_console_scripts_pass_their_node_tests() -> None:
    # When Node runs the console's script tests
    run = subprocess.run(["node", "--test", *sorted(str(p) for p in TESTS.glob("*.test.mjs"))],
                         capture_output=True, text=True, timeout=120, check=False)

    # Then every one passes (Node's TAP report is shown when one does not)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert "# fail 0" in run.stdout and "# pass 0" not in run.stdout
