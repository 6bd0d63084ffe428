"""The browser tests' fixtures: one local runtime and one headless Chromium per test module; each
test starts on a blank page (it opens the screen it needs) and ends with no new error in the
browser's console."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from selenium import webdriver

from tests.browser.console import Console, chromium, find_browser, screenshot_folder
from tests.e2e.local_stack import LocalStack, running_runtime


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    with chromium() as driver:
        yield driver


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    find_browser()  # no runtime started for tests that are going to be skipped
    with running_runtime(tmp_path_factory.mktemp("local-runtime")) as local_stack:
        yield local_stack


@pytest.fixture
def console(browser: webdriver.Chrome, stack: LocalStack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    stack.set_faults()
    browser.get("about:blank")
    browser.get_log("browser")  # what earlier tests left in the log is theirs
    yield (page := Console(browser, stack.api, screenshot_folder(tmp_path_factory.getbasetemp() / "screenshots")))
    stack.set_faults()
    page.errors()
    assert not page.seen_errors, "the browser's console reported errors:\n" + "\n".join(page.seen_errors)
