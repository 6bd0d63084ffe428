"""The local runtime's loopback servers (local/http.py) keep a client's connection open from one request
to the next, as boto3 and the provider transport expect of AWS and of a provider."""
from __future__ import annotations

import http.client
import json
from collections.abc import Iterator

import pytest

from local.http import LoopbackServer


def _app(environ: dict, start_response) -> list[bytes]:
    """Answers with the client's port (one port: one connection); never reads the request's body;
    fails on /boom."""
    if environ["PATH_INFO"] == "/boom":
        raise RuntimeError("a bug in the application")
    start_response("201 Created", [("Content-Type", "application/json")])
    return [json.dumps({"path": environ["PATH_INFO"], "client_port": environ["REMOTE_PORT"]}).encode()]


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    server = LoopbackServer(_app, 0, name="test").start()
    yield server
    server.stop()


def test_given_one_connection_when_three_requests_with_unread_bodies_follow_each_other_then_each_is_answered_on_it(
        server: LoopbackServer) -> None:
    connection = http.client.HTTPConnection(server.host, server.port, timeout=10)
    answers = []
    for i in range(3):
        connection.request("POST", f"/v1/messages/{i}", body=json.dumps({"text": "x" * 5000 * i}).encode(),
                           headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        answers.append((response.status, response.getheader("Content-Length"), json.loads(response.read())))
    connection.close()

    assert [(status, answer["path"]) for status, _, answer in answers] == [
        (201, "/v1/messages/0"), (201, "/v1/messages/1"), (201, "/v1/messages/2")]
    assert all(int(length) > 0 for _, length, _ in answers)
    assert len({answer["client_port"] for _, _, answer in answers}) == 1  # one connection for all three


def test_given_an_application_error_when_the_next_request_comes_on_the_same_connection_then_it_is_answered(
        server: LoopbackServer) -> None:
    connection = http.client.HTTPConnection(server.host, server.port, timeout=10)
    connection.request("POST", "/boom", body=b"{}")
    failed = connection.getresponse()
    failed.read()
    connection.request("GET", "/after")
    after = connection.getresponse()

    assert failed.status == 500
    assert after.status == 201 and json.loads(after.read())["path"] == "/after"
    connection.close()
