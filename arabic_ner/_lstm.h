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

/* exp(x), within 1 ulp of libm's for x in [-708, 709] (clamped outside), without branches
 * so that loops of it vectorize: x = k ln2 + r with |r| <= ln2 / 2 (Cody and Waite's two-part
 * ln2), exp(r) by its Taylor series to r^13 (the next term is below 1e-17), times 2^k
 * built in the exponent bits. */
static inline double arabic_ner_exp(double x) {
    const double shift = 6755399441055744.0; /* 1.5 * 2^52: adding it rounds to an integer */
    x = x < -708.0 ? -708.0 : x;
    x = x > 709.0 ? 709.0 : x;
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
 * out (rows of H). Backward reads the rows from the last. z (4H), h and c (H) are
 * scratch. (tanh(x) + 1) / 2 = 1 / (1 + exp(-2x)) and tanh(x) = 2 / (1 + exp(-2x)) - 1.
 * (Running several sentences in lockstep, so that each row of w_hh is read once for all
 * of them, measured no faster: the step is bound by the arithmetic, not by memory.) */
ARABIC_NER_CLONES
static void arabic_ner_lstm(const double *restrict gates, const double *restrict w_hh,
                            ptrdiff_t hidden, ptrdiff_t start, ptrdiff_t length, int backward,
                            double *restrict out, double *restrict z, double *restrict h,
                            double *restrict c) {
    const ptrdiff_t width = 4 * hidden;
    memset(h, 0, (size_t)hidden * sizeof(double));
    memset(c, 0, (size_t)hidden * sizeof(double));
    for (ptrdiff_t t = 0; t < length; t++) {
        const ptrdiff_t row = backward ? start + length - 1 - t : start + t;
        memcpy(z, gates + row * width, (size_t)width * sizeof(double));
        for (ptrdiff_t i = 0; i < hidden; i++) {
            const double hi = h[i];
            const double *restrict weights = w_hh + i * width;
            for (ptrdiff_t j = 0; j < width; j++) z[j] += hi * weights[j];
        }
        for (ptrdiff_t j = 0; j < 3 * hidden; j++) z[j] = 1.0 / (1.0 + arabic_ner_exp(-2.0 * z[j]));
        for (ptrdiff_t j = 3 * hidden; j < width; j++)
            z[j] = 2.0 / (1.0 + arabic_ner_exp(-2.0 * z[j])) - 1.0;
        double *restrict y = out + row * hidden;
        for (ptrdiff_t i = 0; i < hidden; i++) {
            c[i] = c[i] * z[hidden + i] + z[i] * z[3 * hidden + i];
            h[i] = (2.0 / (1.0 + arabic_ner_exp(-2.0 * c[i])) - 1.0) * z[2 * hidden + i];
            y[i] = h[i];
        }
    }
}

#endif
