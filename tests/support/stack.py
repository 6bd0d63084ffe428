"""The AWS side of SMS Bridge in-process for tests: moto (`mock_aws`) with every resource created
from template.yaml, one function's environment set, a stand-in for Lambda's context object and a
small stand-in for Lambda's SQS poller. The one way tests stand up AWS: `with moto_stack(...)`."""
from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws

from local import iam
from local.resources import create_resources
from local.template import Template

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"


@dataclass
class Stack:
    """The template's resources in moto and the environment of the function under test."""

    template: Template
    env: dict[str, str]
    session: Any
    tables: dict[str, str] = field(default_factory=dict)  # logical id → table name
    queues: dict[str, str] = field(default_factory=dict)  # logical id → queue URL

    @property
    def queue_url(self) -> str:
        return self.env["OUTBOUND_QUEUE_URL"]

    @property
    def bulk_queue_url(self) -> str:
        return self.env["BULK_QUEUE_URL"]

    @property
    def lanes(self) -> dict[str, str]:
        """The queues the send function receives from, by logical id (SPEC 12: NOTIFICATION, MARKETING)."""
        return {"OutboundQueue": self.queue_url, "BulkQueue": self.bulk_queue_url}

    @property
    def dead_letter_url(self) -> str:
        return self.env["DEAD_LETTER_QUEUE_URL"]

    def table(self, logical_id: str):
        """The DynamoDB table of the template's `logical_id` (e.g. "ConsentTable")."""
        return self.session.resource("dynamodb").Table(self.tables[logical_id])

    def scan(self, logical_id: str) -> list[dict[str, Any]]:
        """Every item of the table, in a stable order."""
        table, items, kwargs = self.table(logical_id), [], {}
        while True:
            page = table.scan(**kwargs)
            items.extend(page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return sorted(items, key=lambda i: json.dumps(i, sort_keys=True, default=str))
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def snapshot(self) -> dict[str, list[Any]]:
        """Every table's items and the number of queued messages: what a refused request must leave as it was."""
        state: dict[str, list[Any]] = {logical_id: self.scan(logical_id) for logical_id in sorted(self.tables)}
        for logical_id, url in self.lanes.items():
            attributes = self.session.client("sqs").get_queue_attributes(
                QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
            state[logical_id] = [attributes["ApproximateNumberOfMessages"]]
        return state

    def queued(self, lane: str | None = None) -> list[Any]:
        """Drain both lanes (or the one named by logical id) and return the bodies, decoded from JSON."""
        sqs = self.session.client("sqs")
        bodies = []
        for logical_id, url in self.lanes.items():
            if lane not in (None, logical_id):
                continue
            while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
                for message in messages:
                    bodies.append(json.loads(message["Body"]))
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return bodies

    def enqueue(self, body: Any) -> str:
        """Put a message on the outbound queue as an application would; returns the SQS message id."""
        text = body if isinstance(body, str) else json.dumps(body)
        return self.session.client("sqs").send_message(QueueUrl=self.queue_url, MessageBody=text)["MessageId"]

    def receive(self, max_messages: int = 10, wait_s: int = 0) -> list[dict]:
        """Receive what is visible now on the lanes (OutboundQueue first, then BulkQueue), as the
        Lambda SQS event records the poller would build."""
        records: list[dict] = []
        for logical_id, url in self.lanes.items():
            if len(records) >= max_messages:
                break
            answer = self.session.client("sqs").receive_message(
                QueueUrl=url, MaxNumberOfMessages=max_messages - len(records),
                WaitTimeSeconds=wait_s if logical_id == "OutboundQueue" else 0,
                AttributeNames=["All"], MessageAttributeNames=["All"])
            records += [lambda_sqs_record(m, self.template.arn(logical_id)) for m in answer.get("Messages", [])]
        return records

    def dead_letters(self) -> list[dict]:
        answer = self.session.client("sqs").receive_message(
            QueueUrl=self.dead_letter_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
        return answer.get("Messages", [])

    def deliver(self, records: list[dict], handler: Callable[[dict, Any], dict]) -> dict:
        """Invoke the handler with these records and delete the ones it did not report as failed."""
        if not records:
            return {"batchItemFailures": []}
        response = handler({"Records": records}, LambdaContext())
        failed = {f["itemIdentifier"] for f in response.get("batchItemFailures", [])}
        sqs = self.session.client("sqs")
        by_arn = {self.template.arn(logical_id): url for logical_id, url in self.lanes.items()}
        for record in records:
            if record["messageId"] not in failed:
                sqs.delete_message(QueueUrl=by_arn[record["eventSourceARN"]], ReceiptHandle=record["receiptHandle"])
        return response


def lambda_sqs_record(message: dict, queue_arn: str) -> dict:
    """One received SQS message in the shape of a Lambda SQS event record."""
    return {
        "messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"], "body": message["Body"],
        "attributes": message.get("Attributes", {}), "messageAttributes": {},
        "md5OfBody": message["MD5OfBody"], "eventSource": "aws:sqs", "eventSourceARN": queue_arn,
        "awsRegion": REGION,
    }


@dataclass
class LambdaContext:
    """What handlers and Powertools read of Lambda's context object."""

    function_name: str = "smsbridge-test"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_stream_name: str = "test"
    remaining_ms: int = 30_000

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:123456789012:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@contextmanager
def moto_stack(function: str = "SendFunction", *, metrics: bool = False) -> Iterator[Stack]:
    """moto in-process, with the template's resources and `function`'s environment in os.environ.

    `create_resources` also verifies in SES every sender address the template names (the
    AlertSenderEmail parameter): moto, like SES in its sandbox, refuses unverified senders.
    Metrics are off (`POWERTOOLS_METRICS_DISABLED`) unless `metrics` is set. On exit the
    environment is restored and the cached settings and adapters are forgotten."""
    iam.install_hook()
    saved = dict(os.environ)
    os.environ.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION})
    os.environ.pop("AWS_ENDPOINT_URL", None)
    try:
        with mock_aws():
            template = Template.load(ROOT / "template.yaml", endpoint_url=f"https://sqs.{REGION}.amazonaws.com")
            session = boto3.session.Session(region_name=REGION)
            created = create_resources(template, session)
            # Each handler the test calls runs as its function's invocation, under its own IAM policy.
            guard = iam.IamGuard(template, secrets_client=lambda: session.client("secretsmanager"),
                                 record_to=os.environ.get(iam.RECORD_ENV) or None) if iam.check_enabled() else None
            iam.activate(guard)
            iam.wrap_handlers_on_import(template)
            env = {**template.function(function).environment, "SMSBRIDGE_LOCAL": "true",
                   "POWERTOOLS_METRICS_NAMESPACE": "SmsBridge",
                   "POWERTOOLS_METRICS_DISABLED": "false" if metrics else "true"}
            os.environ.update(env)
            reset_cached_clients()
            yield Stack(template=template, env=env, session=session,
                        tables=dict(created.tables), queues=dict(created.queues))
    finally:
        iam.activate(None)
        reset_cached_clients()
        os.environ.clear()
        os.environ.update(saved)


def reset_cached_clients() -> None:
    """Forget settings and adapters built for an earlier stack."""
    from smsbridge import wiring
    from smsbridge.settings import get_settings

    get_settings.cache_clear()
    for name in dir(wiring):
        cached = getattr(wiring, name)
        if hasattr(cached, "cache_clear"):
            cached.cache_clear()
