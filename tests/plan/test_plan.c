/* hr_plan_compute against real llama.cpp buffer sizes and llama.cpp's rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <cjson/cJSON.h>

#include "plan_fixtures.h"
#include "test_util.h"

/* llama.cpp's CPU build (node-llama-cpp 3.22.1), --no-mmap, 0 GPU layers:
 * the `buffer size` lines of ../shared/calibration/llamacpp_cpu.jsonl. */
typedef struct cal_case {
    fixture_model model;
    uint32_t n_ctx, n_batch, n_ubatch, n_seq;
    bool flash_attn;
    hr_type type_k, type_v;
    double weights_mib, kv_mib, output_mib, compute_mib;
} cal_case;

static const cal_case CAL[] = {
    {CAL_LLAMA32_1B, 512, 512, 512, 1, false, HR_TYPE_F16, HR_TYPE_F16, 762.81, 16.00, 0.49, 258.50},
    {CAL_LLAMA32_1B, 4096, 512, 512, 1, false, HR_TYPE_F16, HR_TYPE_F16, 762.81, 128.00, 0.49, 286.01},
    {CAL_LLAMA32_1B, 4096, 512, 512, 1, true, HR_TYPE_F16, HR_TYPE_F16, 762.81, 128.00, 0.49, 258.50},
    {CAL_LLAMA32_1B, 16384, 2048, 2048, 1, false, HR_TYPE_F16, HR_TYPE_F16, 762.81, 512.00, 0.49, 4312.04},
    {CAL_LLAMA32_1B, 16384, 2048, 2048, 1, true, HR_TYPE_F16, HR_TYPE_F16, 762.81, 512.00, 0.49, 1034.01},
    {CAL_LLAMA32_1B, 32768, 512, 512, 4, true, HR_TYPE_F16, HR_TYPE_F16, 762.81, 1024.00, 1.96, 258.50},
    {CAL_LLAMA32_1B, 32768, 512, 512, 1, true, HR_TYPE_F16, HR_TYPE_F16, 762.81, 1024.00, 0.49, 258.50},
    {CAL_LLAMA32_1B, 8192, 1024, 1024, 1, true, HR_TYPE_Q8_0, HR_TYPE_Q8_0, 762.81, 136.00, 0.49, 525.00},
    {CAL_LLAMA32_1B, 16384, 256, 256, 2, true, HR_TYPE_Q4_0, HR_TYPE_Q4_0, 762.81, 144.00, 0.98, 131.25},
    {CAL_QWEN25_05B, 512, 512, 512, 1, false, HR_TYPE_F16, HR_TYPE_F16, 500.79, 6.00, 0.58, 300.25},
    {CAL_QWEN25_05B, 4096, 512, 512, 1, false, HR_TYPE_F16, HR_TYPE_F16, 500.79, 48.00, 0.58, 302.00},
    {CAL_QWEN25_05B, 4096, 512, 512, 1, true, HR_TYPE_F16, HR_TYPE_F16, 500.79, 48.00, 0.58, 300.25},
    {CAL_QWEN25_05B, 16384, 2048, 2048, 1, false, HR_TYPE_F16, HR_TYPE_F16, 500.79, 192.00, 0.58, 1957.04},
    {CAL_QWEN25_05B, 16384, 2048, 2048, 1, true, HR_TYPE_F16, HR_TYPE_F16, 500.79, 192.00, 0.58, 1201.01},
    {CAL_QWEN25_05B, 32768, 512, 512, 4, true, HR_TYPE_F16, HR_TYPE_F16, 500.79, 384.00, 2.32, 300.25},
    {CAL_QWEN25_05B, 32768, 512, 512, 1, true, HR_TYPE_F16, HR_TYPE_F16, 500.79, 384.00, 0.58, 300.25},
    {CAL_QWEN25_05B, 8192, 1024, 1024, 1, true, HR_TYPE_Q8_0, HR_TYPE_Q8_0, 500.79, 51.00, 0.58, 604.00},
    {CAL_QWEN25_05B, 16384, 256, 256, 2, true, HR_TYPE_Q4_0, HR_TYPE_Q4_0, 500.79, 54.00, 1.16, 151.00},
    {CAL_TINYLLAMA, 512, 512, 512, 1, false, HR_TYPE_F16, HR_TYPE_F16, 2098.35, 11.00, 0.12, 70.50},
    {CAL_TINYLLAMA, 4096, 512, 512, 1, false, HR_TYPE_F16, HR_TYPE_F16, 2098.35, 88.00, 0.12, 285.01},
    {CAL_TINYLLAMA, 4096, 512, 512, 1, true, HR_TYPE_F16, HR_TYPE_F16, 2098.35, 88.00, 0.12, 70.50},
    {CAL_TINYLLAMA, 16384, 2048, 2048, 1, false, HR_TYPE_F16, HR_TYPE_F16, 2098.35, 352.00, 0.12, 4308.04},
    {CAL_TINYLLAMA, 16384, 2048, 2048, 1, true, HR_TYPE_F16, HR_TYPE_F16, 2098.35, 352.00, 0.12, 282.01},
    {CAL_TINYLLAMA, 32768, 512, 512, 4, true, HR_TYPE_F16, HR_TYPE_F16, 2098.35, 704.00, 0.49, 70.50},
    {CAL_TINYLLAMA, 32768, 512, 512, 1, true, HR_TYPE_F16, HR_TYPE_F16, 2098.35, 704.00, 0.12, 81.01},
    {CAL_TINYLLAMA, 8192, 1024, 1024, 1, true, HR_TYPE_Q8_0, HR_TYPE_Q8_0, 2098.35, 93.50, 0.12, 149.00},
    {CAL_TINYLLAMA, 16384, 256, 256, 2, true, HR_TYPE_Q4_0, HR_TYPE_Q4_0, 2098.35, 99.00, 0.24, 37.25},
};
#define N_CAL ((int)(sizeof CAL / sizeof CAL[0]))

/* llama.cpp prints MiB with two decimals */
#define PRINT_TOL 0.0051


static void cal_plan(const cal_case *c, hr_plan *p)
{
    hr_settings s;
    fixture_cpu_settings(&s);
    s.n_ctx = c->n_ctx;
    s.n_batch = c->n_batch;
    s.n_ubatch = c->n_ubatch;
    s.n_seq = c->n_seq;
    s.flash_attn = c->flash_attn ? HR_FA_ON : HR_FA_OFF;
    s.type_k = c->type_k;
    s.type_v = c->type_v;
    hr_error err = {0};
    hr_status rc = hr_plan_compute(fixture_shared(c->model), &s, NULL, p, &err);
    if (rc != HR_OK)
        fprintf(stderr, "# %s\n", err.message);
    assert_int_equal(rc, HR_OK);
}

static void test_calibration_weights_kv_output(void **state)
{
    (void)state;
    for (int i = 0; i < N_CAL; i++) {
        const cal_case *c = &CAL[i];
        hr_plan p;
        cal_plan(c, &p);
        assert_int_equal(p.n_devices, 1);
        const double w = p.bytes[HR_COMP_WEIGHTS] / MIB, kv = p.bytes[HR_COMP_KV] / MIB,
                     out = p.bytes[HR_COMP_OUTPUT] / MIB;
        if (fabs(w - c->weights_mib) > PRINT_TOL || fabs(kv - c->kv_mib) > PRINT_TOL ||
            fabs(out - c->output_mib) > PRINT_TOL)
            fprintf(stderr, "# case %d: weights %.3f/%.2f kv %.3f/%.2f output %.3f/%.2f\n", i, w,
                    c->weights_mib, kv, c->kv_mib, out, c->output_mib);
        assert_true(fabs(w - c->weights_mib) <= PRINT_TOL);
        assert_true(fabs(kv - c->kv_mib) <= PRINT_TOL);
        assert_true(fabs(out - c->output_mib) <= PRINT_TOL);
        /* the log's cell count is per stream */
        assert_int_equal(p.kv_cells, c->n_ctx);
        assert_int_equal(p.n_ctx_seq, c->n_ctx / c->n_seq);
        assert_int_equal(p.kv_k_bytes, p.kv_v_bytes);
    }
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void test_calibration_totals(void **state)
{
    (void)state;
    double err_pct[N_CAL];
    for (int i = 0; i < N_CAL; i++) {
        const cal_case *c = &CAL[i];
        hr_plan p;
        cal_plan(c, &p);
        const double got = (p.bytes[HR_COMP_WEIGHTS] + p.bytes[HR_COMP_KV] +
                            p.bytes[HR_COMP_OUTPUT] + p.bytes[HR_COMP_COMPUTE]) / MIB;
        const double want = c->weights_mib + c->kv_mib + c->output_mib + c->compute_mib;
        err_pct[i] = fabs(got - want) / want * 100.0;
        printf("# cal %2d ctx %6u ub %4u seq %u fa %d %-4s compute %9.2f / %9.2f MiB, total "
               "%9.2f / %9.2f MiB (%.2f%%)\n",
               i, c->n_ctx, c->n_ubatch, c->n_seq, c->flash_attn, hr_type_get(c->type_k)->name,
               p.bytes[HR_COMP_COMPUTE] / MIB, c->compute_mib, got, want, err_pct[i]);
        assert_true(err_pct[i] <= 3.0);
    }
    qsort(err_pct, N_CAL, sizeof err_pct[0], cmp_double);
    printf("# median total error %.3f%%\n", err_pct[N_CAL / 2]);
    assert_true(err_pct[N_CAL / 2] <= 0.5);
}

/* bytes of block il's tensors, and of the output / input layers */
static uint64_t layer_sum(const hr_model *m, int32_t from, int32_t to)
{
    uint64_t sum = 0;
    for (int32_t il = from; il < to; il++)
        sum += m->layer_bytes[il];
    return sum;
}

static void plan_gpu(const hr_model *m, int32_t ngl, const hr_budget *b, hr_plan *p)
{
    hr_settings s;
    hr_settings_init(&s);
    s.n_ctx = 2048;
    s.n_gpu_layers = ngl;
    hr_error err = {0};
    hr_status rc = hr_plan_compute(m, &s, b, p, &err);
    if (rc != HR_OK)
        fprintf(stderr, "# %s\n", err.message);
    assert_int_equal(rc, HR_OK);
}

static void test_gpu_placement(void **state)
{
    (void)state;
    /* TinyLlama F16: every tensor is a multiple of 128 bytes and none is
     * quantized, so device bytes are plain sums of tensor bytes */
    const hr_model *m = fixture_shared(CAL_TINYLLAMA);
    const int32_t L = (int32_t)m->n_layer;
    hr_budget b;
    fixture_budget(&b, 64, 1, 24);
    hr_plan p;

    plan_gpu(m, 0, &b, &p);
    assert_int_equal(p.n_gpu_layers, 0);
    assert_int_equal(p.n_devices, 2); /* the GPU still holds a context */
    assert_int_equal(p.devices[1].bytes[HR_COMP_WEIGHTS], 0);
    assert_int_equal(p.devices[0].bytes[HR_COMP_WEIGHTS], m->n_bytes);
    assert_int_equal(p.devices[1].bytes[HR_COMP_KV], 0);

    /* partial: blocks from n_layer + 1 - ngl on, and the output head */
    plan_gpu(m, 10, &b, &p);
    assert_int_equal(p.devices[1].layer_begin, L + 1 - 10);
    assert_int_equal(p.devices[1].layer_end, L);
    assert_int_equal(p.devices[0].layer_begin, 0);
    assert_int_equal(p.devices[0].layer_end, L + 1 - 10);
    assert_int_equal(p.devices[1].bytes[HR_COMP_WEIGHTS],
                     layer_sum(m, L + 1 - 10, L) + m->output_bytes);
    assert_int_equal(p.devices[0].bytes[HR_COMP_WEIGHTS],
                     m->input_bytes + layer_sum(m, 0, L + 1 - 10));
    /* KV follows the layers: 9 of 22 layers on the GPU */
    assert_int_equal(p.devices[1].bytes[HR_COMP_KV] * (uint64_t)L,
                     p.bytes[HR_COMP_KV] * 9);

    /* ngl = n_layer keeps block 0 on the host */
    plan_gpu(m, L, &b, &p);
    assert_int_equal(p.devices[0].layer_end, 1);
    assert_int_equal(p.devices[1].layer_begin, 1);

    /* n_layer + 1 (and -1) offload everything but the input embeddings */
    plan_gpu(m, L + 1, &b, &p);
    assert_int_equal(p.n_gpu_layers, L + 1);
    assert_int_equal(p.devices[0].bytes[HR_COMP_WEIGHTS], m->input_bytes);
    assert_int_equal(p.devices[1].bytes[HR_COMP_WEIGHTS], layer_sum(m, 0, L) + m->output_bytes);
    assert_int_equal(p.devices[0].bytes[HR_COMP_KV], 0);
    hr_plan all;
    plan_gpu(m, -1, &b, &all);
    assert_int_equal(all.n_gpu_layers, L + 1);
    assert_int_equal(all.devices[1].bytes[HR_COMP_WEIGHTS], p.devices[1].bytes[HR_COMP_WEIGHTS]);

    /* CPU mode lists the host only */
    hr_settings s;
    hr_settings_init(&s);
    s.n_ctx = 2048;
    s.mode = HR_MODE_CPU;
    assert_int_equal(hr_plan_compute(m, &s, &b, &p, NULL), HR_OK);
    assert_int_equal(p.n_devices, 1);
    assert_int_equal(p.n_gpu_layers, 0);
}

static void test_published_cuda_full_offload(void **state)
{
    (void)state;
    /* llamacpp-memory.md: Llama-3.1-8B Q4_K_M, CUDA full offload, ctx 8192
     * over 4 sequences, embeddings on: model CPU 281.81 + CUDA0 4403.49 MiB,
     * KV 1024 MiB, output 2.02 MiB */
    const hr_model *m = fixture_shared(FIX_LLAMA31_8B);
    hr_budget b;
    fixture_budget(&b, 64, 1, 80);
    hr_settings s;
    hr_settings_init(&s);
    s.n_ctx = 8192;
    s.n_seq = 4;
    s.flash_attn = HR_FA_OFF;
    s.embeddings = true;
    hr_plan p;
    assert_int_equal(hr_plan_compute(m, &s, &b, &p, NULL), HR_OK);
    assert_true(fabs(p.devices[0].bytes[HR_COMP_WEIGHTS] / MIB - 281.81) <= PRINT_TOL);
    assert_true(fabs(p.devices[1].bytes[HR_COMP_WEIGHTS] / MIB - 4403.49) <= PRINT_TOL);
    assert_true(fabs(p.devices[1].bytes[HR_COMP_KV] / MIB - 1024.00) <= PRINT_TOL);
    assert_int_equal(p.devices[0].bytes[HR_COMP_KV], 0);
    assert_true(fabs(p.devices[0].bytes[HR_COMP_OUTPUT] / MIB - 2.02) <= PRINT_TOL);
    assert_int_equal(p.n_gpu_layers, 33);
}

/* Small shapes loaded by the real llama.cpp of the calibration build (CPU,
 * mmap, 0 GPU layers), written as GGUF from the same hyperparameters; the
 * figures are its `buffer size` lines. */
typedef struct real_load {
    const char *what;
    uint32_t n_ctx, n_seq, n_ubatch;
    bool flash_attn;
    double weights_mib, kv_mib, output_mib, compute_mib;
} real_load;

static hr_model *small_shape(const char *arch)
{
    hr_shape s;
    hr_shape_init(&s);
    s.name = arch;
    s.arch_name = arch;
    s.n_vocab = 1000;
    if (strcmp(arch, "gemma2") == 0) {
        s.n_layer = 4, s.n_embd = 256, s.n_ctx_train = 65536, s.n_head = 4, s.n_head_kv = 2;
        s.head_dim = 64, s.n_ff = 512, s.n_swa = 4096, s.swa_pattern = 2, s.tied_output = true;
        s.ftype = HR_FTYPE_MOSTLY_F16;
    } else if (strcmp(arch, "deepseek2") == 0) {
        s.n_layer = 27, s.n_embd = 512, s.n_ctx_train = 16384, s.n_head = 8, s.n_head_kv = 8;
        s.head_dim = 192, s.head_dim_v = 128, s.n_lora_kv = 512, s.n_rot = 64;
        s.head_dim_qk_nope = 128, s.n_ff = 1024, s.n_expert = 8, s.n_expert_used = 2;
        s.n_expert_shared = 1, s.n_ff_exp = 256, s.n_ff_shexp = 256, s.n_layer_dense_lead = 1;
        s.ftype = HR_FTYPE_MOSTLY_F16;
    } else if (strcmp(arch, "mamba") == 0) {
        s.n_layer = 4, s.n_embd = 256, s.n_ctx_train = 1048576, s.ssm_d_conv = 4;
        s.ssm_d_inner = 512, s.ssm_d_state = 16, s.ssm_dt_rank = 16, s.tied_output = true;
        s.ftype = HR_FTYPE_ALL_F32;
    } else { /* bert */
        s.n_layer = 4, s.n_embd = 256, s.n_ctx_train = 512, s.n_head = 4, s.n_ff = 512;
        s.n_pos_embd = 512, s.causal = false, s.embedding_only = true;
        s.attn_bias = s.qkv_bias = s.ffn_bias = true, s.ftype = HR_FTYPE_MOSTLY_F16;
    }
    hr_model *m = NULL;
    assert_int_equal(hr_model_from_shape(&s, &m, NULL), HR_OK);
    return m;
}

static void test_real_small_loads(void **state)
{
    (void)state;
    static const real_load loads[] = {
        /* two streams: 16384 full cells and PAD(4096 + 1025, 256) = 5376 SWA cells each */
        {"gemma2", 32768, 2, 1025, false, 5.00, 32.00 + 10.50, 0.01, 348.71},
        {"gemma2", 32768, 2, 1025, true, 5.00, 32.00 + 10.50, 0.01, 51.64},
        /* four streams of 8192 and PAD(4096 + 513, 256) = 4864 cells */
        {"gemma2", 32768, 4, 513, false, 5.00, 32.00 + 19.00, 0.02, 93.74},
        /* MLA: K (f16) 121.50 MiB, V 0 */
        {"deepseek2", 4096, 1, 512, false, 317.71, 121.50, 0.00, 96.04},
        {"deepseek2", 4096, 1, 512, true, 317.71, 121.50, 0.00, 28.04},
        /* BERT: no KV cache at all */
        {"bert", 8192, 2, 512, false, 5.04, 0.00, 0.01, 8.01},
    };
    for (size_t i = 0; i < sizeof loads / sizeof loads[0]; i++) {
        const real_load *r = &loads[i];
        hr_model *m = small_shape(r->what);
        hr_settings s;
        hr_settings_init(&s);
        s.mode = HR_MODE_CPU;
        s.n_ctx = r->n_ctx;
        s.n_seq = r->n_seq;
        s.n_batch = s.n_ubatch = r->n_ubatch;
        s.flash_attn = r->flash_attn ? HR_FA_ON : HR_FA_OFF;
        hr_plan p;
        hr_error err = {0};
        assert_int_equal(hr_plan_compute(m, &s, NULL, &p, &err), HR_OK);
        const double w = p.bytes[HR_COMP_WEIGHTS] / MIB, kv = p.bytes[HR_COMP_KV] / MIB;
        const double out = p.bytes[HR_COMP_OUTPUT] / MIB, cmp = p.bytes[HR_COMP_COMPUTE] / MIB;
        printf("# real %-9s ctx %5u seq %u ub %4u fa %d: weights %.2f/%.2f kv %.2f/%.2f "
               "output %.2f/%.2f compute %.2f/%.2f\n",
               r->what, r->n_ctx, r->n_seq, r->n_ubatch, r->flash_attn, w, r->weights_mib, kv,
               r->kv_mib, out, r->output_mib, cmp, r->compute_mib);
        assert_true(fabs(w - r->weights_mib) <= PRINT_TOL);
        assert_true(fabs(kv - r->kv_mib) <= PRINT_TOL);
        assert_true(fabs(out - r->output_mib) <= PRINT_TOL);
        /* compute is printed, not asserted: these toy shapes are the compute
         * module's to match (tests/compute); the totals test above holds it
         * to 3% on the calibration models */
        hr_model_free(m);
    }
    /* mamba, 2 sequences: R (f32) 0.05 + S (f32) 0.25 = 0.30 MiB of recurrent state */
    hr_model *m = small_shape("mamba");
    hr_settings s;
    hr_settings_init(&s);
    s.mode = HR_MODE_CPU;
    s.n_ctx = 8192;
    s.n_seq = 2;
    hr_plan p;
    assert_int_equal(hr_plan_compute(m, &s, NULL, &p, NULL), HR_OK);
    assert_int_equal(p.recurrent_bytes, 4ull * (3 * 512 + 16 * 512) * 4 * 2);
    assert_true(fabs(p.recurrent_bytes / MIB - 0.30) <= PRINT_TOL);
    assert_true(fabs(p.bytes[HR_COMP_WEIGHTS] / MIB - 7.66) <= PRINT_TOL);
    hr_model_free(m);
}

static void test_cuda_row_padding(void **state)
{
    (void)state;
    /* Qwen2.5-0.5B (n_embd 896): quantized rows of 896 are padded to the
     * next 512 elements by ggml-cuda's get_alloc_size, then 128-aligned */
    const hr_model *m = fixture_shared(CAL_QWEN25_05B);
    hr_budget b;
    fixture_budget(&b, 64, 1, 24);
    hr_plan p;
    plan_gpu(m, -1, &b, &p);
    uint64_t want = 0, plain = 0;
    for (size_t i = 0; i < m->n_tensors; i++) {
        const hr_tensor *t = &m->tensors[i];
        if (t->layer == HR_LAYER_INPUT && t->role != HR_ROLE_TOKEN_EMBD)
            continue;
        /* blocks and head on the GPU; the tied head duplicates token_embd */
        uint64_t bytes = t->bytes;
        if (hr_type_get(t->type)->quantized && t->ne[0] % 512 != 0)
            bytes += hr_type_row_bytes(t->type, 512 - t->ne[0] % 512);
        want += (bytes + 127) / 128 * 128;
        plain += t->bytes;
    }
    assert_int_equal(p.devices[1].bytes[HR_COMP_WEIGHTS], want);
    assert_true(want > plain);
}

static void test_tied_output_on_gpu(void **state)
{
    (void)state;
    /* a tied head is token_embd created again in the output device's buffer */
    const hr_model *m = fixture_shared(CAL_LLAMA32_1B);
    hr_budget b;
    fixture_budget(&b, 64, 1, 24);
    hr_plan full, none;
    plan_gpu(m, -1, &b, &full);
    plan_gpu(m, 0, &b, &none);
    uint64_t embd = 0;
    for (size_t i = 0; i < m->n_tensors; i++)
        if (m->tensors[i].role == HR_ROLE_TOKEN_EMBD)
            embd = m->tensors[i].bytes;
    assert_true(embd > 0);
    assert_true(full.devices[0].bytes[HR_COMP_WEIGHTS] >= embd);
    assert_true(full.devices[1].bytes[HR_COMP_WEIGHTS] >= embd);
    assert_true(full.bytes[HR_COMP_WEIGHTS] >= none.bytes[HR_COMP_WEIGHTS] + embd);
}

/* The model keeps per-layer weight sums from finalize; a model whose
 * tensor list is not the one finalized (here a copy of it) makes the plan
 * walk the tensors. Both must give the same bytes on every device. */
static void test_weight_sums_match_tensor_walk(void **state)
{
    (void)state;
    const int32_t ngls[] = {0, 5, -1};
    for (int which = 0; which < FIX_COUNT; which++) {
        const hr_model *m = fixture_shared((fixture_model)which);
        hr_model copy = *m;
        hr_tensor *tensors = malloc(sizeof *tensors * (m->n_tensors ? m->n_tensors : 1));
        assert_non_null(tensors);
        memcpy(tensors, m->tensors, sizeof *tensors * m->n_tensors);
        copy.tensors = tensors;
        for (int n_gpus = 0; n_gpus <= 2; n_gpus++) {
            for (size_t k = 0; k < sizeof ngls / sizeof ngls[0]; k++) {
                for (int alt = 0; alt < 2; alt++) {
                    hr_budget b;
                    fixture_budget(&b, 64, n_gpus, 24);
                    for (int g = 1; g < b.n_devices; g++)
                        b.devices[g].backend = alt ? HR_BACKEND_VULKAN : HR_BACKEND_CUDA;
                    hr_settings s;
                    hr_settings_init(&s);
                    s.n_ctx = 2048;
                    s.n_gpu_layers = ngls[k];
                    s.runtime.device_alignment = alt ? 256 : 0; /* 256: no precomputed sums */
                    hr_plan fast, walk;
                    hr_error err = {0};
                    assert_int_equal(hr_plan_compute(m, &s, &b, &fast, &err), HR_OK);
                    assert_int_equal(hr_plan_compute(&copy, &s, &b, &walk, &err), HR_OK);
                    assert_int_equal(fast.n_devices, walk.n_devices);
                    for (int d = 0; d < fast.n_devices; d++)
                        assert_int_equal(fast.devices[d].bytes[HR_COMP_WEIGHTS],
                                         walk.devices[d].bytes[HR_COMP_WEIGHTS]);
                }
            }
        }
        free(tensors);
    }
}

static void test_two_gpus_ratio(void **state)
{
    (void)state;
    const hr_model *m = fixture_shared(CAL_TINYLLAMA);
    hr_budget b;
    fixture_budget(&b, 64, 2, 24);
    hr_settings s;
    hr_settings_init(&s);
    s.n_ctx = 2048;
    s.tensor_split[0] = 3.0f;
    s.tensor_split[1] = 1.0f;
    hr_plan p;
    assert_int_equal(hr_plan_compute(m, &s, &b, &p, NULL), HR_OK);
    assert_int_equal(p.n_devices, 3);
    /* layer il goes to the first GPU whose split point exceeds il / 23:
     * split points 0.75, 1.0 -> blocks 0..17 on CUDA0, 18..21 + output on CUDA1 */
    assert_int_equal(p.devices[1].layer_begin, 0);
    assert_int_equal(p.devices[1].layer_end, 18);
    assert_int_equal(p.devices[2].layer_begin, 18);
    assert_int_equal(p.devices[2].layer_end, 22);
    assert_int_equal(p.devices[2].bytes[HR_COMP_WEIGHTS], layer_sum(m, 18, 22) + m->output_bytes);
    assert_int_equal(p.devices[1].bytes[HR_COMP_WEIGHTS], layer_sum(m, 0, 18));

    /* all-zero ratios split by capacity: a 3:1 capacity gives the same cut */
    memset(s.tensor_split, 0, sizeof s.tensor_split);
    b.devices[1].capacity_bytes = 48 * GIB;
    b.devices[2].capacity_bytes = 16 * GIB;
    hr_plan q;
    assert_int_equal(hr_plan_compute(m, &s, &b, &q, NULL), HR_OK);
    assert_int_equal(q.devices[1].layer_end, 18);
    assert_int_equal(q.devices[2].bytes[HR_COMP_WEIGHTS], p.devices[2].bytes[HR_COMP_WEIGHTS]);
}

static void test_gemma2_swa(void **state)
{
    (void)state;
    const hr_model *m = fixture_shared(FIX_GEMMA2_2B);
    hr_settings s;
    fixture_cpu_settings(&s);
    s.n_ctx = 8192;
    hr_plan p;
    assert_int_equal(hr_plan_compute(m, &s, NULL, &p, NULL), HR_OK);
    assert_int_equal(p.n_layer_swa, 13);
    assert_int_equal(p.n_layer_kv, 13);
    /* PAD(min(8192, 4096 + 512), 256) */
    assert_int_equal(p.kv_cells_swa, 4608);
    assert_int_equal(p.kv_cells, 8192);
    const uint64_t row = 4ull * 256 * 2; /* 4 kv heads x 256 x f16 */
    assert_int_equal(p.kv_k_bytes, 13 * row * 8192);
    assert_int_equal(p.kv_swa_k_bytes, 13 * row * 4608);
    assert_int_equal(p.bytes[HR_COMP_KV],
                     p.kv_k_bytes + p.kv_v_bytes + p.kv_swa_k_bytes + p.kv_swa_v_bytes);

    /* four streams: each holds the window plus a ubatch */
    s.n_ctx = 32768;
    s.n_seq = 4;
    assert_int_equal(hr_plan_compute(m, &s, NULL, &p, NULL), HR_OK);
    assert_int_equal(p.kv_cells_swa, 4 * 4608);
    /* unified: one stream holding every sequence's window */
    s.kv_unified = true;
    assert_int_equal(hr_plan_compute(m, &s, NULL, &p, NULL), HR_OK);
    assert_int_equal(p.kv_cells, 32768);
    assert_int_equal(p.kv_cells_swa, 4 * 4096 + 512);

    /* --swa-full gives the sliding layers the whole context */
    s.kv_unified = false;
    s.n_seq = 1;
    s.n_ctx = 8192;
    s.swa_full = true;
    assert_int_equal(hr_plan_compute(m, &s, NULL, &p, NULL), HR_OK);
    assert_int_equal(p.kv_cells_swa, 8192);
    assert_int_equal(p.kv_swa_k_bytes, p.kv_k_bytes);
}

static void test_deepseek2_mla(void **state)
{
    (void)state;
    const hr_model *m = fixture_shared(FIX_DEEPSEEK2_LITE);
    assert_true(m->is_mla);
    hr_settings s;
    fixture_cpu_settings(&s);
    s.n_ctx = 4096;
    hr_plan p;
    assert_int_equal(hr_plan_compute(m, &s, NULL, &p, NULL), HR_OK);
    /* MLA caches one latent row of kv_lora_rank + rope dims per cell and no V */
    assert_int_equal(p.kv_k_bytes, 27ull * (512 + 64) * 2 * 4096);
    assert_int_equal(p.kv_v_bytes, 0);
    assert_int_equal(p.n_layer_kv, 27);
}

static void test_mamba_recurrent(void **state)
{
    (void)state;
    const hr_model *m = fixture_shared(FIX_MAMBA_130M);
    hr_settings s;
    fixture_cpu_settings(&s);
    s.n_ctx = 4096;
    hr_plan p, q;
    assert_int_equal(hr_plan_compute(m, &s, NULL, &p, NULL), HR_OK);
    /* r = (d_conv - 1) * d_inner, s = d_state * d_inner, f32, per sequence */
    const uint64_t per_layer = (3ull * 1536 + 16ull * 1536) * 4;
    assert_int_equal(p.n_layer_recurrent, 24);
    assert_int_equal(p.recurrent_bytes, 24 * per_layer);
    assert_int_equal(p.bytes[HR_COMP_KV], p.recurrent_bytes);
    /* independent of the context, proportional to the sequences */
    s.n_ctx = 65536;
    s.n_seq = 4;
    assert_int_equal(hr_plan_compute(m, &s, NULL, &q, NULL), HR_OK);
    assert_int_equal(q.recurrent_bytes, 4 * p.recurrent_bytes);
    /* Mamba's compute buffer is built too; like the state, it does not grow
     * with the context (the real loads in tests/compute show the same) */
    assert_true(p.bytes[HR_COMP_COMPUTE] > 0);
    s.n_seq = 1;
    assert_int_equal(hr_plan_compute(m, &s, NULL, &q, NULL), HR_OK);
    assert_int_equal(q.bytes[HR_COMP_COMPUTE], p.bytes[HR_COMP_COMPUTE]);
}

static void test_quantized_v_needs_flash_attention(void **state)
{
    (void)state;
    hr_settings s;
    fixture_cpu_settings(&s);
    s.n_ctx = 4096;
    s.flash_attn = HR_FA_OFF;
    s.type_v = HR_TYPE_Q8_0;
    hr_plan p;
    hr_error err = {0};
    assert_int_equal(hr_plan_compute(fixture_shared(CAL_TINYLLAMA), &s, NULL, &p, &err), HR_ERR_ARG);
    assert_non_null(strstr(err.message, "flash attention"));
    /* quantized K alone is fine; auto flash attention allows a quantized V */
    s.type_v = HR_TYPE_F16;
    s.type_k = HR_TYPE_Q8_0;
    assert_int_equal(hr_plan_compute(fixture_shared(CAL_TINYLLAMA), &s, NULL, &p, NULL), HR_OK);
    s.flash_attn = HR_FA_AUTO;
    s.type_v = HR_TYPE_Q4_0;
    assert_int_equal(hr_plan_compute(fixture_shared(CAL_TINYLLAMA), &s, NULL, &p, NULL), HR_OK);
    assert_true(p.flash_attn);
    /* not a cache type llama.cpp accepts */
    s.type_k = HR_TYPE_Q4_K;
    assert_int_equal(hr_plan_compute(fixture_shared(CAL_TINYLLAMA), &s, NULL, &p, NULL), HR_ERR_ARG);
}

static void test_bad_settings(void **state)
{
    (void)state;
    hr_settings s;
    fixture_cpu_settings(&s);
    hr_plan p;
    s.n_ubatch = 0;
    assert_int_equal(hr_plan_compute(fixture_shared(CAL_TINYLLAMA), &s, NULL, &p, NULL), HR_ERR_ARG);
    fixture_cpu_settings(&s);
    s.n_seq = 1000;
    assert_int_equal(hr_plan_compute(fixture_shared(CAL_TINYLLAMA), &s, NULL, &p, NULL), HR_ERR_ARG);
    fixture_cpu_settings(&s);
    assert_int_equal(hr_plan_compute(NULL, &s, NULL, &p, NULL), HR_ERR_ARG);
    assert_int_equal(hr_plan_compute(fixture_shared(CAL_TINYLLAMA), &s, NULL, NULL, NULL), HR_ERR_ARG);
    hr_budget b;
    fixture_budget(&b, 8, 1, 8);
    b.devices[0].kind = HR_DEVICE_GPU;
    assert_int_equal(hr_plan_compute(fixture_shared(CAL_TINYLLAMA), &s, &b, &p, NULL), HR_ERR_ARG);
}

static void test_context_resolution(void **state)
{
    (void)state;
    const hr_model *m = fixture_shared(CAL_TINYLLAMA);
    hr_settings s;
    fixture_cpu_settings(&s);
    hr_plan p;
    /* 0 = the training context */
    assert_int_equal(hr_plan_compute(m, &s, NULL, &p, NULL), HR_OK);
    assert_int_equal(p.n_ctx, 2048);
    assert_int_equal(p.n_batch, 2048);
    /* padded to 256, noted */
    s.n_ctx = 1000;
    assert_int_equal(hr_plan_compute(m, &s, NULL, &p, NULL), HR_OK);
    assert_int_equal(p.n_ctx, 1024);
    /* clamped by the context asked for (causal), before it is padded:
     * llama_context's order */
    assert_int_equal(p.n_batch, 1000);
    assert_int_equal(p.n_ubatch, 512);
    assert_true(p.n_notes >= 1);
    /* a context under the ubatch: the reserve graph has that many tokens
     * (llama.cpp prints n_ubatch = 300 for ctx 300 and ub 512) */
    s.n_ctx = 300;
    assert_int_equal(hr_plan_compute(m, &s, NULL, &p, NULL), HR_OK);
    assert_int_equal(p.n_ctx, 512);
    assert_int_equal(p.n_batch, 300);
    assert_int_equal(p.n_ubatch, 300);
    /* 3 sequences: PAD(4096 / 3, 256) = 1536 per stream */
    s.n_ctx = 4096;
    s.n_seq = 3;
    assert_int_equal(hr_plan_compute(m, &s, NULL, &p, NULL), HR_OK);
    assert_int_equal(p.n_ctx_seq, 1536);
    assert_int_equal(p.n_ctx, 4608);
    assert_int_equal(p.kv_cells, 4608);
    assert_int_equal(p.n_outputs, 3);
    /* ubatch never exceeds batch */
    s.n_seq = 1;
    s.n_batch = 256;
    s.n_ubatch = 512;
    assert_int_equal(hr_plan_compute(m, &s, NULL, &p, NULL), HR_OK);
    assert_int_equal(p.n_ubatch, 256);
    /* embeddings add n_embd per output row */
    s.embeddings = true;
    assert_int_equal(hr_plan_compute(m, &s, NULL, &p, NULL), HR_OK);
    assert_int_equal(p.bytes[HR_COMP_OUTPUT], (32000ull + 2048) * 4);
}

/* The notes the plan writes piece by piece read as printf would print
 * them, with nothing after their end (the plan is compared byte for byte
 * elsewhere). */
static void test_notes_as_printf(void **state)
{
    (void)state;
    const hr_model *m = fixture_shared(CAL_TINYLLAMA); /* trained on 2048 */
    static const uint32_t ctx[] = {1, 1000, 2048, 2049, 65535, 4000000000u};
    for (size_t i = 0; i < sizeof ctx / sizeof ctx[0]; i++) {
        hr_settings s;
        fixture_cpu_settings(&s);
        s.n_ctx = ctx[i];
        s.n_batch = 100000;
        s.n_ubatch = 70000;
        hr_plan p;
        if (hr_plan_compute(m, &s, NULL, &p, NULL) != HR_OK)
            continue; /* too large: no plan */
        char want[HR_PLAN_MAX_NOTES][160];
        memset(want, 0, sizeof want);
        int n = 0;
        if (p.n_ctx != s.n_ctx)
            snprintf(want[n++], sizeof want[0], "n_ctx %u becomes %u (padded to 256 per sequence)",
                     s.n_ctx, p.n_ctx);
        if (p.n_ctx_seq > m->n_ctx_train)
            snprintf(want[n++], sizeof want[0], "context per sequence %llu exceeds the training context %u",
                     (unsigned long long)p.n_ctx_seq, m->n_ctx_train);
        if (p.n_ubatch != s.n_ubatch)
            snprintf(want[n++], sizeof want[0], "ubatch %u clamped to %u", s.n_ubatch, p.n_ubatch);
        assert_int_equal(p.n_notes, n);
        assert_true(n >= 1);
        assert_memory_equal(p.notes, want, sizeof want);
    }
}

/* The KV cache's row sizes of the usual cache types (taken without the
 * type table) against hr_type_row_bytes, for K and V. */
static void test_kv_row_bytes_of_usual_types(void **state)
{
    (void)state;
    const hr_model *m = fixture_shared(CAL_TINYLLAMA);
    static const hr_type types[] = {HR_TYPE_F32, HR_TYPE_F16, HR_TYPE_BF16, HR_TYPE_Q8_0,
                                    HR_TYPE_Q4_0};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        hr_settings s;
        fixture_cpu_settings(&s);
        s.n_ctx = 4096;
        s.flash_attn = HR_FA_ON;
        s.type_k = s.type_v = types[i];
        hr_plan p;
        assert_int_equal(hr_plan_compute(m, &s, NULL, &p, NULL), HR_OK);
        const hr_layer *L = &m->layers[0];
        const uint64_t k = hr_type_row_bytes(types[i], (int64_t)L->n_embd_head_k * L->n_head_kv);
        const uint64_t v = hr_type_row_bytes(types[i], (int64_t)L->n_embd_head_v * L->n_head_kv);
        assert_true(k > 0 && v > 0);
        assert_int_equal(p.kv_k_bytes, k * 4096 * m->n_layer);
        assert_int_equal(p.kv_v_bytes, v * 4096 * m->n_layer);
    }
}

static void test_kv_offload_off(void **state)
{
    (void)state;
    const hr_model *m = fixture_shared(CAL_TINYLLAMA);
    hr_budget b;
    fixture_budget(&b, 64, 1, 24);
    hr_settings s;
    hr_settings_init(&s);
    s.n_ctx = 4096;
    s.offload_kv = false;
    hr_plan p;
    assert_int_equal(hr_plan_compute(m, &s, &b, &p, NULL), HR_OK);
    assert_int_equal(p.devices[1].bytes[HR_COMP_KV], 0);
    assert_int_equal(p.devices[0].bytes[HR_COMP_KV], 88ull * 1024 * 1024);
}

/* A model of identical layers takes the KV cache's uniform path; the same
 * model with one layer's FFN width changed (no KV effect) takes the
 * per-layer walk: both give the same KV bytes, per device and per kind. */
static void test_kv_uniform_path_equals_walk(void **state)
{
    (void)state;
    static const fixture_model models[] = {CAL_LLAMA32_1B, CAL_QWEN25_05B, FIX_LLAMA31_8B};
    for (size_t k = 0; k < sizeof models / sizeof models[0]; k++) {
        hr_model *m = fixture_build(models[k]);
        hr_budget one, two;
        fixture_budget(&one, 64, 1, 8);
        fixture_budget(&two, 64, 2, 8);
        hr_settings s;
        hr_settings_init(&s);
        s.n_ctx = 8192;
        hr_settings variants[7];
        for (int v = 0; v < 7; v++)
            variants[v] = s;
        variants[1].mode = HR_MODE_CPU;
        variants[2].n_gpu_layers = 5;
        variants[3].offload_kv = false;
        variants[4].flash_attn = HR_FA_OFF;
        variants[5].type_k = variants[5].type_v = HR_TYPE_Q8_0;
        variants[6].n_seq = 3;
        for (int v = 0; v < 7; v++) {
            for (int budget = 0; budget < 2; budget++) {
                const hr_budget *b = budget ? &two : &one;
                hr_plan uniform, walked;
                m->layers[1].n_ff = m->layers[0].n_ff;
                assert_int_equal(hr_plan_compute(m, &variants[v], b, &uniform, NULL), HR_OK);
                m->layers[1].n_ff = m->layers[0].n_ff + 256;
                assert_int_equal(hr_plan_compute(m, &variants[v], b, &walked, NULL), HR_OK);
                assert_int_equal(uniform.kv_k_bytes, walked.kv_k_bytes);
                assert_int_equal(uniform.kv_v_bytes, walked.kv_v_bytes);
                assert_int_equal(uniform.n_layer_kv, walked.n_layer_kv);
                assert_true(uniform.kv_k_bytes > 0);
                for (int d = 0; d < uniform.n_devices; d++)
                    assert_int_equal(uniform.devices[d].bytes[HR_COMP_KV],
                                     walked.devices[d].bytes[HR_COMP_KV]);
            }
        }
        hr_model_free(m);
    }
}

static void test_margin_and_overhead(void **state)
{
    (void)state;
    const hr_model *m = fixture_shared(CAL_TINYLLAMA);
    hr_budget b;
    fixture_budget(&b, 64, 1, 24);
    hr_settings s;
    hr_settings_init(&s);
    s.n_ctx = 4096;
    hr_plan plain, with;
    assert_int_equal(hr_plan_compute(m, &s, &b, &plain, NULL), HR_OK);
    s.margin_percent = 10.0;
    s.margin_bytes = 256ull << 20;
    s.runtime.host_overhead_bytes = 100ull << 20;
    s.runtime.device_overhead_bytes = 300ull << 20;
    assert_int_equal(hr_plan_compute(m, &s, &b, &with, NULL), HR_OK);
    for (int d = 0; d < 2; d++) {
        const uint64_t ov = d == 0 ? 100ull << 20 : 300ull << 20;
        assert_int_equal(with.devices[d].bytes[HR_COMP_OVERHEAD], ov);
        const uint64_t before = plain.devices[d].total_bytes + ov;
        const uint64_t margin = with.devices[d].bytes[HR_COMP_MARGIN];
        assert_true(margin >= before / 10 + (256ull << 20) - 1);
        assert_true(margin <= before / 10 + (256ull << 20) + 1);
        assert_int_equal(with.devices[d].total_bytes, before + margin);
    }
    /* fits and headroom against the capacity */
    b.devices[1].capacity_bytes = with.devices[1].total_bytes - 1;
    assert_int_equal(hr_plan_compute(m, &s, &b, &with, NULL), HR_OK);
    assert_false(with.devices[1].fits);
    assert_false(with.fits);
    assert_int_equal(with.devices[1].headroom_bytes, -1);
    assert_true(with.devices[0].fits);
}

static void test_unified_memory(void **state)
{
    (void)state;
    /* an Apple-style GPU shares the host's RAM: the host must hold both */
    const hr_model *m = fixture_shared(CAL_TINYLLAMA);
    hr_budget b;
    fixture_budget(&b, 4, 1, 3);
    b.devices[1].backend = HR_BACKEND_METAL;
    hr_settings s;
    hr_settings_init(&s);
    s.n_ctx = 2048;
    hr_plan split, unified;
    assert_int_equal(hr_plan_compute(m, &s, &b, &split, NULL), HR_OK);
    b.devices[1].unified = true;
    assert_int_equal(hr_plan_compute(m, &s, &b, &unified, NULL), HR_OK);
    assert_int_equal(unified.devices[1].total_bytes, split.devices[1].total_bytes);
    assert_int_equal(unified.devices[0].headroom_bytes,
                     (int64_t)(4 * GIB) - (int64_t)(split.devices[0].total_bytes +
                                                    split.devices[1].total_bytes));
    assert_true(split.devices[0].headroom_bytes > unified.devices[0].headroom_bytes);
    /* a host too small for both no longer fits */
    b.devices[0].capacity_bytes = split.devices[0].total_bytes + split.devices[1].total_bytes - 1;
    assert_int_equal(hr_plan_compute(m, &s, &b, &unified, NULL), HR_OK);
    assert_false(unified.devices[0].fits);
    assert_false(unified.fits);
}

static void test_json_keys(void **state)
{
    (void)state;
    hr_budget b;
    fixture_budget(&b, 64, 1, 24);
    b.devices[0].capacity_known = false;
    hr_settings s;
    hr_settings_init(&s);
    s.n_ctx = 1000;
    hr_plan p;
    assert_int_equal(hr_plan_compute(fixture_shared(CAL_TINYLLAMA), &s, &b, &p, NULL), HR_OK);
    char *text = hr_plan_to_json(&p);
    assert_non_null(text);
    cJSON *root = cJSON_Parse(text);
    assert_non_null(root);
    static const char *const keys[] = {"weights_bytes", "kv_bytes",       "output_bytes",
                                       "compute_bytes", "overhead_bytes", "margin_bytes",
                                       "total_bytes"};
    cJSON *mem = cJSON_GetObjectItemCaseSensitive(root, "memory");
    assert_non_null(mem);
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
        assert_true(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(mem, keys[k])));
    assert_true(cJSON_GetObjectItemCaseSensitive(mem, "total_bytes")->valuedouble ==
                (double)p.total_bytes);
    cJSON *devs = cJSON_GetObjectItemCaseSensitive(root, "devices");
    assert_int_equal(cJSON_GetArraySize(devs), 2);
    for (int d = 0; d < 2; d++) {
        cJSON *dev = cJSON_GetArrayItem(devs, d);
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
            assert_true(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(dev, keys[k])));
        assert_true(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(dev, "name")));
        assert_true(cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(dev, "fits")));
        assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(dev, "layers")), 2);
    }
    assert_true(cJSON_IsNull(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(devs, 0), "capacity_bytes")));
    assert_true(cJSON_IsNumber(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(devs, 1), "capacity_bytes")));
    cJSON *res = cJSON_GetObjectItemCaseSensitive(root, "resolved");
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(res, "n_ctx")->valueint, 1024);
    assert_true(cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(res, "flash_attn")));
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(res, "type_k")->valuestring, "F16");
    assert_true(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(root, "notes")) >= 1);
    assert_true(cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(root, "fits")));
    cJSON_Delete(root);
    free(text);
}

static void test_runtime_yaml(void **state)
{
    (void)state;
    hr_runtime rt;
    hr_error err = {0};
    /* the shipped file (HEADROOM_CONFIG_DIR points at the source configs/) */
    static const char *const names[] = {"cpu", "cuda", "rocm", "metal", "vulkan"};
    for (int i = 0; i < 5; i++) {
        assert_int_equal(hr_runtime_load(NULL, names[i], &rt, &err), HR_OK);
        assert_int_equal(rt.backend, hr_backend_from_name(names[i]));
        assert_true(rt.host_overhead_bytes > 0);
        assert_true(rt.host_alignment >= 32);
    }
    assert_int_equal(hr_runtime_load(NULL, "cuda", &rt, NULL), HR_OK);
    assert_true(rt.device_overhead_bytes >= (150ull << 20));
    assert_int_equal(rt.device_alignment, 128);
    assert_int_equal(hr_runtime_load(NULL, "tpu", &rt, &err), HR_ERR_NOT_FOUND);

    char *dir = tu_make_temp_dir("runtimes");
    char *path = tu_path(dir, "runtimes.yaml");
    tu_write_text(path, "runtimes:\n  cuda:\n    host_overhead_mib: 1.5\n"
                        "    device_overhead_mib: 2\n");
    assert_int_equal(hr_runtime_load(path, "cuda", &rt, &err), HR_OK);
    assert_int_equal(rt.host_overhead_bytes, 1572864);
    assert_int_equal(rt.device_overhead_bytes, 2097152);
    assert_int_equal(rt.host_alignment, 32);
    tu_write_text(path, "runtimes:\n  cuda:\n    host_overhead_mib: -3\n"
                        "    device_overhead_mib: 2\n");
    assert_int_equal(hr_runtime_load(path, "cuda", &rt, &err), HR_ERR_FORMAT);
    assert_non_null(strstr(err.message, "runtimes.yaml"));
    tu_write_text(path, "runtimes: [unclosed\n");
    assert_int_equal(hr_runtime_load(path, "cuda", &rt, &err), HR_ERR_FORMAT);
    tu_write_text(path, "other: 1\n");
    assert_int_equal(hr_runtime_load(path, "cuda", &rt, &err), HR_ERR_FORMAT);
    free(path);
    tu_remove_tree(dir);
    free(dir);
}

static void test_names_and_defaults(void **state)
{
    (void)state;
    hr_settings s;
    hr_settings_init(&s);
    assert_int_equal(s.n_batch, 2048);
    assert_int_equal(s.n_ubatch, 512);
    assert_int_equal(s.n_gpu_layers, -1);
    assert_int_equal(s.flash_attn, HR_FA_AUTO);
    assert_int_equal(s.target_ftype, HR_FTYPE_UNKNOWN);
    for (int c = 0; c < HR_COMP_COUNT; c++)
        assert_non_null(hr_component_name((hr_component)c));
    assert_string_equal(hr_component_name(HR_COMP_KV), "kv");
    for (int i = 0; i < HR_BACKEND_COUNT; i++)
        assert_int_equal(hr_backend_from_name(hr_backend_name((hr_backend)i)), i);
    assert_int_equal(hr_backend_from_name("nope"), HR_BACKEND_COUNT);
    hr_budget b;
    hr_budget_init_host_only(&b);
    assert_int_equal(b.n_devices, 1);
    assert_false(b.devices[0].capacity_known);
}

static void test_whatif_quantization(void **state)
{
    (void)state;
    /* planning TinyLlama F16 as another ftype gives the projected weights */
    const hr_model *m = fixture_shared(CAL_TINYLLAMA);
    const hr_ftype targets[] = {HR_FTYPE_MOSTLY_Q8_0, HR_FTYPE_MOSTLY_Q4_K_M, HR_FTYPE_MOSTLY_Q2_K};
    uint64_t previous = m->n_bytes;
    for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
        hr_settings s;
        fixture_cpu_settings(&s);
        s.n_ctx = 2048;
        s.target_ftype = targets[i];
        hr_plan p;
        assert_int_equal(hr_plan_compute(m, &s, NULL, &p, NULL), HR_OK);
        uint64_t total = 0;
        assert_int_equal(hr_quant_project(m, targets[i], &total, NULL, NULL, NULL, NULL), HR_OK);
        assert_int_equal(p.weights_ftype, targets[i]);
        /* same tensors, aligned to 32 bytes each on the host */
        assert_true(p.bytes[HR_COMP_WEIGHTS] >= total);
        assert_true(p.bytes[HR_COMP_WEIGHTS] <= total + 32 * m->n_tensors);
        assert_true(p.bytes[HR_COMP_WEIGHTS] < previous);
        previous = p.bytes[HR_COMP_WEIGHTS];
    }
}

static void test_transformers_stella(void **state)
{
    (void)state;
    /* stella_en_1.5B_v5 in f32: ~6.2 GB of weights (1.54 B parameters) */
    const hr_model *m = fixture_shared(FIX_STELLA_15B_F32);
    hr_tf_settings t;
    hr_tf_settings_init(&t);
    t.batch = 8;
    t.seq_len = 512;
    t.use_kv_cache = false;
    hr_tf_plan p;
    assert_int_equal(hr_plan_transformers(m, &t, &p, NULL), HR_OK);
    assert_true(p.weights_bytes > 6.0e9 && p.weights_bytes < 6.4e9);
    assert_int_equal(p.kv_bytes, 0);
    assert_true(p.activation_bytes > 0);
    assert_int_equal(p.total_bytes, p.weights_bytes + p.activation_bytes);
    /* in bf16 the weights halve */
    t.dtype = HR_TYPE_BF16;
    hr_tf_plan h;
    assert_int_equal(hr_plan_transformers(m, &t, &h, NULL), HR_OK);
    assert_true(h.weights_bytes * 2 >= p.weights_bytes - 4096 &&
                h.weights_bytes * 2 <= p.weights_bytes + 4096);
    /* a generation cache: 2 * L * batch * seq * kv_heads * head_dim * bytes */
    t.use_kv_cache = true;
    assert_int_equal(hr_plan_transformers(m, &t, &h, NULL), HR_OK);
    assert_int_equal(h.kv_bytes, 2ull * 28 * 8 * 512 * 2 * 128 * 2);
}


/* Llama-3.1-8B-shaped Q4_K_M with or without rope_freqs.weight. */
static hr_model *llama31_shape(bool rope_freqs)
{
    hr_shape s;
    hr_shape_init(&s);
    s.name = s.arch_name = "llama";
    s.n_layer = 32, s.n_embd = 4096, s.n_head = 32, s.n_head_kv = 8, s.n_ff = 14336;
    s.n_vocab = 128256, s.n_ctx_train = 131072, s.ftype = HR_FTYPE_MOSTLY_Q4_K_M;
    s.rope_freqs = rope_freqs;
    hr_model *m = NULL;
    assert_int_equal(hr_model_from_shape(&s, &m, NULL), HR_OK);
    return m;
}

/* A damaged file can drop a layer's head count, or claim billions of KV
 * heads or a head of 10^8 values. A layer with attention (recurrent or not:
 * Falcon-H1's layers are both) is refused then with a message, not built
 * into a division by zero or a product past 64 bits (fuzzing found both:
 * regressions/gguf/falcon-h1-zero-heads-attention-div0.gguf,
 * lfm2moe-huge-kv-heads-head-size-overflow.gguf); on a GPU too. */
static void test_attention_out_of_range_is_refused(void **state)
{
    (void)state;
    static const char *const arches[] = {"llama", "falcon-h1"};
    for (size_t a = 0; a < sizeof arches / sizeof arches[0]; a++) {
        hr_shape s;
        hr_shape_init(&s);
        s.name = s.arch_name = arches[a];
        s.n_layer = 2, s.n_embd = 64, s.n_head = 4, s.n_head_kv = 2, s.n_ff = 128;
        s.n_vocab = 256, s.n_ctx_train = 512, s.ftype = HR_FTYPE_MOSTLY_Q8_0;
        s.ssm_d_conv = 4, s.ssm_d_inner = 128, s.ssm_d_state = 16, s.ssm_dt_rank = 2;
        s.ssm_n_group = 1;
        hr_model *m = NULL;
        assert_int_equal(hr_model_from_shape(&s, &m, NULL), HR_OK);
        hr_settings set;
        hr_settings_init(&set);
        set.n_ctx = 512;
        hr_plan plan;
        hr_error err = {0};
        assert_int_equal(hr_plan_compute(m, &set, NULL, &plan, &err), HR_OK);
        hr_layer *L = m->layers;
        const hr_layer good = L[0];
        const uint32_t model_heads = m->n_head;
        for (uint32_t il = 0; il < m->n_layer; il++)
            L[il].n_head = 0;
        m->n_head = 0;
        assert_int_equal(hr_plan_compute(m, &set, NULL, &plan, &err), HR_ERR_FORMAT);
        /* llama's by the plan's layer check, Falcon-H1's (recurrent) by the
         * graph builder */
        assert_non_null(strstr(err.message, a == 0 ? "layer 0 has no attention heads"
                                                   : "layer 0's attention is out of range"));
        m->n_head = model_heads;
        for (uint32_t il = 0; il < m->n_layer; il++)
            L[il] = good;
        L[1].n_head_kv = L[1].n_head + 1; /* more KV heads than heads */
        assert_int_equal(hr_plan_compute(m, &set, NULL, &plan, &err), HR_ERR_FORMAT);
        assert_non_null(strstr(err.message, "layer 1's attention is out of range"));
        L[1] = good;
        L[1].n_embd_head_k = 1u << 23; /* 4 heads of 2^23 + 16: past 2^24 values */
        assert_int_equal(hr_plan_compute(m, &set, NULL, &plan, &err), HR_ERR_FORMAT);
        assert_non_null(strstr(err.message, "layer 1's attention is out of range"));
        /* half on a GPU: the scheduler's copy of the graph keeps the mark */
        hr_budget gpu;
        fixture_budget(&gpu, 64, 1, 24);
        hr_settings half = set;
        half.mode = HR_MODE_GPU;
        half.n_gpu_layers = 1;
        half.type_k = HR_TYPE_Q8_0;
        half.flash_attn = HR_FA_OFF;
        assert_int_equal(hr_plan_compute(m, &half, &gpu, &plan, &err), HR_ERR_FORMAT);
        assert_non_null(strstr(err.message, "layer 1's attention is out of range"));
        L[1] = good;
        assert_int_equal(hr_plan_compute(m, &set, NULL, &plan, &err), HR_OK);
        assert_int_equal(hr_plan_compute(m, &half, &gpu, &plan, &err), HR_OK);
        hr_model_free(m);
    }
}

/* Weights per device of m and of the same tensors walked one by one (a
 * copy of the list has no precomputed sums); both must agree. */
static void rope_weights(const hr_model *m, int n_gpus, int32_t ngl, uint32_t dev_align,
                         bool cpu_mode, uint64_t *out)
{
    hr_budget b;
    fixture_budget(&b, 64, n_gpus, 80);
    hr_settings s;
    hr_settings_init(&s);
    s.n_ctx = 2048;
    s.n_gpu_layers = ngl;
    s.runtime.device_alignment = dev_align;
    if (cpu_mode)
        s.mode = HR_MODE_CPU;
    hr_model copy = *m;
    hr_tensor *tensors = malloc(sizeof *tensors * m->n_tensors);
    assert_non_null(tensors);
    memcpy(tensors, m->tensors, sizeof *tensors * m->n_tensors);
    copy.tensors = tensors;
    hr_plan fast, walk;
    hr_error err = {0};
    assert_int_equal(hr_plan_compute(m, &s, &b, &fast, &err), HR_OK);
    assert_int_equal(hr_plan_compute(&copy, &s, &b, &walk, &err), HR_OK);
    free(tensors);
    assert_int_equal(fast.n_devices, walk.n_devices);
    for (int d = 0; d < HR_MAX_DEVICES; d++)
        out[d] = d < fast.n_devices ? fast.devices[d].bytes[HR_COMP_WEIGHTS] : 0;
    for (int d = 0; d < fast.n_devices; d++)
        assert_int_equal(walk.devices[d].bytes[HR_COMP_WEIGHTS], out[d]);
}

/* rope_freqs.weight is created per layer with that layer's buffer type
 * (TENSOR_DUPLICATED for i != 0, reused only within one buffer type): one
 * copy on every device holding a block, none on a host without blocks. */
static void test_rope_freqs_follows_layers(void **state)
{
    (void)state;
    hr_model *rf = llama31_shape(true), *plain = llama31_shape(false);
    const int32_t L = (int32_t)rf->n_layer;
    uint64_t rope = 0;
    for (size_t i = 0; i < rf->n_tensors; i++)
        if (strcmp(rf->tensors[i].name, "rope_freqs.weight") == 0)
            rope = rf->tensors[i].bytes;
    assert_int_equal(rope, (uint64_t)rf->n_rot / 2 * 4); /* 64 f32: 256 bytes */
    assert_int_equal(rf->n_bytes, plain->n_bytes + rope);

    struct {
        int n_gpus;
        int32_t ngl;
        uint32_t dev_align;
        bool cpu_mode;
        uint64_t host_extra, gpu_extra; /* copies of rope_freqs per device */
    } cases[] = {
        {0, 0, 0, true, 1, 0},       /* CPU run: the host keeps it */
        {1, 0, 0, false, 1, 0},      /* no blocks offloaded */
        {1, -1, 0, false, 0, 1},     /* full offload: moves to the GPU */
        {1, L + 1, 512, false, 0, 1}, /* the same, GPU buffer aligned to 512 */
        {1, L, 0, false, 1, 1},      /* block 0 on the host, 1.. on the GPU */
        {1, 10, 512, false, 1, 1},   /* partial offload */
        {2, -1, 0, false, 0, 1},     /* each GPU holding blocks has its own */
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        uint64_t with[HR_MAX_DEVICES], without[HR_MAX_DEVICES];
        rope_weights(rf, cases[k].n_gpus, cases[k].ngl, cases[k].dev_align, cases[k].cpu_mode,
                     with);
        rope_weights(plain, cases[k].n_gpus, cases[k].ngl, cases[k].dev_align,
                     cases[k].cpu_mode, without);
        const uint64_t a = cases[k].dev_align ? cases[k].dev_align : 128;
        const uint64_t gpu_padded = (rope + a - 1) / a * a;
        const uint64_t host_padded = (rope + 31) / 32 * 32;
        printf("# rope_freqs gpus %d ngl %d align %u: host %llu -> %llu, gpu %llu -> %llu\n",
               cases[k].n_gpus, (int)cases[k].ngl, (unsigned)a, (unsigned long long)without[0],
               (unsigned long long)with[0], (unsigned long long)without[1],
               (unsigned long long)with[1]);
        assert_int_equal(with[0], without[0] + cases[k].host_extra * host_padded);
        for (int g = 1; g <= cases[k].n_gpus; g++)
            assert_int_equal(with[g], without[g] + cases[k].gpu_extra * gpu_padded);
    }
    hr_model_free(rf);
    hr_model_free(plain);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_calibration_weights_kv_output),
        cmocka_unit_test(test_calibration_totals),
        cmocka_unit_test(test_gpu_placement),
        cmocka_unit_test(test_published_cuda_full_offload),
        cmocka_unit_test(test_real_small_loads),
        cmocka_unit_test(test_attention_out_of_range_is_refused),
        cmocka_unit_test(test_cuda_row_padding),
        cmocka_unit_test(test_tied_output_on_gpu),
        cmocka_unit_test(test_weight_sums_match_tensor_walk),
        cmocka_unit_test(test_two_gpus_ratio),
        cmocka_unit_test(test_gemma2_swa),
        cmocka_unit_test(test_deepseek2_mla),
        cmocka_unit_test(test_mamba_recurrent),
        cmocka_unit_test(test_quantized_v_needs_flash_attention),
        cmocka_unit_test(test_bad_settings),
        cmocka_unit_test(test_context_resolution),
        cmocka_unit_test(test_notes_as_printf),
        cmocka_unit_test(test_kv_row_bytes_of_usual_types),
        cmocka_unit_test(test_kv_offload_off),
        cmocka_unit_test(test_kv_uniform_path_equals_walk),
        cmocka_unit_test(test_margin_and_overhead),
        cmocka_unit_test(test_unified_memory),
        cmocka_unit_test(test_json_keys),
        cmocka_unit_test(test_runtime_yaml),
        cmocka_unit_test(test_names_and_defaults),
        cmocka_unit_test(test_whatif_quantization),
        cmocka_unit_test(test_transformers_stella),
        cmocka_unit_test(test_rope_freqs_follows_layers),
    };
    return cmocka_run_group_tests(tests, NULL, fixture_teardown_shared);
}
