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
 * The recurrence runs in single precision (the weights were trained in it, and halved or
 * not they are the same floats): a register holds twice the sums, w_hh is half the bytes
 * to read at every step, and exp needs half the terms. Measured 2026-12-06 on the AVX-512
 * Xeon, a 29-token sentence with H = 64: 49.6 -> 23.1 us a direction, outputs within
 * 4e-7 of the double recurrence's. The input gates come in double (numpy's products) and
 * the outputs go out in double. A sentence runs on its own whatever else is in the batch,
 * so single precision does not make a text's scores depend on how it is fed.
 *
 * Two things keep the loops vectorized where there is no AVX-512 (measured 2026-12-05 on
 * an AVX2 machine, steps of H = 64 alone: 13.7 -> 7.5 us a step, the same bits):
 * - exp's argument is clamped in a loop of its own. With the clamps inside the exp loop,
 *   GCC 12 moved exp into a branch (it folded the clamped cases to constants), which only
 *   AVX-512's masks vectorize: the AVX2 and baseline versions ran one exp at a time.
 * - the product keeps ARABIC_NER_TILE outputs in registers while it runs down the rows of
 *   w_hh, instead of loading and storing all of z for every row (arabic_ner_product).
 */
#ifndef ARABIC_NER_LSTM_H
#define ARABIC_NER_LSTM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define ARABIC_NER_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
/* The product's sums as GCC vectors, which it keeps in registers (arabic_ner_product). */
#define ARABIC_NER_VECTORS
typedef float arabic_ner_v16 __attribute__((vector_size(64)));
typedef float arabic_ner_v8 __attribute__((vector_size(32)));
/* Inlined into each target_clones version, so compiled for its instruction set. */
#define ARABIC_NER_INLINE static inline __attribute__((always_inline))
#else
#define ARABIC_NER_CLONES
#define ARABIC_NER_INLINE static inline
#endif

/* Outputs of the product summed at a time: 4 AVX-512 or 8 AVX2 registers. */
#define ARABIC_NER_TILE 64

/* -2x clamped into [-80, 80]: the argument whose exp gives (tanh(x) + 1) / 2 =
 * 1 / (1 + exp(-2x)) and tanh(x) = 2 / (1 + exp(-2x)) - 1. Beyond |x| = 40 both are 0, 1
 * or -1 to a float's precision; and 1 / (1 + exp(80)) is still a normal float (subnormal
 * ones are slow on many CPUs). */
static inline float arabic_ner_exp_arg(float x) {
    x = -2.0f * x;
    x = x < -80.0f ? -80.0f : x;
    return x > 80.0f ? 80.0f : x;
}

/* exp(x) for x in [-80, 80] (arabic_ner_exp_arg's), within a few units in the last place
 * of a float, without branches so that loops of it vectorize: x = k ln2 + r with
 * |r| <= ln2 / 2 (Cody and Waite's two-part ln2, whose first part times k is exact),
 * exp(r) by its Taylor series to r^7 (the next term is below 6e-9), times 2^k built in
 * the exponent bits. */
static inline float arabic_ner_exp(float x) {
    const float shift = 12582912.0f; /* 1.5 * 2^23: adding it rounds to an integer */
    float kd = x * 1.44269504088896341f + shift;
    int32_t k;
    memcpy(&k, &kd, sizeof k);
    kd -= shift;
    float r = (x - kd * 0.693359375f) - kd * -2.12194440e-4f;
    float p = 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    int32_t bits = (k - 0x4B400000 + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

#ifdef ARABIC_NER_VECTORS
/* 2 where the CPU has AVX-512, 1 where it has AVX2, else 0: which of the product's loops
 * suits the target_clones version that runs (each version holds all three). */
static int arabic_ner_isa = -1;

ARABIC_NER_INLINE int arabic_ner_isa_level(void) {
    if (arabic_ner_isa < 0) /* a race here writes the same value */
        arabic_ner_isa = __builtin_cpu_supports("avx512f") ? 2
                         : __builtin_cpu_supports("avx2")  ? 1
                                                           : 0;
    return arabic_ner_isa;
}

/* ARABIC_NER_TILE outputs of the product in four vectors of 16 floats (AVX-512) ... */
ARABIC_NER_INLINE void arabic_ner_tile16(const float *restrict x, const float *restrict w,
                                         ptrdiff_t n, ptrdiff_t width,
                                         const float *restrict init, float *restrict out) {
    arabic_ner_v16 s0, s1, s2, s3;
    memcpy(&s0, init, sizeof s0);
    memcpy(&s1, init + 16, sizeof s1);
    memcpy(&s2, init + 32, sizeof s2);
    memcpy(&s3, init + 48, sizeof s3);
    for (ptrdiff_t i = 0; i < n; i++) {
        const float xi = x[i];
        const arabic_ner_v16 xv = {xi, xi, xi, xi, xi, xi, xi, xi,
                                   xi, xi, xi, xi, xi, xi, xi, xi};
        const float *restrict weights = w + i * width;
        arabic_ner_v16 w0, w1, w2, w3;
        memcpy(&w0, weights, sizeof w0);
        memcpy(&w1, weights + 16, sizeof w1);
        memcpy(&w2, weights + 32, sizeof w2);
        memcpy(&w3, weights + 48, sizeof w3);
        s0 += xv * w0;
        s1 += xv * w1;
        s2 += xv * w2;
        s3 += xv * w3;
    }
    memcpy(out, &s0, sizeof s0);
    memcpy(out + 16, &s1, sizeof s1);
    memcpy(out + 32, &s2, sizeof s2);
    memcpy(out + 48, &s3, sizeof s3);
}

/* ... or in eight vectors of 8 (AVX2: with vectors of 16 GCC 12 went through memory). */
ARABIC_NER_INLINE void arabic_ner_tile8(const float *restrict x, const float *restrict w,
                                        ptrdiff_t n, ptrdiff_t width,
                                        const float *restrict init, float *restrict out) {
    arabic_ner_v8 s0, s1, s2, s3, s4, s5, s6, s7;
    memcpy(&s0, init + 0, sizeof s0);
    memcpy(&s1, init + 8, sizeof s1);
    memcpy(&s2, init + 16, sizeof s2);
    memcpy(&s3, init + 24, sizeof s3);
    memcpy(&s4, init + 32, sizeof s4);
    memcpy(&s5, init + 40, sizeof s5);
    memcpy(&s6, init + 48, sizeof s6);
    memcpy(&s7, init + 56, sizeof s7);
    for (ptrdiff_t i = 0; i < n; i++) {
        const float xi = x[i];
        const arabic_ner_v8 xv = {xi, xi, xi, xi, xi, xi, xi, xi};
        const float *restrict weights = w + i * width;
        arabic_ner_v8 w0, w1, w2, w3, w4, w5, w6, w7;
        memcpy(&w0, weights + 0, sizeof w0);
        memcpy(&w1, weights + 8, sizeof w1);
        memcpy(&w2, weights + 16, sizeof w2);
        memcpy(&w3, weights + 24, sizeof w3);
        memcpy(&w4, weights + 32, sizeof w4);
        memcpy(&w5, weights + 40, sizeof w5);
        memcpy(&w6, weights + 48, sizeof w6);
        memcpy(&w7, weights + 56, sizeof w7);
        s0 += xv * w0;
        s1 += xv * w1;
        s2 += xv * w2;
        s3 += xv * w3;
        s4 += xv * w4;
        s5 += xv * w5;
        s6 += xv * w6;
        s7 += xv * w7;
    }
    memcpy(out + 0, &s0, sizeof s0);
    memcpy(out + 8, &s1, sizeof s1);
    memcpy(out + 16, &s2, sizeof s2);
    memcpy(out + 24, &s3, sizeof s3);
    memcpy(out + 32, &s4, sizeof s4);
    memcpy(out + 40, &s5, sizeof s5);
    memcpy(out + 48, &s6, sizeof s6);
    memcpy(out + 56, &s7, sizeof s7);
}
#endif

/* Set the level (0 to 2) whatever the CPU, or leave it (-1); return the one in use, or -1
 * where there are no vector loops (_kernels.product_loops, for tests). */
static int arabic_ner_product_loops(int level) {
#ifdef ARABIC_NER_VECTORS
    if (level >= 0) arabic_ner_isa = level;
    return arabic_ner_isa_level();
#else
    (void)level;
    return -1;
#endif
}

/* out = init + x w for x (n) and w (n, width): each output's terms added in the order of
 * the rows of w, whatever the CPU (the loops are vectorized across outputs).
 *
 * The sums are kept in registers as GCC vectors while the loop runs down the rows of w.
 * As an array of ARABIC_NER_TILE sums, GCC 12 vectorized the loop but stored and reloaded
 * the sums at every row (measured 2026-12-05 in double, 22 rows of 146 x 256 alone:
 * AVX-512 Xeon 112 -> 59 us, its AVX2 version 107 -> 79 us, the same bits). */
ARABIC_NER_INLINE void arabic_ner_product(const float *restrict x, const float *restrict w,
                                          ptrdiff_t n, ptrdiff_t width,
                                          const float *restrict init, float *restrict out) {
    ptrdiff_t j0 = 0;
#ifdef ARABIC_NER_VECTORS
    const int level = arabic_ner_isa_level();
    for (; level && j0 + ARABIC_NER_TILE <= width; j0 += ARABIC_NER_TILE) {
        if (level == 2)
            arabic_ner_tile16(x, w + j0, n, width, init + j0, out + j0);
        else
            arabic_ner_tile8(x, w + j0, n, width, init + j0, out + j0);
    }
#endif
    for (; j0 + ARABIC_NER_TILE <= width; j0 += ARABIC_NER_TILE) {
        float sum[ARABIC_NER_TILE];
        for (int k = 0; k < ARABIC_NER_TILE; k++) sum[k] = init[j0 + k];
        for (ptrdiff_t i = 0; i < n; i++) {
            const float xi = x[i];
            const float *restrict weights = w + i * width + j0;
            for (int k = 0; k < ARABIC_NER_TILE; k++) sum[k] += xi * weights[k];
        }
        for (int k = 0; k < ARABIC_NER_TILE; k++) out[j0 + k] = sum[k];
    }
    for (ptrdiff_t j = j0; j < width; j++) {
        float sum = init[j];
        for (ptrdiff_t i = 0; i < n; i++) sum += x[i] * w[i * width + j];
        out[j] = sum;
    }
}

/* Run the LSTM over rows start .. start + length - 1 of gates (rows of 4H: input, forget,
 * output gates halved, then cell input) with w_hh (H, 4H); write each row's output into
 * out (rows of H). Backward reads the rows from the last. g, z and e (4H), h and c (H)
 * are scratch. w_hh is read fastest from a multiple of 64 bytes (_kernels.pyx sees to
 * it). (Running several sentences in lockstep, so that each row of w_hh is read once for
 * all of them, was left out: measured 2026-12-05 on an AVX-512 Xeon in double, two at a
 * time ran no faster, four 1.59 against 2.07 us a step, but four need 16 vector
 * accumulators, all that AVX2 has, and a tile of 16 outputs instead ran three to ten
 * times slower.) */
ARABIC_NER_CLONES
static void arabic_ner_lstm(const double *restrict gates, const float *restrict w_hh,
                            ptrdiff_t hidden, ptrdiff_t start, ptrdiff_t length, int backward,
                            double *restrict out, float *restrict g, float *restrict z,
                            float *restrict e, float *restrict h, float *restrict c) {
    const ptrdiff_t width = 4 * hidden;
    memset(h, 0, (size_t)hidden * sizeof(float));
    memset(c, 0, (size_t)hidden * sizeof(float));
    for (ptrdiff_t t = 0; t < length; t++) {
        const ptrdiff_t row = backward ? start + length - 1 - t : start + t;
        const double *restrict input = gates + row * width;
        for (ptrdiff_t j = 0; j < width; j++) g[j] = (float)input[j];
        arabic_ner_product(h, w_hh, hidden, width, g, z);
        for (ptrdiff_t j = 0; j < width; j++) e[j] = arabic_ner_exp_arg(z[j]);
        for (ptrdiff_t j = 0; j < 3 * hidden; j++) z[j] = 1.0f / (1.0f + arabic_ner_exp(e[j]));
        for (ptrdiff_t j = 3 * hidden; j < width; j++)
            z[j] = 2.0f / (1.0f + arabic_ner_exp(e[j])) - 1.0f;
        for (ptrdiff_t i = 0; i < hidden; i++) {
            c[i] = c[i] * z[hidden + i] + z[i] * z[3 * hidden + i];
            e[i] = arabic_ner_exp_arg(c[i]);
        }
        double *restrict y = out + row * hidden;
        for (ptrdiff_t i = 0; i < hidden; i++) {
            h[i] = (2.0f / (1.0f + arabic_ner_exp(e[i])) - 1.0f) * z[2 * hidden + i];
            y[i] = h[i];
        }
    }
}

#endif
