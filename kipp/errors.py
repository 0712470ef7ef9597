"""Domain exceptions. Services raise them; the web edge turns them into messages."""

from __future__ import annotations


class DomainError(Exception):
    """A rule refused the change. ``message`` is shown to the person as it is
    (already translated by the service's caller where needed); ``field`` names the
    form field at fault, if one is."""

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field


class NotAllowed(DomainError):
    """The actor may not do this (the web edge answers 403 or 404)."""
