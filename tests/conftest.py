"""Fixtures shared by every test suite."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.loopback import LoopbackProvider


@pytest.fixture
def loopback_provider() -> Iterator[LoopbackProvider]:
    """A real HTTP server on 127.0.0.1 standing in for an SMS provider (see tests/support/loopback.py)."""
    with LoopbackProvider() as provider:
        yield provider
