// A pass's products alone: MiniLM-L6's 24 layer products (6 layers × QKV 384→1152, output 384→384, intermediate
// 384→1536, output 1536→384) over ROWS rows, with nothing else — no attention, no GELU, no LayerNorm, no Swift — on
// two kernels side by side: oneDNN's matmul primitive over weights packed in its preferred layout, bias in the
// kernel (what `PackedLinear` ran before), and Quiver's `PanelProduct` over 16-column panels (what it runs now), its
// AVX2 kernel and its AVX-512 one where the CPU runs them.
// With 2 threads each runs one half of every product's columns and both meet at a spinning barrier after each
// product, as the helper team does. Random weights, six copies (one per layer) so they stream as a model's do.
//
//     clang -O2 -I Sources/CQuiverKernels/include scripts/bench/few_row_products.c Sources/CQuiverKernels/panel_product.c -o /tmp/few_row_products -ldnnl -lpthread
//     OMP_NUM_THREADS=1 /tmp/few_row_products 16 2      # ROWS THREADS
//
// Build it with clang, as SwiftPM builds the kernel: GCC leaves its register tiles on the stack (half the rate).
// docs/benchmarks.md and docs/encoder.md quote it.
#include "panel_product.h"

#include <oneapi/dnnl/dnnl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define CHECK(call) do { dnnl_status_t s_ = (call); if (s_ != dnnl_success) { fprintf(stderr, "%s: %d\n", #call, s_); exit(1); } } while (0)
enum { LAYERS = 6, PRODUCTS = 4, RUNS = 500 };
static const int shapes[PRODUCTS][2] = {{384, 1152}, {384, 384}, {384, 1536}, {1536, 384}};

typedef struct { dnnl_primitive_t primitive; dnnl_memory_t weights[LAYERS], source, destination, bias, scratchpad; } Product;
static dnnl_engine_t engine;
static Product products[2][PRODUCTS];
static float *panels[LAYERS][PRODUCTS], *panelBias;  // each product's (in, out) weight in 16-column panels
static int usePanels;  // 0: oneDNN; else the PanelProduct kernel (quiver_panel_kernel)
static int threads, rows;
static float *input, *outputs[2];
static atomic_int arrived, generation;
static double best = 1e9;

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

static dnnl_memory_desc_t matrix(int rows, int columns) {
    dnnl_memory_desc_t descriptor;
    dnnl_dims_t dims = {rows, columns}, strides = {columns, 1};
    CHECK(dnnl_memory_desc_init_by_strides(&descriptor, 2, dims, dnnl_f32, strides));
    return descriptor;
}

static void make(Product *product, int rows, int in, int out) {
    dnnl_memory_desc_t source = matrix(rows, in), destination = matrix(rows, out), bias = matrix(1, out), weights;
    dnnl_dims_t dims = {in, out};
    CHECK(dnnl_memory_desc_init_by_tag(&weights, 2, dims, dnnl_f32, dnnl_format_tag_any));
    dnnl_matmul_desc_t matmul;
    CHECK(dnnl_matmul_desc_init(&matmul, &source, &weights, &bias, &destination));
    dnnl_primitive_attr_t attributes;
    CHECK(dnnl_primitive_attr_create(&attributes));
    CHECK(dnnl_primitive_attr_set_scratchpad_mode(attributes, dnnl_scratchpad_mode_user));
    dnnl_primitive_desc_t descriptor;
    CHECK(dnnl_primitive_desc_create(&descriptor, &matmul, attributes, engine, NULL));
    const char *name;
    CHECK(dnnl_primitive_desc_query(descriptor, dnnl_query_impl_info_str, 0, &name));
    fprintf(stderr, "# %d x %d x %d: %s\n", rows, in, out, name);
    const dnnl_memory_desc_t *packed = dnnl_primitive_desc_query_md(descriptor, dnnl_query_weights_md, 0);
    CHECK(dnnl_primitive_create(&product->primitive, descriptor));
    for (int layer = 0; layer < LAYERS; layer++) {
        size_t bytes = dnnl_memory_desc_get_size(packed);
        float *values = aligned_alloc(64, (bytes + 63) / 64 * 64);
        for (size_t i = 0; i < bytes / 4; i++) values[i] = (float)(rand() % 100 - 50) * 1e-3f;
        CHECK(dnnl_memory_create(&product->weights[layer], packed, engine, values));
    }
    CHECK(dnnl_memory_create(&product->bias, &bias, engine, DNNL_MEMORY_ALLOCATE));
    CHECK(dnnl_memory_create(&product->source, &source, engine, DNNL_MEMORY_NONE));
    CHECK(dnnl_memory_create(&product->destination, &destination, engine, DNNL_MEMORY_NONE));
    CHECK(dnnl_memory_create(&product->scratchpad, dnnl_primitive_desc_query_md(descriptor, dnnl_query_scratchpad_md, 0),
                             engine, DNNL_MEMORY_ALLOCATE));
}

static void barrier(void) {
    int seen = atomic_load(&generation);
    if (atomic_fetch_add(&arrived, 1) == threads - 1) {
        atomic_store(&arrived, 0);
        atomic_fetch_add(&generation, 1);
    } else {
        while (atomic_load(&generation) == seen) __builtin_ia32_pause();
    }
}

static void *work(void *argument) {
    int thread = (int)(long)argument;
    dnnl_stream_t stream;
    CHECK(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags));
    for (int run = 0; run < RUNS; run++) {
        barrier();
        double start = now();
        for (int layer = 0; layer < LAYERS; layer++) {
            for (int p = 0; p < PRODUCTS; p++) {
                if (usePanels) {
                    int in = shapes[p][0], out = shapes[p][1], half = out / threads, first = thread * half;
                    quiver_panel_product((quiver_panel_kernel)usePanels, input, rows, in, in, panels[layer][p] + (size_t)first * in, 16 * in, half,
                                         panelBias + first, outputs[0] + first, out);
                    barrier();
                    continue;
                }
                Product *product = &products[thread][p];
                CHECK(dnnl_memory_set_data_handle(product->source, input));
                CHECK(dnnl_memory_set_data_handle(product->destination, outputs[thread]));
                dnnl_exec_arg_t arguments[] = {
                    {DNNL_ARG_SRC, product->source}, {DNNL_ARG_WEIGHTS, product->weights[layer]},
                    {DNNL_ARG_BIAS, product->bias}, {DNNL_ARG_DST, product->destination},
                    {DNNL_ARG_SCRATCHPAD, product->scratchpad}};
                CHECK(dnnl_primitive_execute(product->primitive, stream, 5, arguments));
                CHECK(dnnl_stream_wait(stream));
                barrier();
            }
        }
        double elapsed = now() - start;
        if (thread == 0 && elapsed < best) best = elapsed;
    }
    return NULL;
}

int main(int argc, char **argv) {
    rows = argc > 1 ? atoi(argv[1]) : 16;
    threads = argc > 2 ? atoi(argv[2]) : 2;
    if (rows < 1 || rows > 512 || threads < 1 || threads > 2) { fprintf(stderr, "usage: ROWS(1-512) THREADS(1-2)\n"); return 2; }
    CHECK(dnnl_engine_create(&engine, dnnl_cpu, 0));
    input = aligned_alloc(64, (size_t)rows * 1536 * 4);
    for (int i = 0; i < rows * 1536; i++) input[i] = (float)(i % 7) * 0.1f;
    for (int thread = 0; thread < threads; thread++) {
        outputs[thread] = aligned_alloc(64, (size_t)rows * 1536 * 4);
        for (int p = 0; p < PRODUCTS; p++) make(&products[thread][p], rows, shapes[p][0], shapes[p][1] / threads);
    }
    panelBias = calloc(1536, sizeof(float));
    for (int layer = 0; layer < LAYERS; layer++)
        for (int p = 0; p < PRODUCTS; p++) {
            size_t count = (size_t)shapes[p][0] * shapes[p][1];  // out is a multiple of 16: no padding
            panels[layer][p] = aligned_alloc(64, count * 4);
            for (size_t i = 0; i < count; i++) panels[layer][p][i] = (float)(rand() % 100 - 50) * 1e-3f;
        }
    double flops = 2.0 * LAYERS * rows * (384.0 * 1152 + 384.0 * 384 + 2 * 384.0 * 1536);
    for (usePanels = 0; usePanels <= quiver_panel_avx512; usePanels++) {
        if (usePanels && !quiver_panel_product_runs((quiver_panel_kernel)usePanels)) continue;
        best = 1e9;
        pthread_t helpers[2];
        for (int thread = 0; thread < threads; thread++) pthread_create(&helpers[thread], NULL, work, (void *)(long)thread);
        for (int thread = 0; thread < threads; thread++) pthread_join(helpers[thread], NULL);
        printf("%d rows, %d thread(s), %-20s the 24 products of a pass, best of %d: %.3f ms (%.1f GFLOP/s)\n", rows,
               threads, usePanels == quiver_panel_avx512 ? "PanelProduct AVX-512:" : usePanels ? "PanelProduct AVX2:" : "oneDNN matmul:", RUNS, best * 1e3, flops / best / 1e9);
    }
    return 0;
}
