// Attention of one head without a call per step: the keys transposed once into scratch, then for four query rows
// at a time their scores (16 keys per vector), softmax and weighted sum of values. For the few tokens of one
// request three oneDNN calls per head cost more than their arithmetic (docs/encoder.md).
#include "attention_head.h"

#include <immintrin.h>
#include <math.h>

/// Query rows attended together: their sums share each load of keys and values, and give the vector unit
/// independent additions to overlap.
enum { queryBlock = 4 };

int64_t quiver_attention_head_scratch(int64_t keyCount, int64_t depth) {
    int64_t padded = (keyCount + 15) / 16 * 16;
    return (depth + queryBlock) * padded;
}

/// e^x as `VectorMath.exp` computes it: x = n·ln2 + r, |r| ≤ ln2/2, a degree-7 Taylor polynomial of e^r times 2^n.
__attribute__((target("avx512f"), always_inline)) static inline __m512 exponential(__m512 x) {
    __m512 clamped = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-87.3f)), _mm512_set1_ps(88.3f));
    __m512 magic = _mm512_set1_ps(12582912.0f);  // 1.5·2^23: adding it rounds to an integer in the low bits
    __m512 shifted = _mm512_fmadd_ps(clamped, _mm512_set1_ps(1.44269504f), magic);
    __m512 n = _mm512_sub_ps(shifted, magic);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), clamped);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.1219444e-4f), r);
    __m512 p = _mm512_set1_ps(1.0f / 5040);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 720));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    __m512i scaleBits = _mm512_slli_epi32(
        _mm512_sub_epi32(_mm512_castps_si512(shifted), _mm512_set1_epi32(0x4B400000 - 127)), 23);
    __m512 result = _mm512_mul_ps(p, _mm512_castsi512_ps(scaleBits));
    __mmask16 underflow = _mm512_cmp_ps_mask(x, _mm512_set1_ps(-87.3f), _CMP_LT_OQ);
    return _mm512_mask_blend_ps(underflow, result, _mm512_setzero_ps());
}

/// The lanes of chunk `start` below `count` (the last chunk may be partial).
static inline __mmask16 lanesBelow(int64_t start, int64_t count) {
    int64_t left = count - start;
    return left >= 16 ? 0xFFFF : (__mmask16)((1u << left) - 1);
}

/// scores[r] (keys start ..< start + 16·chunks) = scale · q_r·Kᵀ + mask for `rows` query rows; returns nothing, folds
/// each row's largest score into `largest[r]`. `rows` and `chunks` are constants at each call.
__attribute__((target("avx512f"), always_inline)) static inline void scoreBlock(
    const int rows, const int chunks, const float *queries, int64_t stride, const float *transposedKeys,
    int64_t padded, int64_t start, int64_t keyCount, int64_t depth, __m512 scale, const float *mask, float *scores,
    __m512 *largest) {
    __m512 sums[queryBlock][4];
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < chunks; c++) sums[r][c] = _mm512_setzero_ps();
    for (int64_t d = 0; d < depth; d++) {
        __m512 keys[4];
        for (int c = 0; c < chunks; c++) keys[c] = _mm512_loadu_ps(transposedKeys + d * padded + start + 16 * c);
        for (int r = 0; r < rows; r++) {
            __m512 q = _mm512_set1_ps(queries[r * stride + d]);
            for (int c = 0; c < chunks; c++) sums[r][c] = _mm512_fmadd_ps(q, keys[c], sums[r][c]);
        }
    }
    for (int c = 0; c < chunks; c++) {
        int64_t first = start + 16 * c;
        __mmask16 lanes = lanesBelow(first, keyCount);
        __m512 maskValues = mask ? _mm512_maskz_loadu_ps(lanes, mask + first) : _mm512_setzero_ps();
        for (int r = 0; r < rows; r++) {
            __m512 score = _mm512_add_ps(_mm512_mul_ps(sums[r][c], scale), maskValues);
            _mm512_storeu_ps(scores + r * padded + first, score);
            largest[r] = _mm512_mask_max_ps(largest[r], lanes, largest[r], score);
        }
    }
}

/// out[r] (values start ..< start + 16·chunks) = Σ_j weights[r][j] · v_j · inverse[r] for `rows` query rows.
__attribute__((target("avx512f"), always_inline)) static inline void valueBlock(
    const int rows, const int chunks, const float *values, int64_t stride, int64_t keyCount, int64_t depth,
    int64_t start, const float *weights, int64_t padded, const float *inverse, float *output, int64_t ldOutput) {
    __mmask16 lastLanes = lanesBelow(start + 16 * (chunks - 1), depth);
    __m512 sums[queryBlock][4];
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < chunks; c++) sums[r][c] = _mm512_setzero_ps();
    for (int64_t j = 0; j < keyCount; j++) {
        __m512 value[4];
        for (int c = 0; c < chunks; c++)
            value[c] = _mm512_maskz_loadu_ps(c == chunks - 1 ? lastLanes : 0xFFFF, values + j * stride + start + 16 * c);
        for (int r = 0; r < rows; r++) {
            __m512 weight = _mm512_set1_ps(weights[r * padded + j]);
            for (int c = 0; c < chunks; c++) sums[r][c] = _mm512_fmadd_ps(weight, value[c], sums[r][c]);
        }
    }
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < chunks; c++)
            _mm512_mask_storeu_ps(output + r * ldOutput + start + 16 * c, c == chunks - 1 ? lastLanes : 0xFFFF,
                                  _mm512_mul_ps(sums[r][c], _mm512_set1_ps(inverse[r])));
}

#define BLOCK_CASES(CALL) \
    CALL(1, 1) CALL(1, 2) CALL(1, 3) CALL(1, 4) CALL(2, 1) CALL(2, 2) CALL(2, 3) CALL(2, 4) \
    CALL(3, 1) CALL(3, 2) CALL(3, 3) CALL(3, 4) CALL(4, 1) CALL(4, 2) CALL(4, 3) CALL(4, 4)

__attribute__((target("avx512f"))) void quiver_attention_head(
    const float *queries, const float *keys, const float *values, int64_t stride, int64_t queryCount,
    int64_t keyCount, int64_t depth, float scale, const float *mask, float *output, int64_t ldOutput, float *scratch) {
    if (queryCount <= 0 || depth <= 0) return;
    int64_t padded = (keyCount + 15) / 16 * 16;
    float *transposedKeys = scratch;  // (depth, padded)
    float *scores = scratch + depth * padded;  // (queryBlock, padded): scores, then weights
    for (int64_t d = 0; d < depth; d++) {
        for (int64_t j = 0; j < keyCount; j++) transposedKeys[d * padded + j] = keys[j * stride + d];
        for (int64_t j = keyCount; j < padded; j++) transposedKeys[d * padded + j] = 0;
    }
    __m512 scaleVector = _mm512_set1_ps(scale);
    for (int64_t first = 0; first < queryCount; first += queryBlock) {
        const int rows = queryCount - first < queryBlock ? (int)(queryCount - first) : queryBlock;
        const float *blockQueries = queries + first * stride;
        float *blockOutput = output + first * ldOutput;
        __m512 largest[queryBlock];
        for (int r = 0; r < queryBlock; r++) largest[r] = _mm512_set1_ps(-INFINITY);
        for (int64_t start = 0; start < padded; start += 64) {
            const int chunks = padded - start >= 64 ? 4 : (int)((padded - start) / 16);
#define SCORES(r, c) \
    case (r) * 8 + (c): scoreBlock(r, c, blockQueries, stride, transposedKeys, padded, start, keyCount, depth, \
                                   scaleVector, mask, scores, largest); break;
            switch (rows * 8 + chunks) { BLOCK_CASES(SCORES) }
#undef SCORES
        }
        // Per row: weights e^(score − max) in place, and 1 / their sum (0 when the row attends to nothing).
        float inverse[queryBlock];
        for (int r = 0; r < rows; r++) {
            float *row = scores + r * padded;
            float maximum = _mm512_reduce_max_ps(largest[r]);
            if (keyCount == 0 || maximum == -INFINITY) {
                for (int64_t j = 0; j < keyCount; j++) row[j] = 0;
                inverse[r] = 0;
                continue;
            }
            __m512 maximumVector = _mm512_set1_ps(maximum);
            __m512 total = _mm512_setzero_ps();
            for (int64_t j = 0; j < padded; j += 16) {
                __m512 weight = _mm512_maskz_mov_ps(
                    lanesBelow(j, keyCount), exponential(_mm512_sub_ps(_mm512_loadu_ps(row + j), maximumVector)));
                _mm512_storeu_ps(row + j, weight);
                total = _mm512_add_ps(total, weight);
            }
            inverse[r] = 1.0f / _mm512_reduce_add_ps(total);
        }
        for (int64_t start = 0; start < depth; start += 64) {
            const int chunks = depth - start >= 64 ? 4 : (int)((depth - start + 15) / 16);
#define VALUES(r, c) \
    case (r) * 8 + (c): valueBlock(r, c, values, stride, keyCount, depth, start, scores, padded, inverse, \
                                   blockOutput, ldOutput); break;
            switch (rows * 8 + chunks) { BLOCK_CASES(VALUES) }
#undef VALUES
        }
    }
}
