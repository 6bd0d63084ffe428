"""The console served by the local API Gateway at `/console/`: its files with their content types and
the Content-Security-Policy, `GET /` sent there, no directory listing, nothing outside `console/`."""
from __future__ import annotations

import http.client
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
import requests
from werkzeug.test import Client
from werkzeug.wrappers import Request

from local.apigw import LocalApiGateway
from local.console import CONSOLE_DIR, CONTENT_SECURITY_POLICY, serve_console
from local.functions import FunctionHost
from local.http import LoopbackServer
from local.template import ApiTrigger, FunctionSpec

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def api_url() -> Iterator[str]:
    """The local API Gateway with one template route beside the console, on a free port."""
    function = FunctionSpec(logical_id="ProbeFunction", physical_name="probe", code_uri=Path("."),
                            handler="probe_handler.handle",
                            triggers=(ApiTrigger(name="Get", path="/messages/{id}", method="GET"),))
    host = FunctionHost([function], handlers={"probe": lambda event, context: {
        "statusCode": 200, "body": '{"id": "%s"}' % event["pathParameters"]["id"]}})
    server = LoopbackServer(LocalApiGateway(host), 0, name="test API").start()
    yield server.url
    server.stop()


def _raw_get(url: str, path: str) -> tuple[int, dict[str, str], bytes]:
    """A GET of `path` exactly as written: no client normalising `..` away first."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.putrequest("GET", path, skip_accept_encoding=True)
        connection.endheaders()
        answer = connection.getresponse()
        return answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read()
    finally:
        connection.close()


def _policy(header: str) -> dict[str, list[str]]:
    directives = {}
    for directive in header.split(";"):
        name, *values = directive.split()
        directives[name] = values
    return directives


# ---------------------------------------------------------------- the page and its policy

def test_the_console_page_is_served_with_a_strict_content_security_policy(api_url: str) -> None:
    # When a browser opens the console
    answer = requests.get(f"{api_url}/console/", timeout=10)

    # Then it gets the page, and a policy that allows only the console's own files and API calls
    # to its own origin: no inline script or style, no eval, no other host
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "<title>SMS Bridge console</title>" in answer.text
    policy = _policy(answer.headers["Content-Security-Policy"])
    assert policy["default-src"] == ["'none'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["connect-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert not any(value.startswith(("'unsafe", "http", "*")) for values in policy.values() for value in values)
    assert answer.headers["X-Content-Type-Options"] == "nosniff"


def test_the_api_port_front_page_and_the_bare_prefix_lead_to_the_console(api_url: str) -> None:
    # When a user opens the API's address, or /console without its slash
    front = requests.get(f"{api_url}/", allow_redirects=False, timeout=10)
    bare = requests.get(f"{api_url}/console", allow_redirects=False, timeout=10)

    # Then both are sent to /console/, where the page is
    assert (front.status_code, front.headers["Location"]) == (302, "/console/")
    assert bare.status_code in (301, 308) and bare.headers["Location"] == "/console/"
    assert requests.get(f"{api_url}/", timeout=10).url == f"{api_url}/console/"


def test_the_template_routes_are_still_served_beside_the_console(api_url: str) -> None:
    answer = requests.get(f"{api_url}/messages/m-1", timeout=10)

    assert answer.status_code == 200 and answer.json() == {"id": "m-1"}


# ---------------------------------------------------------------- every file, with its type

_EXPECTED_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}


@pytest.mark.parametrize("path", sorted(p.relative_to(CONSOLE_DIR).as_posix() for p in CONSOLE_DIR.rglob("*") if p.is_file()))
def test_each_console_file_is_served_with_its_content_type_and_the_policy(api_url: str, path: str) -> None:
    # When the browser asks for a file of console/
    answer = requests.get(f"{api_url}/console/{path}", timeout=10)

    # Then it gets that file, typed so that the browser runs it as what it is (modules need a
    # JavaScript type), under the same policy
    assert answer.status_code == 200, path
    assert answer.content == (CONSOLE_DIR / path).read_bytes()
    expected = _EXPECTED_TYPES.get(Path(path).suffix)
    if expected:
        assert answer.headers["Content-Type"].split(";")[0] == expected
    assert answer.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY


def test_an_unchanged_file_is_answered_304_when_the_browser_asks_again(api_url: str) -> None:
    first = requests.get(f"{api_url}/console/js/app.js", timeout=10)

    again = requests.get(f"{api_url}/console/js/app.js", headers={"If-None-Match": first.headers["ETag"]}, timeout=10)

    assert again.status_code == 304 and again.content == b""


# Static imports, literal dynamic ones, and the screens the router loads (`module: './screens/x.js'`,
# imported by app.js, which sits beside router.js).
_IMPORT = re.compile(r"""(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+|\bmodule:\s*)['"]([^'"]+\.js)['"]""")


def _module_graph(api_url: str) -> dict[str, int]:
    """Every module the page loads, followed from its <script> tags through the static and
    dynamic imports, each with the status it was served with."""
    page = requests.get(f"{api_url}/console/", timeout=10).text
    pending = [urljoin(f"{api_url}/console/", src) for src in re.findall(r'<script[^>]*\bsrc="([^"]+)"', page)]
    seen: dict[str, int] = {}
    while pending:
        url = pending.pop()
        if url in seen:
            continue
        answer = requests.get(url, timeout=10)
        seen[url] = answer.status_code
        if answer.status_code == 200:
            assert answer.headers["Content-Type"].startswith("text/javascript"), url
            pending += [urljoin(url, target) for target in _IMPORT.findall(answer.text)]
    return seen


def test_every_module_the_page_imports_is_served(api_url: str) -> None:
    # When the browser follows the page's scripts and every import in them
    graph = _module_graph(api_url)

    # Then each is found (the providers screen is another module's, merged separately)
    missing = {url for url, status in graph.items() if status != 200 and "/js/providers/" not in url}
    assert not missing
    assert {f"{api_url}/console/js/{name}" for name in (
        "app.js", "api.js", "router.js", "screens/messages.js", "screens/message.js", "screens/consent.js",
        "screens/inbound.js", "screens/dead-letters.js", "screens/overview.js", "chart.js")} <= set(graph)


# ---------------------------------------------------------------- what is not served

@pytest.mark.parametrize("path", ["/console/js/", "/console/js", "/console/css/", "/console/js/screens/"])
def test_a_folder_is_not_listed(api_url: str, path: str) -> None:
    status, _headers, body = _raw_get(api_url, path)

    assert status == 404
    assert b"app.js" not in body and b"console.css" not in body and b"messages.js" not in body


# Each names a file outside console/ of a type the console serves (JSON, text, HTML), so that only
# the path checks stand between the client and the file.
@pytest.mark.parametrize("path", [
    "/console/../docs/provider-schema.json",
    "/console/js/../../docs/provider-schema.json",
    "/console/%2e%2e/docs/provider-schema.json",
    "/console/..%2fdocs/provider-schema.json",
    "/console/js/..%2f..%2frequirements-dev.txt",
    "/console/%2e%2e%2flocal%2fsandbox%2finbox.html",
    "/console/..\\requirements-dev.txt",
    "/console/%2fetc%2fhostname.txt",
    "/console//etc/hostname.txt",
    "/console/%00index.html",
])
def test_a_path_that_leaves_the_console_folder_is_refused(api_url: str, path: str) -> None:
    # When a client asks for a file outside console/ by climbing out of it
    status, _headers, body = _raw_get(api_url, path)

    # Then it gets a 404, never the file
    assert status == 404
    assert b"$schema" not in body and b"make lock" not in body and b"<html" not in body.lower()


def test_a_symbolic_link_out_of_the_folder_is_not_followed(tmp_path: Path) -> None:
    # Given a console folder with a link to a file outside it
    (tmp_path / "outside.txt").write_text("private")
    console = tmp_path / "console"
    console.mkdir()
    (console / "index.html").write_text("<!doctype html>")
    (console / "leak.txt").symlink_to(tmp_path / "outside.txt")

    # When a client asks for the link
    answer = _serve(console, "/console/leak.txt")

    # Then the file it points at is not served
    assert answer.status_code == 404 and b"private" not in answer.data


def test_a_file_of_an_unknown_type_is_not_served(tmp_path: Path) -> None:
    # Given a file the console does not serve by type (an editor's backup, an environment file)
    (tmp_path / "index.html").write_text("<!doctype html>")
    (tmp_path / ".env").write_text("TOKEN=x")
    (tmp_path / "app.js~").write_text("old")

    assert _serve(tmp_path, "/console/.env").status_code == 404
    assert _serve(tmp_path, "/console/app.js~").status_code == 404
    assert _serve(tmp_path, "/console/").status_code == 200


def test_only_reads_are_allowed(api_url: str) -> None:
    answer = requests.post(f"{api_url}/console/index.html", data=b"x", timeout=10)

    assert answer.status_code == 405 and answer.headers["Allow"] == "GET, HEAD"


def _serve(root: Path, path: str) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> Any:
        return serve_console(Request(environ), root)(environ, start_response)

    return Client(app).get(path)


# ---------------------------------------------------------------- the page keeps to its policy

class _PageAudit(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self.meta_policy: str | None = None
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        for name in attributes:
            if name.startswith("on") or name == "style":
                self.problems.append(f"<{tag} {name}=...>")
        if tag == "style":
            self.problems.append("<style>")
        if tag == "script":
            self._in_script = True
            if not attributes.get("src"):
                self.problems.append("<script> without src")
        if tag == "meta" and (attributes.get("http-equiv") or "").lower() == "content-security-policy":
            self.meta_policy = attributes.get("content")
        for name in ("href", "src"):
            value = attributes.get(name) or ""
            if value.startswith(("http:", "https:", "//", "javascript:")):
                self.problems.append(f"<{tag} {name}={value}>: not the console's own")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.problems.append("inline script")


def test_the_page_holds_its_policy_itself_and_has_nothing_inline() -> None:
    # Given the console's page as the proxy of `make console` serves it too
    audit = _PageAudit()
    audit.feed((CONSOLE_DIR / "index.html").read_text(encoding="utf-8"))

    # Then it has no inline script, style or event handler, and names no other host; its own
    # <meta> policy is the server's (frame-ancestors aside: only a header can say it)
    assert audit.problems == []
    assert audit.meta_policy is not None
    served = _policy(CONTENT_SECURITY_POLICY)
    served.pop("frame-ancestors")
    assert _policy(audit.meta_policy) == served


_FORBIDDEN_IN_SCRIPTS = {
    r"\beval\s*\(": "eval",
    r"\bnew\s+Function\s*\(": "new Function",
    r"\bset(?:Timeout|Interval)\s*\(\s*['\"`]": "a string timer",
    r"\.(?:innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write": "HTML from strings",
    r"setAttribute\(\s*['\"]style['\"]": "an inline style attribute",
    r"fetch\(\s*['\"`]https?:": "a call to another host",
}


@pytest.mark.parametrize("path", sorted(p.relative_to(CONSOLE_DIR).as_posix() for p in CONSOLE_DIR.rglob("*.js")))
def test_no_script_relies_on_what_the_policy_forbids(path: str) -> None:
    # Given a script of the console (the policy would stop these in the browser: better never written)
    text = (CONSOLE_DIR / path).read_text(encoding="utf-8")

    # Then it evaluates no string, builds no HTML from strings and calls no other host
    found = [what for pattern, what in _FORBIDDEN_IN_SCRIPTS.items() if re.search(pattern, text)]
    assert found == []
