# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""The tagger's loops over time steps, compiled: the LSTM recurrence and the CRF decode.

The LSTM's step is C in ``_lstm.h`` (vectorized; see there); Viterbi and forward-backward
over nine labels are small enough for plain loops here.

``kernels.py`` says when these run and what runs without them. Each function reads
sentences laid end to end in one C-contiguous array (``starts`` and ``lengths`` say where
each one lies, in any order) and writes into an ``out`` array the caller made, so that
this module needs neither numpy's headers nor the GIL. The arithmetic is that of the
numpy code in ``neural.py`` and ``crf.py``, step for step, one sentence at a time: the
Viterbi paths are the same bit for bit and the CRF's sums agree to the last bits of a
double (a matrix product there adds its terms in another order). The LSTM runs in single
precision (``_lstm.h`` says why): its outputs agree with numpy's double ones within 1e-6.
"""

from libc.math cimport exp
from libc.stdint cimport uintptr_t
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy


cdef extern from "_lstm.h" nogil:
    int arabic_ner_product_loops(int level)
    int ARABIC_NER_MAX_BLOCK
    void arabic_ner_lstm(
        const double** gates, const float* w_hh, Py_ssize_t hidden, const Py_ssize_t* starts,
        const Py_ssize_t* lengths, int count, int backward, double* out, float* g, float* z,
        float* e, float* h, float* c,
    )


cdef void _check(Py_ssize_t[::1] starts, Py_ssize_t[::1] lengths, Py_ssize_t rows) except *:
    """Raise ValueError unless every sentence lies inside ``rows`` rows (empty ones may)."""
    if starts.shape[0] != lengths.shape[0]:
        raise ValueError("starts and lengths differ in length")
    cdef Py_ssize_t s
    for s in range(starts.shape[0]):
        if starts[s] < 0 or lengths[s] < 0 or starts[s] + lengths[s] > rows:
            raise ValueError(f"sentence {s} lies outside the {rows} rows")


def lstm(
    const double[:, ::1] gates,
    const float[:, ::1] w_hh,
    Py_ssize_t[::1] starts,
    Py_ssize_t[::1] lengths,
    bint backward,
    double[:, ::1] out,
    const Py_ssize_t[::1] rows=None,
    const double[:, ::1] extra=None,
):
    """Run one LSTM direction; write each token's (H,) output into ``out`` (tokens, H).

    The recurrence runs in single precision, so ``w_hh`` is float32. ``gates`` (tokens,
    4H) are the input's share of the gates in the order input, forget, output, cell, the
    first three halved, and ``w_hh`` (H, 4H) likewise (``neural.py``):
    one tanh over all four gates gives the three sigmoids as ``(tanh + 1) / 2``.
    With ``rows`` (tokens,), token ``i``'s gates are instead row ``rows[i]`` of ``gates``,
    or where ``rows[i]`` is negative row ``-1 - rows[i]`` of ``extra``: the tagger's kept
    gates of each word type are read where they are, and only tokens whose gates differ
    from their type's (a list match adds to them) get a row of their own, in ``extra``.
    ``w_hh`` is read fastest from an address that is a multiple of 64 bytes
    (``kernels.aligned``); from any other, a copy of it at one is read.
    """
    cdef Py_ssize_t hidden = w_hh.shape[0]
    cdef Py_ssize_t width = w_hh.shape[1]
    if width != 4 * hidden or gates.shape[1] != width:
        raise ValueError("the gates and w_hh do not have 4H columns")
    if extra is not None and extra.shape[0] and extra.shape[1] != width:
        raise ValueError("the extra gates do not have 4H columns")
    cdef Py_ssize_t tokens = gates.shape[0] if rows is None else rows.shape[0]
    if out.shape[0] != tokens or out.shape[1] != hidden:
        raise ValueError("out must be (tokens, H)")
    _check(starts, lengths, tokens)
    cdef Py_ssize_t i, r
    cdef Py_ssize_t n_extra = 0 if extra is None else extra.shape[0]
    if rows is not None:
        for i in range(tokens):
            r = rows[i]
            if r >= gates.shape[0] or (r < 0 and -1 - r >= n_extra):
                raise ValueError(f"token {i}'s row {r} lies outside the gates")
    if tokens == 0 or hidden == 0:
        return
    cdef Py_ssize_t block = ARABIC_NER_MAX_BLOCK  # sentences run side by side (_lstm.h)
    cdef const double** where = <const double**> malloc(tokens * sizeof(double*))
    cdef float* g = <float*> malloc(block * width * sizeof(float))
    cdef float* z = <float*> malloc(block * width * sizeof(float))
    cdef float* e = <float*> malloc(block * width * sizeof(float))
    cdef float* h = <float*> malloc(block * hidden * sizeof(float))
    cdef float* c = <float*> malloc(block * hidden * sizeof(float))
    # When w_hh does not start on a cache line (64 bytes), with 4H a multiple of 16 every
    # AVX-512 load of it straddles two lines: a step took 4.3 us instead of 2.0 (H = 64, an
    # AVX-512 Xeon, in double). Copied to a line, its first row starts on one.
    cdef const float* weights = &w_hh[0, 0]
    cdef void* copy = NULL
    if (<uintptr_t> weights) % 64:
        copy = malloc(hidden * width * sizeof(float) + 64)
        if copy != NULL:  # else the unaligned rows are read, slower
            weights = <const float*> ((<uintptr_t> copy + 63) & ~(<uintptr_t> 63))
            memcpy(<void*> weights, &w_hh[0, 0], hidden * width * sizeof(float))
    if where == NULL or g == NULL or z == NULL or e == NULL or h == NULL or c == NULL:
        free(where)
        free(g)
        free(z)
        free(e)
        free(h)
        free(c)
        free(copy)
        raise MemoryError()
    for i in range(tokens):
        if rows is None:
            where[i] = &gates[i, 0]
        elif rows[i] >= 0:
            where[i] = &gates[rows[i], 0]
        else:
            where[i] = &extra[-1 - rows[i], 0]
    cdef Py_ssize_t s = 0
    cdef Py_ssize_t n = starts.shape[0]
    with nogil:
        while s < n:  # neighbours side by side: sorted longest first, they are of like lengths
            arabic_ner_lstm(
                where, weights, hidden, &starts[s], &lengths[s], min(block, n - s),
                backward, &out[0, 0], g, z, e, h, c,
            )
            s += block
    free(where)
    free(copy)
    free(g)
    free(z)
    free(e)
    free(h)
    free(c)


def product_loops(int level=-1):
    """Which of the LSTM product's loops runs: 2 (vectors of 16 floats, for AVX-512), 1 (of
    8, for AVX2) or 0 (plain loops; also wherever the build has no GCC vectors, -1 then).
    Given ``level`` 0 to 2, that one runs from now on, whatever the CPU: each gives the same
    bits, only the speed differs (``_lstm.h``). For tests.
    """
    if level not in (-1, 0, 1, 2):
        raise ValueError(f"level must be -1, 0, 1 or 2, not {level}")
    return arabic_ner_product_loops(level)


def viterbi(
    const double[:, ::1] emissions,
    const double[:, ::1] transitions,
    Py_ssize_t[::1] starts,
    Py_ssize_t[::1] lengths,
    Py_ssize_t[::1] out,
):
    """Write each token's label on the best path of its sentence into ``out`` (tokens,).

    ``emissions`` (tokens, labels) are the label scores, ``transitions`` (labels, labels)
    from one label to the next. Ties go to the lower label, as numpy's argmax.
    """
    cdef Py_ssize_t n_labels = transitions.shape[0]
    if transitions.shape[1] != n_labels or emissions.shape[1] != n_labels:
        raise ValueError("emissions and transitions must have one column per label")
    if out.shape[0] != emissions.shape[0]:
        raise ValueError("out must have a row per token")
    _check(starts, lengths, emissions.shape[0])
    if emissions.shape[0] == 0 or n_labels == 0:
        return
    cdef double* delta = <double*> malloc(n_labels * sizeof(double))
    cdef double* moved = <double*> malloc(n_labels * sizeof(double))
    cdef Py_ssize_t* back = <Py_ssize_t*> malloc(
        emissions.shape[0] * n_labels * sizeof(Py_ssize_t)
    )
    if delta == NULL or moved == NULL or back == NULL:
        free(delta)
        free(moved)
        free(back)
        raise MemoryError()
    cdef Py_ssize_t s, t, x, y, best, start, row
    cdef double candidate, top
    with nogil:
        for s in range(starts.shape[0]):
            start = starts[s]
            if lengths[s] == 0:
                continue
            for y in range(n_labels):
                delta[y] = emissions[start, y]
            for t in range(1, lengths[s]):
                row = start + t
                for y in range(n_labels):
                    top = delta[0] + transitions[0, y]
                    best = 0
                    for x in range(1, n_labels):
                        candidate = delta[x] + transitions[x, y]
                        if candidate > top:
                            top = candidate
                            best = x
                    back[row * n_labels + y] = best
                    moved[y] = top + emissions[row, y]
                memcpy(delta, moved, n_labels * sizeof(double))
            best = 0
            for y in range(1, n_labels):
                if delta[y] > delta[best]:
                    best = y
            for t in range(lengths[s] - 1, -1, -1):
                out[start + t] = best
                if t:
                    best = back[(start + t) * n_labels + best]
    free(delta)
    free(moved)
    free(back)


def marginals(
    const double[:, ::1] emissions,
    const double[:, ::1] transitions,
    Py_ssize_t[::1] starts,
    Py_ssize_t[::1] lengths,
    double[:, ::1] out,
):
    """Write each token's marginal label probabilities into ``out`` (tokens, labels).

    Forward-backward in probability space, each step rescaled to sum to one, as
    ``LinearChainCRF.marginals`` does in numpy.
    """
    cdef Py_ssize_t n_labels = transitions.shape[0]
    if transitions.shape[1] != n_labels or emissions.shape[1] != n_labels:
        raise ValueError("emissions and transitions must have one column per label")
    if out.shape[0] != emissions.shape[0] or out.shape[1] != n_labels:
        raise ValueError("out must be (tokens, labels)")
    _check(starts, lengths, emissions.shape[0])
    cdef Py_ssize_t tokens = emissions.shape[0]
    if tokens == 0 or n_labels == 0:
        return
    cdef double* step = <double*> malloc(n_labels * n_labels * sizeof(double))
    cdef double* potentials = <double*> malloc(tokens * n_labels * sizeof(double))
    cdef double* beta = <double*> malloc(tokens * n_labels * sizeof(double))
    cdef double* scratch = <double*> malloc(n_labels * sizeof(double))
    if step == NULL or potentials == NULL or beta == NULL or scratch == NULL:
        free(step)
        free(potentials)
        free(beta)
        free(scratch)
        raise MemoryError()
    cdef Py_ssize_t s, t, x, y, row, start, last
    cdef double top, total, value
    with nogil:
        for x in range(n_labels * n_labels):
            step[x] = exp(transitions[x // n_labels, x % n_labels])
        for row in range(tokens):
            top = emissions[row, 0]
            for y in range(1, n_labels):
                if emissions[row, y] > top:
                    top = emissions[row, y]
            for y in range(n_labels):
                potentials[row * n_labels + y] = exp(emissions[row, y] - top)
        for s in range(starts.shape[0]):
            start = starts[s]
            last = start + lengths[s] - 1
            if lengths[s] == 0:
                continue
            # Forward: alpha goes straight into out.
            total = 0.0
            for y in range(n_labels):
                out[start, y] = potentials[start * n_labels + y]
                total += out[start, y]
            for y in range(n_labels):
                out[start, y] /= total
            for row in range(start + 1, last + 1):
                total = 0.0
                for y in range(n_labels):
                    value = 0.0
                    for x in range(n_labels):
                        value += out[row - 1, x] * step[x * n_labels + y]
                    out[row, y] = value * potentials[row * n_labels + y]
                    total += out[row, y]
                for y in range(n_labels):
                    out[row, y] /= total
            # Backward.
            for y in range(n_labels):
                beta[last * n_labels + y] = 1.0
            for row in range(last - 1, start - 1, -1):
                for x in range(n_labels):
                    scratch[x] = potentials[(row + 1) * n_labels + x] * beta[(row + 1) * n_labels + x]
                total = 0.0
                for y in range(n_labels):
                    value = 0.0
                    for x in range(n_labels):
                        value += scratch[x] * step[y * n_labels + x]
                    beta[row * n_labels + y] = value
                    total += value
                for y in range(n_labels):
                    beta[row * n_labels + y] /= total
            for row in range(start, last + 1):
                total = 0.0
                for y in range(n_labels):
                    out[row, y] *= beta[row * n_labels + y]
                    total += out[row, y]
                for y in range(n_labels):
                    out[row, y] /= total
    free(step)
    free(potentials)
    free(beta)
    free(scratch)


cdef inline void _add_row(double* target, const double* row, Py_ssize_t n) noexcept nogil:
    """``target[j] += row[j]`` for j below ``n``, in order."""
    cdef Py_ssize_t j
    for j in range(n):
        target[j] += row[j]


def add_rows(
    double[:, ::1] target,
    Py_ssize_t[::1] positions,
    const double[:, ::1] values,
    const Py_ssize_t[::1] rows=None,
):
    """``target[positions[k]] += values[k]`` for each k in order, as ``np.add.at`` does;
    with ``rows``, ``values[rows[k]]``: rows of a table read where they are, not gathered.
    """
    cdef Py_ssize_t n = positions.shape[0]
    if values.shape[1] != target.shape[1] or (rows is None and values.shape[0] != n):
        raise ValueError("values must have a row per position and target's columns")
    if rows is not None and rows.shape[0] != n:
        raise ValueError("rows must have one row of values per position")
    cdef Py_ssize_t k
    cdef Py_ssize_t size = target.shape[0]
    for k in range(n):
        if positions[k] < 0 or positions[k] >= size:
            raise ValueError(f"position {positions[k]} is outside the {size} rows")
        if rows is not None and (rows[k] < 0 or rows[k] >= values.shape[0]):
            raise ValueError(f"row {rows[k]} is outside the {values.shape[0]} rows of values")
    with nogil:
        for k in range(n):
            _add_row(
                &target[positions[k], 0],
                &values[k if rows is None else rows[k], 0],
                target.shape[1],
            )


def window_sums(
    const double[:, :, ::1] table,
    Py_ssize_t[::1] ids,
    Py_ssize_t[::1] lengths,
    const double[::1] bos,
    const double[::1] eos,
    double[:, ::1] out,
):
    """Write each token's CRF state scores from its word type's window sums into ``out``.

    ``table`` (types, 5, labels) holds a type's own features' weights (slot 0) and those
    it shows as the token two before, one before, one after and two after a token (slots
    1 to 4); ``ids`` (tokens,) the tokens' types, sentences of ``lengths`` end to end.
    A token's scores add its own, then what the token before, after, two before and two
    after show, then ``bos`` near a sentence's start and ``eos`` near its end: the order of
    ``kernels.window_sums``'s numpy code, so the sums are the same bit for bit.
    """
    cdef Py_ssize_t tokens = ids.shape[0]
    cdef Py_ssize_t n_labels = table.shape[2]
    cdef Py_ssize_t types = table.shape[0]
    cdef Py_ssize_t s, i, j, start, n, position, left, total = 0
    cdef double* target
    if table.shape[1] != 5:
        raise ValueError("table must have 5 slots: own, -2, -1, +1, +2")
    if out.shape[0] != tokens or out.shape[1] != n_labels:
        raise ValueError("out must have a row per token and table's labels")
    if bos.shape[0] != n_labels or eos.shape[0] != n_labels:
        raise ValueError("bos and eos must have table's labels")
    for s in range(lengths.shape[0]):
        if lengths[s] < 0:
            raise ValueError(f"sentence {s} has a negative length")
        total += lengths[s]
    if total != tokens:
        raise ValueError(f"the lengths add up to {total}, not the {tokens} ids")
    for i in range(tokens):
        if ids[i] < 0 or ids[i] >= types:
            raise ValueError(f"id {ids[i]} is outside the {types} types")
    with nogil:
        start = 0
        for s in range(lengths.shape[0]):
            n = lengths[s]
            for position in range(n):
                i = start + position
                left = n - 1 - position
                target = &out[i, 0]
                for j in range(n_labels):
                    target[j] = table[ids[i], 0, j]
                if position >= 1:
                    _add_row(target, &table[ids[i - 1], 2, 0], n_labels)
                if left >= 1:
                    _add_row(target, &table[ids[i + 1], 3, 0], n_labels)
                if position >= 2:
                    _add_row(target, &table[ids[i - 2], 1, 0], n_labels)
                if left >= 2:
                    _add_row(target, &table[ids[i + 2], 4, 0], n_labels)
                if position < 2:
                    _add_row(target, &bos[0], n_labels)
                if left < 2:
                    _add_row(target, &eos[0], n_labels)
            start += n
