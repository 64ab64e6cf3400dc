import numpy as np
import numpy.typing as npt

def lstm(
    gates: npt.NDArray[np.float64],
    w_hh: npt.NDArray[np.float32],
    starts: npt.NDArray[np.intp],
    lengths: npt.NDArray[np.intp],
    backward: bool,
    out: npt.NDArray[np.float64],
    rows: npt.NDArray[np.intp] | None = None,
    extra: npt.NDArray[np.float64] | None = None,
) -> None: ...
def product_loops(level: int = -1) -> int: ...
def viterbi(
    emissions: npt.NDArray[np.float64],
    transitions: npt.NDArray[np.float64],
    starts: npt.NDArray[np.intp],
    lengths: npt.NDArray[np.intp],
    out: npt.NDArray[np.intp],
) -> None: ...
def marginals(
    emissions: npt.NDArray[np.float64],
    transitions: npt.NDArray[np.float64],
    starts: npt.NDArray[np.intp],
    lengths: npt.NDArray[np.intp],
    out: npt.NDArray[np.float64],
) -> None: ...
def add_rows(
    target: npt.NDArray[np.float64],
    positions: npt.NDArray[np.intp],
    values: npt.NDArray[np.float64],
    rows: npt.NDArray[np.intp] | None = None,
) -> None: ...
def window_sums(
    table: npt.NDArray[np.float64],
    ids: npt.NDArray[np.intp],
    lengths: npt.NDArray[np.intp],
    bos: npt.NDArray[np.float64],
    eos: npt.NDArray[np.float64],
    out: npt.NDArray[np.float64],
) -> None: ...
