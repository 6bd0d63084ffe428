"""API Gateway on loopback: every `Api`/`HttpApi` event of the template served over HTTP, each
request turned into the proxy event the function gets in AWS and its answer mapped back; plus
the local control routes (`/_local/...`) and the console's files (`/console/`, `GET /` redirecting there)."""
from __future__ import annotations

import base64
import fnmatch
import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

from werkzeug.datastructures import Headers
from werkzeug.wrappers import Request, Response

from local.console import is_console_path, redirect_to_console, serve_console
from local.functions import FunctionHost
from local.http import other_site_refusal
from local.template import ACCOUNT_ID, ApiTrigger, FunctionSpec

MASK = "**********"  # smsbridge.core.secrets.MASK (the layer is importable only once the functions are loaded)
log = logging.getLogger("local.apigw")

# Query parameters whose values are credentials (an inbound route's `?token=`, a Vonage `sig`):
# the access log shows their names, never their values.
_CREDENTIAL_PARAMETER = re.compile(r"token|key|secret|pass|pwd|sig|auth|credential|hash|jwt|session", re.IGNORECASE)

# What HTTP APIs pass as text; everything else (form posts included) arrives base64-encoded.
_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript")


@dataclass(frozen=True)
class Route:
    function: FunctionSpec
    trigger: ApiTrigger
    pattern: re.Pattern[str]

    @classmethod
    def of(cls, function: FunctionSpec, trigger: ApiTrigger) -> Route:
        regex = ""
        for segment in trigger.path.strip("/").split("/"):
            if not segment:
                continue
            match = re.fullmatch(r"\{([A-Za-z0-9_.-]+?)(\+?)\}", segment)
            if match and match.group(2):
                regex += f"/(?P<{_group(match.group(1))}>.+)"
            elif match:
                regex += f"/(?P<{_group(match.group(1))}>[^/]+)"
            else:
                regex += "/" + re.escape(segment)
        return cls(function, trigger, re.compile((regex or "/") + "$"))

    @property
    def priority(self) -> tuple[int, int, int]:
        """API Gateway picks the most specific route: literal segments before parameters,
        greedy parameters last, a given method before ANY."""
        segments = [s for s in self.trigger.path.split("/") if s]
        literals = sum(1 for s in segments if not s.startswith("{"))
        greedy = sum(1 for s in segments if s.endswith("+}"))
        return (greedy, -literals, int(self.trigger.method == "ANY"))

    def path_parameters(self, match: re.Match[str]) -> dict[str, str]:
        names = re.findall(r"\{([A-Za-z0-9_.-]+?)\+?\}", self.trigger.path)
        return {name: match.group(_group(name)) for name in names}


def _group(name: str) -> str:
    return "p_" + re.sub(r"\W", "_", name)


def routes_of(functions: Iterable[FunctionSpec]) -> list[Route]:
    routes = [Route.of(f, t) for f in functions for t in f.triggers_of(ApiTrigger)]
    return sorted(routes, key=lambda r: r.priority)


# ---------------------------------------------------------------- events in, answers out

def _is_binary(content_type: str, trigger: ApiTrigger, body: bytes) -> bool:
    """REST APIs base64-encode only the media types listed in BinaryMediaTypes (and would mangle
    a body that is not UTF-8: locally it is base64-encoded rather than lost); HTTP APIs encode
    every body whose type is not text."""
    if not body:
        return False
    media_type = content_type.split(";", 1)[0].strip().lower()
    if trigger.kind == "http":
        return not media_type.startswith(_TEXT_TYPES) and not media_type.endswith(("+json", "+xml"))
    if any(fnmatch.fnmatch(media_type, pattern.lower()) for pattern in trigger.binary_media_types):
        return True
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def rest_event(request: Request, route: Route, path_parameters: dict[str, str], *, body: bytes,
               request_id: str, now: datetime) -> dict[str, Any]:
    """The REST API (payload 1.0) proxy event."""
    trigger = route.trigger
    headers: dict[str, str] = {}
    multi_headers: dict[str, list[str]] = {}
    for name, value in _headers_with_forwarding(request).items():
        headers[name] = value
        multi_headers.setdefault(name, []).append(value)
    query_pairs = parse_qsl(request.query_string.decode("latin-1"), keep_blank_values=True)
    query: dict[str, str] = {}
    multi_query: dict[str, list[str]] = {}
    for name, value in query_pairs:
        query[name] = value
        multi_query.setdefault(name, []).append(value)
    binary = _is_binary(request.content_type or "", trigger, body)
    source_ip = request.remote_addr or "127.0.0.1"
    return {
        "resource": trigger.path,
        "path": request.path,
        "httpMethod": request.method,
        "headers": headers or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": path_parameters or None,
        "stageVariables": None,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": "local",
            "domainName": request.host,
            "domainPrefix": request.host.split(".")[0].split(":")[0],
            "extendedRequestId": request_id,
            "httpMethod": request.method,
            "identity": {
                "accessKey": None, "accountId": None, "caller": None, "cognitoAuthenticationProvider": None,
                "cognitoAuthenticationType": None, "cognitoIdentityId": None, "cognitoIdentityPoolId": None,
                "principalOrgId": None, "sourceIp": source_ip, "user": None,
                "userAgent": request.headers.get("User-Agent"), "userArn": None,
            },
            # The path as the client called it, as API Gateway gives it: with the stage on an
            # execute-api host, without it here, where routes are served at the root. Powertools
            # builds the Swagger page's server URL from it ("Try it out" called /dev/... here).
            "path": request.path,
            "protocol": request.environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
            "requestId": request_id,
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "resourceId": "local",
            "resourcePath": trigger.path,
            "stage": trigger.stage,
        },
        "body": (base64.b64encode(body).decode() if binary else body.decode("utf-8")) if body else None,
        "isBase64Encoded": binary,
    }


def http_event(request: Request, route: Route, path_parameters: dict[str, str], *, body: bytes,
               request_id: str, now: datetime) -> dict[str, Any]:
    """The HTTP API (payload 2.0) event."""
    trigger = route.trigger
    headers: dict[str, str] = {}
    for name, value in _headers_with_forwarding(request).items():
        key = name.lower()
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    query: dict[str, str] = {}
    for name, value in parse_qsl(request.query_string.decode("latin-1"), keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value
    binary = _is_binary(request.content_type or "", trigger, body)
    route_key = f"{trigger.method if trigger.method != 'ANY' else 'ANY'} {trigger.path}"
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": request.path,
        "rawQueryString": request.query_string.decode("latin-1"),
        "headers": headers,
        "requestContext": {
            "accountId": ACCOUNT_ID, "apiId": "local", "domainName": request.host,
            "domainPrefix": request.host.split(".")[0].split(":")[0],
            "http": {"method": request.method, "path": request.path,
                     "protocol": request.environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
                     "sourceIp": request.remote_addr or "127.0.0.1", "userAgent": request.headers.get("User-Agent", "")},
            "requestId": request_id, "routeKey": route_key, "stage": trigger.stage,
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"), "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": binary,
    }
    if request.cookies:
        event["cookies"] = [f"{k}={v}" for k, v in request.cookies.items(multi=True)]
    if query:
        event["queryStringParameters"] = query
    if path_parameters:
        event["pathParameters"] = path_parameters
    if body:
        event["body"] = base64.b64encode(body).decode() if binary else body.decode("utf-8")
    return event


def _headers_with_forwarding(request: Request) -> dict[str, str]:
    """The request's headers, plus the ones API Gateway adds (locally the scheme is http)."""
    headers = {name: value for name, value in request.headers.items()}
    headers.setdefault("X-Forwarded-For", request.remote_addr or "127.0.0.1")
    headers.setdefault("X-Forwarded-Proto", request.scheme)
    headers.setdefault("X-Forwarded-Port", str(request.host.rsplit(":", 1)[-1] if ":" in request.host else 80))
    return headers


class BadProxyAnswer(ValueError):
    pass


def proxy_response(result: Any, trigger: ApiTrigger) -> Response:
    """The HTTP answer API Gateway makes from the function's result."""
    if trigger.kind == "http" and not (isinstance(result, dict) and "statusCode" in result):
        # Payload 2.0 accepts a bare value and answers it as JSON with 200.
        body = result if isinstance(result, str) else json.dumps(result)
        return Response(body, status=200, content_type="application/json")
    if not isinstance(result, dict) or "statusCode" not in result:
        raise BadProxyAnswer("the answer is not a proxy response (a dict with statusCode)")
    try:
        status = int(result["statusCode"])
    except (TypeError, ValueError):
        raise BadProxyAnswer(f"statusCode {result['statusCode']!r} is not a number") from None
    body = result.get("body")
    if body is None:
        data = b""
    elif not isinstance(body, str):
        raise BadProxyAnswer("body must be a string")
    elif result.get("isBase64Encoded"):
        data = base64.b64decode(body)
    else:
        data = body.encode("utf-8")
    headers = Headers()
    for name, value in (result.get("headers") or {}).items():
        headers.set(name, str(value))
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers.remove(name)
        for value in values:
            headers.add(name, str(value))
    for cookie in result.get("cookies") or []:
        headers.add("Set-Cookie", cookie)
    if "Content-Type" not in headers:
        headers.set("Content-Type", "application/json")
    return Response(data, status=status, headers=headers)


def loggable_path(request: Request) -> str:
    """The path and query string for the access log, the values of credential-like parameters masked."""
    query = request.query_string.decode("latin-1")
    if not query:
        return request.path
    shown = []
    for item in query.split("&"):
        name, equals, _value = item.partition("=")
        shown.append(f"{name}={MASK}" if equals and _CREDENTIAL_PARAMETER.search(unquote_plus(name)) else item)
    return f"{request.path}?{'&'.join(shown)}"


def json_response(status: int, payload: Any) -> Response:
    return Response(json.dumps(payload, default=str), status=status, content_type="application/json")


# ---------------------------------------------------------------- the app

class LocalApiGateway:
    """The WSGI app: the local control routes under `/_local/`, the console under `/console/`, then
    the template's routes."""

    def __init__(self, host: FunctionHost, *, run_scheduled: Callable[[str, Any], Any] | None = None,
                 emails: Callable[[], list[dict[str, Any]]] | None = None, info: Callable[[], dict[str, Any]] | None = None,
                 events: Callable[..., list[dict[str, Any]]] | None = None):
        self.host = host
        self.routes = routes_of(host.functions.values())
        self._run_scheduled = run_scheduled
        self._emails = emails
        self._info = info
        self._events = events

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        started = time.perf_counter()
        response, target = self.handle(request)
        log.info("%s %s → %s %d (%.0f ms)", request.method, loggable_path(request), target,
                 response.status_code, (time.perf_counter() - started) * 1000)
        return response(environ, start_response)

    def handle(self, request: Request) -> tuple[Response, str]:
        if request.path == "/_local" or request.path.startswith("/_local/"):
            return self._refused(request) or self._control(request), "local"
        if is_console_path(request.path):
            return serve_console(request), "console"
        if request.path == "/" and request.method in ("GET", "HEAD"):
            return redirect_to_console(), "console"
        allowed: list[str] = []
        resource: str | None = None
        for route in self.routes:
            match = route.pattern.match(request.path)
            if match is None:
                continue
            # API Gateway settles on the most specific resource first and never falls back to a less
            # specific one: `/providers/import-curl` is not also `/providers/{provider}` for its methods.
            resource = resource or route.trigger.path
            if route.trigger.path != resource:
                continue
            if route.trigger.method not in ("ANY", request.method):
                allowed.append(route.trigger.method)
                continue
            # What AWS guards with IAM (every admin route) has no IAM here: it is kept for this machine's
            # own pages and tools. The public webhooks stay open to anyone, as in AWS.
            refused = None if route.trigger.is_public else self._refused(request)
            return refused or self._invoke(request, route, route.path_parameters(match)), route.function.name
        if allowed:
            response = json_response(405, {"message": f"Method {request.method} not allowed on {request.path}",
                                           "allowed": sorted(set(allowed))})
            response.headers["Allow"] = ", ".join(sorted(set(allowed)))
            return response, "-"
        return json_response(404, {"message": f"Not Found: no route for {request.method} {request.path}"}), "-"

    @staticmethod
    def _refused(request: Request) -> Response | None:
        """403 for another site's page in the browser (a form post, DNS rebinding), else None."""
        refusal = other_site_refusal(request.host, request.headers.get("Origin"), request.headers.get("Sec-Fetch-Site"),
                                     request.environ.get("SERVER_PORT", ""))
        if refusal is None:
            return None
        return json_response(403, {"message": f"{refusal}.", "hint": "The local runtime's admin API and /_local "
                                   "routes answer the console it serves and tools on this machine only."})

    def _invoke(self, request: Request, route: Route, path_parameters: dict[str, str]) -> Response:
        body = request.get_data(cache=False)
        request_id = str(uuid.uuid4())
        now = datetime.now(UTC)
        build = rest_event if route.trigger.kind == "rest" else http_event
        event = build(request, route, path_parameters, body=body, request_id=request_id, now=now)
        invocation = self.host.invoke(route.function.name, event)
        if invocation.error is not None:
            return json_response(502, {"message": "Internal server error"})
        try:
            response = proxy_response(invocation.result, route.trigger)
        except BadProxyAnswer as exc:
            log.error("%s: %s", route.function.name, exc)
            return json_response(502, {"message": "Internal server error"})
        response.headers["x-amzn-RequestId"] = request_id
        return response

    # -------------------------------------------------------- /_local/...

    def _control(self, request: Request) -> Response:
        parts = [p for p in request.path.split("/") if p][1:]
        if request.method == "POST" and len(parts) == 2 and parts[0] == "run":
            return self._run(request, parts[1])
        if request.method == "GET" and parts == ["emails"] and self._emails is not None:
            return json_response(200, self._emails())
        if request.method == "GET" and parts == ["events"] and self._events is not None:
            # Newest last; `detail-type` and `id` (the message's) narrow the list.
            return json_response(200, self._events(request.args.get("detail-type"), request.args.get("id")))
        if request.method == "GET" and parts == [] and self._info is not None:
            return json_response(200, self._info())
        return json_response(404, {"message": f"Not Found: no local route {request.method} {request.path}",
                                   "routes": ["POST /_local/run/{function}", "GET /_local/emails",
                                              "GET /_local/events", "GET /_local"]})

    def _run(self, request: Request, name: str) -> Response:
        function = self.host.get(name)
        if function is None:
            return json_response(404, {"message": f"no function {name!r}",
                                       "functions": sorted(self.host.functions)})
        payload = None
        if request.get_data():
            try:
                payload = json.loads(request.get_data())
            except ValueError:
                return json_response(400, {"message": "the body, when given, is the event as JSON"})
        if self._run_scheduled is None:
            return json_response(404, {"message": "no scheduler"})
        invocation = self._run_scheduled(function.name, payload)
        status = 200 if invocation.error is None else 500
        return json_response(status, {"function": function.name, "request_id": invocation.request_id,
                                       "duration_ms": round(invocation.duration_ms, 1),
                                       "result": invocation.result, "error": invocation.error})
