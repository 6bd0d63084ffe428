"""Where the browser tests find Chromium: a missing browser fails them under CI and skips them,
with what to install, elsewhere."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.console import find_browser


@pytest.fixture
def no_browser_on_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("SMSBRIDGE_CHROMIUM", raising=False)
    monkeypatch.delenv("SMSBRIDGE_CHROMEDRIVER", raising=False)


def test_given_no_chromium_under_ci_when_the_browser_is_looked_up_then_the_tests_fail(
        no_browser_on_path: None, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a CI run (`.ci/run` installs chromium) on a machine without it
    monkeypatch.setenv("CI", "true")

    # When the browser tests look for it, Then they fail, naming the packages to install
    with pytest.raises(pytest.fail.Exception, match="chromium-driver"):
        find_browser()


def test_given_no_chromium_outside_ci_when_the_browser_is_looked_up_then_the_tests_skip_saying_why(
        no_browser_on_path: None, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a developer's machine without chromium
    monkeypatch.delenv("CI", raising=False)

    # When the browser tests look for it, Then they are skipped with the install command as the reason
    with pytest.raises(pytest.skip.Exception, match="apt-get install chromium chromium-driver"):
        find_browser()


def test_given_chromium_and_its_driver_on_path_when_looked_up_then_both_are_found(
        no_browser_on_path: None, tmp_path: Path) -> None:
    # Given executables named as Debian's packages install them
    for name in ("chromium", "chromedriver"):
        (tmp_path / name).write_text("#!/bin/sh\n")
        (tmp_path / name).chmod(0o755)

    # When looked up, Then both paths are returned
    assert find_browser() == (str(tmp_path / "chromium"), str(tmp_path / "chromedriver"))
