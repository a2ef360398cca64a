#ifndef QUIVER_PANEL_PRODUCT_H
#define QUIVER_PANEL_PRODUCT_H

#include <stdint.h>

/// Nonzero when this CPU can run `quiver_panel_product` (it needs AVX-512F).
int quiver_panel_product_available(void);

/// output (rows, columns) = input (rows, depth) · W + bias: each panel of W streamed once, its rows in blocks of at
/// most 16 whose sums stay in registers.
///
/// W (depth, columns) is stored in panels of 16 columns: element (k, c) at `panels[(c / 16) · panelStride + k · 16 +
/// c % 16]` — oneDNN's `BA16a16b` layout, `panelStride` at least depth × 16. The last panel is padded with
/// columns that are read and never written, so it must be readable in full. `bias` may be NULL. Rows of `input` are
/// `ldInput` floats apart, of `output` `ldOutput`.
void quiver_panel_product(
    const float *input, int64_t rows, int64_t ldInput, int64_t depth, const float *panels, int64_t panelStride,
    int64_t columns, const float *bias, float *output, int64_t ldOutput);

#endif
