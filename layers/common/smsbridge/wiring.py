"""Builds each use case once per execution environment from the settings (adapters on real AWS clients)."""
from __future__ import annotations

from functools import lru_cache

from smsbridge.settings import get_settings


@lru_cache(maxsize=1)
def provider_store():
    from smsbridge.adapters.store import ProviderStore

    settings = get_settings()
    return ProviderStore(settings.providers_table, settings.secret_prefix, cache_s=settings.send_cache_s)


@lru_cache(maxsize=1)
def message_store():
    from smsbridge.adapters.store import MessageStore

    settings = get_settings()
    return MessageStore(settings.messages_table, retention_days=settings.message_retention_days)


@lru_cache(maxsize=1)
def routing_store():
    from smsbridge.adapters.routing import RoutingStore

    settings = get_settings()
    return RoutingStore(settings.routing_table, cache_s=settings.send_cache_s)


@lru_cache(maxsize=1)
def consent_ledger():
    from smsbridge.adapters.consent import ConsentLedger

    settings = get_settings()
    return ConsentLedger(settings.consent_table, settings.consent_history_table)


@lru_cache(maxsize=1)
def outbound_queue():
    from smsbridge.adapters.queue import OutboundQueue

    settings = get_settings()
    return OutboundQueue(settings.outbound_queue_url, settings.dead_letter_queue_url,
                         bulk_url=settings.bulk_queue_url)


@lru_cache(maxsize=1)
def provider_client():
    from smsbridge.adapters.http import ProviderTransport
    from smsbridge.adapters.provider_client import ProviderClient

    settings = get_settings()
    return ProviderClient(ProviderTransport(local_runtime=settings.local_runtime, pool_size=settings.send_concurrency))


@lru_cache(maxsize=1)
def dispatcher():
    from smsbridge.services.dispatch import Dispatcher

    return Dispatcher(provider_client())


@lru_cache(maxsize=1)
def provider_state():
    from smsbridge.adapters.provider_state import ProviderState

    settings = get_settings()
    cache_s = settings.traffic_cache_s
    if cache_s is None:
        cache_s = 0.2 if settings.local_runtime else 1.0
    return ProviderState(settings.traffic_table, cache_s=cache_s)


def traffic_policy():
    from smsbridge.core.circuit import CircuitPolicy
    from smsbridge.services.traffic import TrafficPolicy

    settings = get_settings()
    cooldown_s = settings.circuit_cooldown_s
    if cooldown_s is None:
        cooldown_s = 3.0 if settings.local_runtime else 30.0
    guard_s = settings.throughput_guard_s
    if guard_s is None:
        # How late a granted request may reach its provider and still count in its own second. Locally
        # the senders, the poller and the sandbox share one Python process on a few cores: their
        # threads wait for each other far longer than a network path adds, so the guard is wider.
        guard_s = 0.5 if settings.local_runtime else 0.25
    return TrafficPolicy(guard_s=guard_s, reserve_share=settings.notification_reserve,
                         circuit=CircuitPolicy(failures=settings.circuit_failures, cooldown_s=cooldown_s))


@lru_cache(maxsize=1)
def traffic():
    from smsbridge.services.traffic import Traffic

    return Traffic(dispatcher(), state=provider_state(), providers=provider_store(), policy=traffic_policy())


@lru_cache(maxsize=1)
def traffic_board():
    from smsbridge.services.traffic import TrafficBoard

    return TrafficBoard(providers=admin_providers(), state=provider_state())


@lru_cache(maxsize=1)
def spend_ledger():
    from smsbridge.adapters.spend import SpendLedger

    return SpendLedger(get_settings().traffic_table)


@lru_cache(maxsize=1)
def send_service():
    from smsbridge.adapters.email import AlertMailer
    from smsbridge.services.send import SendService
    from smsbridge.services.spend import SpendGuard

    settings = get_settings()
    recheck_s = settings.spend_recheck_s
    if recheck_s is None:
        recheck_s = 2.0 if settings.local_runtime else 900.0
    return SendService(providers=provider_store(), messages=message_store(), consent=consent_ledger(),
                       queue=outbound_queue(), traffic=traffic(), concurrency=settings.send_concurrency,
                       routing=routing_store(), spend=SpendGuard(spend_ledger(), AlertMailer(settings.alert_sender)),
                       spend_recheck_s=recheck_s)


@lru_cache(maxsize=1)
def spend_desk():
    from smsbridge.services.spend import SpendDesk

    return SpendDesk(providers=admin_providers(), counter=spend_ledger())


@lru_cache(maxsize=1)
def balance_service():
    from smsbridge.adapters.balance_store import BalanceStore
    from smsbridge.adapters.email import AlertMailer
    from smsbridge.services.balance import BalanceService

    settings = get_settings()
    return BalanceService(providers=provider_store(), balances=BalanceStore(settings.balance_table),
                          dispatch=dispatcher(), mailer=AlertMailer(settings.alert_sender))


@lru_cache(maxsize=1)
def inbound_service():
    from smsbridge.adapters.events import InboundEvents
    from smsbridge.adapters.inbound_messages import InboundMessageStore
    from smsbridge.services.inbound import InboundService

    settings = get_settings()
    return InboundService(providers=provider_store(), consent=consent_ledger(), queue=outbound_queue(),
                          messages=message_store(),
                          inbox=InboundMessageStore(settings.inbound_table,
                                                    retention_days=settings.message_retention_days),
                          events=InboundEvents(settings.event_bus_name))


@lru_cache(maxsize=1)
def callback_secret():
    from smsbridge.adapters.callbacks import CallbackSecret

    return CallbackSecret(get_settings().callback_secret_name)


@lru_cache(maxsize=1)
def callback_jobs():
    from smsbridge.adapters.callbacks import CallbackJobs

    settings = get_settings()
    return CallbackJobs(settings.callback_queue_url, settings.callback_dead_letter_queue_url)


@lru_cache(maxsize=1)
def status_publisher():
    from smsbridge.adapters.events import StatusEvents
    from smsbridge.services.status_events import StatusEventPublisher

    return StatusEventPublisher(events=StatusEvents(get_settings().event_bus_name), callbacks=callback_jobs())


@lru_cache(maxsize=1)
def callback_delivery():
    from smsbridge.adapters.callbacks import CallbackPoster
    from smsbridge.adapters.http import ProviderTransport
    from smsbridge.services.callbacks import CallbackDelivery

    local_runtime = get_settings().local_runtime
    poster = CallbackPoster(ProviderTransport(local_runtime=local_runtime, pool_size=10), local_runtime=local_runtime)
    return CallbackDelivery(jobs=callback_jobs(), secret=callback_secret(), poster=poster)


# ---------------------------------------------------------------- the admin API's use cases

@lru_cache(maxsize=1)
def admin_providers():
    from smsbridge.adapters.store import ProviderStore

    settings = get_settings()
    # No read cache for the API: a GET right after a PUT, maybe on another instance, shows the change.
    return ProviderStore(settings.providers_table, settings.secret_prefix, cache_s=0.0)


@lru_cache(maxsize=1)
def admin_routing():
    from smsbridge.adapters.routing import RoutingStore

    # No read cache for the API, as for providers: a GET right after a PUT shows the change.
    return RoutingStore(get_settings().routing_table, cache_s=0.0)


@lru_cache(maxsize=1)
def routing_admin():
    from smsbridge.services.routing import RoutingAdmin

    return RoutingAdmin(routing=admin_routing(), providers=admin_providers())


@lru_cache(maxsize=1)
def provider_admin():
    from smsbridge.services.providers import ProviderAdmin

    return ProviderAdmin(providers=admin_providers(), local_runtime=get_settings().local_runtime)


@lru_cache(maxsize=1)
def provider_probe():
    from smsbridge.adapters.http import ProviderTransport
    from smsbridge.adapters.provider_client import ProviderClient
    from smsbridge.services.probe import ProviderProbe

    transport = ProviderTransport(local_runtime=get_settings().local_runtime, pool_size=4)
    return ProviderProbe(providers=admin_providers(), messages=message_store(), consent=consent_ledger(),
                         client=ProviderClient(transport))


@lru_cache(maxsize=1)
def message_desk():
    from smsbridge.services.messages import MessageDesk

    return MessageDesk(providers=admin_providers(), messages=message_store(), search=message_store(),
                       queue=outbound_queue(), retention_days=get_settings().message_retention_days,
                       routing=admin_routing(), local_runtime=get_settings().local_runtime)


@lru_cache(maxsize=1)
def consent_desk():
    from smsbridge.services.consent import ConsentDesk

    return ConsentDesk(providers=admin_providers(), consent=consent_ledger())


@lru_cache(maxsize=1)
def inbox_desk():
    from smsbridge.adapters.inbound_messages import InboundMessageStore
    from smsbridge.services.inbox import InboxDesk

    settings = get_settings()
    return InboxDesk(inbox=InboundMessageStore(settings.inbound_table, retention_days=settings.message_retention_days),
                     retention_days=settings.message_retention_days)


@lru_cache(maxsize=1)
def dead_letter_desk():
    from smsbridge.adapters.dead_letters import DeadLetterBox
    from smsbridge.services.dead_letters import DeadLetterDesk

    settings = get_settings()
    return DeadLetterDesk(letters=DeadLetterBox(settings.dead_letter_queue_url, settings.outbound_queue_url,
                                                bulk_url=settings.bulk_queue_url))


@lru_cache(maxsize=1)
def traffic_report():
    from smsbridge.adapters.balance_store import BalanceStore
    from smsbridge.services.stats import TrafficReport

    settings = get_settings()
    return TrafficReport(providers=admin_providers(), messages=message_store(),
                         balances=BalanceStore(settings.balance_table), retention_days=settings.message_retention_days)


@lru_cache(maxsize=1)
def schedule_sweep():
    from smsbridge.services.schedule import ScheduleSweep

    return ScheduleSweep(messages=message_store(), log=message_store(), queue=outbound_queue())
