"""Errors that are the user's to fix, reported by the command line as one paragraph and exit status 2."""


class UserInputError(Exception):
    """Bad input: a malformed or inconsistent configuration, a missing file, an unwritable path.

    The message is a complete sentence that names the offending parameter or path, the value, and
    what would be accepted. The command line prints it without a traceback and exits with status 2.
    """


class ConfigError(UserInputError, ValueError):
    """A configuration value is missing, unknown, out of range or inconsistent with another."""
