"""The compiled loops give the numpy loops' labels exactly and their scores within 1e-6.

The compiled LSTM runs in single precision and the numpy one in double: their outputs
(each in [-1, 1]) agree within LSTM_TOLERANCE, about ten floats' rounding; a wrong step
(a gate out of place, a missed clamp) would be off by tenths.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import arabic_ner
from arabic_ner import kernels
from arabic_ner.conll import read_conll
from arabic_ner.crf import LinearChainCRF
from arabic_ner.model import CRFBackend, default_model_path
from arabic_ner.neural import NeuralTagger
from arabic_ner.train import gold_tokens

from .conftest import SHARED

needs_compiled = pytest.mark.skipif(
    not kernels.compiled(), reason="the compiled loops are not installed (no C compiler?)"
)
LSTM_TOLERANCE = 5e-6
# The scores are rounded to 6 digits (model.SCORE_DIGITS): an error far below 1e-6 can
# still move the last digit by one.
SCORE_TOLERANCE = 1e-6 + 1e-12
TRAINING_FILES = [
    SHARED / "data" / "ner" / name / "train.txt" for name in ("anercorp", "aqmar", "wikifane")
]


def _random_sentences(rng: np.random.Generator, labels: int) -> list[np.ndarray]:
    return [rng.normal(0, 3, (int(n), labels)) for n in rng.integers(1, 40, 30)]


@needs_compiled
def test_viterbi_and_marginals_equal_numpys() -> None:
    rng = np.random.default_rng(7)
    crf = LinearChainCRF(
        [f"L{i}" for i in range(9)], {}, np.zeros((0, 9)), rng.normal(0, 2, (9, 9))
    )
    emissions = _random_sentences(rng, 9)
    fast_paths, fast_marginals = crf.viterbi(emissions), crf.marginals(emissions)
    with kernels.use_compiled(False):
        paths, marginals = crf.viterbi(emissions), crf.marginals(emissions)
    assert fast_paths == paths
    for fast, slow in zip(fast_marginals, marginals, strict=True):
        np.testing.assert_allclose(fast, slow, rtol=0, atol=1e-12)
    # Every label ties: the lowest wins, as with numpy's argmax.
    flat = LinearChainCRF(crf.labels, {}, np.zeros((0, 9)), np.zeros((9, 9)))
    assert flat.viterbi([np.zeros((5, 9))]) == [[0] * 5]


@needs_compiled
def test_lstm_equals_numpys() -> None:
    tagger = NeuralTagger(default_model_path() / "neural.npz")
    rng = np.random.default_rng(3)
    lengths = np.array(sorted(rng.integers(1, 60, 40), reverse=True), dtype=np.intp)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.intp)
    for backward in (False, True):
        w_hh, single, _ = tagger._directions[int(backward)]
        gates = rng.normal(0, 2, (int(lengths.sum()), w_hh.shape[1]))
        fast = tagger._run(gates, w_hh, starts, lengths, backward=backward, single=single)
        with kernels.use_compiled(False):
            slow = tagger._run(gates, w_hh, starts, lengths, backward=backward)
        np.testing.assert_allclose(fast, slow, rtol=0, atol=LSTM_TOLERANCE)


@needs_compiled
@pytest.mark.parametrize("hidden", [1, 5, 9, 64])
def test_lstm_equals_numpys_at_any_width_and_when_saturated(hidden: int) -> None:
    # Widths 4H below, at and between the C loop's tiles of 32 outputs; gates far outside
    # exp's range, where the C clamps its argument and numpy's tanh saturates.
    rng = np.random.default_rng(hidden)
    lengths = np.array([7, 3, 1], dtype=np.intp)
    starts = np.array([0, 7, 10], dtype=np.intp)
    w_hh = rng.normal(0, 1, (hidden, 4 * hidden))
    gates = rng.normal(0, 2, (11, 4 * hidden))
    gates[::3] *= 1e6
    runner = NeuralTagger.__new__(NeuralTagger)
    runner._hidden = hidden
    for backward in (False, True):
        fast = runner._run(gates, w_hh, starts, lengths, backward=backward)
        with kernels.use_compiled(False):
            slow = runner._run(gates, w_hh, starts, lengths, backward=backward)
        assert np.isfinite(fast).all()
        np.testing.assert_allclose(fast, slow, rtol=0, atol=LSTM_TOLERANCE)


@needs_compiled
@pytest.mark.parametrize("hidden", [5, 8, 20, 64])
@pytest.mark.parametrize("backward", [False, True], ids=["forward", "backward"])
def test_lstm_product_loops_give_the_same_bits(hidden: int, backward: bool) -> None:
    # The recurrent product runs in vectors of 16 floats on AVX-512 (four sentences side by
    # side, each row of w_hh read once for the four), of 8 on AVX2, in plain loops
    # elsewhere (_lstm.h); each output adds its terms in one order in all of them, so a
    # sentence gets the same bits however it is run and whatever runs beside it. Eleven
    # sentences: two blocks of four (one of them in lockstep to its end, one with
    # sentences that end early) and a block of three; widths 4H below, at and between
    # tiles of 64 outputs.
    from arabic_ner import _kernels

    if _kernels.product_loops() < 0:
        pytest.skip("built without GCC's vector types: plain loops only")
    rng = np.random.default_rng(hidden)
    lengths = np.array([9, 9, 9, 9, 8, 3, 1, 5, 4, 0, 2], dtype=np.intp)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.intp)
    tokens = int(lengths.sum())
    w_hh = kernels.aligned(rng.normal(0, 1, (hidden, 4 * hidden)).astype(np.float32))
    gates = rng.normal(0, 2, (tokens, 4 * hidden))
    level = _kernels.product_loops()
    outputs = []
    try:
        for forced in (0, 1, 2):
            assert _kernels.product_loops(forced) == forced
            out = np.empty((tokens, hidden))
            _kernels.lstm(gates, w_hh, starts, lengths, backward, out)
            outputs.append(out)
            alone = np.empty((tokens, hidden))
            for start, length in zip(starts, lengths, strict=True):
                one = np.array([start], dtype=np.intp), np.array([length], dtype=np.intp)
                _kernels.lstm(gates, w_hh, *one, backward, alone)
            assert alone.tobytes() == out.tobytes()
    finally:
        _kernels.product_loops(level)
    assert outputs[0].tobytes() == outputs[1].tobytes() == outputs[2].tobytes()
    with pytest.raises(ValueError, match="level must be"):
        _kernels.product_loops(3)


@needs_compiled
@pytest.mark.parametrize("backward", [False, True], ids=["forward", "backward"])
def test_lstm_reads_gates_in_place_as_a_row_per_token(backward: bool) -> None:
    # The tagger keeps each word type's gates once: a token reads its type's row (rows[i]
    # >= 0) or, when list matches add to its gates, a row of its own in extra (row
    # -1 - rows[i]). The outputs are those of the gates copied to a row per token, bit
    # for bit; numpy's loops, given the same rows, agree within the usual tolerance.
    from arabic_ner import _kernels

    rng = np.random.default_rng(8)
    hidden = 16
    w_hh = kernels.aligned(rng.normal(0, 0.5, (hidden, 4 * hidden)).astype(np.float32))
    table = rng.normal(0, 1, (7, 4 * hidden))
    extra = rng.normal(0, 1, (3, 4 * hidden))
    rows = np.array([0, 3, -1, 3, 6, -3, 0, 1, -2, 2], dtype=np.intp)
    lengths = np.array([4, 3, 2, 1], dtype=np.intp)
    starts = np.array([0, 4, 7, 9], dtype=np.intp)
    gathered = np.array([table[r] if r >= 0 else extra[-1 - r] for r in rows])
    copied, in_place = np.empty((10, hidden)), np.empty((10, hidden))
    _kernels.lstm(gathered, w_hh, starts, lengths, backward, copied)
    _kernels.lstm(table, w_hh, starts, lengths, backward, in_place, rows, extra)
    assert copied.tobytes() == in_place.tobytes()
    runner = NeuralTagger.__new__(NeuralTagger)
    runner._hidden = hidden
    with kernels.use_compiled(False):
        slow = runner._run(
            table,
            w_hh.astype(np.float64),
            starts,
            lengths,
            backward=backward,
            rows=rows,
            extra=extra,
        )
    np.testing.assert_allclose(in_place, slow, rtol=0, atol=LSTM_TOLERANCE)
    for bad in ([7], [-4]):
        with pytest.raises(ValueError, match="outside the gates"):
            _kernels.lstm(
                table,
                w_hh,
                np.zeros(1, np.intp),
                np.ones(1, np.intp),
                backward,
                np.empty((1, hidden)),
                np.array(bad, dtype=np.intp),
                extra,
            )


@needs_compiled
def test_lstm_reads_weights_at_any_address_alike() -> None:
    # The kernel copies weights that do not start on a cache line; the shipped tagger keeps
    # them aligned (kernels.aligned) so that it need not.
    from arabic_ner import _kernels

    rng = np.random.default_rng(3)
    hidden = 16
    weights = rng.normal(0, 0.5, (hidden, 4 * hidden)).astype(np.float32)
    gates = rng.normal(0, 1, (9, 4 * hidden))
    starts, lengths = np.array([0, 4], dtype=np.intp), np.array([4, 5], dtype=np.intp)
    at_line = kernels.aligned(weights)
    buffer = np.empty(weights.size + 16, dtype=np.float32)
    offset = (-buffer.ctypes.data % kernels.CACHE_LINE) // 4 + 2  # 8 bytes past a line
    off_line = buffer[offset : offset + weights.size].reshape(weights.shape)
    off_line[...] = weights
    assert at_line.ctypes.data % kernels.CACHE_LINE == 0
    assert off_line.ctypes.data % kernels.CACHE_LINE == 8
    results = []
    for w_hh in (at_line, off_line):
        out = np.empty((9, hidden))
        _kernels.lstm(gates, w_hh, starts, lengths, False, out)
        results.append(out)
    assert np.array_equal(results[0], results[1])


def test_the_shipped_taggers_recurrent_weights_start_on_a_cache_line() -> None:
    # Off a line the kernel reads a copy, at a cost on every call (see _kernels.lstm).
    neural = arabic_ner.load().backend.neural
    assert neural is not None
    for _, single, _ in neural._directions:
        assert single.dtype == np.float32
        assert single.ctypes.data % kernels.CACHE_LINE == 0


@needs_compiled
def test_kernels_check_their_input() -> None:
    from arabic_ner import _kernels

    emissions = np.zeros((4, 3))
    transitions = np.zeros((3, 3))
    out = np.empty(4, dtype=np.intp)
    with pytest.raises(ValueError, match="outside"):
        _kernels.viterbi(
            emissions, transitions, np.array([2], np.intp), np.array([3], np.intp), out
        )
    with pytest.raises(ValueError, match="column per label"):
        _kernels.viterbi(
            np.zeros((4, 2)), transitions, np.array([0], np.intp), np.array([4], np.intp), out
        )
    with pytest.raises(ValueError):  # a view that is not C-contiguous
        _kernels.viterbi(
            np.zeros((3, 4)).T, transitions, np.array([0], np.intp), np.array([4], np.intp), out
        )
    # An empty sentence has no labels and costs nothing.
    _kernels.viterbi(
        emissions, transitions, np.array([0, 4], np.intp), np.array([4, 0], np.intp), out
    )
    assert out.tolist() == [0, 0, 0, 0]


def _compare(backend: CRFBackend, sentences: list) -> int:  # type: ignore[type-arg]
    """Tag ``sentences`` both ways; assert equal labels and scores within 1e-6 (rounded)."""
    fast = backend.tag(sentences)
    with kernels.use_compiled(False):
        slow = backend.tag(sentences)
    for (fast_labels, fast_scores), (labels, scores) in zip(fast, slow, strict=True):
        assert fast_labels == labels
        np.testing.assert_allclose(fast_scores, scores, rtol=0, atol=SCORE_TOLERANCE)
    return sum(map(len, sentences))


@needs_compiled
def test_sample_article_gives_the_same_entities(sample_text: str) -> None:
    nlp = arabic_ner.load()
    fast = nlp(sample_text)
    with kernels.use_compiled(False):
        slow = nlp(sample_text)
    assert [(e.start, e.end, e.type) for e in fast] == [(e.start, e.end, e.type) for e in slow]
    for a, b in zip(fast, slow, strict=True):
        assert a.score == pytest.approx(b.score, abs=SCORE_TOLERANCE)


@needs_compiled
@pytest.mark.parametrize("path", TRAINING_FILES, ids=lambda p: p.parent.name)
def test_training_files_get_the_same_labels(path: Path) -> None:
    if not path.is_file():
        pytest.skip(f"{path} not found: the shared data folder is not beside the project")
    backend = CRFBackend(default_model_path())
    sentences = [gold_tokens(s.tokens) for s in read_conll(path) if s.tokens]
    assert _compare(backend, sentences) > 50_000


@pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "numpy"])
def test_a_sentence_gets_the_same_labels_and_scores_alone_and_in_a_batch(compiled: bool) -> None:
    # Batched, the sentences share matrix products whose last bits depend on the batch;
    # the compiled recurrence (single precision) runs a sentence at a time. The scores,
    # rounded to 6 digits, must not show either.
    path = TRAINING_FILES[0]
    if not path.is_file():
        pytest.skip(f"{path} not found: the shared data folder is not beside the project")
    if compiled and not kernels.compiled():
        pytest.skip("the compiled loops are not installed")
    backend = CRFBackend(default_model_path())
    sentences = [gold_tokens(s.tokens) for s in read_conll(path) if s.tokens][:300]
    with kernels.use_compiled(compiled):
        together = backend.tag(sentences)
        alone = [backend.tag([sentence])[0] for sentence in sentences]
    assert alone == together


def test_switched_off_by_the_environment() -> None:
    code = "from arabic_ner import kernels; print(kernels.compiled())"
    env = {**os.environ, kernels.ENV_VARIABLE: "1"}
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
    with kernels.use_compiled(False):
        assert kernels.module() is None


@pytest.mark.skipif(
    os.environ.get("ARABIC_NER_REQUIRE_KERNELS") != "1",
    reason="set ARABIC_NER_REQUIRE_KERNELS=1 (as .ci/run does) to require the compiled loops",
)
def test_the_compiled_loops_are_built_from_the_current_source() -> None:
    # pip builds the extension as optional: a compile error is only a warning, and an
    # editable install then keeps the last module built. CI must see that.
    assert kernels.compiled(), "arabic_ner._kernels did not build: pip install -v -e ."
    from arabic_ner import _kernels

    package = Path(arabic_ner.__file__).parent
    built = Path(_kernels.__file__).stat().st_mtime
    for source in ("_kernels.pyx", "_lstm.h"):
        assert (package / source).stat().st_mtime <= built, f"{source} is newer than the module"


@pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "numpy"])
def test_add_rows_adds_single_precision_rows_in_double(compiled: bool) -> None:
    # The CRF's state weights are single precision: 2**24 + 1 + 1 keeps both ones only
    # when the rows are widened before they are added.
    target = np.zeros((1, 2))
    values = np.array([[2.0**24, 0.0], [1.0, 0.0], [1.0, 0.0]], dtype=np.float32)
    with kernels.use_compiled(compiled):
        kernels.add_rows(target, [0, 0, 0], values)
    assert target.tolist() == [[2.0**24 + 2, 0.0]]


def test_add_rows_adds_in_order_like_numpy() -> None:
    rng = np.random.default_rng(5)
    target = rng.normal(size=(6, 9))
    positions = rng.integers(0, 6, 40).tolist()
    values = rng.normal(size=(40, 9))
    expected = target.copy()
    np.add.at(expected, positions, values)
    kernels.add_rows(target, positions, values)
    assert np.array_equal(target, expected)
    if kernels.compiled():
        with pytest.raises(ValueError, match="outside"):
            kernels.add_rows(target, [6], values[:1])


@pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "numpy"])
def test_add_rows_reads_rows_of_a_table_as_gathered_ones(compiled: bool) -> None:
    # The BiLSTM adds each token's list matches from a table of a dozen rows, in place.
    rng = np.random.default_rng(6)
    table = rng.normal(size=(5, 9))
    positions = rng.integers(0, 6, 40).tolist()
    rows = rng.integers(0, 5, 40).tolist()
    target = rng.normal(size=(6, 9))
    expected = target.copy()
    np.add.at(expected, positions, table[rows])
    with kernels.use_compiled(compiled):
        kernels.add_rows(target, positions, table, rows)
    assert np.array_equal(target, expected)
    if compiled and kernels.compiled():
        with pytest.raises(ValueError, match="outside the 5 rows of values"):
            kernels.add_rows(target, [0], table, [5])


@needs_compiled
def test_window_sums_equal_numpys_bit_for_bit() -> None:
    rng = np.random.default_rng(11)
    table = rng.normal(size=(30, 5, 9)) * 10.0 ** rng.integers(-3, 4, size=(30, 5, 9))
    bos, eos = rng.normal(size=9), rng.normal(size=9)
    lengths = np.array([0, 1, 2, 3, 4, 5, 17, 1, 0, 2], dtype=np.intp)
    ids = rng.integers(0, 30, int(lengths.sum())).tolist()
    fast = kernels.window_sums(table, ids, lengths, bos, eos)
    with kernels.use_compiled(False):
        slow = kernels.window_sums(table, ids, lengths, bos, eos)
    assert np.array_equal(fast, slow)
    # A token's neighbours never come from the sentence before or after.
    alone = [
        kernels.window_sums(table, ids[start : start + n], lengths[i : i + 1], bos, eos)
        for i, (start, n) in enumerate(zip(np.cumsum(lengths) - lengths, lengths, strict=True))
    ]
    assert np.array_equal(fast, np.concatenate(alone))


@needs_compiled
def test_window_sums_check_their_input() -> None:
    table, bos = np.zeros((3, 5, 2)), np.zeros(2)
    with pytest.raises(ValueError, match="outside the 3 types"):
        kernels.window_sums(table, [0, 3], np.array([2]), bos, bos)
    with pytest.raises(ValueError, match="add up to 3, not the 2 ids"):
        kernels.window_sums(table, [0, 1], np.array([3]), bos, bos)
    with pytest.raises(ValueError, match="5 slots"):
        kernels.window_sums(np.zeros((3, 4, 2)), [0], np.array([1]), bos, bos)
    with pytest.raises(ValueError, match="bos and eos"):
        kernels.window_sums(table, [0], np.array([1]), np.zeros(3), bos)
