"""Unit tests run with the network off: any attempt to open a connection fails the test."""
from __future__ import annotations

import socket

import pytest


class NetworkOff(RuntimeError):
    pass


@pytest.fixture(autouse=True)
def _network_off(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self, address, *args, **kwargs):
        raise NetworkOff(f"unit tests run with the network off (tried to connect to {address!r})")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", lambda address, *a, **k: refuse(None, address))
