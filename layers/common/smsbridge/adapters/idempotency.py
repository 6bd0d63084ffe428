"""Claims that make a message reach its provider at most once (Powertools Idempotency on DynamoDB).

A claim is taken before a message is sent, completed with the final result, or released when
the message is to be tried again. A redelivered SQS message finds the completed claim and is
not sent a second time; one that is being sent elsewhere right now finds it in progress."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyItemAlreadyExistsError,
    IdempotencyItemNotFoundError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import STATUS_CONSTANTS

# Long enough to cover every redelivery: SQS keeps a message 14 days at the most.
CLAIM_LIFETIME_S = 14 * 24 * 3600


@dataclass(frozen=True)
class Claim:
    state: Literal["new", "done", "busy"]
    result: dict[str, Any] | None = None  # what the first delivery recorded, for "done"


class SendClaims:
    def __init__(self, table_name: str, *, boto3_client=None):
        self._store = DynamoDBPersistenceLayer(table_name=table_name, boto3_client=boto3_client)
        self._store.configure(IdempotencyConfig(event_key_jmespath="id", expires_after_seconds=CLAIM_LIFETIME_S,
                                                raise_on_no_idempotency_key=True),
                              key_prefix="smsbridge.send")

    def claim(self, message_id: str, remaining_ms: int) -> Claim:
        """Take the message for this invocation; `remaining_ms` bounds an in-progress claim, so a
        crashed invocation does not hold the message forever."""
        data = {"id": message_id}
        try:
            self._store.save_inprogress(data=data, remaining_time_in_millis=remaining_ms)
            return Claim("new")
        except IdempotencyItemAlreadyExistsError as exc:
            record = exc.old_data_record
        if record is None:
            try:
                record = self._store.get_record(data=data)
            except IdempotencyItemNotFoundError:  # released between the two calls
                return Claim("busy")
        if record.status == STATUS_CONSTANTS["COMPLETED"]:
            return Claim("done", record.response_json_as_dict())
        return Claim("busy")

    def complete(self, message_id: str, result: dict[str, Any]) -> None:
        self._store.save_success(data={"id": message_id}, result=result)

    def release(self, message_id: str) -> None:
        self._store.delete_record(data={"id": message_id}, exception=RuntimeError("to be retried"))
