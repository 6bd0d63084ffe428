"""The AWS side of SMS Bridge in-process for tests: moto (`mock_aws`) with every resource created
from template.yaml, the functions' environment set, and a small stand-in for Lambda's SQS poller."""
from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws

from local.template import Template, create_resources

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"


@dataclass
class Stack:
    template: Template
    env: dict[str, str]
    session: Any

    @property
    def queue_url(self) -> str:
        return self.env["OUTBOUND_QUEUE_URL"]

    @property
    def dead_letter_url(self) -> str:
        return self.env["DEAD_LETTER_QUEUE_URL"]

    def table(self, env_name: str):
        return self.session.resource("dynamodb").Table(self.env[env_name])

    def enqueue(self, body: Any) -> str:
        """Put a message on the outbound queue as an application would; returns the SQS message id."""
        text = body if isinstance(body, str) else json.dumps(body)
        return self.session.client("sqs").send_message(QueueUrl=self.queue_url, MessageBody=text)["MessageId"]

    def receive(self, max_messages: int = 10, wait_s: int = 0) -> list[dict]:
        """Receive what is visible now, as the Lambda SQS event records the poller would build."""
        answer = self.session.client("sqs").receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=max_messages, WaitTimeSeconds=wait_s,
            AttributeNames=["All"], MessageAttributeNames=["All"])
        return [lambda_sqs_record(m, self.template.arn("OutboundQueue")) for m in answer.get("Messages", [])]

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
        for record in records:
            if record["messageId"] not in failed:
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=record["receiptHandle"])
        return response


def lambda_sqs_record(message: dict, queue_arn: str) -> dict:
    """One received SQS message in the shape of a Lambda SQS event record."""
    return {
        "messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"], "body": message["Body"],
        "attributes": message.get("Attributes", {}), "messageAttributes": {},
        "md5OfBody": message["MD5OfBody"], "eventSource": "aws:sqs", "eventSourceARN": queue_arn,
        "awsRegion": REGION,
    }


class LambdaContext:
    """What handlers read of Lambda's context object."""

    function_name = "smsbridge-test"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:smsbridge-test"
    aws_request_id = "test-request"

    def __init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 30_000


@contextmanager
def moto_stack(function: str = "SendFunction") -> Iterator[Stack]:
    """moto in-process, with the template's resources and `function`'s environment in os.environ."""
    saved = dict(os.environ)
    os.environ.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION})
    os.environ.pop("AWS_ENDPOINT_URL", None)
    try:
        with mock_aws():
            template = Template.load(ROOT / "template.yaml", endpoint_url=f"https://sqs.{REGION}.amazonaws.com")
            session = boto3.session.Session(region_name=REGION)
            create_resources(template, session)
            env = {**template.function(function).environment, "SMSBRIDGE_LOCAL": "true",
                   "POWERTOOLS_METRICS_NAMESPACE": "SmsBridge"}
            os.environ.update(env)
            reset_cached_clients()
            yield Stack(template=template, env=env, session=session)
    finally:
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
