"""The `aws-end-user-messaging` preset with the `sigv4` auth type, on the wire, against boto3's
`pinpoint-sms-voice-v2` client (`SendTextMessage`) pointed at the same loopback server."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from smsbridge.adapters.http import ProviderTransport
from smsbridge.adapters.provider_client import ProviderClient
from smsbridge.clock import utc_now
from smsbridge.core.auth import AwsCredentials, authenticate
from smsbridge.core.presets import resolve_preset
from smsbridge.core.render import render_request
from smsbridge.models.message import OutboundMessage
from smsbridge.models.provider import ProviderConfig
from smsbridge.models.wire import HttpRequest
from tests.support.loopback import LoopbackProvider, RecordedRequest
from tests.support.sigv4_check import credential_scope, signature_verifies

REGION = "eu-west-1"
KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKEN = "IQoJb3JpZ2luX2VjEXAMPLEsessiontoken+/="
TEXT = 'Say "hi" & l\'été\nCode: 1234 ☕🚀'
TO = "+33612345678"
SENDER = "ACME"


@pytest.fixture
def aws(loopback_provider: LoopbackProvider) -> LoopbackProvider:
    """The loopback server answering as AWS does: the signature checked with SECRET."""
    def answer(request: RecordedRequest) -> Any:
        if not signature_verifies(request, SECRET):
            return 403, {"Content-Type": "application/x-amz-json-1.0"}, {
                "__type": "InvalidSignatureException", "message": "The request signature we calculated does not match"}
        return 200, {"Content-Type": "application/x-amz-json-1.0"}, {"MessageId": "f7e4b1c2-0000-4000-8000-000000000001"}
    loopback_provider.handler = answer
    return loopback_provider


@pytest.fixture
def client() -> Iterator[ProviderClient]:
    with ProviderTransport(local_runtime=True) as transport:
        yield ProviderClient(transport, aws_credentials=lambda: AwsCredentials(KEY_ID, SECRET, TOKEN))


def boto3_sends(aws: LoopbackProvider) -> RecordedRequest:
    sms = boto3.client("pinpoint-sms-voice-v2", region_name=REGION, endpoint_url=aws.url_for("/"),
                       aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET, aws_session_token=TOKEN)
    sms.send_text_message(DestinationPhoneNumber=TO, OriginationIdentity=SENDER, MessageBody=TEXT)
    return aws.last


def preset_provider(aws: LoopbackProvider, **auth: str) -> ProviderConfig:
    return ProviderConfig.model_validate(resolve_preset({
        "id": "aws", "preset": "aws-end-user-messaging", "request": {"url": aws.url_for("/")},
        "auth": {"region": REGION, **auth}}))


def preset_sends(aws: LoopbackProvider, client: ProviderClient, provider: ProviderConfig | None = None) -> RecordedRequest:
    provider = provider or preset_provider(aws)
    request = render_request(provider, [OutboundMessage(id="m-1", to=TO, text=TEXT, sender=SENDER)], utc_now())
    response = client.send(provider, request, utc_now())
    assert response.status_code == 200, response.body
    return aws.last


def test_given_the_request_boto3_sent_when_the_bridge_signs_it_at_the_same_time_then_the_signature_is_identical(
        aws: LoopbackProvider) -> None:
    sent = boto3_sends(aws)
    at = datetime.strptime(sent.header("x-amz-date"), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    unsigned = HttpRequest("POST", aws.url_for("/"), body=sent.body, headers={
        "X-Amz-Target": sent.header("x-amz-target"), "Content-Type": sent.header("content-type")})
    auth = preset_provider(aws).auth

    signed = authenticate(unsigned, auth, at, aws_credentials=AwsCredentials(KEY_ID, SECRET, TOKEN))
    wrong = authenticate(unsigned, auth, at, aws_credentials=AwsCredentials(KEY_ID, SECRET + "x", TOKEN))

    assert signed.headers["Authorization"] == sent.header("authorization")
    assert signed.headers["X-Amz-Security-Token"] == sent.header("x-amz-security-token") == TOKEN
    assert wrong.headers["Authorization"] != sent.header("authorization")


def test_given_the_same_message_when_sent_by_boto3_and_by_the_preset_then_aws_gets_the_same_call(
        aws: LoopbackProvider, client: ProviderClient) -> None:
    theirs = boto3_sends(aws)
    ours = preset_sends(aws, client)

    assert (ours.method, ours.path, ours.query) == (theirs.method, theirs.path, theirs.query) == ("POST", "/", "")
    for header in ("x-amz-target", "content-type", "x-amz-security-token", "host"):
        assert ours.header(header) == theirs.header(header), header
    assert credential_scope(ours) == credential_scope(theirs)
    assert ours.json() == theirs.json() == {"DestinationPhoneNumber": TO, "OriginationIdentity": SENDER,
                                           "MessageBody": TEXT}
    assert signature_verifies(theirs, SECRET) and signature_verifies(ours, SECRET)


def test_given_a_wrong_secret_key_when_the_preset_sends_then_aws_refuses_the_signature(
        aws: LoopbackProvider) -> None:
    provider = preset_provider(aws, access_key_id=KEY_ID, secret_access_key="not-the-secret")
    request = render_request(provider, [OutboundMessage(to=TO, text=TEXT, sender=SENDER)], utc_now())

    with ProviderTransport(local_runtime=True) as transport:
        response = ProviderClient(transport).send(provider, request, utc_now())

    assert response.status_code == 403
    assert not signature_verifies(aws.last, SECRET)


def test_given_no_keys_when_the_preset_sends_then_it_signs_with_the_functions_role_from_the_environment(
        aws: LoopbackProvider, monkeypatch: pytest.MonkeyPatch) -> None:
    # What Lambda gives a function: its role's temporary keys in the environment.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_SESSION_TOKEN", TOKEN)
    with ProviderTransport(local_runtime=True) as transport:
        received = preset_sends(aws, ProviderClient(transport))

    assert credential_scope(received).startswith(f"{KEY_ID}/") and credential_scope(received).endswith(
        f"/{REGION}/sms-voice/aws4_request")
    assert received.header("x-amz-security-token") == TOKEN
    assert signature_verifies(received, SECRET)
