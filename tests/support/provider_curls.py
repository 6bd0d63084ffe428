"""Providers' own documented sample curl commands, copied verbatim with the page each came from, for the import-curl tests.

`credentials` are the credential values the sample carries (they must end up in `auth` or `secrets`,
never in the request); `left_to_fill` are the placeholders the draft must report, where they stand.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ProviderCurl:
    provider: str
    source: str
    command: str
    credentials: tuple[str, ...]
    left_to_fill: frozenset[tuple[str, str]]  # (where, placeholder)


SAMPLES = [
    ProviderCurl(
        provider="Twilio",
        source="https://github.com/TwilioDevEd/api-snippets/blob/master/rest/messages/send-message/example-1.json.curl",
        command=r"""curl -X POST 'https://api.twilio.com/2010-04-01/Accounts/ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX/Messages.json' \
--data-urlencode 'To=+15558675309'  \
--data-urlencode 'From=+15017250604'  \
--data-urlencode 'Body=Hey Jenny! Good luck on the bar exam!'  \
-d 'MediaUrl=http://farm2.static.flickr.com/1075/1404618563_3ed9a44a3a.jpg' \
-u ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX:[AuthToken]""",
        credentials=("[AuthToken]",),
        left_to_fill=frozenset({("request.url", "ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"),
                                ("auth.username", "ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"),
                                ("auth.password", "[AuthToken]")}),
    ),
    ProviderCurl(
        provider="Vonage (SMS API)",
        source="https://developer.vonage.com/messaging/sms/code-snippets",
        command=r"""curl -X POST https://rest.nexmo.com/sms/json \
-u "$VONAGE_API_KEY:$VONAGE_API_SECRET" \
-d "from=${SMS_SENDER_ID}" \
-d "to=${SMS_TO_NUMBER}" \
-d 'text=A text message sent using the Vonage SMS API'""",
        credentials=("$VONAGE_API_SECRET",),
        left_to_fill=frozenset({("auth.username", "$VONAGE_API_KEY"), ("auth.password", "$VONAGE_API_SECRET")}),
    ),
    ProviderCurl(
        provider="Vonage (Messages API)",
        source="https://github.com/Vonage/vonage-curl-code-snippets/blob/master/messages/sms/send-sms-basic-auth.sh",
        command=r"""curl -X POST https://api.nexmo.com/v0.1/messages \
     -u "$VONAGE_API_KEY:$VONAGE_API_SECRET" \
     -H 'Content-Type: application/json' \
     -H 'Accept: application/json' \
     -d $'{
          "from": { "type": "sms", "number": "'$FROM_NUMBER'" },
          "to": { "type": "sms", "number": "'$TO_NUMBER'" },
          "message": {
            "content": {
              "type": "text",
              "text": "This is an SMS sent from the Messages API"
        }
   }
}'""",
        credentials=("$VONAGE_API_SECRET",),
        left_to_fill=frozenset({("auth.username", "$VONAGE_API_KEY"), ("auth.password", "$VONAGE_API_SECRET")}),
    ),
    ProviderCurl(
        provider="Telnyx",
        source="https://developers.telnyx.com/docs/messaging",
        command=r"""curl -X POST https://api.telnyx.com/v2/messages \
  -H "Content-Type: application/json" \
  -H "Authorization: Bearer YOUR_API_KEY" \
  -d '{
    "from": "+15551234567",
    "to": "+15559876543",
    "text": "Hello, world!"
  }'""",
        credentials=("YOUR_API_KEY",),
        left_to_fill=frozenset({("auth.token", "YOUR_API_KEY")}),
    ),
    ProviderCurl(
        provider="MessageBird (Conversations API, SMS channel)",
        source="https://developers.messagebird.com/docs/conversations/send-messages-curl/",
        command=r"""$ curl -X "POST" "https://conversations.messagebird.com/v1/send" \
-H "Authorization: AccessKey YOUR-API-KEY" \
-H "Content-Type: application/json" \
--data '{ "to":"+31XXXXXXXXX", "from":"CHANNEL-ID", "type":"text", "content":{ "text":"Hello!" }, "reportUrl":"https://example.com/reports" }'""",
        credentials=("YOUR-API-KEY",),
        left_to_fill=frozenset({("auth.token", "YOUR-API-KEY")}),
    ),
    ProviderCurl(
        provider="TeleSign",
        source="https://github.com/TeleSign/sample_code/blob/master/curl/rest/sms/send_sms.bat",
        command=r'''curl -u "$CUSTOMER_ID":"$API_KEY" \
     --url https://rest-ww.telesign.com/v1/messaging \
     --header 'accept: application/x-www-form-urlencoded' \
     --header 'content-type: application/x-www-form-urlencoded' \
     --data phone_number="$PHONE_NUMBER" \
     --data message="Your package has shipped! Follow your delivery at https://vero-finto.com/orders/3456" \
     --data message_type="ARN"''',
        credentials=("$API_KEY",),
        left_to_fill=frozenset({("auth.username", "$CUSTOMER_ID"), ("auth.password", "$API_KEY")}),
    ),
    ProviderCurl(
        provider="CallFire",
        source="https://github.com/CallFire/callfire-api-samples/blob/master/2.0/curl/texts/sendTextsSmsChat.sh",
        command=r'''curl -u username:password -H "Content-Type:application/json" -X POST -d '
    [
        {
            "phoneNumber":"12135551100",
            "message":"Hey there",
            "attributes":
            {
                "external_user_id":"45450007002"
            },
        }
    ]' "https://api.callfire.com/v2/texts"''',
        credentials=("password",),
        left_to_fill=frozenset({("auth.username", "username"), ("auth.password", "password")}),
    ),
    ProviderCurl(
        provider="Sinch",
        source="https://bumblebee.redoc.ly/docs/sms/api-reference",
        command=r'''curl -X POST \
-H "Authorization: Bearer {YOUR_API_Token}" \
-H "Content-Type: application/json" -d '
{
"from": "+19876543210",
"to": [
"+12345678900"
],
"body": "Hi there! How are you?"
}' \
"https://us.sms.api.sinch.com/xms/v1/{YOUR_service_plan_id}/batches"''',
        credentials=("{YOUR_API_Token}",),
        left_to_fill=frozenset({("request.url", "{YOUR_service_plan_id}"), ("auth.token", "{YOUR_API_Token}")}),
    ),
    ProviderCurl(
        provider="Plivo",
        source="https://www.plivo.com/docs/messaging/api/response/",
        command=r"""curl -i --user AUTH_ID:AUTH_TOKEN \
-H "Content-Type: application/json" \
-d '{"src": "+14155551234", "dst": "+14155559876", "text": "Hello!"}' \
https://api.plivo.com/v1/Account/{auth_id}/Message/""",
        credentials=("AUTH_TOKEN",),
        left_to_fill=frozenset({("request.url", "{auth_id}"), ("auth.username", "AUTH_ID"),
                                ("auth.password", "AUTH_TOKEN")}),
    ),
    ProviderCurl(
        provider="BongaSMS (bulk)",
        source="https://api.olivetreehub.com/sms/quicksms/sendbulksms",
        command=r"""curl --location --request POST 'https://app.bongasms.co.ke/api/send-bulk-sms?apiClientID=605&key=SLn4VDUnPomPjzB&secret=Igp0D4Yy6BDk6riKHDl4DmbQERp14A&txtMessage=this is a message&MSISDN=254712345678,254712345678,2547123456 78,254712365678,254712345578,254712345478,254712341678,254712345278&serviceID=1'""",
        credentials=("SLn4VDUnPomPjzB", "Igp0D4Yy6BDk6riKHDl4DmbQERp14A"),
        left_to_fill=frozenset(),
    ),
    ProviderCurl(
        provider="OkRoute",
        source="https://okroute.freshdesk.com/support/solutions/articles/14000143282-oracle-responsys-format",
        command=r"""curl -u <username>:<password> 'http://127.0.0.1:8001/api?recipient=<dnis>&reply_to=<ani>&messageBody=<text>&reporting_key=<reporting_key>'""",
        credentials=("<password>",),
        left_to_fill=frozenset({("auth.username", "<username>"), ("auth.password", "<password>"),
                                ("request.query.reply_to", "<ani>"),
                                ("secrets.reporting_key", "<reporting_key>")}),
    ),
    ProviderCurl(
        provider="Clickatell",
        source="https://docs.clickatell.com/archive/channels/rest-archived/using-the-sms-rest-api/",
        command=r"""curl -X POST \
-H "X-Version: 1" \
-H "Content-Type: application/json" \
-H "Accept: application/json" \
-H "Authorization: Bearer YourAuthorizationTokenHere" \
-d '{"text":"My message","to":["2799900001","2799900002"]}' \
https://api.clickatell.com/rest/message""",
        credentials=("YourAuthorizationTokenHere",),
        left_to_fill=frozenset({("auth.token", "YourAuthorizationTokenHere")}),
    ),
    ProviderCurl(
        provider="Textbelt",
        source="https://textbelt.com/",
        command=r"""$ curl -X POST https://textbelt.com/text \
       --data-urlencode phone='5557727420' \
       --data-urlencode message='Hello world' \
       -d key=textbelt""",
        credentials=("textbelt",),
        left_to_fill=frozenset(),
    ),
]
