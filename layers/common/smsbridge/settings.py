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
    inbound_table: str = Field(default="smsbridge-inbound", alias="INBOUND_TABLE")
    balance_table: str = Field(default="smsbridge-balance", alias="BALANCE_TABLE")
    routing_table: str = Field(default="smsbridge-routing", alias="ROUTING_TABLE")
    traffic_table: str = Field(default="smsbridge-traffic", alias="TRAFFIC_TABLE")
    outbound_queue_url: str = Field(default="", alias="OUTBOUND_QUEUE_URL")
    bulk_queue_url: str = Field(default="", alias="BULK_QUEUE_URL")
    dead_letter_queue_url: str = Field(default="", alias="DEAD_LETTER_QUEUE_URL")
    event_bus_name: str = Field(default="default", alias="EVENT_BUS_NAME")
    # Status callbacks (SPEC 10): their queue, its dead-letter queue, and the secret that signs them.
    callback_queue_url: str = Field(default="", alias="CALLBACK_QUEUE_URL")
    callback_dead_letter_queue_url: str = Field(default="", alias="CALLBACK_DEAD_LETTER_QUEUE_URL")
    callback_secret_name: str = Field(default="", alias="CALLBACK_SECRET_NAME")
    secret_prefix: str = Field(default="smsbridge/providers/", alias="SECRET_PREFIX")
    alert_sender: str = Field(default="", alias="ALERT_SENDER_EMAIL")
    message_retention_days: int = Field(default=90, alias="MESSAGE_RETENTION_DAYS")
    send_concurrency: int = Field(default=10, ge=1, le=64, alias="SEND_CONCURRENCY")
    # Throughput and circuits (services/traffic.py); None: the default, shorter in the local runtime.
    throughput_guard_s: float | None = Field(default=None, ge=0, le=5, alias="THROUGHPUT_GUARD_S")
    notification_reserve: float = Field(default=0.2, ge=0, lt=1, alias="THROUGHPUT_NOTIFICATION_RESERVE")
    circuit_failures: int = Field(default=3, ge=1, le=100, alias="CIRCUIT_FAILURES")
    circuit_cooldown_s: float | None = Field(default=None, gt=0, le=3600, alias="CIRCUIT_COOLDOWN_S")
    traffic_cache_s: float | None = Field(default=None, ge=0, le=60, alias="TRAFFIC_CACHE_S")
    # How often a message past its provider's spend limit is looked at again (a raised limit releases
    # it): 900 s deployed (one SQS hop), 2 s locally unless set.
    spend_recheck_s: float | None = Field(default=None, gt=0, le=900, alias="SPEND_RECHECK_S")
    # The local runtime only: provider URLs may then be plain http on loopback.
    local_runtime: bool = Field(default=False, alias="SMSBRIDGE_LOCAL")
    # How long the send path keeps providers and routing rules: 30 s deployed, 2 s locally unless set.
    config_cache_s: float | None = Field(default=None, ge=0, alias="CONFIG_CACHE_S")

    @property
    def send_cache_s(self) -> float:
        if self.config_cache_s is not None:
            return self.config_cache_s
        return 2.0 if self.local_runtime else 30.0


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.model_validate(dict(os.environ))
