"""Errors that are the user's to fix, reported by the command line as one paragraph and exit status 2,
and the interruption of a run by a signal (exit status 128 + signal number)."""

from __future__ import annotations

from typing import Any

# Longest echo of a user's value in a message: a 1 MB string or a 5000-digit integer pasted into a
# configuration must not be printed back whole.
SHOWN_CHARACTERS = 60


def shown(value: Any, limit: int = SHOWN_CHARACTERS) -> str:
    """``repr(value)`` for a message, cut to about `limit` characters with the full length said.

    Integers of many digits are described by their size: Python refuses to print integers of more
    than 4300 digits, and a long one is unreadable anyway.
    """
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 3 * limit:
        return f"an integer of about {int(value.bit_length() * 0.30103)} digits"
    try:
        text = repr(value)
    except ValueError:  # a container holding an integer of more than 4300 digits
        return f"a {type(value).__name__} holding an integer of more than 4300 digits"
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text)} characters)"


class UserInputError(Exception):
    """Bad input: a malformed or inconsistent configuration, a missing file, an unwritable path.

    The message is a complete sentence that names the offending parameter or path, the value, and
    what would be accepted. The command line prints it without a traceback and exits with status 2.
    ``detail``, when given, is printed verbatim after the paragraph (a user's own traceback).
    """

    def __init__(self, message: str, detail: str | None = None) -> None:
        super().__init__(message)
        self.detail = detail


class ConfigError(UserInputError, ValueError):
    """A configuration value is missing, unknown, out of range or inconsistent with another."""


class Interrupted(BaseException):
    """The run received SIGINT or SIGTERM (a `BaseException`, like `KeyboardInterrupt`, so that no
    ``except Exception`` swallows it). ``hint`` says what was kept and how to continue; ``command``,
    when given, is the command line that continues (printed alone on a line, so it copies whole)."""

    def __init__(self, signal_number: int, hint: str = "", command: str = "") -> None:
        super().__init__(signal_number, hint, command)
        self.signal_number = signal_number
        self.hint = hint
        self.command = command
