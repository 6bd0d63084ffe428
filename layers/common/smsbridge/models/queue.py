"""One SQS record of the send function's event, as the send use case reads it.

Smaller than Powertools' `SqsRecordModel` on purpose: importing the parser's models costs
about 70 ms of cold start, and the send path reads six fields."""
from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class SqsAttributes(BaseModel):
    model_config = ConfigDict(extra="ignore")

    ApproximateReceiveCount: int = 1
    SentTimestamp: datetime  # epoch milliseconds on the wire, parsed to an aware UTC datetime


class QueuedRecord(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    messageId: str
    receiptHandle: str
    body: str
    attributes: SqsAttributes
    eventSourceARN: str = ""  # the queue it came from (two lanes feed the send function)
