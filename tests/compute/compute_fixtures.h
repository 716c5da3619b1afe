/* Models and compute inputs for the tests of the compute module's
 * internals: a model from a shape, and a GPU run's input with the layers
 * spread over the host and up to two GPUs. */
#ifndef TESTS_COMPUTE_FIXTURES_H
#define TESTS_COMPUTE_FIXTURES_H

#include <stdio.h>
#include <string.h>

#include "headroom/headroom.h"

#include "compute/compute.h"
#include "shape_fixture.h"

/* A shape of arch with these sizes (training context 128k). */
static inline void fx_shape(hr_shape *s, const char *arch, uint32_t n_layer, uint32_t n_embd,
                            uint32_t n_head, uint32_t n_head_kv, uint32_t n_ff, uint32_t n_vocab,
                            hr_ftype ftype)
{
    tu_shape(s, arch, arch, n_layer, n_embd, n_head, n_head_kv, n_ff, n_vocab, 131072);
    s->ftype = ftype;
}

/* The model of a shape (NULL, with a message, when it cannot be built). */
static inline hr_model *fx_shape_model(const hr_shape *s)
{
    hr_model *m = NULL;
    hr_error err;
    if (hr_model_from_shape(s, &m, &err) != HR_OK) {
        fprintf(stderr, "shape %s: %s\n", s->arch_name, err.message);
        return NULL;
    }
    return m;
}

/* The tests' usual small model of arch (qwen3moe: 8 experts, 2 used). */
static inline hr_model *fx_model(const char *arch, uint32_t n_layer, hr_ftype ftype)
{
    hr_shape s;
    fx_shape(&s, arch, n_layer, 1024, 16, 4, 2816, 32000, ftype);
    if (strcmp(arch, "qwen3moe") == 0) {
        s.n_expert = 8;
        s.n_expert_used = 2;
        s.n_ff_exp = 512;
    }
    return fx_shape_model(&s);
}

/* Where the layers run: host layers [host_begin, host_end), GPU 1
 * [gpu1_begin, gpu1_end), GPU 2 [gpu2_begin, gpu2_end) (empty: one GPU);
 * layers in no range are the host's. */
typedef struct fx_layout {
    const char *name;
    int32_t host_begin, host_end, gpu1_begin, gpu1_end, gpu2_begin, gpu2_end;
} fx_layout;

typedef struct fx_run {
    uint32_t n_ctx, ubatch, n_outputs, n_seq; /* n_outputs 0: every token */
    bool fa, offload_kv, output_on_gpu, cpu_only;
} fx_run;

static inline void fx_input(const hr_model *m, const fx_layout *l, const fx_run *r, hr_settings *s,
                            hr_compute_input *in)
{
    memset(s, 0, sizeof *s);
    s->n_ctx = r->n_ctx;
    s->n_batch = s->n_ubatch = r->ubatch;
    s->n_seq = r->n_seq;
    s->mode = r->cpu_only ? HR_MODE_CPU : HR_MODE_GPU;
    s->flash_attn = r->fa ? HR_FA_ON : HR_FA_OFF;
    s->type_k = s->type_v = HR_TYPE_F16;
    memset(in, 0, sizeof *in);
    in->model = m;
    in->settings = s;
    in->n_tokens = r->ubatch < r->n_ctx ? r->ubatch : r->n_ctx;
    in->n_outputs = r->n_outputs ? r->n_outputs : in->n_tokens;
    in->n_seq = r->n_seq;
    in->n_kv = (r->n_ctx / r->n_seq + 255) / 256 * 256;
    in->n_kv_swa = in->n_kv;
    in->flash_attn = r->fa;
    in->type_k = in->type_v = HR_TYPE_F16;
    in->offload_kv = r->offload_kv;
    in->output_on_gpu = r->output_on_gpu;
    in->backends[0] = HR_BACKEND_CPU;
    in->layer_begin[0] = l->host_begin;
    in->layer_end[0] = l->host_end;
    if (r->cpu_only) {
        in->n_devices = 1;
        in->layer_begin[0] = 0;
        in->layer_end[0] = (int32_t)m->n_layer;
        in->output_on_gpu = false;
        return;
    }
    in->n_devices = l->gpu2_end > l->gpu2_begin ? 3 : 2;
    in->backends[1] = in->backends[2] = HR_BACKEND_CUDA;
    in->layer_begin[1] = l->gpu1_begin;
    in->layer_end[1] = l->gpu1_end;
    in->layer_begin[2] = l->gpu2_begin;
    in->layer_end[2] = l->gpu2_end;
    int32_t gpu_layers = 0;
    for (int d = 1; d < in->n_devices; d++)
        gpu_layers += in->layer_end[d] - in->layer_begin[d];
    in->n_gpu_layers = gpu_layers + (r->output_on_gpu ? 1 : 0);
}

/* The grid of the built-graph tests: every arch (a 12-layer fx_model) x
 * ftype x layout x ubatch x eight variants of outputs, sequences, flash
 * attention, KV offload and output placement, each as the prompt graph and
 * the one-token graph. */
typedef struct fx_grid {
    const char *const *archs;
    size_t n_archs;
    const hr_ftype *ftypes;
    size_t n_ftypes;
    const fx_layout *layouts;
    size_t n_layouts;
    const uint32_t *ubatch;
    size_t n_ubatch;
} fx_grid;

/* what: the case in words, for a failure's message */
typedef void (*fx_visit)(const hr_compute_input *in, bool one_token, const char *what, void *ctx);

/* visit(in, one_token, what, ctx) for each case of the grid; false when a
 * model could not be built */
static inline bool fx_each_input(const fx_grid *grid, fx_visit visit, void *ctx)
{
    for (size_t a = 0; a < grid->n_archs; a++) {
        for (size_t f = 0; f < grid->n_ftypes; f++) {
            hr_model *m = fx_model(grid->archs[a], 12, grid->ftypes[f]);
            if (!m)
                return false;
            for (size_t l = 0; l < grid->n_layouts; l++) {
                for (size_t u = 0; u < grid->n_ubatch; u++) {
                    for (int v = 0; v < 8; v++) {
                        const fx_run run = {4096, grid->ubatch[u], (v & 4) ? 1 : 0, 1 + (v & 1),
                                            (v & 2) != 0, (v & 1) == 0, (v & 2) == 0, false};
                        hr_settings s;
                        hr_compute_input in;
                        fx_input(m, &grid->layouts[l], &run, &s, &in);
                        for (int tg = 0; tg < 2; tg++) {
                            char what[160];
                            snprintf(what, sizeof what, "%s ftype %d, %s, ubatch %u, variant %d%s",
                                     grid->archs[a], (int)grid->ftypes[f], grid->layouts[l].name,
                                     grid->ubatch[u], v, tg ? ", one-token graph" : "");
                            visit(&in, tg != 0, what, ctx);
                        }
                    }
                }
            }
            hr_model_free(m);
        }
    }
    return true;
}

/* a small linear congruential generator for the random-graph tests */
static inline uint32_t fx_next_rand(uint64_t *st)
{
    *st = *st * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(*st >> 33);
}

#endif
