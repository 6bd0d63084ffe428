"""The presets of SPEC 6 "Then:" against what each provider's official Python SDK sends, on one loopback server:
ClickSend (clicksend-client), Africa's Talking (africastalking), Textmagic (textmagic), Bandwidth (bandwidth-sdk)
and Twilio Messaging Services (twilio). AWS End User Messaging is in test_sigv4_wire.py (boto3)."""
from __future__ import annotations

from typing import Any

from tests.support.sdk_wire import TRICKY_TEXT, SdkWireBench, WireFields, read_wire

TO = "+14155550100"


def same_sms(sdk_request, preset_request, fields: WireFields) -> tuple[Any, Any]:
    sdk, preset = read_wire(sdk_request, fields), read_wire(preset_request, fields)
    assert preset.essentials() == sdk.essentials()
    assert preset.recipient_forms == sdk.recipient_forms  # with or without "+", as the SDK sends it
    assert sdk.text == TRICKY_TEXT
    return sdk, preset


# ---------------------------------------------------------------- ClickSend

def test_given_the_same_sms_when_sent_by_clicksend_sdk_and_the_preset_then_clicksend_reads_the_same_request():
    import clicksend

    answer = (200, {"Content-Type": "application/json"}, {
        "http_code": 200, "response_code": "SUCCESS", "response_msg": "Messages queued for delivery.",
        "data": {"total_count": 1, "queued_count": 1, "messages": [
            {"to": TO, "from": "ACME", "body": TRICKY_TEXT, "message_id": "1ABC3200-C38C-6308-BE4B-C7C51D01DCF0",
             "status": "SUCCESS"}]}})
    with SdkWireBench(answer) as bench:
        config = clicksend.Configuration(host=bench.url, username="acme-user", password="API-KEY-0123")
        api = clicksend.SmsApi(clicksend.ApiClient(config))
        request = clicksend.SendSmsRequest(messages=[clicksend.SendSmsRequestMessagesInner(
            to=TO, var_from="ACME", body=TRICKY_TEXT)])
        sdk_request, _ = bench.capture_sdk(lambda: api.send_sms(send_sms_request=request))
        provider = bench.provider_from_preset("clicksend", {"auth": {"username": "acme-user",
                                                                     "password": "API-KEY-0123"}})
        preset_request, outcome = bench.send_preset(provider, {"to": TO, "sender": "ACME", "text": TRICKY_TEXT})

    sdk, _ = same_sms(sdk_request, preset_request,
                      WireFields(recipient="messages[0].to", sender="messages[0].from", text="messages[0].body"))
    assert sdk.credentials == {"basic.username": "acme-user", "basic.password": "API-KEY-0123"}
    assert outcome.verdict == "sent" and outcome.provider_message_id == "1ABC3200-C38C-6308-BE4B-C7C51D01DCF0"


# ---------------------------------------------------------------- Africa's Talking

def test_given_the_same_sms_when_sent_by_africastalking_sdk_and_the_preset_then_it_reads_the_same_request():
    from africastalking.SMS import SMSService

    answer = (201, {"Content-Type": "application/json"}, {"SMSMessageData": {
        "Message": "Sent to 1/1 Total Cost: KES 0.8000", "Recipients": [
            {"statusCode": 101, "number": TO, "status": "Success", "cost": "KES 0.8000",
             "messageId": "ATPid_SampleTxnId123"}]}})
    with SdkWireBench(answer) as bench:
        sms = SMSService("acme-app", "atsk_0123456789abcdef")
        sms._baseUrl = bench.url + "/version1"  # the SDK's production URL, pointed at the loopback
        sdk_request, _ = bench.capture_sdk(lambda: sms.send(TRICKY_TEXT, [TO], sender_id="ACME"))
        provider = bench.provider_from_preset("africastalking", {
            "auth": {"token": "atsk_0123456789abcdef"}, "request": {"body": {"username": "acme-app"}}})
        preset_request, outcome = bench.send_preset(provider, {"to": TO, "sender": "ACME", "text": TRICKY_TEXT})

    fields = WireFields(recipient="to", sender="from", text="message", credential_params=("username",),
                        credential_headers=("apikey",))
    sdk, preset = same_sms(sdk_request, preset_request, fields)
    assert sdk.credentials == {"header.apikey": "atsk_0123456789abcdef", "param.username": "acme-app"}
    assert preset.params["bulkSMSMode"] == sdk.params["bulkSMSMode"] == "1"
    assert outcome.verdict == "sent" and outcome.provider_message_id == "ATPid_SampleTxnId123"


# ---------------------------------------------------------------- Textmagic

def test_given_the_same_sms_when_sent_by_textmagic_sdk_and_the_preset_then_textmagic_reads_the_same_request():
    from textmagic.rest import TextmagicRestClient

    answer = (201, {"Content-Type": "application/json"}, {
        "id": 49576009, "href": "/api/v2/messages/49576009", "type": "message", "sessionId": 34436600,
        "bulkId": 0, "messageId": 49576009, "scheduleId": 0})
    with SdkWireBench(answer) as bench:
        client = TextmagicRestClient("acmeuser", "tmKey0123456789", base=bench.url + "/api/v2")
        sdk_request, _ = bench.capture_sdk(lambda: client.messages.create(
            phones=TO.lstrip("+"), text=TRICKY_TEXT, from_="ACME"))
        provider = bench.provider_from_preset("textmagic", {
            "auth": {"token": "tmKey0123456789"}, "request": {"headers": {"X-TM-Username": "acmeuser"}}})
        preset_request, outcome = bench.send_preset(provider, {"to": TO, "sender": "ACME", "text": TRICKY_TEXT})

    fields = WireFields(recipient="phones", sender="\"from\"", text="text",
                        credential_headers=("x-tm-username", "x-tm-key"))
    sdk, _ = same_sms(sdk_request, preset_request, fields)
    assert sdk.credentials == {"header.x-tm-username": "acmeuser", "header.x-tm-key": "tmKey0123456789"}
    assert outcome.verdict == "sent" and outcome.provider_message_id == "49576009"


# ---------------------------------------------------------------- Bandwidth

def test_given_the_same_sms_when_sent_by_bandwidth_sdk_and_the_preset_then_bandwidth_reads_the_same_request():
    import bandwidth

    answer = (202, {"Content-Type": "application/json"}, {
        "id": "1589228074636lm4k2je7j7jklbn2", "owner": "+15554443333", "applicationId": "93de2206-9669-4e07-948d-329f4b722ee2",
        "time": "2026-11-30T12:00:00.000Z", "segmentCount": 1, "direction": "out", "to": [TO],
        "from": "+15554443333", "text": TRICKY_TEXT, "tag": "msg-1"})
    with SdkWireBench(answer) as bench:
        config = bandwidth.Configuration(host=bench.url + "/api/v2", username="api-user", password="api-pass")
        config.ignore_operation_servers = True  # else the operation's own messaging.bandwidth.com
        api = bandwidth.MessagesApi(bandwidth.ApiClient(config))
        request = bandwidth.MessageRequest(application_id="93de2206-9669-4e07-948d-329f4b722ee2", to=[TO],
                                           var_from="+15554443333", text=TRICKY_TEXT)
        sdk_request, _ = bench.capture_sdk(lambda: api.create_message("9900000", request))
        provider = bench.provider_from_preset("bandwidth", {
            "auth": {"username": "api-user", "password": "api-pass"},
            "request": {"url": "https://messaging.bandwidth.com/api/v2/users/9900000/messages",
                        "body": {"applicationId": "93de2206-9669-4e07-948d-329f4b722ee2"}}})
        preset_request, outcome = bench.send_preset(provider, {"to": TO, "sender": "+15554443333",
                                                               "text": TRICKY_TEXT})

    sdk, preset = same_sms(sdk_request, preset_request, WireFields(recipient="to", sender="\"from\"", text="text"))
    assert sdk.credentials == {"basic.username": "api-user", "basic.password": "api-pass"}
    assert preset.params["applicationId"] == sdk.params["applicationId"]
    assert outcome.verdict == "sent" and outcome.provider_message_id == "1589228074636lm4k2je7j7jklbn2"


# ---------------------------------------------------------------- Twilio Messaging Services

def test_given_the_same_sms_when_sent_by_twilio_sdk_with_a_messaging_service_and_the_preset_then_twilio_reads_the_same():
    from twilio.rest import Client

    account, token, service = "AC0123456789abcdef0123456789abcdef", "f00dfacecafe4b1d9e8f7a6b5c4d3e2f", \
        "MG0123456789abcdef0123456789abcdef"
    answer = (201, {}, {"sid": "SM0123456789abcdef0123456789abcdef", "account_sid": account, "to": TO,
                        "messaging_service_sid": service, "body": TRICKY_TEXT, "status": "accepted"})
    with SdkWireBench(answer) as bench:
        client = Client(account, token)
        client.api.base_url = bench.url
        sdk_request, message = bench.capture_sdk(lambda: client.messages.create(
            to=TO, messaging_service_sid=service, body=TRICKY_TEXT))
        provider = bench.provider_from_preset("twilio-messaging-service", {
            "auth": {"username": account, "password": token},
            "request": {"url": f"https://api.twilio.com/2010-04-01/Accounts/{account}/Messages.json",
                        "body": {"MessagingServiceSid": service}}})
        preset_request, outcome = bench.send_preset(provider, {"to": TO, "text": TRICKY_TEXT})

    sdk, preset = same_sms(sdk_request, preset_request,
                           WireFields(recipient="To", sender="MessagingServiceSid", text="Body"))
    assert sdk.sender == service and "From" not in preset.params
    assert sdk.credentials == {"basic.username": account, "basic.password": token}
    assert outcome.verdict == "sent" and outcome.provider_message_id == message.sid
