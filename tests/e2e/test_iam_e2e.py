"""Least privilege in the local runtime (docs/iam.md): a template that forgets a grant fails locally, on
the path that needs it, the way AWS would fail after a deploy."""
from __future__ import annotations

import re
import uuid
from pathlib import Path

from tests.e2e.local_stack import ROOT, running_runtime, wait_for

DEAD_LETTER_GRANT = "        - SQSSendMessagePolicy: {QueueName: !GetAtt DeadLetterQueue.QueueName}\n"
DLQ_ARN = "arn:aws:sqs:us-east-1:123456789012:smsbridge-outbound-dlq-dev"


def _template_without_dead_letter_grant(folder: Path) -> Path:
    """template.yaml with the send function's grant to send to the dead-letter queue removed (the queues'
    RedrivePolicy stays: it moves a message only after 200 receives, a rejected body is sent by the function)."""
    text = (ROOT / "template.yaml").read_text(encoding="utf-8")
    send = text.index("  SendFunction:\n")
    end = text.index("\n  SendLogGroup:", send)
    assert text[send:end].count(DEAD_LETTER_GRANT) == 1  # the grant this test takes away exists
    text = text[:send] + text[send:end].replace(DEAD_LETTER_GRANT, "") + text[end:]
    # The copy lives elsewhere: its code folders are the project's.
    text = re.sub(r"^(\s+(?:CodeUri|ContentUri): )(\S+)$", lambda m: f"{m[1]}{ROOT / m[2]}", text, flags=re.M)
    copy = folder / "template-without-dead-letter-grant.yaml"
    copy.write_text(text, encoding="utf-8")
    return copy


def test_given_a_template_without_the_send_functions_dead_letter_grant_when_a_bad_body_is_queued_then_access_denied_names_it(
        tmp_path: Path) -> None:
    # Given the local runtime on a copy of the template where the send function may not send to the DLQ
    # (not recorded for make iam-report: the copy is not the template)
    template = _template_without_dead_letter_grant(tmp_path)
    with running_runtime(tmp_path, {"SMSBRIDGE_TEMPLATE": str(template), "SMSBRIDGE_SCHEDULES": "off",
                                    "SMSBRIDGE_IAM_RECORD": ""}) as stack:
        body = f"not json at all {uuid.uuid4()}"

        # When a body that can never be sent is queued (the dead-letter path)
        stack.client("sqs").send_message(QueueUrl=stack.queue_url, MessageBody=body)

        # Then the send function's call is refused as AWS would refuse it, naming the function, the action
        # and the queue's ARN, and the body is not in the dead-letter queue
        denial = wait_for(lambda: next((line for line in stack.output().splitlines()
                                        if "AccessDenied" in line and "sqs:SendMessage" in line), None),
                          timeout_s=20, what="the AccessDenied of the dead-letter send")
        assert "SendFunction" in denial and DLQ_ARN in denial
        answer = stack.client("sqs").receive_message(QueueUrl=stack.dead_letter_url, MaxNumberOfMessages=10,
                                                     WaitTimeSeconds=1)
        assert [m for m in answer.get("Messages", []) if m["Body"] == body] == []
