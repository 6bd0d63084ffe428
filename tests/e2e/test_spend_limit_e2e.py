"""Must-show 5 through the local runtime, over HTTP as an operator would: a provider capped at 10
segments a month, 11 marketing messages, the 80 % and 100 % emails at `/_local/emails`, the count at
`GET /providers/{provider}/spend`, and a raised limit releasing the waiting message within seconds."""
from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import requests

from tests.e2e.local_stack import LocalStack, wait_for

OPS = "spend-ops@example.com"
SANDBOX_FILE = Path(__file__).resolve().parents[2] / "local" / "sandbox" / "provider.json"


def spend_emails(stack: LocalStack, provider_id: str) -> list[dict]:
    emails = requests.get(f"{stack.api}/_local/emails", timeout=10).json()
    return [email for email in emails if f"provider {provider_id} " in (email.get("subject") or "")]


def arrived(stack: LocalStack, run: str) -> list[dict]:
    return [m for m in stack.inbox() if m["text"].startswith(run)]


def test_given_a_limit_of_10_segments_when_11_marketing_messages_are_posted_then_one_waits_until_the_limit_is_raised(
        stack: LocalStack) -> None:
    # Given a provider on the sandbox (the sandbox's own request and auth) capped at 10 segments
    run = uuid.uuid4().hex[:8]
    provider_id = f"capped-{run}"
    sandbox = requests.get(f"{stack.api}/providers/sandbox", timeout=10).json()  # its URL on this run's port
    document = {"id": provider_id, "request": sandbox["request"], "response": sandbox["response"],
                "auth": json.loads(SANDBOX_FILE.read_text())["auth"],  # the API masks the sandbox's token
                "spend_limit": {"segments_per_month": 10, "types": ["MARKETING"], "email": [OPS]}}
    answer = requests.post(f"{stack.api}/providers", json=document, timeout=10)
    assert answer.status_code in (200, 201), answer.text
    try:
        # When 11 one-segment marketing messages are posted
        ids = []
        for n in range(11):
            answer = requests.post(f"{stack.api}/messages", timeout=10, json={
                "provider": provider_id, "to": "+33612345678", "text": f"{run} offer {n}", "type": "MARKETING",
                "sender": "ACME"})
            assert answer.status_code == 202, answer.text
            ids.append(answer.json()["id"])

        # Then ten arrive, one waits (queued, saying why), and two emails went
        wait_for(lambda: len(arrived(stack, run)) >= 10 or None, timeout_s=60, every_s=0.5, what="ten messages")
        time.sleep(3)  # a few re-checks of the waiting one (2 s locally)
        assert len(arrived(stack, run)) == 10
        statuses = {i: requests.get(f"{stack.api}/messages/{i}", timeout=10).json() for i in ids}
        waiting = [view for view in statuses.values() if view["status"] == "queued"]
        assert len(waiting) == 1
        reasons = [entry.get("reason") or "" for entry in waiting[0]["history"]]
        assert sum(reason.startswith(f"spend limit of provider {provider_id} reached") for reason in reasons) == 1
        subjects = [email["subject"] for email in spend_emails(stack, provider_id)]
        assert len(subjects) == 2 and "used 80 %" in subjects[0] and "reached its spend limit" in subjects[1]
        spend = requests.get(f"{stack.api}/providers/{provider_id}/spend", timeout=10).json()
        assert (spend["segments"], spend["limit"], spend["reached"]) == (10, 10, True)

        # When the limit is raised, the waiting message arrives within seconds, and no other email
        raised = {**document, "spend_limit": {**document["spend_limit"], "segments_per_month": 20}}
        answer = requests.put(f"{stack.api}/providers/{provider_id}", json=raised, timeout=10)
        assert answer.status_code == 200, answer.text
        started = time.monotonic()
        wait_for(lambda: len(arrived(stack, run)) >= 11 or None, timeout_s=30, every_s=0.5, what="the 11th message")
        print(f"released {time.monotonic() - started:.1f} s after the limit was raised")
        assert sorted(m["text"] for m in arrived(stack, run)) == sorted(f"{run} offer {n}" for n in range(11))
        assert all(requests.get(f"{stack.api}/messages/{i}", timeout=10).json()["status"] == "sent" for i in ids)
        assert len(spend_emails(stack, provider_id)) == 2
    finally:
        requests.delete(f"{stack.api}/providers/{provider_id}", timeout=10)
