"""Two functions behind the local API answering at the same time each read their own request:
Powertools keeps the current request on a class shared by every resolver of the process, which
Lambda (one request per process) never shares but the local runtime (one process) would."""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests
from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from local.apigw import LocalApiGateway
from local.functions import FunctionHost
from local.http import LoopbackServer
from local.template import ApiTrigger, FunctionSpec


def _function(name: str, started: threading.Event | None) -> tuple[FunctionSpec, Any]:
    """A Powertools handler answering the path it reads from `app.current_event`, slowly when
    `started` is given (it says so when it begins)."""
    app = APIGatewayRestResolver()

    @app.get(f"/{name}")
    def route() -> dict[str, str]:
        if started is not None:
            started.set()
            time.sleep(0.3)
        return {"path": app.current_event.path}

    spec = FunctionSpec(logical_id=f"{name.title()}Function", physical_name=name, code_uri=Path("."),
                        handler=f"{name}_handler.handle",
                        triggers=(ApiTrigger(name=name.title(), path=f"/{name}", method="GET"),))
    return spec, lambda event, context: app.resolve(event, context)


def test_given_two_api_functions_when_called_at_once_then_each_answers_its_own_request() -> None:
    # Given two functions behind the local API, the first slow
    started = threading.Event()
    (slow, slow_handler), (quick, quick_handler) = _function("slow", started), _function("quick", None)
    host = FunctionHost([slow, quick], handlers={"slow": slow_handler, "quick": quick_handler})
    server = LoopbackServer(LocalApiGateway(host), 0, name="test API").start()
    try:
        # When the quick one is called while the slow one is handling its request
        with ThreadPoolExecutor(max_workers=2) as pool:
            slow_answer = pool.submit(requests.get, f"{server.url}/slow", timeout=10)
            assert started.wait(5)
            quick_answer = pool.submit(requests.get, f"{server.url}/quick", timeout=10)
            answers = slow_answer.result(), quick_answer.result()
    finally:
        server.stop()

    # Then each read its own request
    assert [a.json() for a in answers] == [{"path": "/slow"}, {"path": "/quick"}]
