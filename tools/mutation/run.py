"""make mutation: mutmut over smsbridge/core (inbound signature schemes included) against tests/unit, one line per module.

mutmut names a module from its path relative to the folder it runs in (``src/`` stripped), so it must
see the package as ``src/smsbridge``: this script lays the work tree out that way in a copy, never in
the source tree, runs mutmut there and scores each module without the equivalent mutants listed in
docs/testing.md. It runs with the mutmut venv's interpreter (``.venv/mutmut``, see the Makefile).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = Path("layers/common/smsbridge")
MUTATED = "src/smsbridge/core"
TESTING_DOC = ROOT / "docs" / "testing.md"  # the equivalent mutants, and the weaknesses claims.py checks
JOBS = int(os.environ.get("MUTATION_JOBS", 2))  # mutants tested at once
# What docs/testing.md's list holds: a mutant name in backticks at the start of a bullet.
EQUIVALENT_LINE = re.compile(r"^- `(smsbridge\.core\.[^`]+__mutmut_\d+)`")
# A timeout is a mutant the tests did notice (it looped or slowed past mutmut's CPU limit).
DETECTED = {"killed", "timeout", "caught by type check"}
PYTEST_PLUGIN_ARGS = ("-p", "no:unraisableexception", "-p", "_hypothesis_pytestplugin", "-p", "pytest_timeout")


def project_files() -> list[Path]:
    """The working tree's files as git sees them (tracked and new, ignored ones left out)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT, check=True, capture_output=True,
    ).stdout.decode()
    return [Path(name) for name in listed.split("\0") if name and (ROOT / name).is_file()]


def copy_if_changed(source: Path, target: Path) -> None:
    # copy2 keeps the modification time: mutmut regenerates a file's mutants only when it differs.
    if target.exists() and target.stat().st_mtime == source.stat().st_mtime and target.stat().st_size == source.stat().st_size:
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, target)


def lay_out(work: Path) -> list[str]:
    """Copies the project into ``work`` with the package also at src/smsbridge; returns what mutmut
    must copy next to the mutants for the unit tests (docs, template, functions, ...)."""
    top_level = set()
    for name in project_files():
        copy_if_changed(ROOT / name, work / name)
        if name.is_relative_to(PACKAGE):
            copy_if_changed(ROOT / name, work / "src" / "smsbridge" / name.relative_to(PACKAGE))
        top_level.add(name.parts[0])
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    pytest_options = dict(pyproject["tool"]["pytest"]["ini_options"])
    # The package is imported from src/ (mutmut puts its mutated copy first on sys.path); the
    # layer's own copy stays on disk for the tests that read sources by path.
    pytest_options["pythonpath"] = ["src" if p == "layers/common" else p for p in pytest_options["pythonpath"]]
    also_copy = sorted(top_level - {"tests", "pyproject.toml"})
    mutmut_options = {
        "source_paths": ["src/smsbridge"],
        "only_mutate": [f"{MUTATED}/*"],
        "pytest_add_cli_args_test_selection": ["tests/unit"],
        # mutmut starts pytest once per mutant in a fork of a process holding every module the unit
        # tests import: the end-of-session gc.collect of the unraisable-exception plugin walked that
        # whole heap (0.6 s of a 1.3 s run for a test taking a millisecond), and plugin autoloading
        # scans every installed distribution's metadata. The unit tests need only these two plugins.
        "pytest_add_cli_args": list(PYTEST_PLUGIN_ARGS),
        "also_copy": also_copy,
        # Git change detection looks at the copy's (absent) repository: the copy is rebuilt from
        # the working tree each run, and mtimes tell mutmut what changed.
        "use_git_change_detection": False,
    }
    lines = ["[tool.pytest.ini_options]"]
    lines += [f"{key} = {json.dumps(value)}" for key, value in pytest_options.items()]
    lines += ["", "[tool.mutmut]"]
    lines += [f"{key} = {json.dumps(value)}" for key, value in mutmut_options.items()]
    text = "\n".join(lines) + "\n"
    target = work / "pyproject.toml"
    if not target.exists() or target.read_text(encoding="utf-8") != text:
        target.write_text(text, encoding="utf-8")
    return also_copy


def listed_equivalents() -> dict[str, str]:
    """The equivalent mutants of docs/testing.md: name -> the line that gives the reason."""
    if not TESTING_DOC.exists():
        return {}
    found = {}
    for line in TESTING_DOC.read_text(encoding="utf-8").splitlines():
        match = EQUIVALENT_LINE.match(line)
        if match:
            found[match.group(1)] = line
    return found


def results(work: Path) -> dict[str, dict[str, str]]:
    """module -> {mutant name: mutmut's status}, from the .meta files mutmut writes per source file."""
    from mutmut.stats import status_by_exit_code

    by_module: dict[str, dict[str, str]] = {}
    for meta in sorted((work / "mutants" / MUTATED).rglob("*.py.meta")):
        relative = meta.relative_to(work / "mutants" / "src").with_suffix("").with_suffix("")
        module = ".".join(relative.parts).removesuffix(".__init__")
        exit_codes = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
        by_module[module] = {name: status_by_exit_code[code] for name, code in exit_codes.items()}
    return by_module


def report(by_module: dict[str, dict[str, str]], equivalents: dict[str, str], threshold: float) -> int:
    known = {name for statuses in by_module.values() for name in statuses}
    problems = []
    for name in sorted(set(equivalents) - known):
        problems.append(f"docs/testing.md lists {name}, which is no longer a mutant: its function changed, review the list")
    header = f"{'module':<36} {'mutants':>7} {'killed':>6} {'survived':>8} {'equiv':>5} {'pending':>7} {'score':>6}"
    print(header)
    print("-" * len(header))
    totals = Counter()
    survivors = []
    for module, statuses in by_module.items():
        if not statuses:
            continue
        counts = Counter()
        for name, status in statuses.items():
            if name in equivalents:
                counts["equivalent"] += 1
                if status in DETECTED:
                    problems.append(f"{name} is listed as equivalent in docs/testing.md but a test kills it: take it off the list")
            elif status in DETECTED:
                counts["killed"] += 1
            elif status in ("not checked", "check was interrupted by user"):
                counts["pending"] += 1  # a run stopped early: neither killed nor survived yet
            else:
                # survived, no tests, suspicious, segfault, not checked: none of them is a kill.
                counts["survived"] += 1
                survivors.append(f"{name}: {status}")
        scored = counts["killed"] + counts["survived"]
        score = 100.0 * counts["killed"] / scored if scored else 100.0
        totals.update(counts)
        totals["mutants"] += len(statuses)
        mark = "" if score >= threshold else f"   < {threshold:g} %"
        print(f"{module.removeprefix('smsbridge.'):<36} {len(statuses):>7} {counts['killed']:>6} {counts['survived']:>8} "
              f"{counts['equivalent']:>5} {counts['pending']:>7} {score:>5.1f}%{mark}")
        if score < threshold:
            problems.append(f"{module} scores {score:.1f} %, under {threshold:g} %")
    scored = totals["killed"] + totals["survived"]
    print("-" * len(header))
    print(f"{'total':<36} {totals['mutants']:>7} {totals['killed']:>6} {totals['survived']:>8} "
          f"{totals['equivalent']:>5} {totals['pending']:>7} {100.0 * totals['killed'] / max(scored, 1):>5.1f}%")
    if totals["pending"]:
        problems.append(f"{totals['pending']} mutants were not tested (the run stopped early): the scores are partial")
    if survivors:
        print(f"\nsurvivors ({len(survivors)}; see one with: cd <work dir> && mutmut show NAME):")
        for line in survivors:
            print(f"  {line}")
    for problem in problems:
        print(f"FAIL: {problem}", file=sys.stderr)
    return 1 if problems else 0


def run_mutmut(work: Path, mutants: list[str], max_children: int) -> int:
    """Lays the copy out in `work` and runs mutmut there (only `mutants` when some are named); its exit code."""
    lay_out(work)
    command = [sys.executable, str(ROOT / "tools" / "mutation" / "live_session.py"), "run",
               "--max-children", str(max_children), *mutants]
    # mutmut redraws a progress line many times a second: kept out of CI logs, shown on failure.
    log = work / "mutmut-run.log"
    with log.open("w", encoding="utf-8") as out:
        run = subprocess.run(command, cwd=work, stdout=out, stderr=subprocess.STDOUT, env=test_environment())
    if run.returncode != 0:
        print(log.read_text(encoding="utf-8", errors="replace")[-6000:], file=sys.stderr)
        print(f"FAIL: mutmut run exited {run.returncode} (log: {log})", file=sys.stderr)
    return run.returncode


def test_environment(**extra: str) -> dict[str, str]:
    """The environment the unit tests run in under mutation: no bytecode written, no plugin autoloading."""
    return {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", **extra}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threshold", type=float, default=float(os.environ.get("MUTATION_THRESHOLD", 85)),
                        help="fail when a module scores under this percentage (default 85)")
    parser.add_argument("--max-children", type=int, default=JOBS,
                        help="mutants tested at once (default 2)")
    parser.add_argument("--work", type=Path, default=os.environ.get("MUTATION_WORK") or None,
                        help="keep the laid-out copy and mutmut's results here between runs (default: a temporary folder)")
    parser.add_argument("--report-only", action="store_true", help="print the table of the last run in --work")
    parser.add_argument("mutants", nargs="*", help="rerun only these mutants (globs allowed), as mutmut run does")
    args = parser.parse_args()

    work = args.work.resolve() if args.work else Path(tempfile.mkdtemp(prefix="smsbridge-mutation-"))
    work.mkdir(parents=True, exist_ok=True)
    if not args.report_only:
        started = time.monotonic()
        code = run_mutmut(work, args.mutants, args.max_children)
        if code != 0:
            return code
        print(f"mutmut run: {time.monotonic() - started:.0f} s, {args.max_children} children, work dir {work}")
    sys.path.insert(0, str(work))
    os.chdir(work)
    return report(results(work), listed_equivalents(), args.threshold)


if __name__ == "__main__":
    sys.exit(main())
