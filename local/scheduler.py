"""EventBridge schedules, locally: each `Schedule`/`ScheduleV2` event of the template invokes its
function on its `rate(...)` or `cron(...)` expression, with the scheduled event as payload."""
from __future__ import annotations

import json
import logging
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from local.functions import FunctionHost, Invocation
from local.template import ACCOUNT_ID, REGION, FunctionSpec, ScheduleTrigger

log = logging.getLogger("local.scheduler")

_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$")
_CRON = re.compile(r"^cron\((.+)\)$")
_UNIT = {"minute": 60, "hour": 3600, "day": 86400}
_MONTHS = {m: i for i, m in enumerate("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split(), 1)}
_DAYS = {d: i for i, d in enumerate("SUN MON TUE WED THU FRI SAT".split(), 1)}  # AWS: 1 is Sunday


class UnsupportedSchedule(ValueError):
    pass


def rate_seconds(expression: str) -> int | None:
    """`rate(5 minutes)` → 300; None when the expression is not a rate."""
    match = _RATE.match(expression.strip())
    if match is None:
        return None
    return int(match.group(1)) * _UNIT[match.group(2).rstrip("s")]


class CronSchedule:
    """An EventBridge `cron(minutes hours day-of-month month day-of-week year)` expression, in UTC.

    Supports `*`, `?`, numbers, names, lists, ranges and `/` steps; `L`, `W` and `#` are refused."""

    _BOUNDS = [(0, 59), (0, 23), (1, 31), (1, 12), (1, 7), (1970, 2199)]

    def __init__(self, expression: str):
        match = _CRON.match(expression.strip())
        if match is None:
            raise UnsupportedSchedule(f"not a cron expression: {expression}")
        fields = match.group(1).split()
        if len(fields) != 6:
            raise UnsupportedSchedule(f"{expression}: a cron expression has 6 fields")
        self.expression = expression
        names = [None, None, None, _MONTHS, _DAYS, None]
        self._sets = [self._parse(f, bounds, n) for f, bounds, n in zip(fields, self._BOUNDS, names, strict=True)]

    @staticmethod
    def _parse(field: str, bounds: tuple[int, int], names: dict[str, int] | None) -> set[int] | None:
        if field in ("*", "?"):
            return None
        if names:
            for name, value in names.items():
                field = re.sub(rf"\b{name}\b", str(value), field, flags=re.IGNORECASE)
        if any(c in field.upper() for c in "LW#"):
            raise UnsupportedSchedule(f"cron field {field!r}: L, W and # are not supported locally")
        low, high = bounds
        values: set[int] = set()

        def number(text: str) -> int:
            try:
                return int(text)
            except ValueError:
                raise UnsupportedSchedule(f"cron field {field!r}: {text!r} is not a number") from None

        for part in field.split(","):
            part, _, step_text = part.partition("/")
            step = int(step_text) if step_text else 1
            if part == "*":
                start, end = low, high
            elif "-" in part:
                start, end = (number(p) for p in part.split("-", 1))
            else:
                start = number(part)
                end = high if step_text else start
            if not (low <= start <= high and low <= end <= high) or step < 1:
                raise UnsupportedSchedule(f"cron field {field!r}: out of {low}-{high}")
            values.update(range(start, end + 1, step))
        return values

    def matches(self, when: datetime) -> bool:
        day_of_week = (when.isoweekday() % 7) + 1  # Sunday → 1
        actual = [when.minute, when.hour, when.day, when.month, day_of_week, when.year]
        return all(allowed is None or value in allowed for value, allowed in zip(actual, self._sets, strict=True))

    def next_after(self, when: datetime) -> datetime | None:
        candidate = when.replace(second=0, microsecond=0) + timedelta(minutes=1)
        for _ in range(366 * 24 * 60):  # a year of minutes
            if self.matches(candidate):
                return candidate
            candidate += timedelta(minutes=1)
        return None


def scheduled_event(function: FunctionSpec, trigger: ScheduleTrigger, now: datetime) -> Any:
    """What EventBridge passes: the event's `Input` when the template gives one, else the
    scheduled event."""
    if trigger.input is not None:
        return json.loads(trigger.input)
    rule = f"{function.physical_name}-{trigger.name}"
    if trigger.kind == "ScheduleV2":
        source, resource = "aws.scheduler", f"arn:aws:scheduler:{REGION}:{ACCOUNT_ID}:schedule/default/{rule}"
    else:
        source, resource = "aws.events", f"arn:aws:events:{REGION}:{ACCOUNT_ID}:rule/{rule}"
    return {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": source,
            "account": ACCOUNT_ID, "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "region": REGION,
            "resources": [resource], "detail": {}}


@dataclass
class _Entry:
    function: FunctionSpec
    trigger: ScheduleTrigger
    next_at: datetime
    every: timedelta | None = None
    cron: CronSchedule | None = None

    def advance(self, now: datetime) -> None:
        if self.every is not None:
            while self.next_at <= now:
                self.next_at += self.every
        elif self.cron is not None:
            self.next_at = self.cron.next_after(now) or datetime.max.replace(tzinfo=UTC)


class Scheduler:
    """Runs the enabled schedules of the template on one thread; `run_now` runs a function at once
    (the `POST /_local/run/{function}` route)."""

    def __init__(self, host: FunctionHost, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self.host = host
        self._clock = clock
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="scheduler", daemon=True)
        self.entries: list[_Entry] = []
        now = clock()
        for function in host.functions.values():
            for trigger in function.triggers_of(ScheduleTrigger):
                entry = self._entry(function, trigger, now)
                if entry is not None:
                    self.entries.append(entry)

    def _entry(self, function: FunctionSpec, trigger: ScheduleTrigger, now: datetime) -> _Entry | None:
        if not trigger.enabled:
            log.info("%s: schedule %s is disabled in the template", function.name, trigger.name)
            return None
        seconds = rate_seconds(trigger.expression)
        if seconds is not None:
            # EventBridge fires a new rate schedule one period after it is created.
            return _Entry(function, trigger, now + timedelta(seconds=seconds), every=timedelta(seconds=seconds))
        try:
            cron = CronSchedule(trigger.expression)
        except (UnsupportedSchedule, ValueError) as exc:
            log.warning("%s: schedule %s (%s) is not run locally: %s; use POST /_local/run/%s",
                        function.name, trigger.name, trigger.expression, exc, function.name)
            return None
        next_at = cron.next_after(now)
        return None if next_at is None else _Entry(function, trigger, next_at, cron=cron)

    def start(self) -> Scheduler:
        if self.entries:
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout=60)

    def run_now(self, name: str, payload: Any = None) -> Invocation:
        function = self.host.get(name)
        if function is None:
            raise KeyError(name)
        triggers = function.triggers_of(ScheduleTrigger)
        if payload is None:
            trigger = triggers[0] if triggers else ScheduleTrigger(name="Manual", expression="manual")
            payload = scheduled_event(function, trigger, self._clock())
        return self._invoke(function, payload, "on request")

    def _invoke(self, function: FunctionSpec, payload: Any, why: str) -> Invocation:
        invocation = self.host.invoke(function.name, payload)
        outcome = "ok" if invocation.error is None else f"error: {invocation.error}"
        log.info("%s: run %s → %s (%.0f ms)", function.name, why, outcome, invocation.duration_ms)
        return invocation

    def _run(self) -> None:
        while not self._stopping.is_set():
            now = self._clock()
            due = [e for e in self.entries if e.next_at <= now]
            for entry in due:
                self._invoke(entry.function, scheduled_event(entry.function, entry.trigger, now),
                             f"on schedule {entry.trigger.expression}")
                entry.advance(self._clock())
            next_at = min(e.next_at for e in self.entries)
            self._stopping.wait(max(0.05, min(1.0, (next_at - self._clock()).total_seconds())))
