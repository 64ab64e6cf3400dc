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
/* The most sentences arabic_ner_lstm runs side by side (its callers' scratch is sized so). */
#define ARABIC_NER_MAX_BLOCK 4

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

/* Outputs j0 .. width - 1 of arabic_ner_product one at a time: the columns left over after
 * its tiles (4H not a multiple of ARABIC_NER_TILE). */
ARABIC_NER_INLINE void arabic_ner_columns(const float *restrict x, const float *restrict w,
                                          ptrdiff_t n, ptrdiff_t width, ptrdiff_t j0,
                                          const float *restrict init, float *restrict out) {
    for (ptrdiff_t j = j0; j < width; j++) {
        float sum = init[j];
        for (ptrdiff_t i = 0; i < n; i++) sum += x[i] * w[i * width + j];
        out[j] = sum;
    }
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
    arabic_ner_columns(x, w, n, width, j0, init, out);
}

#ifdef ARABIC_NER_VECTORS
/* arabic_ner_tile16 for ARABIC_NER_LOCKSTEP sentences at once: each row of w is loaded
 * once for all of them. Every sentence's sums are those arabic_ner_tile16 makes alone,
 * the same operations in the same order, so the same bits. */
#define ARABIC_NER_LOCKSTEP 4
ARABIC_NER_INLINE void arabic_ner_tile16x4(const float *const *x, const float *restrict w,
                                           ptrdiff_t n, ptrdiff_t width, ptrdiff_t j0,
                                           const float *const *init, float *const *out) {
    arabic_ner_v16 s[ARABIC_NER_LOCKSTEP][4];
    for (int b = 0; b < ARABIC_NER_LOCKSTEP; b++)
        for (int k = 0; k < 4; k++) memcpy(&s[b][k], init[b] + j0 + 16 * k, sizeof s[b][k]);
    for (ptrdiff_t i = 0; i < n; i++) {
        const float *restrict weights = w + i * width + j0;
        arabic_ner_v16 w0, w1, w2, w3;
        memcpy(&w0, weights, sizeof w0);
        memcpy(&w1, weights + 16, sizeof w1);
        memcpy(&w2, weights + 32, sizeof w2);
        memcpy(&w3, weights + 48, sizeof w3);
        for (int b = 0; b < ARABIC_NER_LOCKSTEP; b++) { /* unrolled: 16 sums in registers */
            const float xi = x[b][i];
            const arabic_ner_v16 xv = {xi, xi, xi, xi, xi, xi, xi, xi,
                                       xi, xi, xi, xi, xi, xi, xi, xi};
            s[b][0] += xv * w0;
            s[b][1] += xv * w1;
            s[b][2] += xv * w2;
            s[b][3] += xv * w3;
        }
    }
    for (int b = 0; b < ARABIC_NER_LOCKSTEP; b++)
        for (int k = 0; k < 4; k++) memcpy(out[b] + j0 + 16 * k, &s[b][k], sizeof s[b][k]);
}
#endif

/* One step of the LSTM after the product: z (4H) holds the gates' sums; update c and h
 * (H) and write h, widened, into y (H). e (4H) is scratch. */
ARABIC_NER_INLINE void arabic_ner_activate(ptrdiff_t hidden, float *restrict z, float *restrict e,
                                           float *restrict h, float *restrict c,
                                           double *restrict y) {
    const ptrdiff_t width = 4 * hidden;
    for (ptrdiff_t j = 0; j < width; j++) e[j] = arabic_ner_exp_arg(z[j]);
    for (ptrdiff_t j = 0; j < 3 * hidden; j++) z[j] = 1.0f / (1.0f + arabic_ner_exp(e[j]));
    for (ptrdiff_t j = 3 * hidden; j < width; j++)
        z[j] = 2.0f / (1.0f + arabic_ner_exp(e[j])) - 1.0f;
    for (ptrdiff_t i = 0; i < hidden; i++) {
        c[i] = c[i] * z[hidden + i] + z[i] * z[3 * hidden + i];
        e[i] = arabic_ner_exp_arg(c[i]);
    }
    for (ptrdiff_t i = 0; i < hidden; i++) {
        h[i] = (2.0f / (1.0f + arabic_ner_exp(e[i])) - 1.0f) * z[2 * hidden + i];
        y[i] = h[i];
    }
}

/* Run the LSTM over `count` sentences (at most ARABIC_NER_LOCKSTEP) side by side: sentence
 * b is tokens starts[b] .. starts[b] + lengths[b] - 1, read from the last when backward;
 * token i's input gates (4H: input, forget, output gates halved, then cell input) are at
 * gates[i], wherever they lie (the tagger keeps the gates of each word type once: a
 * token's are that type's row, read in place rather than copied to a row per token);
 * token i's output goes into row i of out (rows of H). w_hh is (H, 4H), read fastest from
 * a multiple of 64 bytes (_kernels.pyx sees to it). g, z and e (count x 4H), h and c
 * (count x H) are scratch.
 *
 * Each sentence's arithmetic is its own, whatever runs beside it: on AVX-512 the product
 * of four sentences at a time reads each row of w_hh once for the four
 * (arabic_ner_tile16x4; measured 2026-12-06 on an AVX-512 EPYC, four 29-token sentences
 * with H = 64: 89.8 -> 65.4 us, the same bits). Elsewhere the sentences' products run one
 * after another: AVX2 has too few registers for four sentences' sums. */
ARABIC_NER_CLONES
static void arabic_ner_lstm(const double *const *gates, const float *restrict w_hh,
                            ptrdiff_t hidden, const ptrdiff_t *starts, const ptrdiff_t *lengths,
                            int count, int backward, double *restrict out, float *restrict g,
                            float *restrict z, float *restrict e, float *restrict h,
                            float *restrict c) {
    const ptrdiff_t width = 4 * hidden;
    ptrdiff_t longest = 0;
    for (int b = 0; b < count; b++) longest = lengths[b] > longest ? lengths[b] : longest;
    memset(h, 0, (size_t)(count * hidden) * sizeof(float));
    memset(c, 0, (size_t)(count * hidden) * sizeof(float));
    for (ptrdiff_t t = 0; t < longest; t++) {
        int active[ARABIC_NER_MAX_BLOCK]; /* the sentences that have a token at step t */
        ptrdiff_t rows[ARABIC_NER_MAX_BLOCK]; /* and the row of that token */
        int n_active = 0;
        for (int b = 0; b < count; b++) {
            if (lengths[b] <= t) continue;
            const ptrdiff_t row = backward ? starts[b] + lengths[b] - 1 - t : starts[b] + t;
            const double *restrict input = gates[row];
            float *restrict gb = g + b * width;
            for (ptrdiff_t j = 0; j < width; j++) gb[j] = (float)input[j];
            active[n_active] = b;
            rows[n_active++] = row;
        }
        int done = 0;
#ifdef ARABIC_NER_VECTORS
        if (arabic_ner_isa_level() == 2) {
            for (; done + ARABIC_NER_LOCKSTEP <= n_active; done += ARABIC_NER_LOCKSTEP) {
                const float *x[ARABIC_NER_LOCKSTEP], *init[ARABIC_NER_LOCKSTEP];
                float *sums[ARABIC_NER_LOCKSTEP];
                for (int k = 0; k < ARABIC_NER_LOCKSTEP; k++) {
                    const int b = active[done + k];
                    x[k] = h + b * hidden;
                    init[k] = g + b * width;
                    sums[k] = z + b * width;
                }
                ptrdiff_t j0 = 0;
                for (; j0 + ARABIC_NER_TILE <= width; j0 += ARABIC_NER_TILE)
                    arabic_ner_tile16x4(x, w_hh, hidden, width, j0, init, sums);
                for (int k = 0; k < ARABIC_NER_LOCKSTEP; k++)
                    arabic_ner_columns(x[k], w_hh, hidden, width, j0, init[k], sums[k]);
            }
        }
#endif
        for (; done < n_active; done++) {
            const int b = active[done];
            arabic_ner_product(h + b * hidden, w_hh, hidden, width, g + b * width, z + b * width);
        }
        for (int k = 0; k < n_active; k++) {
            const int b = active[k];
            arabic_ner_activate(hidden, z + b * width, e + b * width, h + b * hidden,
                                c + b * hidden, out + rows[k] * hidden);
        }
    }
}

#endif
