"""make mutation-claims: each weakness docs/testing.md names has a test that fails on its mutant.

A line of the section "Weaknesses a test now pins down" names a mutant and a test. This script lays
the copy out and runs mutmut on those mutants as `make mutation` does (``run.py``), then runs each
named test twice: on the code, where it must pass, and with its mutant switched on (mutmut's
``MUTANT_UNDER_TEST``), where it must fail. It runs with the mutmut venv's interpreter.
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as mutation  # noqa: E402  (tools/mutation/run.py)

CLAIM_LINE = re.compile(
    r"^- (?P<what>.+?): `(?P<mutant>smsbridge\.core\.[^`]+__mutmut_\d+)`, failed by `(?P<test>tests/[^`]+)`$")
SECTION = "## Weaknesses a test now pins down"


class Claim(NamedTuple):
    what: str
    mutant: str
    test: str


def claims() -> list[Claim]:
    text = mutation.TESTING_DOC.read_text(encoding="utf-8")
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    return [Claim(**match.groupdict()) for line in section.splitlines() if (match := CLAIM_LINE.match(line))]


def pytest(work: Path, tests: list[str], mutant: str) -> subprocess.CompletedProcess:
    """The named tests in the laid-out copy, with `mutant` switched on ("" for none)."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *mutation.PYTEST_PLUGIN_ARGS, *tests],
        cwd=work / "mutants", capture_output=True, text=True,
        env=mutation.test_environment(MUTANT_UNDER_TEST=mutant))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=os.environ.get("MUTATION_WORK") or None,
                        help="the copy make mutation keeps (default: a temporary folder)")
    args = parser.parse_args()
    work = args.work.resolve() if args.work else Path(tempfile.mkdtemp(prefix="smsbridge-mutation-"))
    listed = claims()
    if not listed:
        print(f"FAIL: no claim found under {SECTION!r} in {mutation.TESTING_DOC}", file=sys.stderr)
        return 1
    print(f"{len(listed)} claims; mutmut on their mutants in {work} ...", flush=True)
    if mutation.run_mutmut(work, sorted({claim.mutant for claim in listed}), mutation.JOBS) != 0:
        return 1
    statuses = {name: status for module in mutation.results(work).values() for name, status in module.items()}
    problems = [f"{claim.mutant} is no longer a mutant ({claim.what}): find its new number"
                for claim in listed if claim.mutant not in statuses]
    clean = pytest(work, sorted({claim.test for claim in listed}), "")
    if clean.returncode != 0:
        problems.append(f"the named tests do not pass on the code:\n{clean.stdout[-3000:]}")
    for claim in listed:
        if claim.mutant not in statuses:
            continue
        run = pytest(work, [claim.test], claim.mutant)
        verdict = "fails on it" if run.returncode == 1 else f"PASSES (pytest exit {run.returncode})"
        print(f"{claim.what}\n    {claim.mutant}: {statuses[claim.mutant]} by the suite; "
              f"{claim.test.rsplit('::', 1)[-1]} {verdict}")
        if run.returncode != 1:
            problems.append(f"{claim.test} does not fail on {claim.mutant} ({claim.what})")
    for problem in problems:
        print(f"FAIL: {problem}", file=sys.stderr)
    if problems:
        return 1
    print(f"{len(listed)} of {len(listed)} claims hold")
    return 0


if __name__ == "__main__":
    sys.exit(main())
