"""Fixtures shared by the integration tests."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.apigw_events import AdminApi
from tests.support.loopback import LoopbackProvider
from tests.support.stack import Stack, moto_stack


@pytest.fixture
def api() -> Iterator[AdminApi]:
    """The api function on moto, called in-process with API Gateway proxy events."""
    with moto_stack("ApiFunction") as stack:  # SMSBRIDGE_LOCAL: the loopback provider of test-send is plain http
        yield AdminApi(stack)


@pytest.fixture
def stack() -> Iterator[Stack]:
    """Every resource of template.yaml on moto, in-process, with the functions' environment set."""
    with moto_stack() as stack:
        yield stack


@pytest.fixture
def provider() -> Iterator[LoopbackProvider]:
    """A provider stand-in on 127.0.0.1 (a real HTTP server)."""
    with LoopbackProvider() as server:
        yield server
