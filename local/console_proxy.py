"""`make console STAGE=dev` (`python -m local.console_proxy`): the console against a deployed stack,
served on 127.0.0.1 with every API call forwarded to the stack's IAM-only admin API, signed with SigV4.

The browser talks to 127.0.0.1 only: `/console/` is the `console/` folder, `GET /` redirects there, and
every other request goes to the stack's `ApiUrl` output (read from CloudFormation, or
`SMSBRIDGE_API_URL`) with method, path, query and body unchanged, signed by botocore (`execute-api`,
the API's region) with the operator's own credentials as the AWS CLI finds them (profile, environment,
SSO). When AWS cannot be asked or says no (no credentials, an expired session, a 403 from IAM) the
console gets `{"message", "hint"}` with 401 or 403, and the hint says what to do.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import threading
import time
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import ReadOnlyCredentials
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    CredentialRetrievalError,
    HTTPClientError,
    NoCredentialsError,
    PartialCredentialsError,
    ProfileNotFound,
    SSOError,
    TokenRetrievalError,
)
from botocore.httpsession import URLLib3Session
from botocore.utils import get_environ_proxies
from werkzeug.wrappers import Request, Response

from local.console import is_console_path, redirect_to_console, serve_console
from local.http import LoopbackServer, PortInUse, other_site_refusal

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PORT = 3001
API_URL_OUTPUT = "ApiUrl"  # template.yaml's output naming the admin API's base URL (stage included)
SIGNING_SERVICE = "execute-api"

# The browser's headers that mean something to the admin API; cookies, Origin, Referer and the like
# stay on this machine. Authorization is never forwarded: the signature replaces it.
FORWARDED_REQUEST_HEADERS = ("accept", "accept-language", "content-type", "if-match", "if-none-match")
HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
                        "trailer", "transfer-encoding", "upgrade", "content-length"})
# API Gateway waits 29 s at most for the function; a little more lets its own timeout answer come through.
UPSTREAM_TIMEOUT_S = (10, 35)
EXECUTE_API_HOST = re.compile(r"^[a-z0-9]+\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$")


class ConsoleError(Exception):
    """An answer for the console: what went wrong (`message`) and what the operator can do (`hint`)."""

    def __init__(self, status: int, message: str, hint: str) -> None:
        super().__init__(message)
        self.status, self.message, self.hint = status, message, hint

    def response(self) -> Response:
        return json_response(self.status, {"message": self.message, "hint": self.hint})


class ConfigurationError(ValueError):
    """The command line, samconfig.toml or the environment do not say which stack to use."""


# ---------------------------------------------------------------- which stack

@dataclass(frozen=True)
class StageConfig:
    """What samconfig.toml says about a stage: its config environment, stack name and region (if any)."""

    stage: str
    config_env: str
    stack_name: str
    region: str | None


def stage_config(stage: str, samconfig: Path = PROJECT_ROOT / "samconfig.toml") -> StageConfig:
    """The samconfig.toml environment for `stage`: the one named so, or the one whose deploy
    parameter_overrides say `Stage=<stage>` (`dev` is the `default` environment)."""
    document = tomllib.loads(samconfig.read_text(encoding="utf-8"))
    environments = {name: value for name, value in document.items() if isinstance(value, dict)}

    def parameters(env: str, command: str) -> Mapping[str, Any]:
        return environments.get(env, {}).get(command, {}).get("parameters", {})

    def stage_of(env: str) -> str | None:
        for pair in str(parameters(env, "deploy").get("parameter_overrides", "")).split():
            name, _, value = pair.partition("=")
            if name == "Stage":
                return value.strip("\"'")
        return None

    chosen = stage if stage in environments else next((env for env in environments if stage_of(env) == stage), None)
    if chosen is None:
        known = sorted({stage_of(env) or env for env in environments})
        raise ConfigurationError(f"stage {stage!r} is not in {samconfig.name}: its stages are {', '.join(known)}")

    def setting(name: str) -> Any:
        for env, command in ((chosen, "deploy"), (chosen, "global"), ("default", "global")):
            if value := parameters(env, command).get(name):
                return value
        return None

    stack_name = setting("stack_name")
    if not stack_name:
        raise ConfigurationError(f"{samconfig.name} gives no stack_name for stage {stage!r} ({chosen})")
    return StageConfig(stage=stage, config_env=chosen, stack_name=stack_name, region=setting("region"))


def region_of_api_url(api_url: str) -> str | None:
    """The region in an `execute-api` URL (`https://abc.execute-api.eu-west-1.amazonaws.com/dev`)."""
    match = EXECUTE_API_HOST.match(urlsplit(api_url).hostname or "")
    return match.group(1) if match else None


# ---------------------------------------------------------------- credentials and AWS's answers

def _profile_words(session: botocore.session.Session) -> str:
    profile = session.get_config_variable("profile")
    return f" --profile {profile}" if profile else ""


def credential_problem(error: BotoCoreError, session: botocore.session.Session) -> ConsoleError:
    """What to tell the operator when botocore could not load (or refresh) their credentials."""
    login = f"aws sso login{_profile_words(session)}"
    if isinstance(error, ProfileNotFound):
        return ConsoleError(401, str(error), "Set AWS_PROFILE to a profile that exists (`aws configure "
                                             "list-profiles` lists them), then run make console again.")
    if isinstance(error, NoCredentialsError):
        return ConsoleError(401, "No AWS credentials found (profile, environment or SSO, as the AWS CLI looks "
                                 "for them).",
                            "Set AWS_PROFILE to a profile of ~/.aws/config (for an SSO profile, run "
                            "`aws sso login --profile NAME` first) or export AWS_ACCESS_KEY_ID and "
                            "AWS_SECRET_ACCESS_KEY, then run make console again.")
    if isinstance(error, SSOError | TokenRetrievalError):
        return ConsoleError(401, f"Your AWS SSO session has expired or is not logged in ({error}).",
                            f"Run `{login}`, then reload this page.")
    if isinstance(error, CredentialRetrievalError | PartialCredentialsError):
        return ConsoleError(401, f"Your AWS credentials could not be loaded: {error}.",
                            f"Fix the profile's credentials (for an SSO profile run `{login}`); "
                            "`aws sts get-caller-identity` shows what the AWS CLI finds.")
    # botocore's other ways a session can fail (an `aws login` session to renew, MFA to enter...)
    return ConsoleError(401, f"Your AWS credentials could not be loaded: {error}",
                        "Sign in again as the AWS CLI asks (`aws sso login`, `aws login`), then reload this page.")


def credentials_of(session: botocore.session.Session) -> ReadOnlyCredentials:
    """The operator's credentials now (refreshed if they were about to expire), or a ConsoleError saying
    what to do."""
    try:
        credentials = session.get_credentials()
        frozen = credentials.get_frozen_credentials() if credentials is not None else None
    except BotoCoreError as error:
        raise credential_problem(error, session) from None
    if frozen is None or not frozen.access_key:
        raise credential_problem(NoCredentialsError(), session)
    return frozen


def _iam_hint(message: str, error_type: str, session: botocore.session.Session, what: str) -> str:
    """What to do about AWS refusing a signed request, from its message or error type."""
    text = f"{error_type} {message}".lower()
    login = f"aws sso login{_profile_words(session)}"
    if "signature expired" in text:
        return "This computer's clock is more than 5 minutes off: set it right (NTP), then reload."
    if "expired" in text:
        return f"Your AWS session has expired: run `{login}` (or renew the session's credentials), then reload."
    if "security token included in the request is invalid" in text or "unrecognizedclient" in text \
            or "invalidclienttokenid" in text:
        return ("AWS does not know these credentials: check AWS_PROFILE or AWS_ACCESS_KEY_ID "
                "(`aws sts get-caller-identity` shows who you are), then run make console again.")
    if "signature we calculated does not match" in text or "signaturedoesnotmatch" in text \
            or "invalidsignature" in text:
        return "The secret access key does not belong to the access key id: check the profile's credentials."
    if "missing authentication token" in text or "missingauthenticationtoken" in text:
        return "API Gateway has no route at this path (it answers so for unknown paths): check the URL."
    return (f"Your AWS identity is not allowed {what}: it needs an IAM policy granting it "
            "(ask an administrator, or use another AWS_PROFILE).")


def _client_error(error: ClientError, session: botocore.session.Session, what: str) -> ConsoleError:
    code = error.response.get("Error", {}).get("Code", "")
    message = error.response.get("Error", {}).get("Message", "") or str(error)
    status = 401 if "expired" in f"{code} {message}".lower() and "signature" not in message.lower() else 403
    return ConsoleError(status, f"AWS refused {what}: {message}", _iam_hint(message, code, session, what))


# ---------------------------------------------------------------- where to forward

@dataclass(frozen=True)
class ApiTarget:
    """The deployed admin API: its base URL (stage included) and the region to sign for."""

    url: str
    region: str
    source: str  # where the URL came from, for the banner


class StackApi:
    """Finds the admin API's URL once, from the stack's outputs (or SMSBRIDGE_API_URL), retrying on each
    request until it works: an operator who runs `aws sso login` after starting need not restart."""

    def __init__(self, session: botocore.session.Session, *, stack_name: str | None, region: str,
                 api_url: str | None = None) -> None:
        self.session, self.stack_name, self.region = session, stack_name, region
        self._fixed_url = api_url.rstrip("/") if api_url else None
        self._found: ApiTarget | None = None
        self._lock = threading.Lock()

    def target(self) -> ApiTarget:
        with self._lock:
            if self._found is None:
                self._found = self._look_up()
            return self._found

    def _look_up(self) -> ApiTarget:
        if self._fixed_url:
            return ApiTarget(self._fixed_url, region_of_api_url(self._fixed_url) or self.region, "SMSBRIDGE_API_URL")
        what = f"to describe the stack {self.stack_name} (cloudformation:DescribeStacks)"
        credentials_of(self.session)  # the clearest message when there are none
        cloudformation = self.session.create_client("cloudformation", region_name=self.region)
        try:
            stacks = cloudformation.describe_stacks(StackName=self.stack_name)["Stacks"]
        except ClientError as error:
            message = error.response.get("Error", {}).get("Message", "")
            if "does not exist" in message:
                raise ConsoleError(502, f"The stack {self.stack_name} does not exist in {self.region}.",
                                   "Deploy it (`sam deploy --config-env ...`), or point at the region it is "
                                   "in (AWS_REGION, or `region` in samconfig.toml).") from None
            raise _client_error(error, self.session, what) from None
        except (NoCredentialsError, SSOError, TokenRetrievalError, CredentialRetrievalError,
                PartialCredentialsError) as error:
            raise credential_problem(error, self.session) from None
        except BotoCoreError as error:
            raise ConsoleError(502, f"CloudFormation could not be reached in {self.region}: {error}",
                               "Check the network and the region, or set SMSBRIDGE_API_URL to the API's "
                               "URL.") from None
        outputs = {output["OutputKey"]: output["OutputValue"] for output in stacks[0].get("Outputs", [])}
        if API_URL_OUTPUT not in outputs:
            raise ConsoleError(502, f"The stack {self.stack_name} has no {API_URL_OUTPUT} output.",
                               "Deploy the current template.yaml (it has the output), or set "
                               "SMSBRIDGE_API_URL to the API's URL.")
        url = outputs[API_URL_OUTPUT].rstrip("/")
        return ApiTarget(url, region_of_api_url(url) or self.region,
                         f"output {API_URL_OUTPUT} of stack {self.stack_name}")


# ---------------------------------------------------------------- the server

def json_response(status: int, body: Any) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


class ConsoleProxy:
    """The WSGI app: the console's files, and every other request signed and forwarded to the API."""

    def __init__(self, api: StackApi, *, console_dir: Path = PROJECT_ROOT / "console",
                 http: URLLib3Session | None = None) -> None:
        self.api = api
        self.console_dir = console_dir
        self._http = http
        self._http_lock = threading.Lock()
        self.port: int | None = None  # set once serving: the Host and Origin the browser must use

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        try:
            response = self._answer(request)
        except ConsoleError as error:
            response = error.response()
        return response(environ, start_response)

    def _answer(self, request: Request) -> Response:
        self._refuse_other_sites(request)
        if request.path in ("", "/") and request.method in ("GET", "HEAD"):
            return redirect_to_console()
        if is_console_path(request.path):
            return serve_console(request, self.console_dir)  # the same files, policy and checks as locally
        return self._forward(request)

    # -------------------------------------------------------- only this console may use the credentials

    def _refuse_other_sites(self, request: Request) -> None:
        """Another web page open in the browser must not get requests signed with the operator's
        credentials: refuse a foreign Host (DNS rebinding) and cross-site requests (CSRF)."""
        if self.port is None:
            return
        refusal = other_site_refusal(request.host, request.headers.get("Origin"),
                                     request.headers.get("Sec-Fetch-Site"), self.port)
        if refusal is not None:
            raise ConsoleError(403, f"{refusal}.", f"Open http://127.0.0.1:{self.port}/console/ in the browser.")

    # -------------------------------------------------------- the console's files

    # -------------------------------------------------------- the API

    def _forward(self, request: Request) -> Response:
        target = self.api.target()
        credentials = credentials_of(self.api.session)
        signed = self._signed(request, target, credentials)
        try:
            answer = self._transport(target).send(signed.prepare())
        except (HTTPClientError, BotoCoreError) as error:
            raise ConsoleError(502, f"The API at {target.url} could not be reached: {error}",
                               "Check the network (and a proxy, HTTPS_PROXY), and that the stack is "
                               "deployed.") from None
        headers = [(name, value) for name, value in answer.headers.items() if name.lower() not in HOP_BY_HOP]
        if answer.status_code == 403:
            refused = self._iam_refusal(answer, headers, target)
            if refused is not None:
                return refused
        return Response(answer.content, status=answer.status_code, headers=headers)

    def _signed(self, request: Request, target: ApiTarget, credentials: ReadOnlyCredentials) -> AWSRequest:
        raw_path, _, raw_query = _raw_target(request.environ).partition("?")
        # botocore signs the query string as given, and AWS checks it in RFC 3986 form: a form-style `+`
        # for a space would not verify. Same parameters, same order, canonical encoding.
        query = urlencode(parse_qsl(raw_query, keep_blank_values=True), quote_via=quote, safe="-_.~")
        url = target.url + raw_path + (f"?{query}" if query else "")
        headers = {name: request.headers[name] for name in FORWARDED_REQUEST_HEADERS if name in request.headers}
        body = request.get_data(cache=False)
        aws_request = AWSRequest(method=request.method, url=url, data=body, headers=headers)
        SigV4Auth(credentials, SIGNING_SERVICE, target.region).add_auth(aws_request)
        return aws_request

    def _iam_refusal(self, answer: Any, headers: list[tuple[str, str]], target: ApiTarget) -> Response | None:
        """API Gateway's own 403s (IAM said no) with a hint added; None for a 403 of the API itself."""
        try:
            body = json.loads(answer.content or b"{}")
        except ValueError:
            return None
        if not isinstance(body, dict) or "hint" in body:
            return None
        message = str(body.get("message") or body.get("Message") or "")
        error_type = answer.headers.get("x-amzn-ErrorType", "").split(":")[0]
        if not error_type and not _looks_like_iam(message):
            return None
        hint = _iam_hint(message, error_type, self.api.session,
                         f"to call this API (execute-api:Invoke on {target.url})")
        kept = [(name, value) for name, value in headers if name.lower() not in ("content-type", "content-encoding")]
        return Response(json.dumps({**body, "message": message, "hint": hint}), status=403, headers=kept,
                        content_type="application/json")

    def _transport(self, target: ApiTarget) -> URLLib3Session:
        with self._http_lock:
            if self._http is None:
                self._http = URLLib3Session(proxies=get_environ_proxies(target.url), timeout=UPSTREAM_TIMEOUT_S)
            return self._http


_IAM_MESSAGES = ("security token", "signature", "not authorized to perform", "explicit deny", "expired",
                 "missing authentication token", "credential", "forbidden")


def _looks_like_iam(message: str) -> bool:
    lowered = message.lower()
    return any(words in lowered for words in _IAM_MESSAGES)


def _raw_target(environ: Mapping[str, Any]) -> str:
    """The path and query as the browser sent them (werkzeug keeps them in RAW_URI): PATH_INFO is
    decoded, and `%2F` or `%2B` in a path segment must reach the API as sent."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw and raw.startswith("/"):
        return raw
    query = environ.get("QUERY_STRING", "")
    path = quote(environ.get("PATH_INFO", "/").encode("latin-1").decode("utf-8", "replace"), safe="/-_.~!$&'()*+,;=:@")
    return path + (f"?{query}" if query else "")


# ---------------------------------------------------------------- the command

def _region_from_environment(session: botocore.session.Session) -> str | None:
    return os.environ.get("AWS_REGION") or session.get_config_variable("region")


def build(stage: str, *, samconfig: Path, session: botocore.session.Session | None = None,
          environ: Mapping[str, str] = os.environ, console_dir: Path = PROJECT_ROOT / "console"
          ) -> tuple[ConsoleProxy, str]:
    """The proxy for `stage`, and a line saying which stack (or URL) it forwards to."""
    session = session or botocore.session.Session()
    api_url = environ.get("SMSBRIDGE_API_URL", "").strip() or None
    if api_url:
        region = region_of_api_url(api_url) or _region_from_environment(session)
        if not region:
            raise ConfigurationError(f"no region to sign requests to {api_url} for: set AWS_REGION or the "
                                     "profile's region")
        api = StackApi(session, stack_name=None, region=region, api_url=api_url)
        return ConsoleProxy(api, console_dir=console_dir), f"{api_url} (SMSBRIDGE_API_URL)"
    config = stage_config(stage, samconfig)
    region = config.region or _region_from_environment(session)
    if not region:
        raise ConfigurationError(f"no region for stage {stage!r}: set AWS_REGION, the profile's region, or "
                                 f"`region` in samconfig.toml's [{config.config_env}.deploy.parameters]")
    api = StackApi(session, stack_name=config.stack_name, region=region)
    return ConsoleProxy(api, console_dir=console_dir), f"stack {config.stack_name} in {region} (stage {stage})"


def serve(proxy: ConsoleProxy, port: int = DEFAULT_PORT) -> LoopbackServer:
    """Serve `proxy` on 127.0.0.1 (`port` 0 picks a free one), started; it accepts its own origin only."""
    server = LoopbackServer(proxy, port, name="console", env_var="SMSBRIDGE_CONSOLE_PORT")
    proxy.port = server.port
    return server.start()


def _port(environ: Mapping[str, str]) -> int:
    value = environ.get("SMSBRIDGE_CONSOLE_PORT", "").strip()
    if not value:
        return DEFAULT_PORT
    if not value.isdigit() or int(value) > 65535:
        raise ConfigurationError(f"SMSBRIDGE_CONSOLE_PORT={value!r}: a port number (0 picks a free port)")
    return int(value)


def _banner(proxy: ConsoleProxy, url: str, where: str) -> str:
    lines = [f"SMS Bridge console for {where}", f"  console   {url}/console/"]
    try:
        target = proxy.api.target()
        lines.append(f"  API       {target.url}  (from {target.source}), signed with SigV4 "
                     f"({SIGNING_SERVICE}, {target.region})")
    except ConsoleError as error:
        lines.append(f"  API       not found yet: {error.message}\n            {error.hint}\n"
                     "            (the console shows this until it is fixed; no restart needed after a login)")
    try:
        credentials = proxy.api.session.get_credentials()
        method = getattr(credentials, "method", None) if credentials is not None else None
        profile = proxy.api.session.get_config_variable("profile") or "default chain"
        lines.append(f"  signing   as the AWS CLI would: {profile}" + (f" ({method})" if method else "")
                     if credentials is not None else "  signing   no AWS credentials found yet")
    except BotoCoreError as error:
        lines.append(f"  signing   credentials not usable yet: {error}")
    lines.append("Listening on 127.0.0.1 only. Ctrl-C stops it.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.console_proxy", description=__doc__.splitlines()[0])
    parser.add_argument("--stage", default=os.environ.get("STAGE", "dev"),
                        help="a stage of samconfig.toml (default: $STAGE or dev)")
    parser.add_argument("--samconfig", type=Path, default=PROJECT_ROOT / "samconfig.toml")
    parser.add_argument("--console-dir", type=Path, default=PROJECT_ROOT / "console")
    options = parser.parse_args(argv)
    try:
        proxy, where = build(options.stage, samconfig=options.samconfig, console_dir=options.console_dir)
        server = serve(proxy, _port(os.environ))
    except (ConfigurationError, PortInUse, ProfileNotFound, OSError) as error:
        print(f"make console: {error}", file=sys.stderr)
        return 2
    print(_banner(proxy, server.url, where), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
