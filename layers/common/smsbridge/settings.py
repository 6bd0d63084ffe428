"""Runtime configuration, read once from the environment the template gives each function."""
from __future__ import annotations

import os
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field


class Settings(BaseModel):
    """Validated from the environment by alias (pydantic-settings would add 15 ms of cold start
    for what one `model_validate(os.environ)` does)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)

    providers_table: str = Field(default="smsbridge-providers", alias="PROVIDERS_TABLE")
    messages_table: str = Field(default="smsbridge-messages", alias="MESSAGES_TABLE")
    consent_table: str = Field(default="smsbridge-consent", alias="CONSENT_TABLE")
    consent_history_table: str = Field(default="smsbridge-consent-history", alias="CONSENT_HISTORY_TABLE")
    idempotency_table: str = Field(default="smsbridge-idempotency", alias="IDEMPOTENCY_TABLE")
    inbound_table: str = Field(default="smsbridge-inbound", alias="INBOUND_TABLE")
    balance_table: str = Field(default="smsbridge-balance", alias="BALANCE_TABLE")
    routing_table: str = Field(default="smsbridge-routing", alias="ROUTING_TABLE")
    outbound_queue_url: str = Field(default="", alias="OUTBOUND_QUEUE_URL")
    bulk_queue_url: str = Field(default="", alias="BULK_QUEUE_URL")
    dead_letter_queue_url: str = Field(default="", alias="DEAD_LETTER_QUEUE_URL")
    event_bus_name: str = Field(default="default", alias="EVENT_BUS_NAME")
    secret_prefix: str = Field(default="smsbridge/providers/", alias="SECRET_PREFIX")
    alert_sender: str = Field(default="", alias="ALERT_SENDER_EMAIL")
    message_retention_days: int = Field(default=90, alias="MESSAGE_RETENTION_DAYS")
    send_concurrency: int = Field(default=10, ge=1, le=64, alias="SEND_CONCURRENCY")
    # The local runtime only: provider URLs may then be plain http on loopback.
    local_runtime: bool = Field(default=False, alias="SMSBRIDGE_LOCAL")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.model_validate(dict(os.environ))
