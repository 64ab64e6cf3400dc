"""Whether the compiled loops run, and the switch that turns them off.

The tagger spends most of a short text's time in two loops over time steps: the BiLSTM
recurrence (``neural.py``) and the CRF's Viterbi and forward-backward (``crf.py``). In
numpy each step is a handful of calls, a few microseconds apiece, whatever the size of
the arrays; ``_kernels.pyx`` runs the same arithmetic in C, one sentence at a time. pip
compiles it when the package is installed from source (setup.py; Cython and a C
compiler); where that fails, the package installs without it and the numpy loops run, with
the same labels and scores within 1e-6 (``tests/test_kernels.py``), only slower.

>>> isinstance(compiled(), bool)
True
>>> with use_compiled(False):
...     compiled()
False
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from types import ModuleType
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "CACHE_LINE",
    "ENV_VARIABLE",
    "OFF_BY_ENVIRONMENT",
    "add_rows",
    "aligned",
    "compiled",
    "module",
    "use_compiled",
    "window_sums",
]

ENV_VARIABLE = "ARABIC_NER_NO_KERNELS"
"""Set to 1 to run the numpy loops although the compiled ones are installed.

It also keeps the Python rebuild of pickled entities (``entities.py``) where the C one
(``_slots.c``) is built; that choice is made once, at import, and :func:`use_compiled`
does not change it."""

OFF_BY_ENVIRONMENT = os.environ.get(ENV_VARIABLE, "") not in ("", "0")
"""Whether :data:`ENV_VARIABLE` switched the compiled parts off when the package loaded."""

_module: ModuleType | None
try:
    from arabic_ner import _kernels as _module
except ImportError:  # built without a C compiler: the numpy loops run
    _module = None

_enabled = not OFF_BY_ENVIRONMENT


def module() -> ModuleType | None:
    """The compiled loops if they are installed and in use, else None."""
    return _module if _enabled else None


def compiled() -> bool:
    """Whether the compiled loops run (installed and not switched off)."""
    return module() is not None


@contextlib.contextmanager
def use_compiled(enabled: bool) -> Iterator[None]:
    """Run the compiled loops (if installed) or the numpy ones inside the block.

    For comparing the two; it changes a process-wide setting, so do not use it while
    other threads tag.
    """
    global _enabled
    previous = _enabled
    _enabled = enabled
    try:
        yield
    finally:
        _enabled = previous


def add_rows(
    target: npt.NDArray[np.float64],
    positions: Sequence[int],
    values: npt.NDArray[Any],
    rows: Sequence[int] | None = None,
) -> None:
    """Add ``values[k]`` to row ``positions[k]`` of ``target``, in order (``np.add.at``).

    With ``rows``, ``values[rows[k]]`` instead: the compiled loop reads those rows of a
    table where they are, where ``values[rows]`` would copy them first.

    >>> target = np.zeros((2, 2))
    >>> add_rows(target, [1, 1], np.ones((2, 2)))
    >>> add_rows(target, [0], np.arange(4.0).reshape(2, 2), rows=[1])
    >>> target.tolist()
    [[2.0, 3.0], [2.0, 2.0]]
    """
    fast = module()
    if fast is None or not target.flags.c_contiguous or target.dtype != np.float64:
        np.add.at(target, positions, values if rows is None else values[rows])
    else:
        fast.add_rows(
            target,
            np.asarray(positions, dtype=np.intp),
            np.ascontiguousarray(values, dtype=np.float64),
            None if rows is None else np.asarray(rows, dtype=np.intp),
        )


def window_sums(
    table: npt.NDArray[np.float64],
    ids: Sequence[int],
    lengths: npt.NDArray[np.intp],
    bos: npt.NDArray[np.float64],
    eos: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    """Return (tokens, labels) CRF state scores summed from word types' window slots.

    ``table`` (types, 5, labels) holds, per word type, its own features' weights (slot 0)
    and what it shows as the token two before, one before, one after and two after
    another (slots 1 to 4); ``ids`` are the tokens' types, sentences of ``lengths`` laid
    end to end. ``bos`` is added to a sentence's first two tokens and ``eos`` to its last
    two. The compiled loop adds in this code's order: the same bits.

    >>> table = np.arange(10.0).reshape(2, 5, 1)  # type 0: 0..4, type 1: 5..9
    >>> window_sums(table, [0, 1], np.array([2]), np.array([100.0]), np.array([1000.0]))
    array([[1108.],
           [1107.]])
    """
    fast = module()
    if fast is not None:
        out = np.empty((len(ids), table.shape[2]), dtype=np.float64)
        fast.window_sums(
            np.ascontiguousarray(table, dtype=np.float64),
            np.asarray(ids, dtype=np.intp),
            np.asarray(lengths, dtype=np.intp),
            np.ascontiguousarray(bos, dtype=np.float64),  # float32 widens exactly
            np.ascontiguousarray(eos, dtype=np.float64),
            out,
        )
        return out
    ends = np.cumsum(lengths)
    position = np.arange(len(ids)) - np.repeat(ends - lengths, lengths)  # from the start
    left = np.repeat(lengths, lengths) - 1 - position  # tokens after, in the sentence
    stacked = table[np.asarray(ids, dtype=np.intp)]
    scores: npt.NDArray[np.float64] = stacked[:, 0].copy()
    for slot, offset, room in ((2, -1, position), (3, 1, left), (1, -2, position), (4, 2, left)):
        at = np.flatnonzero(room >= abs(offset))
        scores[at] += stacked[at + offset, slot]
    scores[position < 2] += bos
    scores[left < 2] += eos
    return scores


CACHE_LINE = 64
"""Bytes: the compiled LSTM reads its recurrent weights fastest from a multiple of this."""


def aligned(array: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """A C-contiguous copy of numeric ``array`` whose data start at a multiple of 64 bytes.

    numpy aligns its arrays to 16 bytes; the compiled LSTM reads whole cache lines of its
    weights at a time, and copies weights that are not aligned (``_kernels.lstm``).

    >>> weights = aligned(np.arange(6.0).reshape(2, 3))
    >>> weights.ctypes.data % CACHE_LINE, weights.tolist()
    (0, [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]])
    """
    if array.nbytes == 0:  # no data to align (numpy points an empty slice anywhere)
        return np.empty_like(array, order="C")
    buffer = np.empty(array.nbytes + CACHE_LINE, dtype=np.uint8)
    offset = -buffer.ctypes.data % CACHE_LINE
    out = buffer[offset : offset + array.nbytes].view(array.dtype).reshape(array.shape)
    out[...] = array
    return out
