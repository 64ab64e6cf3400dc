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
    "add_rows",
    "aligned",
    "compiled",
    "module",
    "use_compiled",
]

ENV_VARIABLE = "ARABIC_NER_NO_KERNELS"
"""Set to 1 to run the numpy loops although the compiled ones are installed."""

_module: ModuleType | None
try:
    from arabic_ner import _kernels as _module
except ImportError:  # built without a C compiler: the numpy loops run
    _module = None

_enabled = os.environ.get(ENV_VARIABLE, "") in ("", "0")


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
    target: npt.NDArray[np.float64], positions: Sequence[int], values: npt.NDArray[Any]
) -> None:
    """Add ``values[k]`` to row ``positions[k]`` of ``target``, in order (``np.add.at``).

    >>> target = np.zeros((2, 2))
    >>> add_rows(target, [1, 1], np.ones((2, 2)))
    >>> target.tolist()
    [[0.0, 0.0], [2.0, 2.0]]
    """
    fast = module()
    if fast is None or not target.flags.c_contiguous or target.dtype != np.float64:
        np.add.at(target, positions, values)
    else:
        fast.add_rows(
            target,
            np.asarray(positions, dtype=np.intp),
            np.ascontiguousarray(values, dtype=np.float64),
        )


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
