"""Alert emails through Amazon SES."""
from __future__ import annotations

import boto3


class AlertMailer:
    """Sends plain-text emails from one SES-verified sender address."""

    def __init__(self, sender: str, *, ses=None):
        self._sender = sender
        self._ses_client = ses

    @property
    def _ses(self):
        # Made at the first email: the send function holds a mailer for spend alerts it rarely sends.
        if self._ses_client is None:
            self._ses_client = boto3.client("ses")
        return self._ses_client

    def send(self, recipients: list[str], subject: str, text: str) -> str:
        """Send one email to `recipients`; returns SES's message id. SES errors pass through."""
        if not self._sender:
            raise ValueError("no sender address: set the AlertSenderEmail template parameter (ALERT_SENDER_EMAIL)")
        answer = self._ses.send_email(
            Source=self._sender,
            Destination={"ToAddresses": list(recipients)},
            Message={"Subject": {"Data": subject, "Charset": "UTF-8"},
                     "Body": {"Text": {"Data": text, "Charset": "UTF-8"}}})
        return answer["MessageId"]
