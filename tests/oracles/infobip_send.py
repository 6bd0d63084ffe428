"""Sends one SMS with the official Infobip SDK (5.x, SMSChannel.send_sms_message): run by the oracle venv's
interpreter (.venv/oracles/infobip), never imported by the project's tests.

stdin: {"base_url": ..., "api_key": ..., "message": <the SDK's SMSMessageBody, as a dict>}
stdout: {"parsed_as": <the SDK's response class>, "answer": <what that class read, by Infobip's names>}
"""
import json
import sys
import warnings

# The SDK imports pkg_resources for its User-Agent; setuptools' deprecation warning is not ours to fix.
warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)

from infobip_channels.sms.channel import SMSChannel  # noqa: E402  (after the warning filter)


def main() -> None:
    order = json.load(sys.stdin)
    channel = SMSChannel.from_auth_params({"base_url": order["base_url"], "api_key": order["api_key"]})
    response = channel.send_sms_message(order["message"])
    if hasattr(response, "dict"):  # one of the SDK's response models
        answer = response.dict(by_alias=True, exclude={"raw_response"})
        answer["statusCode"] = int(answer["statusCode"])
        json.dump({"parsed_as": type(response).__name__, "answer": answer}, sys.stdout)
    else:  # the SDK gives the raw requests.Response back when no model of its fits the answer
        json.dump({"parsed_as": None, "answer": {"statusCode": response.status_code}}, sys.stdout)


if __name__ == "__main__":
    main()
