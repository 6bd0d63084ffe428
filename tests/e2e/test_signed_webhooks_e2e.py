"""Native webhook signatures through the local runtime (issue 9, Must show 1): for each provider's own scheme, a
provider saved from its preset through the admin API; a STOP webhook signed as the provider signs it (by its
official SDK, or by this test's signer that the SDK's verifier accepts) opts the number out; the same webhook with
one byte changed, or replayed outside the window, answers 401/403 and changes nothing."""
from __future__ import annotations

import base64
import hashlib
import json
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote, urlencode

import jwt
import nexmo
import pytest
import requests
from messagebird.request_validator import RequestValidator as MessageBirdValidator
from nacl.signing import SigningKey
from plivo.utils.signature_v3 import construct_post_url, get_signature_v3, validate_v3_signature
from sinch.domains.authentication.sinch_events.v1.authentication_validation import (
    calculate_sinch_event_signature,
    compute_signed_data,
)
from sinch.domains.sms.sinch_events.v1.sms_sinch_event import SmsSinchEvent
from telnyx.lib.webhook_verification import verify_webhook_signature
from twilio.request_validator import RequestValidator as TwilioValidator
from vonage_jwt.verify_jwt import verify_signature as vonage_jwt_verified

from tests.e2e.local_stack import LocalStack

SHORTCODE = "+33757000000"
OUTSIDE_WINDOW_S = 400  # every scheme's tolerance_s defaults to 300
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


@dataclass
class Webhook:
    body: bytes
    headers: dict[str, str]


@dataclass
class Scheme:
    """How one provider's document is written and how its webhooks are signed (`at` is a unix time)."""

    preset: str
    document: dict
    sign: Callable[[str, str, int], Webhook]  # (url, phone, at) -> the STOP webhook
    replayable: bool = True  # False where the scheme carries no time (Twilio, Plivo): no window to fall out of


# ---------------------------------------------------------------- the signers

TWILIO_TOKEN = "twilio-auth-token-e2e"


def _twilio(url: str, phone: str, at: int) -> Webhook:
    params = {"From": phone, "To": SHORTCODE, "Body": "STOP", "MessageSid": f"SM{uuid.uuid4().hex}"}
    signature = TwilioValidator(TWILIO_TOKEN).compute_signature(url, params)
    return Webhook(urlencode(params).encode(), {"Content-Type": FORM, "X-Twilio-Signature": signature})


VONAGE_SECRET = "vonage-signature-secret-e2e-0123"


def _vonage_sig(url: str, phone: str, at: int) -> Webhook:
    params = {"msisdn": phone.lstrip("+"), "to": SHORTCODE.lstrip("+"), "text": "STOP", "type": "text",
              "messageId": uuid.uuid4().hex[:16].upper(), "keyword": "STOP", "nonce": uuid.uuid4().hex,
              "timestamp": str(at)}
    params["sig"] = nexmo.Client(key="abcd1234", signature_secret=VONAGE_SECRET).signature(dict(params))
    assert nexmo.Client(key="abcd1234", signature_secret=VONAGE_SECRET).check_signature(dict(params))
    return Webhook(urlencode(params).encode(), {"Content-Type": FORM})


def _vonage_jwt(url: str, phone: str, at: int) -> Webhook:
    body = json.dumps({"channel": "sms", "message_uuid": str(uuid.uuid4()), "to": SHORTCODE.lstrip("+"),
                       "from": phone.lstrip("+"), "text": "STOP", "message_type": "text"}).encode()
    token = jwt.encode({"iat": at, "jti": str(uuid.uuid4()), "iss": "Vonage", "api_key": "abcd1234",
                        "payload_hash": hashlib.sha256(body).hexdigest()}, VONAGE_SECRET, algorithm="HS256")
    assert vonage_jwt_verified(token, VONAGE_SECRET)  # the SDK only verifies: our signer, its verdict
    return Webhook(body, {"Content-Type": JSON, "Authorization": f"Bearer {token}"})


PLIVO_TOKEN = "plivo-auth-token-e2e"


def _plivo(url: str, phone: str, at: int) -> Webhook:
    params = {"From": phone.lstrip("+"), "To": SHORTCODE.lstrip("+"), "Text": "STOP", "Type": "sms",
              "MessageUUID": str(uuid.uuid4())}
    nonce = str(random.randint(10**19, 10**20 - 1))
    signature = get_signature_v3(PLIVO_TOKEN.encode(), construct_post_url(url, dict(params)).decode(),
                                 nonce.encode()).decode()
    assert validate_v3_signature("POST", url, nonce, PLIVO_TOKEN, signature, dict(params))
    return Webhook(urlencode(params).encode(), {"Content-Type": FORM, "X-Plivo-Signature-V3": signature,
                                                "X-Plivo-Signature-V3-Nonce": nonce})


TELNYX_KEY = SigningKey(bytes(range(32)))
TELNYX_PUBLIC_KEY = base64.b64encode(bytes(TELNYX_KEY.verify_key)).decode()


def _telnyx(url: str, phone: str, at: int) -> Webhook:
    body = json.dumps({"data": {"event_type": "message.received", "id": str(uuid.uuid4()),
                                "payload": {"id": str(uuid.uuid4()), "from": {"phone_number": phone},
                                            "to": [{"phone_number": SHORTCODE}], "text": "STOP"}}}).encode()
    headers = {"Content-Type": JSON, "telnyx-timestamp": str(at),
               "telnyx-signature-ed25519": base64.b64encode(TELNYX_KEY.sign(f"{at}|".encode() + body).signature)
               .decode()}
    if abs(time.time() - at) < 300:  # the SDK reads the wall clock: it can judge the fresh webhook only
        verify_webhook_signature(body, headers, TELNYX_PUBLIC_KEY)
    return Webhook(body, headers)


MESSAGEBIRD_KEY = "messagebird-signing-key-e2e-0123"


def _messagebird(url: str, phone: str, at: int) -> Webhook:
    body = urlencode({"id": uuid.uuid4().hex, "originator": phone.lstrip("+"), "recipient": SHORTCODE.lstrip("+"),
                      "body": "STOP"}).encode()
    token = jwt.encode({"iss": "MessageBird", "nbf": at, "exp": at + 60, "jti": str(uuid.uuid4()),
                        "url_hash": hashlib.sha256(url.encode()).hexdigest(),
                        "payload_hash": hashlib.sha256(body).hexdigest()}, MESSAGEBIRD_KEY, algorithm="HS256")
    if abs(time.time() - at) < 60:  # the SDK reads the wall clock: it can judge the fresh webhook only
        MessageBirdValidator(MESSAGEBIRD_KEY).validate_signature(token, url, body)
    return Webhook(body, {"Content-Type": FORM, "MessageBird-Signature-JWT": token})


SINCH_SECRET = "sinch-callback-secret-e2e"


def _sinch(url: str, phone: str, at: int) -> Webhook:
    body = json.dumps({"type": "mo_text", "id": uuid.uuid4().hex, "from": phone.lstrip("+"),
                       "to": SHORTCODE.lstrip("+"), "body": "STOP"}).encode()
    nonce = uuid.uuid4().hex
    headers = {"Content-Type": JSON, "x-sinch-webhook-signature-nonce": nonce,
               "x-sinch-webhook-signature-timestamp": str(at), "x-sinch-webhook-signature-algorithm": "HmacSHA256",
               "x-sinch-webhook-signature": calculate_sinch_event_signature(
                   compute_signed_data(body.decode(), nonce, str(at)), SINCH_SECRET)}
    assert SmsSinchEvent(SINCH_SECRET).validate_authentication_header(headers, body)
    return Webhook(body, headers)


NO_REPLIES = {"opt_in": None, "opt_out": None, "help": None}  # nothing to send to the real providers' hosts

SCHEMES = {
    "twilio": Scheme("twilio", {"auth": {"username": "AC0123456789abcdef", "password": TWILIO_TOKEN}}, _twilio,
                     replayable=False),
    "vonage-sig": Scheme("vonage", {"auth": {"username": "abcd1234", "password": "api-secret"},
                                    "inbound": {"auth": {"secret": VONAGE_SECRET}}}, _vonage_sig),
    "vonage-jwt": Scheme("vonage", {"auth": {"username": "abcd1234", "password": "api-secret"},
                                    "inbound": {"auth": {"secret": VONAGE_SECRET}, "format": "json",
                                                "fields": {"from": "from", "to": "to", "text": "text",
                                                           "id": "message_uuid"}}}, _vonage_jwt),
    "plivo": Scheme("plivo", {"auth": {"username": "MAXXXXXXXXXXXXXXXXXX", "password": PLIVO_TOKEN}}, _plivo,
                    replayable=False),
    "telnyx": Scheme("telnyx", {"auth": {"token": "telnyx-api-key"},
                                "inbound": {"auth": {"public_key": TELNYX_PUBLIC_KEY}}}, _telnyx),
    "messagebird": Scheme("messagebird", {"auth": {"token": "access-key"},
                                          "inbound": {"auth": {"secret": MESSAGEBIRD_KEY}}}, _messagebird),
    "sinch": Scheme("sinch", {"auth": {"token": "api-token"}, "inbound": {"auth": {"secret": SINCH_SECRET}}}, _sinch),
}


# ---------------------------------------------------------------- what a user does

def _save_provider(stack: LocalStack, name: str, scheme: Scheme) -> str:
    provider_id = f"{name}-{uuid.uuid4().hex[:6]}"
    inbound = {**scheme.document.get("inbound", {}), "replies": NO_REPLIES}
    document = {**scheme.document, "id": provider_id, "preset": scheme.preset, "inbound": inbound}
    answer = requests.post(f"{stack.api}/providers", json=document, timeout=10)
    assert answer.status_code == 201, answer.text
    return provider_id


def _post(stack: LocalStack, provider_id: str, webhook: Webhook) -> requests.Response:
    return requests.post(f"{stack.api}/inbound/{provider_id}", data=webhook.body, headers=webhook.headers,
                         timeout=30)


def _consent(stack: LocalStack, provider_id: str, phone: str) -> dict:
    answer = requests.get(f"{stack.api}/consent/{provider_id}/{quote(phone)}", timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _one_byte_changed(webhook: Webhook) -> Webhook:
    """The webhook with the last byte of its STOP changed (the signature left as it was)."""
    index = webhook.body.rindex(b"STOP") + 3
    return Webhook(webhook.body[:index] + b"Q" + webhook.body[index + 1:], webhook.headers)


@pytest.mark.parametrize("name", list(SCHEMES))
def test_a_stop_signed_as_the_provider_signs_it_opts_out_and_a_tampered_or_replayed_one_changes_nothing(
        stack: LocalStack, name: str) -> None:
    scheme = SCHEMES[name]
    # Given a provider saved from the preset through the admin API, and a person's number
    provider_id = _save_provider(stack, name, scheme)
    url = f"{stack.api}/inbound/{provider_id}"
    phone = f"+336{random.randint(10_000_000, 99_999_999)}"
    now = int(time.time())

    # When the STOP webhook arrives with one byte changed, or signed outside the window
    refused = [_post(stack, provider_id, _one_byte_changed(scheme.sign(url, phone, now)))]
    if scheme.replayable:
        refused.append(_post(stack, provider_id, scheme.sign(url, phone, now - OUTSIDE_WINDOW_S)))

    # Then each is refused and the number's consent is untouched
    assert [answer.status_code in (401, 403) for answer in refused] == [True] * len(refused), \
        [(answer.status_code, answer.text) for answer in refused]
    untouched = _consent(stack, provider_id, phone)
    assert (untouched["state"], untouched["history"]) == (None, [])

    # When the webhook arrives as signed
    accepted = _post(stack, provider_id, scheme.sign(url, phone, int(time.time())))

    # Then it is accepted and the number is opted out
    assert accepted.status_code == 200, accepted.text
    assert _consent(stack, provider_id, phone)["state"] == "opted_out"
