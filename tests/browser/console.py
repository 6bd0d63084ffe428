"""What the browser tests know of the console: a headless Chromium (Debian's, through its
chromedriver) pointed at the local runtime, and what an operator does in it (open a screen, click
a link or a button by its name, fill a field by its label, read what is shown, take a screenshot)."""
from __future__ import annotations

import base64
import os
import random
import shutil
import struct
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import Select, WebDriverWait

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "console"
WIDE, NARROW = 1280, 390  # the widths the console must be usable at (issue 10)
WAIT_S = 20

# Debian's names first (`.ci/run` installs `chromium chromium-driver`), then other distributions'.
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-dev-shm-usage",
         "--hide-scrollbars", "--force-color-profile=srgb", "--lang=en-US")


def find_browser() -> tuple[str, str]:
    """The Chromium binary and its chromedriver. Missing: a failure under CI (where `.ci/run`
    installs them, so their absence is a broken build), a skip that says what to install elsewhere."""
    binary = os.environ.get("SMSBRIDGE_CHROMIUM") or next(filter(None, map(shutil.which, BROWSERS)), None)
    driver = os.environ.get("SMSBRIDGE_CHROMEDRIVER") or shutil.which("chromedriver")
    if binary and driver:
        return binary, driver
    missing = " and ".join(name for name, path in (("chromium", binary), ("chromedriver", driver)) if not path)
    reason = (f"no {missing} on PATH: the browser tests need Debian's `chromium` and `chromium-driver` "
              "(apt-get install chromium chromium-driver), or SMSBRIDGE_CHROMIUM / SMSBRIDGE_CHROMEDRIVER")
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@contextmanager
def chromium() -> Iterator[webdriver.Chrome]:
    """A fresh headless Chromium (its own user-data-dir, no network of its own beyond what the page asks)."""
    binary, driver_path = find_browser()
    with tempfile.TemporaryDirectory(prefix="smsbridge-chromium-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = binary
        for flag in (*FLAGS, f"--user-data-dir={profile}", f"--window-size={WIDE},900"):
            options.add_argument(flag)
        # The page's console (CSP violations, failed module loads, uncaught errors) is read by the tests.
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        # The system chromedriver, given by path: Selenium Manager would otherwise try to download one.
        driver = webdriver.Chrome(options=options, service=Service(driver_path))
        try:
            yield driver
        finally:
            driver.quit()


def new_phone() -> str:
    """A French mobile number of the test's own, so that what it finds is what it did."""
    return f"+336{random.randrange(10_000_000, 99_999_999)}"


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", data[16:24])


def _xpath_text(text: str) -> str:
    """`text` as an XPath string literal, whatever quotes it holds."""
    if "'" not in text:
        return f"'{text}'"
    if '"' not in text:
        return f'"{text}"'
    return "concat(" + ", \"'\", ".join(f"'{part}'" for part in text.split("'")) + ")"


@dataclass
class Console:
    """The console in the browser, driven by what it shows: names of links and buttons, labels of
    fields, headings, and text, as an operator finds them (no CSS class or element id)."""

    driver: webdriver.Chrome
    api: str
    screenshots: Path
    seen_errors: list[str] = field(default_factory=list)

    # ---------------------------------------------------------------- navigation

    def open(self, path: str = "/console/") -> None:
        self.open_url(self.api + path)

    def open_url(self, url: str) -> None:
        self.driver.get(url)
        self.wait(lambda: self.driver.execute_script("return document.readyState") == "complete", what="the page load")

    def wait(self, condition: Callable[[], Any], *, timeout_s: float = WAIT_S, what: str = "it") -> Any:
        """Poll `condition` (exceptions of a page still changing count as not yet) until it is truthy."""
        try:
            return WebDriverWait(self.driver, timeout_s, poll_frequency=0.1,
                                 ignored_exceptions=(StaleElementReferenceException,)).until(lambda _: condition())
        except TimeoutException:
            raise AssertionError(f"no {what} after {timeout_s:g} s on {self.driver.current_url}; the page shows:\n"
                                 f"{self.text()[:3000]}\nbrowser console:\n" + "\n".join(self.errors())) from None

    def text(self) -> str:
        try:
            return self.driver.find_element(By.TAG_NAME, "body").text
        except WebDriverException:
            return ""

    def wait_text(self, text: str, *, timeout_s: float = WAIT_S) -> None:
        self.wait(lambda: text in self.text(), timeout_s=timeout_s, what=f"text {text!r}")

    def heading(self, name: str, *, timeout_s: float = WAIT_S) -> WebElement:
        """The visible heading (h1-h3) whose text contains `name`."""
        xpath = " | ".join(f"//{h}[contains(normalize-space(.), {_xpath_text(name)})]" for h in ("h1", "h2", "h3"))
        return self.wait(lambda: self._visible(By.XPATH, xpath), timeout_s=timeout_s, what=f"heading {name!r}")

    def link(self, name: str, *, within: str = "//body") -> WebElement:
        xpath = f"{within}//a[normalize-space(.)={_xpath_text(name)}]"
        return self.wait(lambda: self._visible(By.XPATH, xpath), what=f"link {name!r}")

    def nav_links(self) -> list[WebElement]:
        """The links of the console's navigation (the `nav` landmark)."""
        return self.wait(lambda: [a for a in self.driver.find_elements(By.XPATH, "//nav//a") if a.is_displayed()],
                         what="navigation links")

    def button(self, name: str, *, exact: bool = True, within: str = "") -> WebElement:
        match = (f"normalize-space(.)={_xpath_text(name)}" if exact
                 else f"contains(normalize-space(.), {_xpath_text(name)})")
        xpath = f"{within}//button[{match} or @aria-label={_xpath_text(name)}]"
        return self.wait(lambda: self._enabled(By.XPATH, xpath), what=f"button {name!r}")

    def click(self, element: WebElement) -> None:
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
        element.click()

    # ---------------------------------------------------------------- fields

    def field(self, label: str, *, within: str = "") -> WebElement:
        """The input, select or textarea whose <label> (or aria-label) reads `label`, inside the
        element `within` (an XPath: a form, a fieldset) when given."""
        literal = _xpath_text(label)
        labels = f"{within}//label[normalize-space(.)={literal} or normalize-space(text())={literal}]"

        def find() -> WebElement | None:
            for element in self.driver.find_elements(By.XPATH, labels):
                if not element.is_displayed():
                    continue
                target = element.get_attribute("for")
                if target:
                    found = self.driver.find_elements(By.ID, target)
                else:
                    found = element.find_elements(By.XPATH, ".//input | .//select | .//textarea")
                if found:
                    return found[0]
            return self._visible(By.XPATH, f"{within}//*[self::input or self::select or self::textarea][@aria-label={literal}]")

        return self.wait(find, what=f"field labelled {label!r}")

    def fill(self, label: str, value: str, *, within: str = "") -> WebElement:
        """Type `value` into the field labelled `label`, replacing what it held, as a user does."""
        element = self.field(label, within=within)
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
        element.click()
        element.clear()
        element.send_keys(value)
        return element

    def set_value(self, element: WebElement, value: str) -> None:
        """Replace a long value (a pasted curl command, a JSON body) at once, and announce it as
        the paste or the typing would (`input` then `change`): send_keys types it key by key."""
        self.driver.execute_script(
            "const [el, value] = arguments; el.focus(); el.value = value;"
            "el.dispatchEvent(new Event('input', {bubbles: true}));"
            "el.dispatchEvent(new Event('change', {bubbles: true}));", element, value)

    def choose(self, label: str, option: str, *, within: str = "") -> None:
        """Pick the option whose text or value is `option` in the select labelled `label`."""
        select = Select(self.field(label, within=within))
        if option in [o.text for o in select.options]:
            select.select_by_visible_text(option)
        else:
            select.select_by_value(option)

    # ---------------------------------------------------------------- what the page says

    def row(self, text: str, *, timeout_s: float = WAIT_S) -> WebElement:
        """The table row holding `text`, shown or inside a closed <details> (its textContent)."""
        xpath = f"//tbody/tr[contains(., {_xpath_text(text)})]"
        return self.wait(lambda: self._visible(By.XPATH, xpath), timeout_s=timeout_s, what=f"a row with {text!r}")

    def labelled(self, label: str) -> WebElement:
        """The visible element whose aria-label is `label` (a code block, a region)."""
        return self.wait(lambda: self._visible(By.XPATH, f"//*[@aria-label={_xpath_text(label)}]"),
                         what=f"element labelled {label!r}")

    def definition(self, term: str) -> str:
        """The text of the <dd> that follows the <dt> `term` (a fact shown as a term and its value)."""
        xpath = f"//dt[normalize-space(.)={_xpath_text(term)}]/following-sibling::dd[1]"
        return self.wait(lambda: (e := self._visible(By.XPATH, xpath)) and e.text.strip(), what=f"the value of {term!r}")

    def unlabelled_fields(self) -> list[str]:
        """The visible inputs, selects and textareas that name no label (no <label>, aria-label or
        aria-labelledby): what a screen reader would announce as a bare "edit" or "combo box"."""
        return self.driver.execute_script("""
            return [...document.querySelectorAll('input, select, textarea')]
              .filter((el) => el.type !== 'hidden' && el.getClientRects().length > 0)
              .filter((el) => !(el.labels && [...el.labels].some((l) => l.textContent.trim()))
                              && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'))
              .map((el) => el.outerHTML.slice(0, 160));""")

    def overflow_at(self, width: int) -> int:
        """How many CSS pixels the page is wider than a `width`-wide screen (0 or less: it fits)."""
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                    {"width": width, "height": 844, "deviceScaleFactor": 1, "mobile": width < 600})
        try:
            self._settled_height()
            return int(self.driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth"))
        finally:
            self.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})

    def errors(self) -> list[str]:
        """New SEVERE entries of the browser's console for the console's origin (failed loads, CSP
        violations, uncaught errors)."""
        try:
            entries = self.driver.get_log("browser")
        except WebDriverException:
            return []
        # The console's own (its origin is the API's); the sandbox's inbox page has its own small faults.
        new = [f"{e['level']} {e['message']}" for e in entries
               if e.get("level") == "SEVERE" and e.get("message", "").startswith(self.api + "/")]
        self.seen_errors.extend(new)
        return new

    def screenshot(self, name: str, *, width: int = WIDE, max_height: int = 3000) -> Path:
        """The whole page at `width` CSS pixels, written to docs/console/<name>.png when
        SMSBRIDGE_WRITE_DOCS is set (as for the other generated docs), else beside the test's files."""
        driver = self.driver
        metrics = {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 600}
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
        try:
            driver.execute_script("window.scrollTo(0, 0)")
            height = self._settled_height()
            metrics["height"] = max(600, min(height, max_height))
            driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
            shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": False})
        finally:
            driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        data = base64.b64decode(shot["data"])
        assert png_size(data)[0] == width, f"the screenshot is {png_size(data)[0]} px wide, not {width}"
        path = self.screenshots / f"{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return path

    # ---------------------------------------------------------------- internals

    def _settled_height(self) -> int:
        """The page's height once the layout at the new width is done (two equal reads in a row)."""
        script = "return Math.max(document.documentElement.scrollHeight, document.body ? document.body.scrollHeight : 0)"
        last = -1
        for _ in range(20):
            time.sleep(0.1)
            height = int(self.driver.execute_script(script))
            if height == last:
                break
            last = height
        return last

    def _visible(self, by: str, selector: str) -> WebElement | None:
        return next((e for e in self.driver.find_elements(by, selector) if e.is_displayed()), None)

    def _enabled(self, by: str, selector: str) -> WebElement | None:
        return next((e for e in self.driver.find_elements(by, selector) if e.is_displayed() and e.is_enabled()), None)


def screenshot_folder(tmp: Path) -> Path:
    return SCREENSHOTS if os.environ.get("SMSBRIDGE_WRITE_DOCS") else tmp
