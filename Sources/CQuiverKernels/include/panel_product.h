#ifndef QUIVER_PANEL_PRODUCT_H
#define QUIVER_PANEL_PRODUCT_H

#include <stdint.h>

/// The instruction sets `quiver_panel_product` has a kernel for.
typedef enum { quiver_panel_none = 0, quiver_panel_avx2 = 1, quiver_panel_avx512 = 2 } quiver_panel_kernel;

/// Nonzero when this CPU runs `kernel`.
int quiver_panel_product_runs(quiver_panel_kernel kernel);

/// output (rows, columns) = input (rows, depth) · W + bias on `kernel`, which the CPU must run: each panel of W
/// streamed once, its rows in blocks whose sums stay in registers (at most 16 rows on AVX-512, 6 on AVX2).
///
/// W (depth, columns) is stored in panels of 16 columns: element (k, c) at `panels[(c / 16) · panelStride + k · 16 +
/// c % 16]` — oneDNN's `BA16a16b` layout, `panelStride` at least depth × 16. The last panel is padded with
/// columns that are read and never written, so it must be readable in full. `bias` may be NULL. Rows of `input` are
/// `ldInput` floats apart, of `output` `ldOutput`.
void quiver_panel_product(
    quiver_panel_kernel kernel, const float *input, int64_t rows, int64_t ldInput, int64_t depth, const float *panels,
    int64_t panelStride, int64_t columns, const float *bias, float *output, int64_t ldOutput);

#endif
