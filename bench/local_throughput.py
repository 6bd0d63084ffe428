"""Local runtime throughput: prints `local_messages_per_second=`, the rate at which 1,000 NOTIFICATION
messages put on OutboundQueue reach the sandbox provider, end to end (target >= 150/s).

The runtime runs as `make run` starts it (a child process on free ports, moto, poller, send
function, sandbox); the messages are queued ten per SendMessageBatch as an application would, and
the clock runs from the first enqueue to the sandbox's receive time of the last message.
Run with `make bench` or `.venv/bin/python bench/local_throughput.py [count]`.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import requests  # noqa: E402

from bench.local_child import delivered, local_runtime, queue_messages, received_at  # noqa: E402
from tests.e2e.local_stack import LocalStack  # noqa: E402

TARGET_PER_S = 150


def moto_cpu_by_call(runtime: LocalStack) -> dict[str, dict[str, float]]:
    """The CPU moto's process has spent so far on each kind of call (local/aws.py `CallMeter`)."""
    answer = requests.get(f"{runtime.addresses['aws_url']}/_local/cpu", timeout=10)
    answer.raise_for_status()
    return answer.json()


def main(count: int = 1000) -> int:
    with local_runtime() as runtime:
        sqs, url = runtime.client("sqs"), runtime.queue_url
        run = time.time_ns()
        bodies = [{"id": f"rate-{run}-{i}", "to": "+33612345678", "text": f"Your code is {i:04d}",
                   "type": "NOTIFICATION"} for i in range(count)]
        cpu_before, calls_before = runtime.cpu_seconds(), moto_cpu_by_call(runtime)
        started = time.time()
        queue_messages(sqs, url, bodies)
        queued_in = time.time() - started
        inbox = delivered(runtime, count, timeout_s=600, every_s=0.5)
        if inbox is None:
            return 1
        cpu = {name: (used - cpu_before[name]) / count * 1000 for name, used in runtime.cpu_seconds().items()}
        calls = moto_cpu_by_call(runtime)
        last = max(received_at(m) for m in inbox)
        elapsed = last - started
        rate = count / elapsed
        print(f"local_messages_per_second={rate:.0f}  ({count} NOTIFICATION messages queue to sandbox in "
              f"{elapsed:.1f} s, queued in {queued_in:.1f} s; target >= {TARGET_PER_S}/s, before lanes 23/s)")
        # Whichever process nears a second of CPU per second bounds the rate (each has one GIL).
        print(f"  cpu_ms_per_message: runtime={cpu['runtime']:.1f} moto={cpu['moto']:.1f}")
        by_call = sorted(((spent["cpu_s"] - calls_before.get(name, {}).get("cpu_s", 0.0),
                           spent["calls"] - calls_before.get(name, {}).get("calls", 0), name)
                          for name, spent in calls.items()), reverse=True)
        print("  moto cpu_ms_per_message by call: " + ", ".join(
            f"{name}={seconds / count * 1000:.2f} ({made / count:.2f} calls)"
            for seconds, made, name in by_call if made > 0 and seconds / count >= 0.00005))
        if len(inbox) != count:
            print(f"the sandbox received {len(inbox)} requests for {count} messages", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000))
