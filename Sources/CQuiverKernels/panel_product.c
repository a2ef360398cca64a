// A product with the weights streamed once: every 16-column panel of W is read from memory a single time while a
// block of rows keeps its accumulators in registers (16 rows × 16 columns, or fewer rows over 2 or 4 panels at once),
// the other blocks reading the panel from the cache. Each input value is broadcast from memory straight into a
// fused multiply-add. oneDNN's blocked kernel reads its wider panels several times over few rows; docs/encoder.md
// has the measurements.
#include "panel_product.h"

#include <immintrin.h>

/// How far ahead, in k steps of one panel (64 bytes each), the weights are prefetched: far enough to hide a trip to
/// memory, since at few rows the weights come from DRAM or the L3, not the caches above.
enum { prefetchDistance = 64 };

int quiver_panel_product_runs(quiver_panel_kernel kernel) {
    __builtin_cpu_init();
    switch (kernel) {
    case quiver_panel_avx512: return __builtin_cpu_supports("avx512f");
    case quiver_panel_avx2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    default: return 0;
    }
}

// MARK: - AVX-512

/// rows × (16 · panels) outputs: `panels` consecutive panels of W from `weights`, `panelStride` apart. `rows` and
/// `panels` are constants at every call, so each combination compiles to its own register-resident loop.
__attribute__((target("avx512f"), always_inline)) static inline void tile(
    const int rows, const int panels, const float *input, int64_t ldInput, int64_t depth, const float *weights,
    int64_t panelStride, const float *bias, __mmask16 lastMask, float *output, int64_t ldOutput) {
    __m512 sums[16][4];
    for (int p = 0; p < panels; p++) {
        __mmask16 mask = p == panels - 1 ? lastMask : 0xFFFF;
        __m512 initial = bias ? _mm512_maskz_loadu_ps(mask, bias + 16 * p) : _mm512_setzero_ps();
        for (int r = 0; r < rows; r++) sums[r][p] = initial;
    }
    for (int64_t k = 0; k < depth; k++) {
        __m512 w[4];
        for (int p = 0; p < panels; p++) {
            const float *panel = weights + p * panelStride + k * 16;
            w[p] = _mm512_loadu_ps(panel);
            _mm_prefetch((const char *)(panel + prefetchDistance * 16), _MM_HINT_T0);
        }
        for (int r = 0; r < rows; r++) {
            __m512 x = _mm512_set1_ps(input[r * ldInput + k]);
            for (int p = 0; p < panels; p++) sums[r][p] = _mm512_fmadd_ps(x, w[p], sums[r][p]);
        }
    }
    for (int p = 0; p < panels; p++) {
        __mmask16 mask = p == panels - 1 ? lastMask : 0xFFFF;
        for (int r = 0; r < rows; r++) _mm512_mask_storeu_ps(output + r * ldOutput + 16 * p, mask, sums[r][p]);
    }
}

/// Panels at once for `rows` rows: as many as keep the accumulators in registers (16 rows × 1 panel, 8 × 2, 4 × 4).
static int panelGroup(int64_t rows) { return rows <= 4 ? 4 : rows <= 8 ? 2 : 1; }

/// `tile` for a row count known only at run time (1...16), with `group` panels (`panelGroup(rows)` or 1).
__attribute__((target("avx512f"))) static void tileRows(
    int64_t rows, int group, const float *input, int64_t ldInput, int64_t depth, const float *weights,
    int64_t panelStride, const float *bias, __mmask16 lastMask, float *output, int64_t ldOutput) {
#define TILE(r, g) tile(r, g, input, ldInput, depth, weights, panelStride, bias, lastMask, output, ldOutput)
#define ROWS(r) \
    case r: \
        if (group == 4 && r <= 4) TILE(r, 4); else if (group == 2 && r <= 8) TILE(r, 2); else TILE(r, 1); \
        break;
    switch (rows) {
        ROWS(1) ROWS(2) ROWS(3) ROWS(4) ROWS(5) ROWS(6) ROWS(7) ROWS(8)
        ROWS(9) ROWS(10) ROWS(11) ROWS(12) ROWS(13) ROWS(14) ROWS(15) ROWS(16)
    }
#undef ROWS
#undef TILE
}

__attribute__((target("avx512f"))) static void productAVX512(
    const float *input, int64_t rows, int64_t ldInput, int64_t depth, const float *panels, int64_t panelStride,
    int64_t columns, const float *bias, float *output, int64_t ldOutput) {
    int64_t panelCount = (columns + 15) / 16;
    int64_t tail = columns - 16 * (panelCount - 1);  // 1...16 columns in the last panel
    __mmask16 lastMask = (__mmask16)((1u << tail) - 1);
    int64_t fullPanels = tail == 16 ? panelCount : panelCount - 1;
    int group = rows <= 16 ? panelGroup(rows) : 1;
    int64_t blocks = (rows + 15) / 16;
    // Panels outermost: each is streamed from memory once, its rows in `blocks` near-equal blocks of at most 16
    // reading it from the cache.
    for (int64_t panel = 0; panel < panelCount;) {
        int count = panel + group <= fullPanels ? group : 1;
        __mmask16 mask = panel + count == panelCount ? lastMask : 0xFFFF;
        for (int64_t block = 0; block < blocks; block++) {
            int64_t first = rows * block / blocks, blockRows = rows * (block + 1) / blocks - first;
            tileRows(blockRows, count, input + first * ldInput, ldInput, depth, panels + panel * panelStride,
                     panelStride, bias ? bias + 16 * panel : 0, mask, output + first * ldOutput + 16 * panel, ldOutput);
        }
        panel += count;
    }
}

// MARK: - AVX2

/// The lanes of an 8-float vector below `count` (0...8), as the masks of `_mm256_maskload_ps`.
static const int32_t laneMasks[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

/// rows × 16 outputs from one panel in two 8-float vectors per row: with 16 registers, at most 6 rows' sums (12),
/// the panel's two vectors and a broadcast. `rows` is a constant at every call; `tail` (1...16) the panel's columns.
__attribute__((target("avx2,fma"), always_inline)) static inline void tileAVX2(
    const int rows, const float *input, int64_t ldInput, int64_t depth, const float *weights, const float *bias,
    int64_t tail, float *output, int64_t ldOutput) {
    __m256i low = _mm256_loadu_si256((const __m256i *)(laneMasks + 8 - (tail < 8 ? tail : 8)));
    __m256i high = _mm256_loadu_si256((const __m256i *)(laneMasks + 8 - (tail > 8 ? tail - 8 : 0)));
    __m256 initialLow = bias ? _mm256_maskload_ps(bias, low) : _mm256_setzero_ps();
    __m256 initialHigh = bias ? _mm256_maskload_ps(bias + 8, high) : _mm256_setzero_ps();
    __m256 sums[6][2];
    for (int r = 0; r < rows; r++) {
        sums[r][0] = initialLow;
        sums[r][1] = initialHigh;
    }
    for (int64_t k = 0; k < depth; k++) {
        const float *panel = weights + k * 16;
        __m256 w0 = _mm256_loadu_ps(panel), w1 = _mm256_loadu_ps(panel + 8);
        _mm_prefetch((const char *)(panel + prefetchDistance * 16), _MM_HINT_T0);
        for (int r = 0; r < rows; r++) {
            __m256 x = _mm256_broadcast_ss(input + r * ldInput + k);
            sums[r][0] = _mm256_fmadd_ps(x, w0, sums[r][0]);
            sums[r][1] = _mm256_fmadd_ps(x, w1, sums[r][1]);
        }
    }
    for (int r = 0; r < rows; r++) {
        _mm256_maskstore_ps(output + r * ldOutput, low, sums[r][0]);
        _mm256_maskstore_ps(output + r * ldOutput + 8, high, sums[r][1]);
    }
}

__attribute__((target("avx2,fma"))) static void productAVX2(
    const float *input, int64_t rows, int64_t ldInput, int64_t depth, const float *panels, int64_t panelStride,
    int64_t columns, const float *bias, float *output, int64_t ldOutput) {
    int64_t panelCount = (columns + 15) / 16;
    int64_t blocks = (rows + 5) / 6;
    // Panels outermost, as on AVX-512: each streamed once, its rows in near-equal blocks of at most 6.
    for (int64_t panel = 0; panel < panelCount; panel++) {
        int64_t tail = panel == panelCount - 1 ? columns - 16 * panel : 16;
        const float *weights = panels + panel * panelStride;
        const float *panelBias = bias ? bias + 16 * panel : 0;
        for (int64_t block = 0; block < blocks; block++) {
            int64_t first = rows * block / blocks, count = rows * (block + 1) / blocks - first;
            const float *blockInput = input + first * ldInput;
            float *blockOutput = output + first * ldOutput + 16 * panel;
#define ROWS(r) \
    case r: tileAVX2(r, blockInput, ldInput, depth, weights, panelBias, tail, blockOutput, ldOutput); break;
            switch (count) { ROWS(1) ROWS(2) ROWS(3) ROWS(4) ROWS(5) ROWS(6) }
#undef ROWS
        }
    }
}

void quiver_panel_product(
    quiver_panel_kernel kernel, const float *input, int64_t rows, int64_t ldInput, int64_t depth, const float *panels,
    int64_t panelStride, int64_t columns, const float *bias, float *output, int64_t ldOutput) {
    if (rows <= 0 || columns <= 0 || depth <= 0) return;
    switch (kernel) {
    case quiver_panel_avx512:
        productAVX512(input, rows, ldInput, depth, panels, panelStride, columns, bias, output, ldOutput);
        break;
    case quiver_panel_avx2:
        productAVX2(input, rows, ldInput, depth, panels, panelStride, columns, bias, output, ldOutput);
        break;
    default: break;
    }
}
