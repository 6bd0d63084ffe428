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


def test_given_sinchs_documented_sample_when_drafted_then_the_whole_draft_and_its_placeholders_left_to_fill() -> None:
    draft = provider_draft(_sample("Sinch"))

    assert draft.config == {
        "id": "sinch",
        "name": "Imported from curl (us.sms.api.sinch.com)",
        "request": {
            "url": "https://us.sms.api.sinch.com/xms/v1/{YOUR_service_plan_id}/batches",
            "method": "POST",
            "content_type": "json",
            "body": {"from": "{{sender}}", "to": ["{{to}}"], "body": "{{text}}"},
        },
        "auth": {"type": "api_key", "header": "Authorization", "prefix": "Bearer ", "token": "{YOUR_API_Token}"},
    }
    assert draft.secret_paths == ["auth.token"]
    assert draft.notes == [
        "Authorization: Bearer taken as an API key sent as 'Authorization: Bearer <token>' (auth.type api_key)",
        "request.body.from: the sample value '+19876543210' replaced by {{sender}}",
        "request.body.to: the sample value '+12345678900' replaced by {{to}}",
        "request.body.body: the sample value 'Hi there! How are you?' replaced by {{text}}",
        "request.url: documentation placeholder {YOUR_service_plan_id} left to fill",
        "auth.token: documentation placeholder {YOUR_API_Token} left to fill",
    ]
    assert draft.shown()["auth"]["token"] == "{YOUR_API_Token}"


def test_given_get_mode_data_when_drafted_then_a_get_with_its_query_and_no_body() -> None:
    draft = provider_draft("curl -G https://x.example/send -d to=33612345678 -d text=hi")

    assert draft.config["request"] == {"url": "https://x.example/send", "method": "GET",
                                       "query": {"to": "{{to_digits}}", "text": "{{text}}"}, "content_type": "none"}
    assert draft.notes == ["request.query.to: the sample value '33612345678' replaced by {{to_digits}}",
                           "request.query.text: the sample value 'hi' replaced by {{text}}"]


def test_given_a_user_without_password_and_nothing_to_send_when_drafted_then_notes_say_what_to_fill() -> None:
    draft = provider_draft("curl https://x.example/send?a=1 -u jane")

    assert draft.config == {"id": "x", "name": "Imported from curl (x.example)",
                            "request": {"url": "https://x.example/send", "method": "GET", "query": {"a": "1"},
                                        "content_type": "none"},
                            "auth": {"type": "basic", "username": "jane", "password": ""}}
    assert draft.notes == [
        "-u user:password taken as HTTP Basic (auth.type basic)",
        "the command gives no password after the user name: fill in auth.password",
        "no recipient was recognised: put {{to}} (or {{to_digits}}) where the number goes",
        "no text field was recognised: put {{text}} where the message goes",
    ]


def test_given_a_post_without_body_when_drafted_then_an_empty_form_body() -> None:
    draft = provider_draft("curl -X POST https://x.example/send/33612345678")

    assert draft.config["request"] == {"url": "https://x.example/send/{{to_digits}}", "method": "POST",
                                       "content_type": "form", "body": {}}


def test_given_url_credentials_a_port_and_json_with_a_trailing_comma_when_drafted_then_basic_auth_and_json() -> None:
    draft = provider_draft("""curl --json '{"to": "+33612345678", "text": "hi",}' https://%2Bjo:p%20w@x.example:8443/send""")

    assert draft.config == {"id": "x", "name": "Imported from curl (x.example)",
                            "request": {"url": "https://x.example:8443/send", "method": "POST", "content_type": "json",
                                        "body": {"to": "{{to}}", "text": "{{text}}"}},
                            "auth": {"type": "basic", "username": "+jo", "password": "p w"}}
    assert draft.secret_paths == ["auth.password"]
    assert draft.notes == ["the URL's user:password taken as HTTP Basic (auth.type basic)",
                           "the sample's JSON body has a trailing comma: read without it",
                           "request.body.to: the sample value '+33612345678' replaced by {{to}}",
                           "request.body.text: the sample value 'hi' replaced by {{text}}"]
    assert draft.shown()["auth"]["password"] == MASK


def test_given_a_json_content_type_over_a_form_body_with_repeated_keys_when_drafted_then_a_form_of_pairs() -> None:
    draft = provider_draft("curl -H 'Content-Type: application/json' https://x.example/send -d 'to=1&to=2&text=a'")

    assert draft.config["request"] == {"url": "https://x.example/send", "method": "POST", "content_type": "form",
                                       "body": [["to", "1"], ["to", "2"], ["text", "{{text}}"]]}
    assert draft.notes == ["the body is said to be JSON but does not parse as JSON: it is kept as a form",
                           "request.body.text: the sample value 'a' replaced by {{text}}",
                           "no recipient was recognised: put {{to}} (or {{to_digits}}) where the number goes"]


def test_given_a_get_with_a_form_body_when_drafted_then_a_post_and_a_note() -> None:
    draft = provider_draft("curl -X GET https://x.example/send -d 'to=+33612345678'")

    assert draft.config["request"] == {"url": "https://x.example/send", "method": "POST", "content_type": "form",
                                       "body": {"to": "{{to_digits}}"}}
    assert draft.notes == ["request.body.to: the sample value '33612345678' replaced by {{to_digits}}",
                           "a GET with a body is not supported: the draft uses POST",
                           "no text field was recognised: put {{text}} where the message goes"]


def test_given_keys_and_parents_when_a_role_is_asked_then_number_like_keys_take_the_parents_role() -> None:
    assert _role_of(None, "text") == "text"
    assert _role_of("Phone-Number", "sender") == "sender"
    assert _role_of("number", "to") == "to"
    assert _role_of("number", "text") == "to"
    assert _role_of("value", "to") == "to"
    assert _role_of("id", "text") is None
    assert _role_of("Message_Body", None) == "text"
    assert _role_of("Sender ID", "to") == "sender"
    assert _role_of("type", "to") is None


def test_given_upper_case_words_when_matched_as_placeholders_then_only_those_naming_what_to_put_count() -> None:
    joined_words = _DOC_PLACEHOLDERS[-1]

    assert _doc_match(joined_words, "use AUTH_TOKEN and MESSAGE_TYPE") == ["AUTH_TOKEN"]
    assert _doc_match(_DOC_PLACEHOLDERS[0], "{a} and {b}") == ["{a}", "{b}"]
    assert _doc_match(_DOC_PLACEHOLDERS[-2], "replace_me") == ["replace_me"]


def test_given_a_dotted_path_when_read_then_the_value_or_none_past_a_leaf() -> None:
    document = {"auth": {"token": "T"}, "request": {"url": "u"}}

    assert _at_path(document, "auth.token") == "T"
    assert _at_path(document, "auth.token.more") is None
    assert _at_path(document, "secrets.x") is None


def test_given_a_scheme_shaped_value_in_a_custom_header_when_drafted_then_auth_keeps_the_header_and_prefix() -> None:
    draft = provider_draft("curl https://x.example/send -H 'X-Upstream:  Bearer abc ' -H 'X-Key:' -d 'to=%2B33612345678'")

    assert draft.config["auth"] == {"type": "api_key", "header": "X-Upstream", "prefix": "Bearer ", "token": "abc"}
    assert draft.config["request"]["headers"] == {"X-Key": ""}
    assert draft.secret_paths == ["auth.token"]
    assert draft.notes[0] == "header 'X-Upstream' taken as an API key sent as 'Bearer <token>' (auth.type api_key, header)"
    assert draft.shown()["auth"]["token"] == MASK


def test_given_lists_of_numbers_objects_and_mixed_values_when_drafted_then_each_item_is_judged_where_it_stands() -> None:
    draft = provider_draft("""curl https://x.example/v1 -d '{"targets": ["+33612345678", "+33612345679"], """
                           """"to": [{"number": "+33612345670"}], "message": ["hi", true]}'""")

    assert draft.config["request"]["body"] == {"targets": ["{{to}}"], "to": [{"number": "{{to}}"}],
                                               "message": ["{{text}}", True]}
    assert draft.notes == ["request.body.targets: the list of numbers replaced by [{{to}}]",
                           "request.body.to[0].number: the sample value '+33612345670' replaced by {{to}}",
                           "request.body.message[0]: the sample value 'hi' replaced by {{text}}"]
