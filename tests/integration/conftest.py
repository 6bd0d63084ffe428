"""Fixtures shared by the integration tests."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.apigw_events import AdminApi
from tests.support.stack import moto_stack


@pytest.fixture
def api() -> Iterator[AdminApi]:
    """The api function on moto, called in-process with API Gateway proxy events."""
    with moto_stack("ApiFunction") as stack:  # SMSBRIDGE_LOCAL: the loopback provider of test-send is plain http
        yield AdminApi(stack)
