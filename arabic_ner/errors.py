"""The exceptions arabic-ner raises.

Every error derives from :class:`ArabicNERError`, so callers can catch one class.
Each message says what was expected, what was received and what to do next.
"""

from __future__ import annotations

__all__ = [
    "ArabicNERError",
    "BackendNotAvailableError",
    "ConfigError",
    "DataFormatError",
    "InputError",
    "ModelError",
    "WorkerError",
]


class ArabicNERError(Exception):
    """Base class of every error raised by arabic-ner."""


class InputError(ArabicNERError, TypeError):
    """Text of the wrong type was passed to a public function.

    It is also a :class:`TypeError`, so ``except TypeError`` keeps working.
    """


class ModelError(ArabicNERError):
    """A model file is missing, unreadable or was built for another version."""


class DataFormatError(ArabicNERError, ValueError):
    """A data file (CoNLL, gazetteer, JSONL record) is malformed; the message names the line."""


class ConfigError(ArabicNERError, ValueError):
    """An option has a value it cannot take (``batch_size=0``, an unknown entity type)."""


class WorkerError(ArabicNERError, RuntimeError):
    """A worker process died while tagging (``pipe(n_process=N)``, ``extract -j N``)."""


class BackendNotAvailableError(ArabicNERError, ImportError):
    """An optional backend was requested but its extra is not installed."""


def check_text(text: object, *, name: str = "text") -> str:
    """Return ``text`` if it is a ``str``; raise :class:`InputError` otherwise.

    >>> check_text("بيروت")
    'بيروت'
    """
    if isinstance(text, str):
        return text
    kind = type(text).__name__
    if isinstance(text, (bytes, bytearray, memoryview)):
        hint = "decode it first, e.g. data.decode('utf-8')"
    elif text is None:
        hint = "pass the text itself; use '' for an empty document"
    else:
        hint = "convert it to a str or pass the text it stands for"
    raise InputError(f"{name} must be a str, got {kind}: {hint}")
