/* The LSTM over one sentence, in C that the compiler vectorizes (used by _kernels.pyx).
 *
 * Why hand-written: a step is a (H) x (H, 4H) product and 5H sigmoids or tanhs; numpy
 * spends more time calling than computing at this size, and libm's exp and tanh take one
 * value per call. Here the product and the activations are plain loops over arrays that
 * GCC vectorizes; on x86-64 Linux, target_clones builds them for AVX-512, AVX2 and the
 * baseline and picks one when the module loads. Each output still adds its terms in the
 * same order in every version (the loops are vectorized across outputs, not across the
 * terms of a sum), and setup.py turns off fused multiply-add, so every CPU gets the same
 * bits.
 *
 * Two things keep the loops vectorized where there is no AVX-512 (measured 2026-12-05 on
 * an AVX2 machine, steps of H = 64 alone: 13.7 -> 7.5 us a step, the same bits):
 * - exp's argument is clamped in a loop of its own. With the clamps inside the exp loop,
 *   GCC 12 moved exp into a branch (it folded the clamped cases to constants), which only
 *   AVX-512's masks vectorize: the AVX2 and baseline versions ran one exp at a time.
 * - the product keeps ARABIC_NER_TILE outputs in registers while it runs down the rows of
 *   w_hh, instead of loading and storing all of z for every row.
 */
#ifndef ARABIC_NER_LSTM_H
#define ARABIC_NER_LSTM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define ARABIC_NER_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define ARABIC_NER_CLONES
#endif

/* Outputs of the product summed in registers at a time: 8 AVX2 or 4 AVX-512 registers. */
#define ARABIC_NER_TILE 32

/* -2x clamped into [-708, 709], the range of arabic_ner_exp: the argument whose exp gives
 * (tanh(x) + 1) / 2 = 1 / (1 + exp(-2x)) and tanh(x) = 2 / (1 + exp(-2x)) - 1. */
static inline double arabic_ner_exp_arg(double x) {
    x = -2.0 * x;
    x = x < -708.0 ? -708.0 : x;
    return x > 709.0 ? 709.0 : x;
}

/* exp(x) for x in [-708, 709] (arabic_ner_exp_arg's), within 1 ulp of libm's, without
 * branches so that loops of it vectorize: x = k ln2 + r with |r| <= ln2 / 2 (Cody and
 * Waite's two-part ln2), exp(r) by its Taylor series to r^13 (the next term is below
 * 1e-17), times 2^k built in the exponent bits. */
static inline double arabic_ner_exp(double x) {
    const double shift = 6755399441055744.0; /* 1.5 * 2^52: adding it rounds to an integer */
    double kd = x * 1.4426950408889634 + shift;
    int64_t k;
    memcpy(&k, &kd, sizeof k);
    kd -= shift;
    double r = (x - kd * 6.93147180369123816490e-01) - kd * 1.90821492927058770002e-10;
    double p = 1.0 / 6227020800.0;
    p = p * r + 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    int64_t bits = (k - 0x4338000000000000LL + 1023) << 52;
    double scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

/* Run the LSTM over rows start .. start + length - 1 of gates (rows of 4H: input, forget,
 * output gates halved, then cell input) with w_hh (H, 4H); write each row's output into
 * out (rows of H). Backward reads the rows from the last. z and e (4H), h and c (H) are
 * scratch. w_hh is read fastest from a multiple of 64 bytes (_kernels.pyx sees to it).
 * (Running several sentences in lockstep, so that each row of w_hh is read once for all
 * of them, was left out: measured 2026-12-05 on an AVX-512 Xeon, two at a time ran no
 * faster, four 1.59 against 2.07 us a step, but four need 16 vector accumulators, all
 * that AVX2 has, and a tile of 16 outputs instead ran three to ten times slower.) */
ARABIC_NER_CLONES
static void arabic_ner_lstm(const double *restrict gates, const double *restrict w_hh,
                            ptrdiff_t hidden, ptrdiff_t start, ptrdiff_t length, int backward,
                            double *restrict out, double *restrict z, double *restrict e,
                            double *restrict h, double *restrict c) {
    const ptrdiff_t width = 4 * hidden;
    memset(h, 0, (size_t)hidden * sizeof(double));
    memset(c, 0, (size_t)hidden * sizeof(double));
    for (ptrdiff_t t = 0; t < length; t++) {
        const ptrdiff_t row = backward ? start + length - 1 - t : start + t;
        const double *restrict input = gates + row * width;
        /* z = input + h w_hh, each output's terms added in the order of the rows. */
        ptrdiff_t j0 = 0;
        for (; j0 + ARABIC_NER_TILE <= width; j0 += ARABIC_NER_TILE) {
            double sum[ARABIC_NER_TILE];
            for (int k = 0; k < ARABIC_NER_TILE; k++) sum[k] = input[j0 + k];
            for (ptrdiff_t i = 0; i < hidden; i++) {
                const double hi = h[i];
                const double *restrict weights = w_hh + i * width + j0;
                for (int k = 0; k < ARABIC_NER_TILE; k++) sum[k] += hi * weights[k];
            }
            for (int k = 0; k < ARABIC_NER_TILE; k++) z[j0 + k] = sum[k];
        }
        for (ptrdiff_t j = j0; j < width; j++) {
            double sum = input[j];
            for (ptrdiff_t i = 0; i < hidden; i++) sum += h[i] * w_hh[i * width + j];
            z[j] = sum;
        }
        for (ptrdiff_t j = 0; j < width; j++) e[j] = arabic_ner_exp_arg(z[j]);
        for (ptrdiff_t j = 0; j < 3 * hidden; j++) z[j] = 1.0 / (1.0 + arabic_ner_exp(e[j]));
        for (ptrdiff_t j = 3 * hidden; j < width; j++)
            z[j] = 2.0 / (1.0 + arabic_ner_exp(e[j])) - 1.0;
        for (ptrdiff_t i = 0; i < hidden; i++) {
            c[i] = c[i] * z[hidden + i] + z[i] * z[3 * hidden + i];
            e[i] = arabic_ner_exp_arg(c[i]);
        }
        double *restrict y = out + row * hidden;
        for (ptrdiff_t i = 0; i < hidden; i++) {
            h[i] = (2.0 / (1.0 + arabic_ner_exp(e[i])) - 1.0) * z[2 * hidden + i];
            y[i] = h[i];
        }
    }
}

#endif
