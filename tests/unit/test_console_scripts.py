"""The console's pure scripts (API calls and IAM errors, the router, the chart's axes and buckets, the
provider draft logic), run by Node's own test runner from tests/unit/console_js/; the browser tests
(tests/browser) drive the screens themselves."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent / "console_js"


# Under CI a missing Node.js is a failure, not a skip: the scripts must have been tested.
@pytest.mark.skipif(shutil.which("node") is None and not os.environ.get("CI"),
                    reason="Node.js is not installed (the browser tests cover the console)")
def test_the_console_scripts_pass_their_node_tests() -> None:
    # When Node runs the console's script tests
    run = subprocess.run(["node", "--test", *sorted(str(p) for p in TESTS.glob("*.test.mjs"))],
                         capture_output=True, text=True, timeout=120, check=False)

    # Then every one passes (Node's TAP report is shown when one does not)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert "# fail 0" in run.stdout and "# pass 0" not in run.stdout
