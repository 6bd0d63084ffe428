"""The inbound function's AWS resources in moto in-process, made from template.yaml, plus synthetic API Gateway events."""
from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import boto3
from moto import mock_aws

from local.template import Template, create_resources

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
STAGE = "dev"
API_HOST = "abc123defg.execute-api.us-east-1.amazonaws.com"


@dataclass
class LambdaContextStandIn:
    """What Powertools reads of the Lambda context."""

    function_name: str = "smsbridge-inbound-dev"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:smsbridge-inbound-dev"
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"
    function_version: str = "$LATEST"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


@dataclass
class InboundStack:
    """The tables and queue of the template, by logical id, and the inbound function's environment."""

    environment: dict[str, str]
    tables: dict[str, str]
    queue_url: str

    def table(self, logical_id: str):
        return boto3.resource("dynamodb", region_name=REGION).Table(self.tables[logical_id])

    def scan(self, logical_id: str) -> list[dict[str, Any]]:
        table, items, kwargs = self.table(logical_id), [], {}
        while True:
            page = table.scan(**kwargs)
            items.extend(page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return sorted(items, key=lambda i: json.dumps(i, sort_keys=True, default=str))
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def snapshot(self) -> dict[str, list[dict[str, Any]]]:
        """Every table's items and the queued messages: what a refused webhook must leave as it was."""
        state = {logical_id: self.scan(logical_id) for logical_id in sorted(self.tables)}
        attributes = boto3.client("sqs", region_name=REGION).get_queue_attributes(
            QueueUrl=self.queue_url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
        state["OutboundQueue"] = [attributes["ApproximateNumberOfMessages"]]
        return state

    def queued(self) -> list[dict[str, Any]]:
        """Drain the outbound queue and return the bodies."""
        sqs = boto3.client("sqs", region_name=REGION)
        bodies = []
        while True:
            answer = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10)
            messages = answer.get("Messages", [])
            if not messages:
                return bodies
            for message in messages:
                bodies.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])


def _reset_caches() -> None:
    from smsbridge import settings, wiring

    settings.get_settings.cache_clear()
    for name in dir(wiring):
        builder = getattr(wiring, name)
        if hasattr(builder, "cache_clear"):
            builder.cache_clear()


@contextmanager
def inbound_stack(monkeypatch) -> Iterator[InboundStack]:
    """moto in-process with the template's resources, the inbound function's environment set."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "SmsBridge")
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    with mock_aws():
        template = Template.load(ROOT / "template.yaml", endpoint_url="https://sqs.us-east-1.amazonaws.com",
                                 parameter_overrides={"Stage": STAGE})
        created = create_resources(template, boto3.Session(region_name=REGION))
        environment = dict(template.function("InboundFunction").environment)
        for key, value in environment.items():
            monkeypatch.setenv(key, value)
        _reset_caches()
        try:
            yield InboundStack(environment=environment, tables=dict(created.tables),
                               queue_url=created.queues["OutboundQueue"])
        finally:
            _reset_caches()


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
    from smsbridge.models.provider import ProviderConfig
    from smsbridge.wiring import provider_store

    provider_store().put(ProviderConfig.model_validate(config))
