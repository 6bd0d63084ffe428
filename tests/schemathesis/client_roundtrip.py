"""Run in .venv/schemathesis by tests/e2e/test_openapi_contract.py: the client openapi-python-client generated
from the admin API's document (package `client`, on sys.path) creates a provider pointing at the sandbox,
queues a message through it and reads the message back until the sandbox took it. Prints one JSON line."""
from __future__ import annotations

import json
import sys
import time

from client import Client
from client.api.default import create_message_messages_post, create_provider_providers_post, get_message_messages_id_get
from client.models import ApiError, MessageAccepted, MessageView, OutboundMessage, ProviderConfig

api_url, sandbox_url, provider_id = sys.argv[1:4]
api = Client(base_url=api_url, raise_on_unexpected_status=True)

provider = ProviderConfig.from_dict({
    "id": provider_id, "name": "generated client's provider", "default_sender": "ACME",
    "request": {"url": f"{sandbox_url}/v1/messages", "method": "POST", "content_type": "json",
                "body": {"to": "{{to}}", "from": "{{sender}}", "text": "{{text}}"}},
    "auth": {"type": "api_key", "header": "Authorization", "prefix": "Bearer ", "token": "sandbox-token"},
    "response": {"message_id_jmespath": "id"}})
created = create_provider_providers_post.sync_detailed(client=api, body=provider)
assert created.status_code == 201, (created.status_code, created.content)

message = OutboundMessage(to="+33612345678", text="Sent by a generated client", provider=provider_id, sender="ACME")
accepted = create_message_messages_post.sync(client=api, body=message)
assert isinstance(accepted, MessageAccepted), accepted

deadline, view = time.monotonic() + 30, None
while time.monotonic() < deadline:
    view = get_message_messages_id_get.sync(accepted.id, client=api)
    assert not isinstance(view, ApiError), view.message
    if isinstance(view, MessageView) and view.status.value not in ("queued", "scheduled"):
        break
    time.sleep(0.2)
assert isinstance(view, MessageView)
print(json.dumps({"id": view.id, "status": view.status.value, "to": view.to, "provider": view.provider,
                  "history": [change.status.value for change in view.history]}))
