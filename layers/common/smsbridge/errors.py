"""The admin use cases' errors, each one HTTP status of the API; their messages are safe to show."""
from __future__ import annotations

from typing import Any

from pydantic import ValidationError


class BadRequest(ValueError):
    """The request cannot be done as asked (400)."""


class NotFound(LookupError):
    """What the request names does not exist (404)."""


class Conflict(ValueError):
    """The request clashes with what exists (409)."""


class Invalid(ValueError):
    """A document fails validation (422), with the per-field `errors` (`loc`, `msg`)."""

    def __init__(self, message: str, errors: list[dict[str, Any]]):
        super().__init__(message)
        self.errors = errors


def field_errors(error: ValidationError, *, prefix: str | None = None) -> list[dict[str, Any]]:
    """Pydantic's errors as `loc` and `msg` only: the input, which may be a secret, is never repeated.
    `prefix` goes before each `loc` (`body` for a request body, as the API's own validation writes it)."""
    head = [prefix] if prefix else []
    return [{"loc": ".".join([*head, *(str(part) for part in item["loc"])]) or "body", "msg": item["msg"]}
            for item in error.errors(include_url=False, include_input=False, include_context=False)]
