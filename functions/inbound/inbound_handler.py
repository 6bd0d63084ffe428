"""Lambda handler of `inbound`: the providers' public webhooks, `/inbound/{provider}` and `/status/{provider}`."""
from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response

from smsbridge.clock import utc_now
from smsbridge.core.signatures import WebhookRequest
from smsbridge.observability import logger, metrics
from smsbridge.services.inbound import WebhookAnswer, WebhookRefused
from smsbridge.wiring import inbound_service

app = APIGatewayRestResolver()


@app.route("/inbound/<provider>", method=["GET", "POST"])
def inbound_sms(provider: str) -> Response:
    return _respond(inbound_service().receive_sms(provider, _webhook_request(), utc_now()))


@app.route("/status/<provider>", method=["GET", "POST"])
def delivery_receipt(provider: str) -> Response:
    return _respond(inbound_service().receive_status(provider, _webhook_request(), utc_now()))


@app.exception_handler(WebhookRefused)
def refused(error: WebhookRefused) -> Response:
    return _error(error.status, error.message)


@app.not_found
def no_route(_missing: Exception) -> Response:
    return _error(404, "no such webhook route: use /inbound/{provider} or /status/{provider}")


def _webhook_request() -> WebhookRequest:
    event = app.current_event
    raw: dict[str, Any] = event.raw_event
    headers: dict[str, str] = {}
    for name, values in (raw.get("multiValueHeaders") or {}).items():
        if values:
            headers[str(name).lower()] = str(values[0])
    for name, value in (raw.get("headers") or {}).items():
        if value is not None:
            headers[str(name).lower()] = str(value)
    query: list[tuple[str, str]] = []
    multi = raw.get("multiValueQueryStringParameters") or {}
    if multi:
        query = [(str(k), str(v)) for k, values in multi.items() for v in (values or [])]
    else:
        query = [(str(k), str(v)) for k, v in (raw.get("queryStringParameters") or {}).items() if v is not None]
    context = raw.get("requestContext") or {}
    return WebhookRequest(method=str(raw.get("httpMethod") or "POST"), path=str(raw.get("path") or ""),
                          headers=headers, query=query, body=_raw_body(raw),
                          stage=context.get("stage"), request_path=context.get("path"))


def _raw_body(raw: dict[str, Any]) -> bytes:
    """The body's bytes as the provider sent them (signatures are over these exact bytes)."""
    body = raw.get("body")
    if body is None:
        return b""
    if not isinstance(body, str):
        raise WebhookRefused(400, "the body is not text")
    if raw.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise WebhookRefused(400, "the body is marked base64 but is not") from None
    try:
        return body.encode("utf-8")
    except UnicodeEncodeError:
        raise WebhookRefused(400, "the body is not valid text") from None


def _respond(answer: WebhookAnswer) -> Response:
    body = answer.body if isinstance(answer.body, str) else json.dumps(answer.body)
    return Response(status_code=answer.status, content_type=answer.content_type, body=body)


def _error(status: int, message: str) -> Response:
    return Response(status_code=status, content_type="application/json", body=json.dumps({"message": message}))


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict, context) -> dict:
    return app.resolve(event, context)
