"""Synthetic API Gateway events as the template's API sends them to a function, and the public URL
a provider calls (what webhook signatures cover). Stand up AWS itself with tests.support.stack.moto_stack."""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

STAGE = "dev"
API_HOST = "abc123defg.execute-api.us-east-1.amazonaws.com"


def api_event(method: str, path: str, *, body: bytes | str | None = None, headers: dict[str, str] | None = None,
              query: list[tuple[str, str]] | None = None, base64_body: bool = True, stage: str = STAGE) -> dict:
    """An API Gateway REST (payload 1.0) proxy event as the template's API sends it: with
    `BinaryMediaTypes: */*` every body arrives base64-encoded."""
    headers = {"Host": API_HOST, "X-Forwarded-Proto": "https", "X-Forwarded-Port": "443", **(headers or {})}
    raw = body.encode("utf-8") if isinstance(body, str) else body
    multi_query: dict[str, list[str]] = {}
    for key, value in query or []:
        multi_query.setdefault(key, []).append(value)
    resource = "/" + path.strip("/").split("/")[0] + "/{provider}"
    return {
        "resource": resource, "path": path, "httpMethod": method,
        "headers": headers, "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": {"provider": path.rstrip("/").rsplit("/", 1)[-1]}, "stageVariables": None,
        "requestContext": {"resourcePath": resource, "httpMethod": method, "path": f"/{stage}{path}",
                           "stage": stage, "requestId": "test-request", "accountId": "123456789012",
                           "apiId": API_HOST.split(".")[0], "identity": {"sourceIp": "203.0.113.9"}},
        "body": None if raw is None else (base64.b64encode(raw).decode("ascii") if base64_body else raw.decode("utf-8", "replace")),
        "isBase64Encoded": raw is not None and base64_body,
    }


def public_url(path: str, query: list[tuple[str, str]] | None = None, stage: str = STAGE) -> str:
    """The URL a provider calls for `path` on the deployed API (what Twilio signs)."""
    return f"https://{API_HOST}/{stage}{path}" + (f"?{urlencode(query)}" if query else "")


def form_body(pairs: list[tuple[str, str]]) -> str:
    return urlencode(pairs)


def put_provider(config: dict[str, Any]) -> None:
    """Store a provider document through the function's own provider store (as the admin API would)."""
    from smsbridge.models.provider import ProviderConfig
    from smsbridge.wiring import provider_store

    provider_store().put(ProviderConfig.model_validate(config))


@dataclass
class Answer:
    status: int
    headers: dict[str, Any]
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


@dataclass
class AdminApi:
    """Calls the api function in-process with proxy events, as API Gateway would."""

    stack: Any  # tests.support.stack.Stack

    def call(self, method: str, path: str, body: Any = None, *, raw: str | None = None,
             base64_body: bool = False, content_type: str = "application/json",
             query: dict[str, str | list[str]] | None = None, context_path: str | None = None) -> Answer:
        import api_handler

        text = raw if raw is not None else (json.dumps(body) if body is not None else None)
        if text is not None and base64_body:
            text = base64.b64encode(text.encode()).decode()
        event = {
            "resource": path, "path": path, "httpMethod": method,
            "headers": {"Content-Type": content_type, "Host": "api.example.com"},
            "multiValueHeaders": {"Content-Type": [content_type], "Host": ["api.example.com"]},
            "queryStringParameters": {k: (v[-1] if isinstance(v, list) else v) for k, v in query.items()} if query else None,
            "multiValueQueryStringParameters": ({k: (v if isinstance(v, list) else [v]) for k, v in query.items()}
                                                if query else None),
            "pathParameters": None,
            "stageVariables": None,
            "requestContext": {"stage": "dev", "requestId": "req-1", "httpMethod": method, "path": context_path or f"/dev{path}",
                               "resourcePath": path, "identity": {"sourceIp": "127.0.0.1"}},
            "body": text, "isBase64Encoded": base64_body,
        }
        from tests.support.stack import LambdaContext

        answer = api_handler.lambda_handler(event, LambdaContext())
        body_text = answer["body"] or ""
        if answer.get("isBase64Encoded"):
            body_text = base64.b64decode(body_text).decode()
        headers = {k.lower(): v for k, v in (answer.get("multiValueHeaders") or answer.get("headers") or {}).items()}
        return Answer(answer["statusCode"], headers, body_text)

    def queued(self) -> list[dict[str, Any]]:
        return self.stack.queued()

    def queued_raw(self) -> list[str]:
        """Drain the outbound queue and return the bodies as they are."""
        sqs, bodies = self.stack.session.client("sqs"), []
        while messages := sqs.receive_message(QueueUrl=self.stack.queue_url, MaxNumberOfMessages=10).get("Messages"):
            for message in messages:
                bodies.append(message["Body"])
                sqs.delete_message(QueueUrl=self.stack.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return bodies
