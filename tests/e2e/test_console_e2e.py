"""The console as a user reaches it: the banner's first address, served by the running local runtime."""
from __future__ import annotations

import re

import requests

from tests.e2e.local_stack import LocalStack


def test_the_banner_prints_the_console_first_and_it_answers(stack: LocalStack) -> None:
    # Given the banner the runtime printed
    addresses = re.findall(r"^\s{2}(\S.*?)\s{2,}(http://\S+)", stack.output(), re.MULTILINE)

    # Then its first address is the console, on the API port
    assert addresses, "the banner lists addresses"
    label, url = addresses[0]
    assert (label, url) == ("Console", f"{stack.api}/console/")

    # And opening it gives the console's page under its policy, as does the API's front page
    page = requests.get(url, timeout=10)
    assert page.status_code == 200 and "SMS Bridge console" in page.text
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert requests.get(stack.api + "/", timeout=10).url == url
    script = requests.get(f"{stack.api}/console/js/app.js", timeout=10)
    assert script.status_code == 200 and script.headers["Content-Type"].startswith("text/javascript")
