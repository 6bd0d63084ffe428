"""The `sigv4` auth type (SPEC 3): AWS Signature Version 4, signed at the time given, with the keys given."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import SecretStr, ValidationError

from smsbridge.core.auth import AuthError, AwsCredentials, authenticate
from smsbridge.models.provider import ProviderConfig, SigV4Auth
from smsbridge.models.wire import HttpRequest

# AWS's Signature Version 4 test suite ("get-vanilla"): its keys, time, scope and published signature.
SUITE_KEY_ID = "AKIDEXAMPLE"
SUITE_SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
SUITE_TIME = datetime(2015, 8, 30, 12, 36, 0, tzinfo=UTC)
SUITE_AUTH = SigV4Auth(type="sigv4", service="service", region="us-east-1",
                       access_key_id=SUITE_KEY_ID, secret_access_key=SUITE_SECRET)
GET_VANILLA_SIGNATURE = "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"

NOW = datetime(2026, 11, 30, 9, 15, 42, tzinfo=UTC)
ROLE = AwsCredentials("ASIAROLEEXAMPLE00001", "role-secret/abc+def", "role-session-token")
SEND = HttpRequest("POST", "https://sms-voice.eu-west-1.amazonaws.com/",
                   headers={"Content-Type": "application/x-amz-json-1.0",
                            "X-Amz-Target": "PinpointSMSVoiceV2.SendTextMessage"},
                   body='{"DestinationPhoneNumber":"+33612345678","MessageBody":"Code 1234 é"}'.encode())


def role_auth(**fields) -> SigV4Auth:
    return SigV4Auth(type="sigv4", service="sms-voice", region="eu-west-1", **fields)


def signature_of(request: HttpRequest) -> str:
    return request.headers["Authorization"].rpartition("Signature=")[2]


def test_given_awss_get_vanilla_example_when_signed_then_the_signature_is_the_published_one() -> None:
    signed = authenticate(HttpRequest("GET", "https://example.amazonaws.com/"), SUITE_AUTH, SUITE_TIME)

    assert signed.headers["Authorization"] == (
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
        f"SignedHeaders=host;x-amz-date, Signature={GET_VANILLA_SIGNATURE}")
    assert signed.headers["X-Amz-Date"] == "20150830T123600Z"


def test_given_a_wrong_secret_when_signed_then_the_signature_differs() -> None:
    wrong = SUITE_AUTH.model_copy(update={"secret_access_key": SecretStr("wrong")})

    signed = authenticate(HttpRequest("GET", "https://example.amazonaws.com/"), wrong, SUITE_TIME)

    assert signature_of(signed) != GET_VANILLA_SIGNATURE


def test_given_the_time_when_signed_then_the_date_and_scope_are_that_time_not_the_clock() -> None:
    signed = authenticate(SEND, role_auth(), NOW, aws_credentials=ROLE)

    assert signed.headers["X-Amz-Date"] == "20261130T091542Z"
    assert "Credential=ASIAROLEEXAMPLE00001/20261130/eu-west-1/sms-voice/aws4_request" in signed.headers["Authorization"]


def test_given_role_credentials_when_signed_then_the_session_token_is_sent_and_signed() -> None:
    signed = authenticate(SEND, role_auth(), NOW, aws_credentials=ROLE)

    assert signed.headers["X-Amz-Security-Token"] == "role-session-token"
    assert ("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target"
            in signed.headers["Authorization"])


def test_given_keys_in_the_configuration_when_signed_then_they_win_over_the_role() -> None:
    auth = role_auth(access_key_id="AKIAUSEREXAMPLE00001", secret_access_key="user-secret")

    signed = authenticate(SEND, auth, NOW, aws_credentials=ROLE)

    assert "Credential=AKIAUSEREXAMPLE00001/" in signed.headers["Authorization"]
    assert "X-Amz-Security-Token" not in signed.headers


def test_given_the_body_changes_when_signed_then_the_signature_changes() -> None:
    other = HttpRequest(SEND.method, SEND.url, SEND.headers, SEND.body.replace(b"1234", b"9999"))

    assert (signature_of(authenticate(SEND, role_auth(), NOW, aws_credentials=ROLE))
            != signature_of(authenticate(other, role_auth(), NOW, aws_credentials=ROLE)))


def test_given_the_request_when_signed_then_its_body_url_and_headers_are_kept() -> None:
    signed = authenticate(SEND, role_auth(), NOW, aws_credentials=ROLE)

    assert (signed.method, signed.url, signed.body) == (SEND.method, SEND.url, SEND.body)
    assert signed.headers["X-Amz-Target"] == "PinpointSMSVoiceV2.SendTextMessage"
    assert signed.headers["Content-Type"] == "application/x-amz-json-1.0"


def test_given_no_keys_and_no_role_when_signed_then_a_clear_error_says_so() -> None:
    with pytest.raises(AuthError, match="no AWS credentials"):
        authenticate(SEND, role_auth(), NOW)


def test_aws_credentials_never_show_their_secret_in_a_repr() -> None:
    assert "role-secret" not in repr(ROLE) and "role-session-token" not in repr(ROLE)


# ---------------------------------------------------------------- the model

def test_given_an_access_key_without_its_secret_when_validated_then_it_is_refused() -> None:
    with pytest.raises(ValidationError, match="both `access_key_id` and `secret_access_key`"):
        role_auth(access_key_id="AKIAUSEREXAMPLE00001")


def test_given_a_region_that_is_not_one_when_validated_then_it_is_refused() -> None:
    with pytest.raises(ValidationError, match="region"):
        SigV4Auth(type="sigv4", service="sms-voice", region="Europe (Paris)")


def test_given_a_sigv4_provider_when_its_secret_key_is_dumped_then_it_is_masked() -> None:
    config = ProviderConfig(id="aws", request={"url": "https://sms-voice.eu-west-1.amazonaws.com/",
                                               "body": {"DestinationPhoneNumber": "{{to}}", "MessageBody": "{{text}}"}},
                            auth={"type": "sigv4", "service": "sms-voice", "region": "eu-west-1",
                                  "access_key_id": "AKIAUSEREXAMPLE00001", "secret_access_key": "user-secret"})

    assert "user-secret" not in config.model_dump_json()
    assert "user-secret" not in repr(config)


def test_given_a_json_body_when_a_json_media_type_is_named_then_it_is_sent_instead_of_application_json() -> None:
    from smsbridge.core.render import render_request
    from smsbridge.models.message import OutboundMessage

    config = ProviderConfig(id="aws", request={"url": "https://sms-voice.eu-west-1.amazonaws.com/",
                                               "headers": {"Content-Type": "application/x-amz-json-1.0"},
                                               "body": {"DestinationPhoneNumber": "{{to}}", "MessageBody": "{{text}}"}})

    request = render_request(config, [OutboundMessage(to="+33612345678", text="hi")], NOW)

    assert [value for name, value in request.headers.items() if name.lower() == "content-type"] == [
        "application/x-amz-json-1.0"]


@pytest.mark.parametrize("content_type, value", [("json", "text/plain"), ("form", "application/json")])
def test_given_a_content_type_header_that_does_not_fit_the_body_when_validated_then_it_is_refused(
        content_type: str, value: str) -> None:
    with pytest.raises(ValidationError, match="set by the bridge from content_type"):
        ProviderConfig(id="p", request={"url": "https://sms.example.com", "content_type": content_type,
                                        "headers": {"Content-Type": value}, "body": {"to": "{{to}}", "t": "{{text}}"}})
