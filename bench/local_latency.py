"""Local runtime latency at idle: prints `local_notification_latency_p50_ms=`, the time from putting a
NOTIFICATION on OutboundQueue to the sandbox provider receiving it, p50 over 20 messages sent one
at a time (target <= 150 ms; 1,040 ms with the one-second batching window it replaced).

The runtime runs as `make run` starts it (a child process on free ports); each message is queued
once the previous one has arrived, and its latency is the sandbox's receive time minus the time
taken just before SendMessage (one clock: the same machine).
Run with `make bench` or `.venv/bin/python bench/local_latency.py [count]`.
"""
from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.local_child import local_runtime, received_at  # noqa: E402

TARGET_MS = 150


def main(count: int = 20) -> int:
    with local_runtime() as runtime:
        sqs, url = runtime.client("sqs"), runtime.queue_url
        run = time.time_ns()
        latencies_ms = []
        for i in range(count):
            text = f"Your code is {i:04d} ({run})"
            time.sleep(0.2)  # idle: nothing else under way
            sent = time.time()
            sqs.send_message(QueueUrl=url, MessageBody=json.dumps(
                {"id": f"latency-{run}-{i}", "to": "+33612345678", "text": text, "type": "NOTIFICATION"}))
            deadline = time.monotonic() + 30
            while not (arrived := [m for m in runtime.inbox() if m["text"] == text]):
                if time.monotonic() > deadline:
                    print(f"message {i} did not reach the sandbox in 30 s", file=sys.stderr)
                    return 1
                time.sleep(0.01)
            latencies_ms.append((received_at(arrived[0]) - sent) * 1000)
        p50 = statistics.median(latencies_ms)
        print(f"local_notification_latency_p50_ms={p50:.0f}  (queue to sandbox at idle, {count} NOTIFICATION "
              f"messages one at a time; min {min(latencies_ms):.0f}, max {max(latencies_ms):.0f}; "
              f"target <= {TARGET_MS} ms, before lanes 1,040 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 20))
