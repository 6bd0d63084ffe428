"""The local runtime as a user starts it (`python -m local.runtime`), on free ports, once per
session; the tests drive it over HTTP and boto3 only."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.local_stack import LocalStack, running_runtime


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with running_runtime(tmp_path_factory.mktemp("local-runtime")) as local_stack:
        yield local_stack


@pytest.fixture(autouse=True)
def no_faults(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test on the shared stack starts and ends with a well-behaved sandbox."""
    if "stack" not in request.fixturenames:
        yield
        return
    stack: LocalStack = request.getfixturevalue("stack")
    stack.set_faults()
    yield
    stack.set_faults()
