"""The local scheduler's reading of EventBridge schedule expressions, and the event it sends."""
from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from local.scheduler import CronSchedule, UnsupportedSchedule, rate_seconds, scheduled_event
from local.template import FunctionSpec, ScheduleTrigger


@pytest.mark.parametrize(("expression", "seconds"), [
    ("rate(1 minute)", 60), ("rate(5 minutes)", 300), ("rate(2 hours)", 7200), ("rate(1 day)", 86400),
    ("cron(0 * * * ? *)", None),
])
def test_a_rate_expression_gives_its_period(expression: str, seconds: int | None) -> None:
    assert rate_seconds(expression) == seconds


@pytest.mark.parametrize(("expression", "after", "expected"), [
    ("cron(0 3 * * ? *)", datetime(2026, 1, 1, 3, 0, tzinfo=UTC), datetime(2026, 1, 2, 3, 0, tzinfo=UTC)),
    ("cron(*/15 * * * ? *)", datetime(2026, 1, 1, 10, 7, tzinfo=UTC), datetime(2026, 1, 1, 10, 15, tzinfo=UTC)),
    # 2026-01-01 is a Thursday; MON-FRI at 09:30 → Friday the 2nd
    ("cron(30 9 ? * MON-FRI *)", datetime(2026, 1, 1, 10, 0, tzinfo=UTC), datetime(2026, 1, 2, 9, 30, tzinfo=UTC)),
    # day-of-week 1 is Sunday in EventBridge → Sunday the 4th
    ("cron(0 12 ? * 1 *)", datetime(2026, 1, 1, 0, 0, tzinfo=UTC), datetime(2026, 1, 4, 12, 0, tzinfo=UTC)),
    ("cron(0 0 1 JAN,JUL ? *)", datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 7, 1, tzinfo=UTC)),
])
def test_a_cron_expression_gives_its_next_time(expression: str, after: datetime, expected: datetime) -> None:
    assert CronSchedule(expression).next_after(after) == expected


@pytest.mark.parametrize("expression", ["cron(0 0 L * ? *)", "cron(0 0 ? * 6#3 *)", "cron(0 0 * *)", "every day"])
def test_what_the_local_scheduler_cannot_follow_is_refused(expression: str) -> None:
    with pytest.raises(UnsupportedSchedule):
        CronSchedule(expression)


def test_the_payload_is_the_scheduled_event_or_the_trigger_s_input() -> None:
    function = FunctionSpec(logical_id="BalanceFunction", physical_name="smsbridge-balance-dev", code_uri=Path("."),
                            handler="balance_handler.lambda_handler")
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

    event = scheduled_event(function, ScheduleTrigger(name="Every5Minutes", expression="rate(5 minutes)"), now)
    given = scheduled_event(function, ScheduleTrigger(name="N", expression="rate(1 day)", input='{"a": 1}'), now)

    assert event["detail-type"] == "Scheduled Event"
    assert event["source"] == "aws.events"
    assert event["time"] == "2026-01-01T12:00:00Z"
    assert event["resources"] == ["arn:aws:events:us-east-1:123456789012:rule/smsbridge-balance-dev-Every5Minutes"]
    assert given == {"a": 1}
