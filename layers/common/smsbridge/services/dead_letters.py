"""The dead-letter queue through the admin API: what is there and why, redrive onto each body's lane, delete."""
from __future__ import annotations

from smsbridge.errors import NotFound
from smsbridge.models.api import DeadLetterList, DeadLetterView, Redriven
from smsbridge.observability import logger
from smsbridge.services.ports import DeadLetterStore

# A body can be up to 1 MiB: a listing of 200 would not fit in a Lambda answer (6 MB).
BODY_MAX_CHARS = 4096


class DeadLetterDesk:
    def __init__(self, *, letters: DeadLetterStore):
        self._letters = letters

    def list(self, limit: int = 50) -> DeadLetterList:
        items = []
        for letter in self._letters.peek(limit):
            cut = len(letter.body) > BODY_MAX_CHARS
            items.append(DeadLetterView(id=letter.id, body=letter.body[:BODY_MAX_CHARS] if cut else letter.body,
                                        body_truncated=cut, reason=letter.reason, message_id=letter.message_id,
                                        sent_at=letter.sent_at))
        return DeadLetterList(items=items)

    def redrive(self, ids: list[str] | None) -> Redriven:
        """The named dead letters (all of them when `ids` is None) back onto their lane (BulkQueue for MARKETING)."""
        count = self._letters.redrive(set(ids) if ids is not None else None)
        logger.info("dead letters redriven", count=count, every=ids is None)
        return Redriven(redriven=count)

    def delete(self, letter_id: str) -> None:
        if not self._letters.delete(letter_id):
            raise NotFound(f"no dead letter {letter_id!r} (redriven or deleted already?)")
        logger.info("dead letter deleted", dead_letter=letter_id)
