"""Errors of the preset system."""


class PresetError(ValueError):
    """A preset handle, directory or file that cannot be used."""


class PresetNotAvailableError(PresetError, FileNotFoundError):
    """A known preset whose files cannot be found or downloaded here."""


def short_message(error, limit=200):
    """`str(error)` on one line, cut to `limit` characters, for messages
    that quote an underlying error.

    Args:
        error: an exception (or any object).
        limit: int. Longest text kept. Defaults to `200`.

    Returns:
        str.

    Example:
    >>> short_message(ValueError("a\nb"))
    'a b'
    """
    text = str(error).replace("\n", " ")
    return text if len(text) <= limit else text[:limit] + "..."
