"""`make console` (local/console_proxy.py) between a browser and a deployed stack: a loopback server
stands in for API Gateway and checks each request's SigV4 signature independently
(tests/support/sigv4_check.py, written from AWS's documentation), answering 403 as API Gateway does
when it does not verify; the stack's `ApiUrl` output comes from CloudFormation in moto."""
from __future__ import annotations

import http.client
import json
import os
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import boto3
import botocore.session
import pytest
import requests
from moto import mock_aws

from local.console_proxy import ConsoleProxy, StackApi, build, serve, stage_config
from tests.support import secret_watch
from tests.support.loopback import LoopbackProvider, RecordedRequest
from tests.support.sigv4_check import credential_scope, signature_verifies

ROOT = Path(__file__).resolve().parents[2]
REGION = "eu-west-1"
KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKEN = "IQoJb3JpZ2luX2VjEXAMPLEconsoletoken+/="
secret_watch.watch([SECRET, TOKEN])

INVALID_TOKEN = {"message": "The security token included in the request is invalid."}
BAD_SIGNATURE = {"message": "The request signature we calculated does not match the signature you provided. "
                            "Check your AWS Secret Access Key and signing method. Consult the service "
                            "documentation for details."}


def api_gateway_answer(request: RecordedRequest) -> Any:
    """What API Gateway in front of an IAM-authorised API answers: 403 unless the signature verifies."""
    key_id = credential_scope(request).split("/")[0]
    if key_id != KEY_ID:
        return 403, {}, INVALID_TOKEN
    if not signature_verifies(request, SECRET):
        return 403, {}, BAD_SIGNATURE
    return 200, {"X-Amzn-RequestId": "c0ffee00-0000-4000-8000-000000000001"}, {"items": [], "cursor": None}


@pytest.fixture
def api_gateway(loopback_provider: LoopbackProvider) -> LoopbackProvider:
    loopback_provider.handler = api_gateway_answer
    return loopback_provider


@pytest.fixture
def aws_home(tmp_path: Path) -> Iterator[Path]:
    """An operator's machine with no AWS configuration at all (no profile, no keys, no SSO cache, no
    instance metadata): each test adds what it needs to os.environ or to the files of this folder."""
    with mock.patch.dict(os.environ):  # everything set below is undone after the test
        for name in [name for name in os.environ if name.startswith("AWS_")]:
            del os.environ[name]
        os.environ.update({"HOME": str(tmp_path), "AWS_CONFIG_FILE": str(tmp_path / "config"),
                           "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
                           "AWS_EC2_METADATA_DISABLED": "true"})
        yield tmp_path


def operator_keys(key_id: str = KEY_ID, secret: str = SECRET, token: str | None = TOKEN) -> None:
    """The operator's credentials in the environment, as after `eval $(aws configure export-credentials)`."""
    os.environ.update({"AWS_ACCESS_KEY_ID": key_id, "AWS_SECRET_ACCESS_KEY": secret})
    if token:
        os.environ["AWS_SESSION_TOKEN"] = token


def console_for(api_url: str, console_dir: Path | None = None) -> Iterator[str]:
    """The console proxy with the API URL injected (SMSBRIDGE_API_URL), served on a free port."""
    proxy, _ = build("dev", samconfig=ROOT / "samconfig.toml", session=botocore.session.Session(),
                     environ={"SMSBRIDGE_API_URL": api_url}, console_dir=console_dir or ROOT / "console")
    server = serve(proxy, 0)
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def console(api_gateway: LoopbackProvider, aws_home: Path) -> Iterator[str]:
    """The console's base URL, forwarding to the stand-in's stage `dev` in REGION."""
    os.environ["AWS_REGION"] = REGION
    yield from console_for(api_gateway.url_for("/dev"))


# ---------------------------------------------------------------- the stack's outputs, the signature

@pytest.fixture
def deployed_stack(api_gateway: LoopbackProvider, aws_home: Path) -> Iterator[None]:
    """`smsbridge-dev` in REGION (moto's CloudFormation), its ApiUrl output naming the stand-in."""
    with mock_aws():
        boto3.client("cloudformation", region_name=REGION).create_stack(
            StackName="smsbridge-dev", TemplateBody=json.dumps({
                "Resources": {"OutboundQueue": {"Type": "AWS::SQS::Queue"}},
                "Outputs": {"ApiUrl": {"Description": "Base URL of the admin API",
                                       "Value": api_gateway.url_for("/dev")}}}))
        with mock.patch.dict(os.environ):  # moto's own made-up keys go: each test sets the operator's, or none
            for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
                del os.environ[name]
            os.environ["AWS_REGION"] = REGION
            yield


@pytest.fixture
def stack_console(deployed_stack: None) -> Iterator[str]:
    """`make console STAGE=dev` as the operator runs it: samconfig.toml's stack, its outputs, no URL given."""
    proxy, where = build("dev", samconfig=ROOT / "samconfig.toml", session=botocore.session.Session(), environ={})
    assert where == f"stack smsbridge-dev in {REGION} (stage dev)"
    server = serve(proxy, 0)
    try:
        yield server.url
    finally:
        server.stop()


def test_given_a_deployed_stack_when_the_console_lists_messages_then_the_request_reaches_its_api_url_signed_for_execute_api(
        api_gateway: LoopbackProvider, stack_console: str) -> None:
    operator_keys()

    answer = requests.get(f"{stack_console}/messages?status=sent&limit=2", timeout=10)

    assert answer.status_code == 200, answer.text
    assert answer.json() == {"items": [], "cursor": None}
    assert answer.headers["X-Amzn-RequestId"] == "c0ffee00-0000-4000-8000-000000000001"
    received = api_gateway.last
    assert (received.method, received.path, received.query) == ("GET", "/dev/messages", "status=sent&limit=2")
    assert signature_verifies(received, SECRET)
    signed_at = datetime.strptime(received.header("x-amz-date"), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert abs(datetime.now(UTC) - signed_at) < timedelta(minutes=1)
    assert credential_scope(received) == f"{KEY_ID}/{signed_at:%Y%m%d}/{REGION}/execute-api/aws4_request"
    assert received.header("x-amz-security-token") == TOKEN


def test_given_a_signature_made_with_another_secret_when_it_is_checked_then_it_does_not_verify(
        api_gateway: LoopbackProvider, stack_console: str) -> None:
    operator_keys(secret="another-secret-of-forty-characters-long00")

    answer = requests.get(f"{stack_console}/providers", timeout=10)

    assert not signature_verifies(api_gateway.last, SECRET)
    assert answer.status_code == 403
    assert answer.json()["message"] == BAD_SIGNATURE["message"]
    assert "secret access key" in answer.json()["hint"]


def test_given_no_credentials_anywhere_when_the_console_calls_the_api_then_it_gets_401_saying_how_to_sign_in(
        api_gateway: LoopbackProvider, stack_console: str) -> None:
    answer = requests.get(f"{stack_console}/providers/summary", timeout=10)

    assert answer.status_code == 401
    body = answer.json()
    assert body["message"].startswith("No AWS credentials found")
    assert "AWS_PROFILE" in body["hint"] and "aws sso login" in body["hint"]
    assert api_gateway.requests == []


def test_given_a_stage_whose_stack_is_not_deployed_when_the_console_calls_the_api_then_it_says_so_and_how_to_deploy(
        deployed_stack: None) -> None:
    operator_keys()
    proxy, _ = build("staging", samconfig=ROOT / "samconfig.toml", session=botocore.session.Session(), environ={})
    server = serve(proxy, 0)
    try:
        answer = requests.get(f"{server.url}/providers", timeout=10)
    finally:
        server.stop()

    assert answer.status_code == 502
    assert answer.json() == {"message": f"The stack smsbridge-staging does not exist in {REGION}.",
                             "hint": "Deploy it (`sam deploy --config-env ...`), or point at the region it is in "
                                     "(AWS_REGION, or `region` in samconfig.toml)."}


# ---------------------------------------------------------------- what the browser sent, unchanged

@pytest.mark.parametrize(("method", "path", "query", "body"), [
    ("POST", "/providers/preview", "", json.dumps({"message": {"to": "+33612345678", "text": "Été ☕ 🎉"}}).encode()),
    ("PUT", "/consent/sandbox/%2B33612345678", "", b'{"state": "opted_out", "reason": "asked by phone"}'),
    ("GET", "/consent/sandbox/+33612345678", "", b""),
    ("GET", "/messages", "phone=%2B33612345678&status=sent&since=2026-11-30T00%3A00%3A00Z&limit=2&cursor=", b""),
    ("DELETE", "/dead-letters/4c6f0e1a-0000-4000-8000-00000000abcd", "", b""),
])
def test_given_an_admin_call_when_the_console_sends_it_then_method_path_query_and_body_arrive_unchanged_and_signed(
        api_gateway: LoopbackProvider, console: str, method: str, path: str, query: str, body: bytes) -> None:
    operator_keys()

    answer = requests.request(method, f"{console}{path}" + (f"?{query}" if query else ""), data=body,
                              headers={"Content-Type": "application/json"} if body else {}, timeout=10)

    assert answer.status_code == 200, answer.text
    received = api_gateway.last
    assert (received.method, received.path, received.query, received.body) == (method, f"/dev{path}", query, body)
    assert signature_verifies(received, SECRET)


def test_given_a_query_with_a_plus_for_a_space_when_it_is_forwarded_then_aws_reads_the_same_parameters(
        api_gateway: LoopbackProvider, console: str) -> None:
    # URLSearchParams writes a space as `+`; AWS checks the signature over the RFC 3986 form (%20).
    operator_keys()

    answer = requests.get(f"{console}/messages?provider=my+sandbox&phone=%2B33612345678", timeout=10)

    assert answer.status_code == 200, answer.text
    assert api_gateway.last.args == {"provider": ["my sandbox"], "phone": ["+33612345678"]}
    assert signature_verifies(api_gateway.last, SECRET)


def test_given_the_api_answers_an_error_when_it_is_forwarded_then_the_console_gets_its_status_and_body(
        api_gateway: LoopbackProvider, console: str) -> None:
    operator_keys()
    errors = {"message": "Invalid provider", "errors": [{"loc": "body.request.url", "msg": "not a URL"}]}
    api_gateway.enqueue((422, {}, errors))

    answer = requests.post(f"{console}/providers/validate", json={"id": "x"}, timeout=10)

    assert (answer.status_code, answer.json()) == (422, errors)


def test_given_the_browsers_cookies_and_authorization_when_a_call_is_forwarded_then_they_stay_on_this_machine(
        api_gateway: LoopbackProvider, console: str) -> None:
    operator_keys()

    requests.get(f"{console}/providers", headers={"Cookie": "other-app=session-1", "Authorization": "Bearer x"},
                 timeout=10)

    received = api_gateway.last
    assert received.header("cookie") is None
    assert received.header("authorization").startswith(f"AWS4-HMAC-SHA256 Credential={KEY_ID}/")


# ---------------------------------------------------------------- AWS saying no, shown with what to do

@pytest.mark.parametrize(("refusal", "status", "hint_says"), [
    (INVALID_TOKEN, 403, "AWS_PROFILE"),
    ({"message": "The security token included in the request is expired"}, 403, "aws sso login"),
    ({"Message": "User: arn:aws:sts::123456789012:assumed-role/support/jane is not authorized to perform: "
                 "execute-api:Invoke on resource: arn:aws:execute-api:eu-west-1:********9012:abc123/dev/GET/"
                 "providers with an explicit deny"}, 403, "IAM policy"),
    ({"message": "Signature expired: 20261130T100000Z is now earlier than 20261130T101500Z"}, 403, "clock"),
])
def test_given_iam_refuses_the_call_when_the_console_asks_then_it_gets_the_iam_error_and_a_hint(
        api_gateway: LoopbackProvider, console: str, refusal: dict[str, str], status: int, hint_says: str) -> None:
    operator_keys()
    api_gateway.enqueue((403, {}, refusal))

    answer = requests.get(f"{console}/providers", timeout=10)

    assert answer.status_code == status
    body = answer.json()
    assert body["message"] == next(iter(refusal.values()))
    assert hint_says in body["hint"]


def test_given_credentials_aws_does_not_know_when_the_console_calls_the_api_then_it_shows_the_iam_error_and_a_hint(
        api_gateway: LoopbackProvider, console: str) -> None:
    operator_keys(key_id="AKIAI44QH8DHBEXAMPLE", secret="je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY", token=None)

    answer = requests.get(f"{console}/providers", timeout=10)

    assert answer.status_code == 403
    assert answer.json() == {**INVALID_TOKEN, "hint": (
        "AWS does not know these credentials: check AWS_PROFILE or AWS_ACCESS_KEY_ID "
        "(`aws sts get-caller-identity` shows who you are), then run make console again.")}


def test_given_an_sso_profile_never_logged_in_when_the_console_calls_the_api_then_it_gets_401_with_the_login_command(
        api_gateway: LoopbackProvider, console: str, aws_home: Path) -> None:
    (aws_home / "config").write_text(
        "[profile ops]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = SmsBridgeOperator\n"
        f"region = {REGION}\n\n[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\n"
        f"sso_region = {REGION}\nsso_registration_scopes = sso:account:access\n")
    os.environ["AWS_PROFILE"] = "ops"
    proxy, _ = build("dev", samconfig=ROOT / "samconfig.toml", session=botocore.session.Session(),
                     environ={"SMSBRIDGE_API_URL": api_gateway.url_for("/dev")})
    server = serve(proxy, 0)
    try:
        answer = requests.get(f"{server.url}/providers", timeout=10)
    finally:
        server.stop()

    assert answer.status_code == 401
    assert "SSO session has expired or is not logged in" in answer.json()["message"]
    assert answer.json()["hint"] == "Run `aws sso login --profile ops`, then reload this page."
    assert api_gateway.requests == []


# ---------------------------------------------------------------- the console's files, and only its own origin

@pytest.fixture
def console_files(tmp_path: Path) -> Path:
    folder = tmp_path / "console"
    (folder / "js").mkdir(parents=True)
    (folder / "index.html").write_text("<!doctype html><title>SMS Bridge</title><script type=module src=js/app.js>"
                                       "</script>", encoding="utf-8")
    (folder / "js" / "app.js").write_text("export const ready = true;\n", encoding="utf-8")
    return folder


@pytest.fixture
def console_with_files(api_gateway: LoopbackProvider, aws_home: Path, console_files: Path) -> Iterator[str]:
    os.environ["AWS_REGION"] = REGION
    operator_keys()
    yield from console_for(api_gateway.url_for("/dev"), console_files)


def test_given_the_console_folder_when_the_browser_opens_the_root_then_it_lands_on_the_console_index(
        api_gateway: LoopbackProvider, console_with_files: str) -> None:
    landing = requests.get(f"{console_with_files}/", timeout=10)
    script = requests.get(f"{console_with_files}/console/js/app.js", timeout=10)

    assert [step.headers["Location"] for step in landing.history] == ["/console/"]
    assert landing.text.startswith("<!doctype html><title>SMS Bridge</title>")
    assert "script-src 'self'" in landing.headers["Content-Security-Policy"]
    assert script.headers["Content-Type"].startswith("text/javascript")
    assert script.text == "export const ready = true;\n"
    assert api_gateway.requests == []


def test_given_a_path_out_of_the_console_folder_when_it_is_asked_for_then_404_and_nothing_is_read(
        api_gateway: LoopbackProvider, console_with_files: str) -> None:
    host, port = console_with_files.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.request("GET", "/console/%2e%2e/%2e%2e/samconfig.toml")
    answer = connection.getresponse()

    assert answer.status == 404
    assert b"stack_name" not in answer.read()


def test_given_a_symbolic_link_out_of_the_console_folder_when_it_is_asked_for_then_404(
        console_files: Path, console_with_files: str) -> None:
    (console_files / "settings.toml").symlink_to(ROOT / "samconfig.toml")

    answer = requests.get(f"{console_with_files}/console/settings.toml", timeout=10)

    assert answer.status_code == 404
    assert "stack_name" not in answer.text


@pytest.mark.parametrize("headers", [
    {"Origin": "https://attacker.example"},
    {"Origin": "null"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Host": "rebound.attacker.example"},
])
def test_given_another_site_in_the_browser_when_it_posts_to_the_console_then_nothing_is_signed_or_forwarded(
        api_gateway: LoopbackProvider, console_with_files: str, headers: dict[str, str]) -> None:
    answer = requests.post(f"{console_with_files}/messages", json={"to": "+33612345678", "text": "spam"},
                           headers=headers, timeout=10)

    assert answer.status_code == 403
    assert "hint" in answer.json()
    assert api_gateway.requests == []


def test_given_the_console_itself_when_it_posts_with_its_own_origin_then_the_call_is_forwarded(
        api_gateway: LoopbackProvider, console_with_files: str) -> None:
    answer = requests.post(f"{console_with_files}/messages", json={"to": "+33612345678", "text": "hi"},
                           headers={"Origin": console_with_files, "Sec-Fetch-Site": "same-origin"}, timeout=10)

    assert answer.status_code == 200
    assert api_gateway.last.json() == {"to": "+33612345678", "text": "hi"}


def test_given_the_console_server_when_it_listens_then_only_127_0_0_1_reaches_it(console_with_files: str) -> None:
    # Linux routes all of 127/8 to the loopback interface: a server bound to every address (0.0.0.0)
    # would accept on 127.0.0.2 too, one bound to 127.0.0.1 alone refuses it, as it refuses the
    # machine's other interfaces.
    port = int(console_with_files.rsplit(":", 1)[1])

    with socket.create_connection(("127.0.0.1", port), timeout=2):
        pass
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.2", port), timeout=2):
        pass


# ---------------------------------------------------------------- samconfig.toml's stages

@pytest.mark.parametrize(("stage", "stack"), [("dev", "smsbridge-dev"), ("staging", "smsbridge-staging"),
                                              ("prod", "smsbridge-prod")])
def test_given_samconfig_when_a_stage_is_named_then_its_stack_is_the_one_sam_deploy_created(stage: str, stack: str) -> None:
    assert stage_config(stage, ROOT / "samconfig.toml").stack_name == stack


def test_given_a_stage_samconfig_does_not_know_when_console_starts_then_it_lists_the_stages() -> None:
    with pytest.raises(ValueError, match="stage 'qa' is not in samconfig.toml: its stages are dev, prod, staging"):
        stage_config("qa", ROOT / "samconfig.toml")


def test_given_a_stage_with_its_own_region_in_samconfig_when_the_stack_is_looked_up_then_that_region_is_used(
        tmp_path: Path, aws_home: Path) -> None:
    samconfig = tmp_path / "samconfig.toml"
    samconfig.write_text('version = 0.1\n[default.global.parameters]\nstack_name = "smsbridge-dev"\n'
                         '[eu.deploy.parameters]\nstack_name = "smsbridge-eu"\nregion = "eu-central-1"\n'
                         'parameter_overrides = "Stage=eu"\n')
    os.environ["AWS_REGION"] = "us-east-1"

    proxy, where = build("eu", samconfig=samconfig, session=botocore.session.Session(), environ={})

    assert where == "stack smsbridge-eu in eu-central-1 (stage eu)"
    assert isinstance(proxy, ConsoleProxy) and isinstance(proxy.api, StackApi)


def test_given_an_execute_api_url_when_it_is_injected_then_requests_are_signed_for_its_own_region(aws_home: Path) -> None:
    os.environ["AWS_REGION"] = "us-east-1"
    proxy, _ = build("dev", samconfig=ROOT / "samconfig.toml", session=botocore.session.Session(),
                     environ={"SMSBRIDGE_API_URL": "https://a1b2c3d4e5.execute-api.ap-southeast-2.amazonaws.com/dev/"})

    target = proxy.api.target()

    assert (target.url, target.region) == ("https://a1b2c3d4e5.execute-api.ap-southeast-2.amazonaws.com/dev",
                                           "ap-southeast-2")
