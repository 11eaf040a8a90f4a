"""Errors raised by media_store."""

from __future__ import annotations


class InvalidTransformationError(ValueError):
    """A transformation string or argument is not valid ImageKit grammar.

    ``key`` names the offending transformation key (``"w"``, ``"f"``...), or is
    None when the string cannot be split into keys at all.
    """

    def __init__(self, message: str, *, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


class RemoteStorageError(OSError):
    """The remote storage (ImageKit) refused or failed a request.

    The message is safe to show: it carries the service's answer, never a key.
    """
