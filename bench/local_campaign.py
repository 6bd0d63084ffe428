"""A limited campaign in the local runtime: prints `campaign_busiest_second=`, the most requests the
sandbox received in any one-second window while 2,000 MARKETING messages on BulkQueue went to it
limited to `per_second` (target: at most the limit, SPEC 3 `throughput`), and the rate they went at.

The limit is read at the provider. A grant counts for 1 s plus a guard (0.5 s locally), and a
request must start within half the guard of its grant (services/send.py `_renew_late_grants`): a
1,000-message BulkQueue batch sends what it is granted on `SEND_CONCURRENCY` threads, and puts the
rest back on its queue. Run with `.venv/bin/python bench/local_campaign.py [per_second] [count]`
(50 and 2,000 by default; about 3 minutes at 50/s).
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import requests  # noqa: E402

from bench.local_child import delivered, local_runtime, queue_messages, received_at  # noqa: E402
from tests.support.arrivals import most_in_any_second  # noqa: E402


def main(per_second: int = 50, count: int = 2000) -> int:
    with local_runtime() as runtime:
        provider = requests.get(f"{runtime.api}/providers/sandbox", timeout=10).json()
        answer = requests.put(f"{runtime.api}/providers/sandbox", timeout=10,
                              json={**provider, "throughput": {"per_second": per_second, "burst": per_second}})
        answer.raise_for_status()
        time.sleep(3)  # the send function's provider cache (2 s locally)
        run = time.time_ns()
        bodies = [{"id": f"campaign-{run}-{i}", "to": "+33612345678", "text": f"Sale! {i}", "type": "MARKETING"}
                  for i in range(count)]
        started = time.time()
        queue_messages(runtime.client("sqs"), runtime.bulk_queue_url, bodies)
        inbox = delivered(runtime, count, timeout_s=900, every_s=1)
        if inbox is None:
            return 1
        times = [received_at(m) for m in inbox]
        elapsed = max(times) - started
        twice = len(inbox) - len({m["text"] for m in inbox})
        busiest = most_in_any_second(times)
        print(f"campaign_busiest_second={busiest}  ({count} MARKETING messages limited to {per_second}/s: "
              f"delivered in {elapsed:.1f} s, {count / elapsed:.1f}/s; sent twice {twice}; "
              f"target <= {per_second})")
        return 0 if busiest <= per_second and twice == 0 else 1


if __name__ == "__main__":
    sys.exit(main(*(int(arg) for arg in sys.argv[1:3])))
