"""Errors the user can fix. The command line prints them as one line and exits with 2."""

from __future__ import annotations

__all__ = ["QttError", "UnknownNameError", "UsageError"]


class QttError(Exception):
    """Base of every error caused by the user's input; the message says what to do."""


class UsageError(QttError, ValueError):
    """Bad input: a file, an argument or a value the user gave. Exit code 2."""


class UnknownNameError(UsageError, KeyError):
    """A name (model, space, extractor, ...) that no plugin registered; lists known names."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""
