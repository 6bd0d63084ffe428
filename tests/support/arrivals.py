"""Reading a provider's receive times: how many requests any one second held (SPEC 3 `throughput`)."""
from __future__ import annotations


def most_in_any_second(times: list[float]) -> int:
    """The most arrivals in any window of one second (sliding: a window ends at each arrival and
    holds what came less than a second before it)."""
    times, best, start = sorted(times), 0, 0
    for end, moment in enumerate(times):
        while times[start] <= moment - 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best
