"""The console's static files (`console/` at the project root) served at `/console/`: known
content types only, the Content-Security-Policy on every answer, no directory listing, nothing
outside the folder."""
from __future__ import annotations

from pathlib import Path

from werkzeug.security import safe_join
from werkzeug.wrappers import Request, Response

CONSOLE_DIR = Path(__file__).resolve().parent.parent / "console"
PREFIX = "/console"

# Every script and style comes from the console's own files; its API calls go to the same
# origin (the local API, or the `make console` proxy): no inline code, no eval, no CDN.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

# Only what the console holds; anything else is a 404 rather than a guessed type, and browsers
# refuse ES modules that are not served as JavaScript.
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".txt": "text/plain; charset=utf-8",
    ".woff2": "font/woff2",
}

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    # The files change as the project is edited: the browser asks again (a 304 when unchanged).
    "Cache-Control": "no-cache",
}


def is_console_path(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


def _answer(status: int, text: str, *, headers: dict[str, str] | None = None) -> Response:
    response = Response(text, status=status, content_type="text/plain; charset=utf-8", headers=headers)
    response.headers.update(SECURITY_HEADERS)
    return response


def serve_console(request: Request, root: Path = CONSOLE_DIR) -> Response:
    """The answer to a request under `/console`: the file, a redirect to `/console/`, or a
    plain-text 404/405."""
    if request.method not in ("GET", "HEAD"):
        return _answer(405, f"{request.method} is not allowed on the console's files", headers={"Allow": "GET, HEAD"})
    if request.path == PREFIX:
        return _answer(308, "the console is at /console/", headers={"Location": PREFIX + "/"})
    relative = request.path[len(PREFIX) + 1:]
    if relative == "":
        relative = "index.html"
    not_found = _answer(404, f"no console file {request.path}")
    # safe_join refuses `..`, absolute paths and Windows separators; resolving then checking
    # the result keeps a symbolic link from leading out of the folder too.
    joined = safe_join(str(root), relative)
    if joined is None or relative.endswith("/") or any(ord(c) < 32 for c in relative):
        return not_found  # a NUL or another control character names no file of ours
    path = Path(joined).resolve()
    if not path.is_relative_to(root.resolve()) or not path.is_file():
        return not_found
    content_type = CONTENT_TYPES.get(path.suffix.lower())
    if content_type is None:
        return not_found
    response = Response(path.read_bytes(), status=200, content_type=content_type)
    response.headers.update(SECURITY_HEADERS)
    response.add_etag()
    response.make_conditional(request)
    return response


def redirect_to_console() -> Response:
    """`GET /`: the console is the front page of the local API port."""
    return _answer(302, "the console is at /console/", headers={"Location": PREFIX + "/"})
