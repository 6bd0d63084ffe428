"""Every AWS call the api function makes for its routes is granted by its policies in template.yaml
(SAM's own policy templates expanded), on the resource it is made on: least privilege that still works."""
from __future__ import annotations

import fnmatch
import json
from pathlib import Path
from typing import Any

import boto3
import samtranslator

from tests.support.apigw_events import AdminApi as Api

POLICY_TEMPLATES = json.loads((Path(samtranslator.__file__).parent / "policy_templates_data"
                               / "policy_templates.json").read_text())["Templates"]
# What each SAM policy template's parameter names: a table or a queue of the template.
PARAMETER_KINDS = {"TableName": "table", "QueueName": "queue"}


def granted(api: Api) -> list[tuple[list[str], str, str]]:
    """(actions, resource kind, logical id or ARN pattern) per statement of the ApiFunction's policies."""
    template = api.stack.template
    grants = []
    for policy in template.function_properties("ApiFunction")["Policies"]:
        if isinstance(policy, dict) and "Fn::If" in policy:
            continue  # the optional sms-voice grant: no route of this test needs it
        (name, value), = policy.items()
        if name == "Statement":
            for statement in value:
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                grants.append((actions, "arn", template.resolve(statement["Resource"])))
            continue
        (parameter, reference), = value.items()
        logical = reference.get("Ref") or reference.get("Fn::GetAtt", [""])[0]
        for statement in POLICY_TEMPLATES[name]["Definition"]["Statement"]:
            grants.append((statement["Action"], PARAMETER_KINDS[parameter], logical))
    return grants


def test_given_the_console_routes_when_called_then_every_aws_call_is_granted_by_the_template(api: Api) -> None:
    calls: list[tuple[str, dict[str, Any]]] = []
    setting_up = [False]  # the test's own calls (dead-lettering a body as the send function would) are not the API's

    def record(params, model, **_):
        if not setting_up[0]:
            calls.append((f"{model.service_model.signing_name}:{model.name}", dict(params)))

    boto3.setup_default_session()
    events = boto3.DEFAULT_SESSION._session.get_component("event_emitter")
    events.register("provide-client-params", record)
    try:
        provider = {"id": "acme", "default": True, "request": {
            "url": "https://sms.example.com/v1", "method": "POST", "content_type": "json",
            "body": {"to": "{{to}}", "text": "{{text}}"}},
            "auth": {"type": "api_key", "header": "X-Key", "token": "tok-SECRET-77a"}}
        assert api.call("POST", "/providers", provider).status == 201
        assert api.call("POST", "/messages", {"to": "+33612345678", "text": "hi"}).status == 202
        for path, query in [("/messages", None), ("/messages", {"phone": "+33612345678"}), ("/inbound-messages", None),
                            ("/stats", None), ("/providers/summary", None), ("/dead-letters", None),
                            ("/consent/acme/+33612345678", None)]:
            assert api.call("GET", path, query=query).status == 200, path
        from smsbridge.wiring import outbound_queue

        def dead_letter(body: str) -> None:
            setting_up[0] = True
            outbound_queue().dead_letter(body, "invalid message")
            setting_up[0] = False

        dead_letter("bad body")
        letter = api.call("GET", "/dead-letters").json()["items"][0]["id"]
        assert api.call("POST", "/dead-letters/redrive", {"ids": [letter]}).json() == {"redriven": 1}
        dead_letter("bad body 2")
        letter = api.call("GET", "/dead-letters").json()["items"][0]["id"]
        assert api.call("DELETE", f"/dead-letters/{letter}").status == 204
        assert api.call("PUT", "/consent/acme/+33612345678", {"state": "opted_out"}).status == 200
        assert api.call("PUT", "/routing", {"rules": [{"match": {"prefixes": ["+44"]}, "provider": "acme"}]}).status == 200
        assert api.call("GET", "/routing").status == 200
        assert api.call("GET", "/callback-secret").status == 200
        assert api.call("POST", "/messages", {"to": "+447400123456", "text": "routed"}).status == 202
    finally:
        events.unregister("provide-client-params", record)

    tables = {name: logical for logical, name in api.stack.tables.items()}
    queues = {url: logical for logical, url in api.stack.queues.items()}
    grants = granted(api)
    missing = []
    for action, params in calls:
        if "TableName" in params:
            kind, resource = "table", tables[params["TableName"]]
        elif "QueueUrl" in params:
            kind, resource = "queue", queues[params["QueueUrl"]]
        else:
            kind, resource = "arn", f"arn:aws:secretsmanager:us-east-1:123456789012:secret:{params.get('SecretId') or params.get('Name')}"
        allowed = any(any(fnmatch.fnmatchcase(action, pattern) for pattern in actions)
                      and kind == grant_kind and (resource == target if kind != "arn" else fnmatch.fnmatchcase(resource, target))
                      for actions, grant_kind, target in grants)
        if not allowed:
            missing.append((action, resource))

    assert {action for action, _ in calls} >= {"dynamodb:Query", "sqs:ReceiveMessage", "sqs:SendMessageBatch",
                                               "sqs:DeleteMessageBatch", "sqs:ChangeMessageVisibilityBatch"}
    assert missing == []
