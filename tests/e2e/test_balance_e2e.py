"""Balance watch through the local runtime, over HTTP as a user would: sandbox balance, `/_local/run/balance`, `/_local/emails`."""
from __future__ import annotations

import requests

from tests.e2e.local_stack import LocalStack


def set_sandbox_balance(stack: LocalStack, balance: float) -> None:
    requests.put(f"{stack.sandbox}/api/balance", json={"balance": balance}, timeout=10).raise_for_status()


def run_balance(stack: LocalStack) -> dict:
    # `force`: check now even though the last check (the schedule's, or the previous step's) is recent.
    answer = requests.post(f"{stack.api}/_local/run/balance", json={"force": True}, timeout=60)
    assert answer.status_code == 200, answer.text
    return answer.json()["result"]


def balance_emails(stack: LocalStack) -> list[dict]:
    emails = requests.get(f"{stack.api}/_local/emails", timeout=10).json()
    return [email for email in emails if "balance" in (email.get("subject") or "").lower()]


def test_given_the_sandbox_under_its_minimum_when_checked_twice_then_raised_then_one_low_and_one_recovered_email(
        stack):
    # Given a sandbox above its minimum of 100 (whatever earlier tests or the schedule did)
    set_sandbox_balance(stack, 500)
    run_balance(stack)
    before = len(balance_emails(stack))

    # When its balance drops under the minimum and the check runs: exactly one email
    set_sandbox_balance(stack, 42)
    assert run_balance(stack)["checked"]["sandbox"] == 42.0
    emails = balance_emails(stack)[before:]
    assert len(emails) == 1
    assert "sandbox" in emails[0]["subject"] and "42" in emails[0]["subject"]
    assert emails[0]["destinations"]["ToAddresses"] == ["ops@example.com"]
    assert "Balance: 42" in emails[0]["body"]

    # When checked again the same day: none
    run_balance(stack)
    assert len(balance_emails(stack)[before:]) == 1

    # When the balance is raised: one "recovered" email
    set_sandbox_balance(stack, 250)
    run_balance(stack)
    emails = balance_emails(stack)[before:]
    assert len(emails) == 2 and "recovered" in emails[1]["subject"].lower() and "250" in emails[1]["subject"]
