"""mutmut run, each mutant tested in a fork of one pytest session that collected tests/unit once (make mutation's speed).

mutmut 3.8 starts ``pytest.main`` in every mutant's fork: options parsed, plugins loaded, the test
files collected again, 0.1 to 0.4 s before a test that takes a millisecond runs. Here mutmut's own
fork server (``process_isolation = "forkserver"``) runs inside a pytest session that has collected
``tests/unit`` and stopped at ``pytest_runtestloop``: each mutant's fork runs its tests' items through
pytest's ``pytest_runtest_protocol`` hook (fixtures, timeouts and Hypothesis as in any run) and stops at
the first failure, as ``-x`` does. The fork server never runs a test, so no cache a test fills is
inherited by a mutant's fork. Everything else is mutmut's (stats, clean and forced-fail runs, results).

Run with the mutmut venv's interpreter, in the laid-out copy, as ``mutmut`` itself: ``python
live_session.py run [--max-children N] [MUTANT...]``.
"""
from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import Any

import mutmut.__main__ as mutmut_main
from mutmut.configuration import config
from mutmut.runners.harness import PytestRunner
from mutmut.state import state
from mutmut.utils.file_utils import change_cwd
from mutmut.workers import isolation
from mutmut.workers.isolation import ForkServerRunner, MutantRunner

# The session the fork server stopped in (set in the fork server, inherited by each mutant's fork).
_session: Any = None


class _FreshCaches:
    """Empties the package's functools caches before each test, in the stats run and in each mutant's.

    A cache a test fills answers the next test without calling the function: the stats run then
    records only the first test as reaching it (``secrets.masker_for`` computes a secret's forms once
    for nine parametrized tests of one secret), and a mutant's run never calls the mutated function.
    The wiring's singletons are left alone: they are the objects the tests configure."""

    _caches: list[Any] | None = None

    @classmethod
    def _found(cls) -> list[Any]:
        if cls._caches is None:
            cls._caches = [value for name, module in list(sys.modules.items())
                           if name.startswith("smsbridge.") and name != "smsbridge.wiring" and module is not None
                           for value in list(vars(module).values())
                           if callable(getattr(value, "cache_clear", None)) and hasattr(value, "cache_info")]
        return cls._caches

    def pytest_runtest_setup(self, item: Any) -> None:
        for cached in self._found():
            cached.cache_clear()


class _LiveSessionPytestRunner(PytestRunner):
    """mutmut's pytest runner; inside the fork server, a mutant's tests run in the live session."""

    def warm_up(self) -> None:
        """Nothing to warm: the fork server runs in a session that has collected every test."""

    def execute_pytest(self, params: list[str], **kwargs: Any) -> int:
        kwargs["plugins"] = [*kwargs.get("plugins", []), _FreshCaches()]
        return super().execute_pytest(params, **kwargs)

    def run_tests(self, *, mutant_name: str | None, tests: Iterable[str]) -> int:
        tests = list(tests)
        if _session is None or mutant_name is None:
            return super().run_tests(mutant_name=mutant_name, tests=tests)
        by_id = _session.mutmut_items_by_id
        if not tests or any(test not in by_id for test in tests):
            # A test id the collection does not know (one changed since stats): pytest's own way.
            return super().run_tests(mutant_name=mutant_name, tests=tests)
        # Output is nobody's to read in a mutant's fork; subprocesses a test starts write to fd 1 and 2.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        # The fastest tests first, as mutmut's own fork runner orders them: a kill comes sooner.
        items = sorted((by_id[test] for test in tests), key=lambda item: state().duration_by_test.get(item.nodeid, 0.0))
        failed = []

        class _FirstFailure:
            @staticmethod
            def pytest_runtest_logreport(report: Any) -> None:
                if report.failed:
                    failed.append(report.nodeid)

        hook = _session.config.hook
        _session.config.pluginmanager.register(_FirstFailure(), "mutmut-first-failure")
        for index, item in enumerate(items):
            # nextitem lets module and session fixtures live across the mutant's tests, as in a run.
            nextitem = items[index + 1] if index + 1 < len(items) else None
            hook.pytest_runtest_protocol(item=item, nextitem=nextitem)
            if failed:
                return 1
        return 0


class _LiveSessionForkServer(ForkServerRunner):
    """mutmut's fork server, serving from inside a pytest session stopped before its first test."""

    _whole_suite_passed = False

    def collect_stats(self, tests: Iterable[str] | None) -> int:
        code = super().collect_stats(tests)
        self._whole_suite_passed = not tests and code == 0
        return code

    def run_clean_tests(self, tests: Iterable[str]) -> int:
        # The stats run just ran every test with the code unmutated (the trampolines call the
        # original) and passed: a second run of the same tests would tell nothing new.
        if self._whole_suite_passed:
            return 0
        return super().run_clean_tests(tests)

    def _forkserver_main(self, work_fd: int, result_fd: int) -> None:
        import pytest

        server = self
        serve = ForkServerRunner._forkserver_main

        class _Serve:
            @pytest.hookimpl(tryfirst=True)
            def pytest_runtestloop(self, session: Any) -> bool:
                global _session
                session.mutmut_items_by_id = {item.nodeid: item for item in session.items}
                _session = session
                serve(server, work_fd, result_fd)
                return True

        runner = _LiveSessionPytestRunner()
        # --capture=sys: fd capture's temporary files would be shared by the concurrent forks.
        args = ["--rootdir=.", "--tb=native", "-q", "-p", "no:randomly", "-p", "no:random-order",
                "--capture=sys", *config().pytest_add_cli_args_test_selection, *config().pytest_add_cli_args]
        with change_cwd("mutants"):
            devnull = open(os.devnull, "w")
            stdout, sys.stdout = sys.stdout, devnull
            try:
                pytest.main(args, plugins=[_Serve(), _FreshCaches()])
            finally:
                sys.stdout = stdout
        if _session is None:
            # Collection failed: no session to serve from (mutmut logs this and restarts the server).
            raise RuntimeError("pytest did not reach its test loop: run pytest tests/unit to see why")


def _live_session_runner(max_workers: int = 1) -> MutantRunner:
    return _LiveSessionForkServer(max_workers=max_workers, test_runner_class=_LiveSessionPytestRunner,
                                  test_runner_args={}, debug=config().debug,
                                  max_restarts=config().max_forkserver_restarts)


if __name__ == "__main__":
    mutmut_main.get_mutant_runner = _live_session_runner
    isolation.get_mutant_runner = _live_session_runner
    sys.argv[0] = "mutmut"
    mutmut_main.cli()
