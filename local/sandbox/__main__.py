"""`python -m local.sandbox`: the sandbox provider alone, for tests of your own."""
from __future__ import annotations

import logging
import os
import signal
import threading

from local.sandbox.server import SandboxProvider


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    port = int(os.environ.get("SMSBRIDGE_SANDBOX_PORT", "4010"))
    bridge = os.environ.get("SMSBRIDGE_API_URL", "http://127.0.0.1:3000")
    sandbox = SandboxProvider(bridge_url=bridge)
    sandbox.serve(port)
    sandbox.start()
    print(f"Sandbox provider on {sandbox.url} (inbox page: {sandbox.url}/), sending inbound SMS to {bridge}. "
          "Ctrl-C stops it.", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    sandbox.stop()


if __name__ == "__main__":
    main()
