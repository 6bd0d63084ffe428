"""Smart encoding on the send path (SPEC 3 `smart_encoding`): what the provider receives, the stored segments, the history."""
from __future__ import annotations

import json

from tests.integration.test_send_path import configure, drain, message

# 146 characters with curly quotes, a dash and an ellipsis: three UCS-2 segments as written,
# one GSM-7 segment once smart-encoded.
TEXT = "Don’t “panic” – it’s fine… " + "x" * 120


def test_given_curly_quotes_when_sent_then_the_provider_gets_gsm7_and_one_segment_is_stored(stack, provider):
    configure(provider)
    stack.enqueue({"id": "m1", "to": "+33612345678", "text": TEXT})

    drain(stack, rounds=1)

    assert json.loads(provider.last.body.decode("utf-8"))["body"] == "Don't \"panic\" - it's fine... " + "x" * 120
    stored = message(stack, "m1")
    assert (stored["status"], stored["segments"], stored["is_unicode"]) == ("sent", 1, False)
    sent = [entry for entry in stored["history"] if entry["status"] == "sent"]
    assert sent[0]["reason"].endswith("; smart encoding: ’→' ×2, “→\" ×1, ”→\" ×1, –→- ×1, …→... ×1")


def test_given_smart_encoding_off_when_sent_then_the_text_goes_as_written_in_three_ucs2_segments(stack, provider):
    configure(provider, smart_encoding=False)
    stack.enqueue({"id": "m1", "to": "+33612345678", "text": TEXT})

    drain(stack, rounds=1)

    assert json.loads(provider.last.body.decode("utf-8"))["body"] == TEXT
    stored = message(stack, "m1")
    assert (stored["status"], stored["segments"], stored["is_unicode"]) == ("sent", 3, True)
    assert all("smart encoding" not in (entry.get("reason") or "") for entry in stored["history"])


def test_given_an_emoji_beside_a_curly_quote_when_sent_then_nothing_is_replaced_nor_recorded(stack, provider):
    configure(provider)
    stack.enqueue({"id": "m1", "to": "+33612345678", "text": "It’s party time 🎉"})

    drain(stack, rounds=1)

    assert json.loads(provider.last.body.decode("utf-8"))["body"] == "It’s party time 🎉"
    stored = message(stack, "m1")
    assert stored["is_unicode"] is True
    assert all("smart encoding" not in (entry.get("reason") or "") for entry in stored["history"])
