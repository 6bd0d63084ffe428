"""Counts the AWS calls a piece of code makes, by botocore's `before-call` event on every client
created while counting (the adapters' clients are created at their first use, after the wiring's
caches are cleared). SQS receive and delete are Lambda's event source mapping's: not counted."""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import boto3
import botocore.handlers

NOT_THE_FUNCTIONS = {("sqs", "ReceiveMessage"), ("sqs", "DeleteMessage"), ("sqs", "DeleteMessageBatch")}


@contextmanager
def counting_aws_calls() -> Iterator[Counter]:
    """Yields a Counter of (service, operation) for the clients created from now on; callers
    clear the wiring's cached adapters first so that theirs are among them."""
    calls: Counter = Counter()

    def count(model, **_) -> None:
        key = (model.service_model.endpoint_prefix, model.name)
        if key not in NOT_THE_FUNCTIONS:
            calls[key] += 1

    # A built-in handler reaches every botocore session created from now on (an adapter may make
    # its own session), and each client copies its session's handlers when it is created.
    handler = ("before-call", count)
    botocore.handlers.BUILTIN_HANDLERS.append(handler)
    boto3.DEFAULT_SESSION = None
    try:
        yield calls
    finally:
        botocore.handlers.BUILTIN_HANDLERS.remove(handler)
        boto3.DEFAULT_SESSION = None
