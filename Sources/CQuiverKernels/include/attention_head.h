#ifndef QUIVER_ATTENTION_HEAD_H
#define QUIVER_ATTENTION_HEAD_H

#include <stdint.h>

/// The floats of scratch `quiver_attention_head` needs for `keyCount` keys of `depth` values.
int64_t quiver_attention_head_scratch(int64_t keyCount, int64_t depth);

/// Needs AVX-512F, the same check as `quiver_panel_product_runs(quiver_panel_avx512)`.
///
/// output (queryCount, depth) = softmax(scale · Q·Kᵀ + mask) · V for one attention head, in one pass over each query
/// row: its scores, their softmax and its weighted sum of values, with no call in between.
///
/// Q is (queryCount, depth), K and V (keyCount, depth), each with rows `stride` floats apart; `mask` is NULL or
/// keyCount additive values (0, or a very negative finite score for a padded key, as transformers builds it: a row
/// with every key masked is then uniform; with −∞ everywhere it is written as zeros). Output rows are `ldOutput`
/// apart; `scratch` holds `quiver_attention_head_scratch` floats. The exponential is `VectorMath.exp`'s: the same range reduction and degree-7 polynomial.
void quiver_attention_head(
    const float *queries, const float *keys, const float *values, int64_t stride, int64_t queryCount,
    int64_t keyCount, int64_t depth, float scale, const float *mask, float *output, int64_t ldOutput, float *scratch);

#endif
