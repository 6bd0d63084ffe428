"""The AWS stand-in: a moto server on loopback, and the boto3 session that talks to it."""
from __future__ import annotations

import logging
import threading
from typing import Any

import boto3
import requests
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app

from local.http import LoopbackServer
from local.template import REGION

log = logging.getLogger("local.aws")

# moto accepts any credentials; these make boto3 never look for real ones.
DUMMY_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


class QuietMotoRequestHandler(MotoRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # the poller's long polls would fill the terminal


class AtomicDynamoDB:
    """WSGI middleware: one DynamoDB request at a time. DynamoDB checks a condition and writes an
    item in one atomic step; moto's backend does not when its threaded server interleaves requests
    (four senders racing on one version condition were all granted, measured here), and the
    throughput limiter and the circuits (adapters/provider_state.py) rely on that atomicity."""

    def __init__(self, app: Any) -> None:
        self._app = app
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if not environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
            return self._app(environ, start_response)
        with self._lock:
            # The body is produced inside the lock: moto's answer is computed as it is iterated.
            return list(self._app(environ, start_response))


class MotoServer:
    """moto serving SQS, DynamoDB, SES, Secrets Manager, EventBridge... over HTTP on 127.0.0.1.

    moto keeps its state in module globals: one per process."""

    def __init__(self, port: int = 4566):
        app = AtomicDynamoDB(DomainDispatcherApplication(create_backend_app))
        self._server = LoopbackServer(app, port, name="AWS stand-in (moto)", request_handler=QuietMotoRequestHandler,
                                      env_var="SMSBRIDGE_AWS_PORT")

    @property
    def url(self) -> str:
        return self._server.url

    def start(self) -> MotoServer:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def session(self) -> EndpointSession:
        return EndpointSession(self.url)


class EndpointSession:
    """A boto3 session whose clients and resources all point at one endpoint."""

    def __init__(self, endpoint_url: str, region: str = REGION):
        self.endpoint_url = endpoint_url
        self._session = boto3.session.Session(region_name=region, **DUMMY_CREDENTIALS)

    def client(self, service: str, **kwargs: Any) -> Any:
        return self._session.client(service, endpoint_url=self.endpoint_url, **kwargs)

    def resource(self, service: str, **kwargs: Any) -> Any:
        return self._session.resource(service, endpoint_url=self.endpoint_url, **kwargs)


def sent_emails(endpoint_url: str) -> list[dict[str, Any]]:
    """The emails sent through SES (v1 and v2), oldest first, from moto's state dump."""
    state = requests.get(f"{endpoint_url}/moto-api/data.json", timeout=10).json()
    ses = state.get("ses") or {}
    emails = []
    for message in ses.get("Message") or []:
        emails.append({"id": message.get("id"), "source": message.get("source"),
                       "destinations": message.get("destinations"), "subject": message.get("subject"),
                       "body": message.get("body")})
    for message in ses.get("RawMessage") or []:
        emails.append({"id": message.get("id"), "source": message.get("source"),
                       "destinations": message.get("destinations"), "raw": message.get("raw_data")})
    return emails
