"""Callbacks' plumbing: the CallbackQueue and its dead-letter queue, the stack's callback secret, and the POST itself."""
from __future__ import annotations

import threading

import boto3

from smsbridge.adapters.http import ProviderTransport, UrlNotAllowed, check_provider_url
from smsbridge.adapters.queue import sqs_text
from smsbridge.models.callback import CallbackJob
from smsbridge.models.wire import HttpRequest, HttpResponse
from smsbridge.observability import remember_secrets

SEND_BATCH_MAX = 10  # entries per SendMessageBatch
MAX_DELAY_S = 900  # SQS's longest DelaySeconds
CALLBACK_TIMEOUT_S = 5.0
# The transport keeps one keep-alive session per key; callbacks share one (requests pools per host).
_SESSION_KEY = "callbacks"


class CallbackJobs:
    """CallbackQueue (jobs, and their retries as new messages with a delay) and CallbackDeadLetterQueue."""

    def __init__(self, queue_url: str, dead_letter_url: str = "", *, sqs=None):
        self._sqs = sqs or boto3.client("sqs")
        self.url = queue_url
        self.dead_letter_url = dead_letter_url

    def put(self, jobs: list[CallbackJob]) -> dict[int, str]:
        """Queue every job (ten per call); returns the ones SQS refused, by index, with the reason."""
        failed: dict[int, str] = {}
        for start in range(0, len(jobs), SEND_BATCH_MAX):
            chunk = jobs[start:start + SEND_BATCH_MAX]
            try:
                answer = self._sqs.send_message_batch(QueueUrl=self.url, Entries=[
                    {"Id": str(start + i), "MessageBody": job.model_dump_json()} for i, job in enumerate(chunk)])
            except Exception as exc:  # noqa: BLE001 - reported per job: the caller retries them
                failed.update({start + i: f"SendMessageBatch failed: {type(exc).__name__}" for i in range(len(chunk))})
                continue
            for failure in answer.get("Failed") or []:
                failed[int(failure["Id"])] = f"SQS refused the callback job: {failure.get('Code', 'unknown')}"
        return failed

    def later(self, job: CallbackJob, delay_s: float) -> None:
        """The job again, after `delay_s` (at most SQS's 900 s)."""
        self._sqs.send_message(QueueUrl=self.url, MessageBody=job.model_dump_json(),
                               DelaySeconds=max(0, min(MAX_DELAY_S, int(delay_s + 0.999))))

    def dead_letter(self, job: CallbackJob | str, reason: str) -> None:
        """To CallbackDeadLetterQueue with the reason: a job, or a body that is not one."""
        attributes = {"reason": {"DataType": "String", "StringValue": sqs_text(reason, 2048)}}
        if isinstance(job, CallbackJob):
            attributes["message_id"] = {"DataType": "String", "StringValue": sqs_text(job.message_id, 256)}
            body = job.model_dump_json()
        else:
            body = sqs_text(job, 256 * 1024) if job else "(empty body)"
        self._sqs.send_message(QueueUrl=self.dead_letter_url, MessageBody=body, MessageAttributes=attributes)


class CallbackSecret:
    """The stack's callback secret (`CallbackSecret` in Secrets Manager), read once per execution
    environment and registered with the logging net, so that no log line can show it."""

    def __init__(self, secret_id: str, *, secretsmanager=None):
        self._secret_id = secret_id
        self._client = secretsmanager
        self._value: str | None = None
        self._lock = threading.Lock()

    def value(self) -> str:
        if self._value is None:
            with self._lock:
                if self._value is None:
                    client = self._client or boto3.client("secretsmanager")
                    value = client.get_secret_value(SecretId=self._secret_id)["SecretString"]
                    remember_secrets([value])
                    self._value = value
        return self._value


def check_callback_url(url: str, *, local_runtime: bool) -> None:
    """A callback URL obeys the provider URLs' address rules (SPEC 10); UrlNotAllowed says why in callback words."""
    try:
        check_provider_url(url, local_runtime=local_runtime)
    except UrlNotAllowed as exc:
        raise UrlNotAllowed(str(exc).replace("provider URL", "callback URL").replace("provider host", "host")) from None


class CallbackPoster:
    """POSTs a callback through the provider transport: the same address rules as provider URLs
    (`check_provider_url`), no redirects, no proxies, a short timeout."""

    def __init__(self, transport: ProviderTransport, *, local_runtime: bool, timeout_s: float = CALLBACK_TIMEOUT_S):
        self._transport = transport
        self._local_runtime = local_runtime
        self._timeout_s = timeout_s

    def post(self, url: str, body: str, headers: dict[str, str]) -> HttpResponse:
        """The receiver's answer; raises UrlNotAllowed (permanent) or TransportError (retryable)."""
        check_callback_url(url, local_runtime=self._local_runtime)
        request = HttpRequest(method="POST", url=url, headers=headers, body=body.encode("utf-8"))
        return self._transport.send(request, provider_id=_SESSION_KEY, timeout_s=self._timeout_s, verify_tls=True)
