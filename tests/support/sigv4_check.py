"""Checks a request's AWS Signature Version 4 the way AWS does, written from AWS's documentation rather
than with botocore, so that it can catch a mistake in how the bridge uses botocore's signer.

https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
"""
from __future__ import annotations

import hashlib
import hmac
from urllib.parse import parse_qsl, quote

from tests.support.loopback import RecordedRequest


def expected_signature(request: RecordedRequest, secret_access_key: str) -> str:
    """The signature AWS would compute for `request` as received, with `secret_access_key`."""
    fields = _authorization_fields(request)
    _, date, region, service, _ = fields["Credential"].split("/")
    signed_headers = fields["SignedHeaders"].split(";")
    headers = request.headers
    canonical_headers = "".join(f"{name}:{' '.join(headers[name].split())}\n" for name in signed_headers)
    query = "&".join(f"{quote(key, safe='-_.~')}={quote(value, safe='-_.~')}"
                     for key, value in sorted(parse_qsl(request.query, keep_blank_values=True)))
    canonical_request = "\n".join([
        request.method, quote(request.path or "/", safe="/-_.~"), query, canonical_headers,
        fields["SignedHeaders"], hashlib.sha256(request.body).hexdigest()])
    scope = f"{date}/{region}/{service}/aws4_request"
    string_to_sign = "\n".join(["AWS4-HMAC-SHA256", headers["x-amz-date"], scope,
                                hashlib.sha256(canonical_request.encode()).hexdigest()])
    key = f"AWS4{secret_access_key}".encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


def signature_verifies(request: RecordedRequest, secret_access_key: str) -> bool:
    """Whether AWS would accept the request's signature (its date is not checked)."""
    fields = _authorization_fields(request)
    if "host" not in fields.get("SignedHeaders", "").split(";"):
        return False
    return hmac.compare_digest(fields.get("Signature", ""), expected_signature(request, secret_access_key))


def credential_scope(request: RecordedRequest) -> str:
    """`ACCESS_KEY_ID/date/region/service/aws4_request` of the request's Authorization header."""
    return _authorization_fields(request)["Credential"]


def _authorization_fields(request: RecordedRequest) -> dict[str, str]:
    algorithm, _, rest = (request.header("authorization") or "").partition(" ")
    if algorithm != "AWS4-HMAC-SHA256":
        return {"Credential": "////", "SignedHeaders": "", "Signature": ""}
    return dict(part.strip().split("=", 1) for part in rest.split(","))
