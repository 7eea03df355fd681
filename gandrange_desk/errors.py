"""Errors that reach the user: each carries French text meant to be shown as is."""

from __future__ import annotations


class DeskError(Exception):
    """A refusal the user must read: one French sentence (or several lines)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ValidationFailed(DeskError):
    """Bad input: one French line per problem; nothing was written."""

    def __init__(self, problems: list[str], headline: str | None = None):
        self.problems = list(problems)
        text = "\n".join(self.problems)
        if headline:
            text = headline + "\n" + text
        super().__init__(text)


class NotFound(DeskError):
    pass


class PermissionDenied(DeskError):
    pass


class StaleEdit(DeskError):
    """Another workstation saved first; the edit was refused, never merged silently."""


class AlreadyDecided(DeskError):
    pass


class DatabaseUnavailable(DeskError):
    pass


class IssuedInvoiceChange(DeskError):
    """An issued invoice or one of its lines was about to change: a credit note corrects it."""


class DatabaseBusy(DeskError):
    """A writer waited for the SQLite write lock longer than it may."""
