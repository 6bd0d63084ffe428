"""Lambda handler of `schedule`: every minute, queue the scheduled messages due within 15 minutes."""
from __future__ import annotations

from smsbridge.observability import logger, metrics
from smsbridge.wiring import schedule_sweep


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict, context) -> dict:
    run = schedule_sweep().run(remaining_s=lambda: context.get_remaining_time_in_millis() / 1000)
    return {"queued": run.queued, "rejected": run.rejected, "errors": run.errors, "stopped_early": run.stopped_early}
