"""Lambda handler of `balance`: on the schedule, check the providers' credit balances that are due."""
from __future__ import annotations

from smsbridge.observability import logger, metrics
from smsbridge.wiring import balance_service


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict, context) -> dict:
    # The schedule's event checks what is due; `{"force": true}` (a manual invoke) checks every provider now.
    force = isinstance(event, dict) and event.get("force") is True
    run = balance_service().run(remaining_s=lambda: context.get_remaining_time_in_millis() / 1000, force=force)
    return {"checked": run.checked, "skipped": run.skipped,
            "emails": [{"provider": provider, "alert": kind.value} for provider, kind in run.emails],
            "errors": run.errors}
