"""The template's functions run in-process, as warm Lambda execution environments would run them:
the functions behind the API and the scheduled ones one invocation at a time, a function fed by
SQS as many at once as its event source mappings invoke it (`local/poller.py`)."""
from __future__ import annotations

import importlib
import logging
import os
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

from local.iam import invocation
from local.template import ACCOUNT_ID, REGION, ApiTrigger, FunctionSpec, SqsTrigger

log = logging.getLogger("local.functions")


class LambdaContext:
    """The `context` Lambda gives a handler (what Powertools reads from it)."""

    def __init__(self, function: FunctionSpec, request_id: str):
        self.function_name = function.physical_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{function.physical_name}"
        self.memory_limit_in_mb = function.memory_mb
        self.aws_request_id = request_id
        self.log_group_name = f"/aws/lambda/{function.physical_name}"
        self.log_stream_name = f"local/{function.name}"
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + function.timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class InvocationError(RuntimeError):
    """The function raised, timed out, or could not be imported: Lambda reports an error."""


@dataclass
class Invocation:
    function: str
    request_id: str
    duration_ms: float
    result: Any = None
    error: str | None = None


def environment_of(functions: Iterable[FunctionSpec]) -> dict[str, str]:
    """The union of the functions' environments: in one process they share `os.environ`."""
    union: dict[str, str] = {}
    for function in functions:
        for name, value in function.environment.items():
            if name in union and union[name] != value:
                log.warning("%s: %s=%r differs from another function's %r; the local runtime uses the latter",
                            function.name, name, value, union[name])
                continue
            union[name] = value
    return union


class FunctionHost:
    """Imports each function's handler from its CodeUri (its layers first on `sys.path`) the
    first time it is invoked, then invokes it like Lambda: the event, a context, the result
    or an error."""

    def __init__(self, functions: Iterable[FunctionSpec], *, handlers: Mapping[str, Any] | None = None):
        """`handlers` gives handlers by function name instead of importing them (tests)."""
        self._functions = {f.name: f for f in functions}
        self._handlers: dict[str, Any] = dict(handlers or {})
        # Lambda runs one request at a time per process; here every function shares one process.
        # Powertools keeps the request being handled on its router class (`BaseRouter.current_event`),
        # so two functions behind the API running at once would read each other's request (a
        # webhook taking the console's concurrent GET /stats for its own): those take turns.
        # A function fed only by SQS runs without a lock: Lambda gives each concurrent batch its own
        # environment, and limits shared between invocations (a provider's throughput) must be
        # exercised locally; its handler keeps no per-invocation state in module globals.
        api_lock = threading.Lock()
        self._locks = {f.name: _lock_for(f, api_lock) for f in self._functions.values()}
        self._import_lock = threading.Lock()
        self._added_paths: list[str] = []

    @property
    def functions(self) -> Mapping[str, FunctionSpec]:
        return self._functions

    def get(self, name: str) -> FunctionSpec | None:
        """By short name (`send`) or logical id (`SendFunction`)."""
        if name in self._functions:
            return self._functions[name]
        return next((f for f in self._functions.values() if f.logical_id == name), None)

    def add_import_paths(self) -> None:
        """Layers and function folders importable, as the Lambda runtime sets them up (the
        layer's `python/` folder when it has one, else the folder itself)."""
        paths: list[str] = []
        for function in self._functions.values():
            for layer in function.layer_paths:
                built = layer / "python"
                paths.append(str(built if built.is_dir() else layer))
        paths.extend(str(f.code_uri) for f in self._functions.values())
        for path in dict.fromkeys(paths):
            if path not in sys.path:
                sys.path.insert(0, path)
                self._added_paths.append(path)

    def remove_import_paths(self) -> None:
        for path in self._added_paths:
            if path in sys.path:
                sys.path.remove(path)
        self._added_paths.clear()

    def handler(self, function: FunctionSpec) -> Any:
        with self._import_lock:
            if function.name not in self._handlers:
                started = time.perf_counter()
                module = importlib.import_module(function.handler_module)
                self._handlers[function.name] = getattr(module, function.handler_function)
                log.info("%s: imported %s in %.0f ms", function.name, function.handler,
                         (time.perf_counter() - started) * 1000)
            return self._handlers[function.name]

    def warm_up(self) -> None:
        """Import every handler now, as Lambda's init phase would, so that the first request is
        not the slow one and an import error shows at start (in the background: start-up does
        not wait for it)."""
        def import_all() -> None:
            for function in list(self._functions.values()):
                try:
                    self.handler(function)
                except Exception:  # noqa: BLE001 - reported here, and again at each invocation
                    log.error("%s: cannot import %s\n%s", function.name, function.handler,
                              traceback.format_exc().rstrip())

        threading.Thread(target=import_all, name="warm-up", daemon=True).start()

    def invoke(self, name: str, event: Any) -> Invocation:
        """Run the function on `event`; never raises: a failure is `Invocation.error`."""
        function = self.get(name)
        if function is None:
            raise KeyError(name)
        request_id = str(uuid.uuid4())
        with self._locks[function.name]:
            started = time.perf_counter()
            try:
                handler = self.handler(function)
                # Every AWS call made until it returns is checked against this function's policy.
                with invocation(function.logical_id):
                    result = handler(event, LambdaContext(function, request_id))
                error = None
            except Exception as exc:  # noqa: BLE001 - Lambda reports any exception as a function error
                result = None
                error = f"{type(exc).__name__}: {exc}"
                log.error("%s: the function raised\n%s", function.name, traceback.format_exc().rstrip())
            duration = time.perf_counter() - started
        if error is None and duration > function.timeout_s:
            error = f"Task timed out after {duration:.2f} seconds (Timeout is {function.timeout_s} s)"
            log.error("%s: %s; Lambda would have stopped it, and treats it as a failure", function.name, error)
            result = None
        return Invocation(function=function.name, request_id=request_id, duration_ms=duration * 1000,
                          result=result, error=error)


def _lock_for(function: FunctionSpec, api_lock: threading.Lock) -> AbstractContextManager[Any]:
    if any(isinstance(t, ApiTrigger) for t in function.triggers):
        return api_lock
    if function.triggers and all(isinstance(t, SqsTrigger) for t in function.triggers):
        return nullcontext()
    return threading.Lock()


def apply_environment(variables: Mapping[str, str]) -> dict[str, str | None]:
    """Set the variables in `os.environ`; returns what to put back."""
    previous = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    return previous


def restore_environment(previous: Mapping[str, str | None]) -> None:
    for name, value in previous.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
