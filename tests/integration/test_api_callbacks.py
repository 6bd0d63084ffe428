"""The admin API's part of SPEC 10: `callback_url` checked like a provider URL at `POST /messages`, and the
callback secret readable through `GET /callback-secret`."""
from __future__ import annotations

import pytest

from tests.support import secret_watch
from tests.support.apigw_events import AdminApi as Api

PROVIDER = {"id": "acme", "default": True, "default_sender": "ACME",
            "request": {"url": "https://sms.example.com/v1/messages", "body": {"to": "{{to}}", "text": "{{text}}"}}}


@pytest.fixture
def with_acme(api: Api) -> Api:
    assert api.call("POST", "/providers", PROVIDER).status == 201
    return api


@pytest.mark.parametrize(("url", "why"), [
    ("http://192.168.1.10/cb", "host 192.168.1.10 is a private address: refused"),
    ("http://169.254.169.254/cb", "host 169.254.169.254 is a cloud metadata address: refused"),
    ("gopher://example.com/cb", "callback URLs must use http or https, not 'gopher'"),
])
def test_given_a_callback_url_the_address_rules_refuse_when_posted_then_422_names_the_field_and_nothing_is_queued(
        with_acme: Api, url: str, why: str) -> None:
    answer = with_acme.call("POST", "/messages", {"to": "+33612345678", "text": "hi", "callback_url": url})

    assert answer.status == 422
    assert answer.json() == {"message": f"invalid: callback_url: {why}",
                             "errors": [{"loc": "body.callback_url", "msg": why}]}
    assert with_acme.queued() == []


def test_given_a_loopback_callback_url_in_the_local_runtime_when_posted_then_it_is_queued_with_it(
        with_acme: Api) -> None:
    answer = with_acme.call("POST", "/messages", {"id": "m-cb", "to": "+33612345678", "text": "hi",
                                                  "callback_url": "http://127.0.0.1:8080/cb", "metadata": {"k": 1}})

    assert answer.status == 202
    [queued] = with_acme.queued()
    assert (queued["callback_url"], queued["metadata"]) == ("http://127.0.0.1:8080/cb", {"k": 1})
    item = with_acme.stack.table("MessagesTable").get_item(Key={"id": "m-cb"})["Item"]
    assert (item["callback_url"], item["metadata"]) == ("http://127.0.0.1:8080/cb", {"k": 1})
    shown = with_acme.call("GET", "/messages/m-cb").json()
    assert (shown["callback_url"], shown["metadata"]) == ("http://127.0.0.1:8080/cb", {"k": 1})


def test_given_the_stack_when_the_callback_secret_is_read_then_it_is_the_secret_in_secrets_manager(api: Api) -> None:
    stored = api.stack.session.client("secretsmanager").get_secret_value(
        SecretId=api.stack.env["CALLBACK_SECRET_NAME"])["SecretString"]
    secret_watch.watch([stored])

    answer = api.call("GET", "/callback-secret")

    assert answer.status == 200
    assert answer.json() == {"secret": stored}
    assert len(stored) >= 24


def test_given_the_openapi_document_then_it_describes_the_callback_secret_route(api: Api) -> None:
    document = api.call("GET", "/openapi.json").json()

    answer = document["paths"]["/callback-secret"]["get"]["responses"]["200"]["content"]["application/json"]
    schema = document["components"]["schemas"][answer["schema"]["$ref"].rsplit("/", 1)[-1]]
    assert (schema["required"], schema["properties"]["secret"]["type"]) == (["secret"], "string")
