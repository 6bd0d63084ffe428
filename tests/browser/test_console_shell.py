"""The console loads from the local runtime and its navigation reaches every screen, with a
mouse, with the keyboard alone, and at a phone's width."""
from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.browser.console import NARROW, Console
from tests.e2e.local_stack import LocalStack

# (name in the navigation, route): the screens of issue 10.
SCREENS = [("Overview", "overview"), ("Providers", "providers"), ("Messages", "messages"),
           ("Consent", "consent"), ("Routing", "routing"), ("Inbound", "inbound"), ("Dead letters", "dead-letters")]


def test_given_the_local_runtime_when_its_root_is_opened_then_the_console_shows_its_navigation(
        console: Console, stack: LocalStack) -> None:
    # Given the local runtime, and an operator who types its address alone
    # When the browser opens it
    console.open("/")

    # Then it lands on the console, whose navigation names every screen
    assert console.driver.current_url.startswith(stack.api + "/console/")
    assert console.driver.title
    names = [link.text for link in console.nav_links()]
    assert names == [name for name, _ in SCREENS]


@pytest.mark.parametrize(("name", "route"), SCREENS)
def test_given_the_console_when_a_screen_is_chosen_in_the_navigation_then_it_shows_with_its_heading(
        console: Console, name: str, route: str) -> None:
    # Given the console open
    console.open("/console/")

    # When the operator clicks the screen's name in the navigation
    console.click(console.link(name, within="//nav"))

    # Then the address names the screen, the screen shows its heading, and the API calls it made
    # left no error on the page or in the browser's console
    console.wait(lambda: console.driver.current_url.endswith(f"#/{route}"), what=f"the address #/{route}")
    console.heading(name)
    current = console.driver.find_elements(By.XPATH, "//nav//a[@aria-current='page']")
    assert [a.text for a in current] == [name], "the navigation marks the screen shown"


def test_given_the_console_when_the_operator_uses_the_keyboard_alone_then_tab_and_enter_open_a_screen(
        console: Console) -> None:
    # Given the console open, nothing focused
    driver = console.driver
    console.open("/console/")
    console.nav_links()

    # When the operator tabs to the "Messages" link and presses Enter
    body = driver.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.TAB)
    for _ in range(30):
        if driver.switch_to.active_element.text == "Messages":
            break
        driver.switch_to.active_element.send_keys(Keys.TAB)
    assert driver.switch_to.active_element.text == "Messages", "the Messages link is reachable with Tab"
    driver.switch_to.active_element.send_keys(Keys.ENTER)

    # Then the Messages screen shows
    console.heading("Messages")
    assert driver.current_url.endswith("#/messages")


def test_given_a_phone_wide_window_when_the_menu_is_opened_then_every_screen_is_reachable(console: Console) -> None:
    # Given the console at a phone's width (390 CSS pixels)
    driver = console.driver
    console.open("/console/#/overview")
    console.heading("Overview")
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": NARROW, "height": 844, "deviceScaleFactor": 1, "mobile": True})
    try:
        overflow = driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the page is {overflow} px wider than the screen"

        # When the operator opens the menu and picks "Consent"
        menu = console.button("Menu")
        console.click(menu)
        assert menu.get_attribute("aria-expanded") == "true"
        console.click(console.link("Consent", within="//nav"))

        # Then the Consent screen shows, still without sideways scrolling
        console.heading("Consent")
        overflow = driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the page is {overflow} px wider than the screen"
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
