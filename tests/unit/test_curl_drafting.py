"""core.curl's drafting: the whole provider document, notes and secrets drafted from a sample curl, value by value."""
from __future__ import annotations

from smsbridge.core.curl import _at_path, _doc_match, _DOC_PLACEHOLDERS, _role_of, provider_draft
from smsbridge.core.secrets import MASK
from tests.support.provider_curls import SAMPLES

LONG_KEY = "a" * 70 + "token"
SECRET_60 = "a" * 60


def _sample(provider: str) -> str:
    return next(sample.command for sample in SAMPLES if sample.provider == provider)


def test_given_credentials_numbers_and_an_unsupported_method_when_drafted_then_the_whole_document_and_notes() -> None:
    draft = provider_draft(
        "curl -X PUT 'https://gw.example.org/v1/send/+33612345678/33612345679/abc"
        "?to=%2B33612345678&route=4&route=5&apikey=Q1&token=Bearer%20T2' -H 'X-Api-Key: K1' "
        "-H 'X-Auth-Token: Bearer T3' -H 'Content-Length: 12' -H 'Accept: */*' "
        "-d 'text=hi&api_secret=S4&flash=1' -k -m 100")

    assert draft.config == {
        "id": "example",
        "name": "Imported from curl (gw.example.org)",
        "request": {
            "url": "https://gw.example.org/v1/send/{{to}}/{{to_digits}}/abc",
            "method": "POST",
            "query": {"to": "{{to}}", "route": "5", "apikey": "{{secrets.apikey}}", "token": "{{secrets.token}}"},
            "content_type": "form",
            "body": {"text": "{{text}}", "api_secret": "{{secrets.api_secret}}", "flash": "1"},
            "headers": {"X-Auth-Token": "Bearer {{secrets.X_Auth_Token}}", "Accept": "*/*"},
        },
        "auth": {"type": "api_key", "header": "X-Api-Key", "token": "K1"},
        "secrets": {"X_Auth_Token": "T3", "apikey": "Q1", "token": "Bearer T2", "api_secret": "S4"},
        "verify_tls": False,
        "timeout_s": 60,
    }
    assert draft.secret_paths == ["auth.token", "secrets.X_Auth_Token", "secrets.apikey", "secrets.token",
                                  "secrets.api_secret"]
    assert draft.notes == [
        "header 'X-Api-Key' taken as the API key (auth.type api_key, header)",
        "request.headers.X-Auth-Token: credential kept in secrets.X_Auth_Token (Secrets Manager), "
        "{{secrets.X_Auth_Token}} in its place",
        "request.query.to: the sample value '+33612345678' replaced by {{to}}",
        "request.query.apikey: credential kept in secrets.apikey (Secrets Manager), {{secrets.apikey}} in its place",
        "request.query.token: credential kept in secrets.token (Secrets Manager), {{secrets.token}} in its place",
        "request.url: the number +33612345678 in the path replaced by the recipient",
        "request.url: the number 33612345679 in the path replaced by the recipient",
        "method PUT is not supported (GET or POST): the draft uses POST",
        "a query parameter repeats in the sample: the draft keeps its last value",
        "request.body.text: the sample value 'hi' replaced by {{text}}",
        "request.body.api_secret: credential kept in secrets.api_secret (Secrets Manager), "
        "{{secrets.api_secret}} in its place",
        "-k/--insecure: verify_tls is false in the draft; set it back to true if you can",
    ]
    assert draft.unfilled == []
    assert draft.shown()["secrets"] == {"X_Auth_Token": MASK, "apikey": MASK, "token": MASK, "api_secret": MASK}
    assert draft.shown()["auth"]["token"] == MASK


def test_given_a_nested_json_body_and_two_sets_of_credentials_when_drafted_then_roles_follow_the_parents() -> None:
    draft = provider_draft(
        """curl -m 0.2 https://user:pw@sms.example.com/send -u a:b -d '{"destinations": ["+33612345678", """
        """"+33612345679"], "message": {"body": "Hello there"}, "from": {"type": "sms", "number": "ACME"}, """
        """"flag": true, "count": 3, "token": "t9", "items": [{"id": 1}, [2]], "list": ["447123456789", """
        """"447987654321"]}'""")

    assert draft.config == {
        "id": "example",
        "name": "Imported from curl (sms.example.com)",
        "request": {
            "url": "https://sms.example.com/send",
            "method": "POST",
            "content_type": "json",
            "body": {
                "destinations": ["{{to}}"],
                "message": {"body": "{{text}}"},
                "from": {"type": "sms", "number": "{{sender}}"},
                "flag": True,
                "count": 3,
                "token": "{{secrets.token}}",
                "items": [{"id": 1}, [2]],
                "list": ["{{to_digits}}"],
            },
        },
        "auth": {"type": "basic", "username": "a", "password": "b"},
        "secrets": {"token": "t9"},
        "timeout_s": 1,
    }
    assert draft.secret_paths == ["auth.password", "secrets.token"]
    assert draft.notes == [
        "-u user:password taken as HTTP Basic (auth.type basic)",
        "credentials in the URL dropped: the command already authenticates otherwise",
        "request.body.destinations: the sample value '+33612345678' replaced by {{to}}",
        "request.body.destinations: the sample's 2 recipients become one, {{to}}, per message "
        "(set request.batch to send many in one request)",
        "request.body.message.body: the sample value 'Hello there' replaced by {{text}}",
        "request.body.from.number: the sample value 'ACME' replaced by {{sender}}",
        "request.body.token: credential kept in secrets.token (Secrets Manager), {{secrets.token}} in its place",
        "request.body.list: the list of numbers replaced by [{{to_digits}}]",
    ]


def test_given_credential_keys_that_clash_or_cannot_name_a_secret_when_drafted_then_each_gets_a_usable_name() -> None:
    draft = provider_draft(
        """curl https://api.sms.co.uk/v2 -H 'Content-Type: application/json; charset=utf-8' -d '{"api-key": "A1", """
        f""""api_key": "A2", "api.key": "A1", "9token": "N9", "\u20ackey": "E1", "{LONG_KEY}": "L1", """
        """"recipient": "$TO", "dst": 33612345678, "msisdn": "91XXXXXXXXXX", "sms": "%s", "sender": 5, """
        """"to": ["a", "b"], "note": "+33612345678", "empty": "", "n": null}'""" % ("x" * 41))

    assert draft.config == {
        "id": "co",
        "name": "Imported from curl (api.sms.co.uk)",
        "request": {
            "url": "https://api.sms.co.uk/v2",
            "method": "POST",
            "content_type": "json",
            "body": {
                "api-key": "{{secrets.api_key}}",
                "api_key": "{{secrets.api_key_2}}",
                "api.key": "{{secrets.api_key}}",
                "9token": "{{secrets.s_9token}}",
                "\u20ackey": "{{secrets.key}}",
                LONG_KEY: "{{secrets.%s}}" % SECRET_60,
                "recipient": "{{to}}",
                "dst": "{{to_digits}}",
                "msisdn": "{{to_digits}}",
                "sms": "{{text}}",
                "sender": 5,
                "to": ["a", "b"],
                "note": "{{to}}",
                "empty": "",
                "n": None,
            },
        },
        "secrets": {"api_key": "A1", "api_key_2": "A2", "s_9token": "N9", "key": "E1", SECRET_60: "L1"},
    }
    assert draft.secret_paths == ["secrets.api_key", "secrets.api_key_2", "secrets.s_9token", "secrets.key",
                                  f"secrets.{SECRET_60}"]
    assert draft.notes[6:] == [
        "request.body.recipient: the sample value '$TO' replaced by {{to}}",
        "request.body.dst: the sample value '33612345678' replaced by {{to_digits}}",
        "request.body.msisdn: the sample value '91XXXXXXXXXX' replaced by {{to_digits}}",
        "request.body.sms: the sample value replaced by {{text}}",
        "request.body.note: the sample value '+33612345678' replaced by {{to}}",
    ]
    assert draft.notes[2] == ("request.body.api.key: credential kept in secrets.api_key (Secrets Manager), "
                              "{{secrets.api_key}} in its place")
