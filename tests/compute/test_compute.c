/* Compute buffers against what a real llama.cpp CPU build allocated.
 *
 * Data: ../shared/calibration/llamacpp_cpu.jsonl (27 loads of three
 * models) and compute_points.h (loads of more architectures made for this
 * module with node-llama-cpp 3.22.1 / llama.cpp v0.5.0 CPU: see that file).
 * Prints a table (predicted vs actual, error %) and fails beyond 2%. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "headroom/headroom.h"
#include "test_util.h"

#include "compute/compute.h"
#include "compute_fixtures.h"
#include "compute_points.h"

static hr_model *make_model(const cp_model *spec)
{
    hr_shape s;
    hr_shape_init(&s);
    s.name = spec->name;
    s.arch_name = spec->arch;
    s.n_layer = spec->n_layer;
    s.n_embd = spec->n_embd;
    s.n_vocab = spec->n_vocab;
    s.n_ctx_train = spec->n_ctx_train;
    s.n_head = spec->n_head;
    s.n_head_kv = spec->n_head_kv;
    s.head_dim = spec->head_dim;
    s.n_ff = spec->n_ff;
    s.n_swa = spec->n_swa;
    s.swa_pattern = spec->swa_pattern;
    s.n_expert = spec->n_expert;
    s.n_expert_used = spec->n_expert_used;
    s.n_ff_exp = spec->n_ff_exp;
    s.n_ff_shexp = spec->n_ff_shexp;
    s.n_expert_shared = spec->n_expert_shared ? spec->n_expert_shared : (spec->n_ff_shexp ? 1 : 0);
    s.n_layer_dense_lead = spec->n_layer_dense_lead;
    s.n_lora_q = spec->n_lora_q;
    s.n_lora_kv = spec->n_lora_kv;
    s.n_rot = spec->n_rot;
    s.head_dim_qk_nope = spec->head_dim_qk_nope;
    s.head_dim_v = spec->head_dim_v;
    s.ssm_d_conv = spec->ssm_d_conv;
    s.ssm_d_inner = spec->ssm_d_inner;
    s.ssm_d_state = spec->ssm_d_state;
    s.ssm_dt_rank = spec->ssm_dt_rank;
    s.tied_output = spec->tied;
    s.qkv_bias = spec->qkv_bias;
    s.attn_logit_softcap = spec->attn_softcap;
    s.final_logit_softcap = spec->final_softcap;
    s.ftype = HR_FTYPE_MOSTLY_F16;
    hr_model *m = NULL;
    hr_error err;
    hr_status rc = hr_model_from_shape(&s, &m, &err);
    if (rc != HR_OK) {
        fprintf(stderr, "shape %s: %s\n", spec->name, err.message);
        return NULL;
    }
    return m;
}

static uint32_t pad_u32(uint32_t v, uint32_t p)
{
    return (v + p - 1) / p * p;
}

/* The compute input as the plan fills it for a CPU run. */
static void cpu_input(const hr_model *m, const cp_point *p, hr_settings *s, hr_compute_input *in)
{
    memset(s, 0, sizeof *s);
    s->n_ctx = p->n_ctx;
    s->n_batch = p->n_ubatch;
    s->n_ubatch = p->n_ubatch;
    s->n_seq = p->n_seq;
    s->flash_attn = p->flash_attn ? HR_FA_ON : HR_FA_OFF;
    s->type_k = hr_type_from_name(p->type_k);
    s->type_v = hr_type_from_name(p->type_v);
    s->mode = HR_MODE_CPU;
    s->n_gpu_layers = 0;
    memset(in, 0, sizeof *in);
    in->model = m;
    in->settings = s;
    in->n_tokens = p->n_ubatch < p->n_ctx ? p->n_ubatch : p->n_ctx;
    in->n_outputs = in->n_tokens;
    in->n_seq = p->n_seq;
    const uint32_t per_seq = pad_u32(p->n_ctx / p->n_seq, 256);
    in->n_kv = per_seq;
    uint32_t swa = 0;
    if (m->n_swa) {
        swa = pad_u32(m->n_swa * p->n_seq + p->n_ubatch + 1, 256);
        if (swa > per_seq * p->n_seq)
            swa = per_seq * p->n_seq;
        swa /= p->n_seq; /* per stream */
        swa = pad_u32(swa, 1);
    }
    in->n_kv_swa = p->n_kv_swa ? p->n_kv_swa : (swa ? swa : per_seq);
    in->flash_attn = p->flash_attn;
    in->type_k = s->type_k;
    in->type_v = s->type_v;
    in->n_gpu_layers = 0;
    in->n_devices = 1;
    in->backends[0] = HR_BACKEND_CPU;
    in->layer_begin[0] = 0;
    in->layer_end[0] = (int32_t)m->n_layer;
    in->offload_kv = true;
}

static double mib(uint64_t b)
{
    return (double)b / 1048576.0;
}

/* A model shape of the validation suite (tests/validation/models/NAME.yaml),
 * whose figures the real llama.cpp printed. */
static hr_model *validation_model(const char *name)
{
    const char *root = getenv("HEADROOM_SOURCE_ROOT");
    assert_non_null(root);
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/validation/models/%s.yaml", root, name);
    hr_model *m = NULL;
    hr_error err;
    if (hr_model_open(path, &m, &err) != HR_OK)
        fail_msg("%s: %s", path, err.message);
    return m;
}

/* the host's compute buffer of a plan without a GPU budget, in MiB */
static double host_compute_mib(const hr_model *m, const hr_settings *s)
{
    hr_plan plan;
    hr_error err;
    if (hr_plan_compute(m, s, NULL, &plan, &err) != HR_OK)
        fail_msg("plan: %s", err.message);
    return mib(plan.devices[0].bytes[HR_COMP_COMPUTE]);
}

static void test_against_real_llamacpp(void **state)
{
    (void)state;
    hr_model *models[CP_N_MODELS];
    for (int i = 0; i < CP_N_MODELS; i++) {
        models[i] = make_model(&cp_models[i]);
        assert_non_null(models[i]);
    }
    printf("# %-14s %6s %5s %3s %2s %5s | %10s %10s %7s\n", "model", "n_ctx", "ub", "seq", "fa",
           "kv", "predicted", "llama.cpp", "err%");
    int n_bad = 0;
    double worst = 0.0;
    for (size_t i = 0; i < sizeof cp_points / sizeof cp_points[0]; i++) {
        const cp_point *p = &cp_points[i];
        const hr_model *m = models[p->model];
        hr_settings s;
        hr_compute_input in;
        cpu_input(m, p, &s, &in);
        hr_compute_output out;
        hr_error err;
        assert_int_equal(hr_compute_estimate(&in, &out, &err), HR_OK);
        const double pred = mib(out.device_bytes[0]);
        const double errp = 100.0 * (pred - p->compute_mib) / p->compute_mib;
        if (fabs(errp) > worst)
            worst = fabs(errp);
        const bool bad = fabs(errp) > 2.0;
        n_bad += bad;
        printf("# %-14s %6u %5u %3u %2d %5s | %10.2f %10.2f %+7.2f%s\n", cp_models[p->model].name,
               p->n_ctx, p->n_ubatch, p->n_seq, p->flash_attn, p->type_k, pred, p->compute_mib,
               errp, bad ? "  <--" : "");
    }
    printf("# worst error %.2f%%\n", worst);
    for (int i = 0; i < CP_N_MODELS; i++)
        hr_model_free(models[i]);
    assert_int_equal(n_bad, 0);
}


/* Encoders (no KV cache): without flash attention V's copy (ggml_cont of its
 * transpose) is made before the scores, ggml's DFS reaching kqv's src[0]
 * first, and lives through them. The BERT models of tests/validation, their
 * CPU compute buffers as the real llama.cpp printed them (to 0.01 MiB; the
 * last validation run, tests/validation/RESULTS.md). */
static void test_encoders_against_real_llamacpp(void **state)
{
    (void)state;
    static const struct {
        const char *model;
        uint32_t n_ctx, n_ubatch;
        bool fa;
        double compute_mib;
    } cases[] = {
        {"minilm_l6", 512, 512, false, 17.51},        {"minilm_l6", 16384, 2048, false, 226.02},
        {"minilm_l6", 4096, 512, true, 5.76},         {"minilm_l6", 16384, 2048, true, 29.02},
        {"nomic_embed_v15", 512, 512, false, 25.01},  {"nomic_embed_v15", 16384, 2048, false, 256.02},
        {"nomic_embed_v15", 4096, 512, true, 23.01},  {"nomic_embed_v15", 16384, 2048, true, 98.02},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hr_model *m = validation_model(cases[i].model);
        hr_settings s;
        hr_settings_init(&s);
        s.n_ctx = cases[i].n_ctx;
        s.n_batch = s.n_ubatch = cases[i].n_ubatch;
        s.flash_attn = cases[i].fa ? HR_FA_ON : HR_FA_OFF;
        const double pred = host_compute_mib(m, &s);
        printf("# %-16s %6u %5u fa %d | %8.2f %8.2f\n", cases[i].model, cases[i].n_ctx,
               cases[i].n_ubatch, cases[i].fa, pred, cases[i].compute_mib);
        assert_true(fabs(pred - cases[i].compute_mib) < 0.01);
        hr_model_free(m);
    }
}

/* Embedding models (presets): a decoder's graph keeps its LM head when it
 * serves embeddings, and --embeddings appends the pooling (stella 1.5B: the
 * mean over a qwen2 decoder; stella 400M: nomic-bert's). llama.cpp v0.5.0's
 * figures (its context's destructor, 4 decimals; the reserve driver of
 * tests/validation/trace with node-llama-cpp's settings). */
static void test_embedding_models_against_real_llamacpp(void **state)
{
    (void)state;
    static const struct {
        const char *preset;
        uint32_t n_ctx, n_seq, n_ubatch;
        bool fa, embeddings;
        hr_type cache;
        double compute_mib;
    } cases[] = {
        {"stella_en_1.5b_v5", 512, 1, 512, false, false, HR_TYPE_F16, 302.1855},
        {"stella_en_1.5b_v5", 512, 1, 512, false, true, HR_TYPE_F16, 307.1953},
        {"stella_en_1.5b_v5", 4096, 1, 512, true, true, HR_TYPE_F16, 306.1992},
        {"stella_en_1.5b_v5", 8192, 2, 1024, true, true, HR_TYPE_Q8_0, 612.4805},
        {"stella_en_400m_v5", 512, 1, 512, false, true, HR_TYPE_F16, 33.0078},
        {"stella_en_400m_v5", 4096, 1, 512, true, true, HR_TYPE_F16, 30.5078},
    };
    const char *root = getenv("HEADROOM_SOURCE_ROOT");
    assert_non_null(root);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/configs/models/%s.yaml", root, cases[i].preset);
        hr_model *m = NULL;
        hr_error err;
        if (hr_model_open(path, &m, &err) != HR_OK)
            fail_msg("%s: %s", path, err.message);
        hr_settings s;
        hr_settings_init(&s);
        s.n_ctx = cases[i].n_ctx;
        s.n_seq = cases[i].n_seq;
        s.n_batch = s.n_ubatch = cases[i].n_ubatch;
        s.flash_attn = cases[i].fa ? HR_FA_ON : HR_FA_OFF;
        s.embeddings = cases[i].embeddings;
        s.type_k = s.type_v = cases[i].cache;
        const double pred = host_compute_mib(m, &s);
        printf("# %-18s %5u x%u %5u fa %d emb %d | %9.4f %9.4f\n", cases[i].preset, cases[i].n_ctx,
               cases[i].n_seq, cases[i].n_ubatch, cases[i].fa, cases[i].embeddings, pred,
               cases[i].compute_mib);
        assert_true(fabs(pred - cases[i].compute_mib) < 0.0001);
        hr_model_free(m);
    }
}

/* Command-R (build_attn) and Command-R7B (cohere2, build_attn of the iSWA
 * cache) with a quantized cache and flash attention: llama.cpp rotates Q, K,
 * V and kqv_out by Hadamard matrices, and in these parallel blocks kqv_out
 * is rotated back after the FFN (with the output projection). The figures
 * are llama.cpp's (node-llama-cpp 3.22.1, CPU), as its context's destructor
 * prints them (4 decimals): "CPU compute buffer size is 137.1377 MiB" for
 * command_r7b_small at -c 8192 -ub 1024 -ctk/-ctv q8_0. node-llama-cpp gives
 * the sliding-window model one token more per batch than asked (its log:
 * n_ubatch = 1025, 257): the ubatches here are the ones llama.cpp used. */
static void test_quantized_cache_against_real_llamacpp(void **state)
{
    (void)state;
    static const struct {
        const char *model;
        uint32_t n_ctx, n_seq, n_ubatch;
        hr_type type;
        double compute_mib;
    } cases[] = {
        {"command_r7b_small", 8192, 1, 1025, HR_TYPE_Q8_0, 137.1377},
        {"command_r7b_small", 16384, 2, 257, HR_TYPE_Q4_0, 34.3887},
        {"command_r_small", 8192, 1, 1024, HR_TYPE_Q8_0, 133.0039},
        {"command_r_small", 16384, 2, 256, HR_TYPE_Q4_0, 33.2510},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hr_model *m = validation_model(cases[i].model);
        hr_settings s;
        hr_settings_init(&s);
        s.n_ctx = cases[i].n_ctx;
        s.n_seq = cases[i].n_seq;
        s.n_batch = s.n_ubatch = cases[i].n_ubatch;
        s.flash_attn = HR_FA_ON;
        s.type_k = s.type_v = cases[i].type;
        const double pred = host_compute_mib(m, &s);
        printf("# %-17s %6u np %u %5u | %9.4f %9.4f\n", cases[i].model, cases[i].n_ctx,
               cases[i].n_seq, cases[i].n_ubatch, pred, cases[i].compute_mib);
        /* llama.cpp's figure is rounded to 1e-4 MiB (105 bytes) */
        assert_true(fabs(pred - cases[i].compute_mib) <= 0.00005 + 1e-9);
        hr_model_free(m);
    }
}

static hr_model *shape_model(const char *arch, uint32_t n_layer, uint32_t n_embd, uint32_t n_head,
                             uint32_t n_head_kv, uint32_t n_ff, uint32_t n_vocab)
{
    hr_shape s;
    fx_shape(&s, arch, n_layer, n_embd, n_head, n_head_kv, n_ff, n_vocab, HR_FTYPE_MOSTLY_Q4_K_M);
    return fx_shape_model(&s);
}

/* a GPU run: host + one CUDA device holding layers [first_gpu_layer, n) */
static void gpu_input(const hr_model *m, hr_settings *s, hr_compute_input *in, uint32_t n_ctx,
                      uint32_t n_ubatch, uint32_t n_seq, bool fa, int32_t first_gpu_layer)
{
    memset(s, 0, sizeof *s);
    s->n_ctx = n_ctx;
    s->n_batch = s->n_ubatch = n_ubatch;
    s->n_seq = n_seq;
    s->mode = HR_MODE_GPU;
    s->type_k = s->type_v = HR_TYPE_F16;
    memset(in, 0, sizeof *in);
    in->model = m;
    in->settings = s;
    in->n_tokens = n_ubatch < n_ctx ? n_ubatch : n_ctx;
    in->n_outputs = in->n_tokens;
    in->n_seq = n_seq;
    in->n_kv = pad_u32(n_ctx / n_seq, 256);
    in->n_kv_swa = in->n_kv;
    in->flash_attn = fa;
    in->type_k = in->type_v = HR_TYPE_F16;
    in->n_devices = 2;
    in->backends[0] = HR_BACKEND_CPU;
    in->backends[1] = HR_BACKEND_CUDA;
    in->layer_begin[0] = 0;
    in->layer_end[0] = first_gpu_layer;
    in->layer_begin[1] = first_gpu_layer;
    in->layer_end[1] = (int32_t)m->n_layer;
    in->output_on_gpu = first_gpu_layer == 0;
    in->offload_kv = true;
}

/* Llama-3.1-8B Q4_K_M, CUDA full offload, ctx 8192 x 4 seqs, ubatch 512, no
 * flash attention: llama.cpp's published log has CUDA_Host 24.01 MiB (the
 * host-side inputs: tokens, embd input, embeddings, positions, indices,
 * mask, out_ids) and CUDA0 560 MiB. Its CUDA0 figure comes from a build
 * whose KQ mask and scores spanned all 8192 cells (before per-sequence KV
 * streams): today's graph scores 2048 cells per stream, so CUDA0 is the
 * logits-bound peak; we check it holds at least the logits. */
static void test_gpu_full_offload(void **state)
{
    (void)state;
    hr_model *m = shape_model("llama", 32, 4096, 32, 8, 14336, 128256);
    assert_non_null(m);
    hr_settings s;
    hr_compute_input in;
    gpu_input(m, &s, &in, 8192, 512, 4, false, 0);
    hr_compute_output out;
    hr_error err;
    assert_int_equal(hr_compute_estimate(&in, &out, &err), HR_OK);
    printf("# llama 8B CUDA full offload: CUDA0 %.2f MiB (published 560, older build), CUDA_Host %.2f MiB "
           "(published 24.01)\n", mib(out.device_bytes[1]), mib(out.host_side_bytes));
    assert_true(fabs(mib(out.host_side_bytes) - 24.01) < 0.01);
    assert_int_equal(out.device_bytes[0], 0);
    assert_true(out.device_bytes[1] >= 128256ull * 512 * 4);
    hr_model_free(m);
}

/* Partial offload: the host layers' matmuls move to the GPU for a 512-token
 * batch (op offload), their weights and KV views copied into its compute
 * buffer, so the GPU buffer grows past the full-offload one. */
static void test_gpu_partial_offload(void **state)
{
    (void)state;
    hr_model *m = shape_model("llama", 32, 4096, 32, 8, 14336, 128256);
    assert_non_null(m);
    hr_settings s;
    hr_compute_input in;
    hr_compute_output full, part;
    hr_error err;
    gpu_input(m, &s, &in, 8192, 512, 1, true, 0);
    assert_int_equal(hr_compute_estimate(&in, &full, &err), HR_OK);
    gpu_input(m, &s, &in, 8192, 512, 1, true, 16);
    assert_int_equal(hr_compute_estimate(&in, &part, &err), HR_OK);
    uint64_t ffn_weight = 0;
    for (size_t i = 0; i < m->n_tensors; i++)
        if (m->tensors[i].layer == 0 && m->tensors[i].role == HR_ROLE_FFN_DOWN)
            ffn_weight = m->tensors[i].bytes;
    printf("# llama 8B, 16 of 32 layers on CUDA: CUDA0 %.2f MiB (full offload %.2f), CUDA_Host %.2f MiB\n",
           mib(part.device_bytes[1]), mib(full.device_bytes[1]), mib(part.host_side_bytes));
    assert_true(part.device_bytes[1] >= full.device_bytes[1] - 128256ull * 512 * 4 + ffn_weight);
    assert_true(part.host_side_bytes > 0);

    /* --no-kv-offload without flash attention: the scores are computed on
     * the host, next to the cache */
    hr_compute_output nkvo;
    gpu_input(m, &s, &in, 8192, 512, 1, false, 0);
    in.offload_kv = false;
    assert_int_equal(hr_compute_estimate(&in, &nkvo, &err), HR_OK);
    printf("# llama 8B full offload, --no-kv-offload: CUDA0 %.2f MiB, CUDA_Host %.2f MiB\n",
           mib(nkvo.device_bytes[1]), mib(nkvo.host_side_bytes));
    assert_true(nkvo.host_side_bytes >= 8192ull * 512 * 32 * 4);
    hr_model_free(m);
}

/* A GPU run against llama.cpp's own scheduler: its Vulkan build on Mesa's
 * software Vulkan device (lavapipe; graph optimizer off, 16-byte buffer
 * alignment), as the GPU validation grid runs it (tests/validation,
 * RESULTS-gpu.md). Each point pins the compute buffers it printed, host and
 * device, for a mechanism of the partial offload: op-offloaded host layers
 * whose weights are copied in split by split (TinyLlama F16), host weights
 * of repackable types that a GPU's host buffer keeps unpacked (TinyMixtral
 * and Qwen3-MoE Q4_K_M), biases as host weights (Qwen1.5-MoE), a block's own
 * weights in a quantization mix (Phi-3: 15 and 22 MiB QKV), MLA's V copied
 * apart from K (DeepSeek-V2), quantized caches over two sequences (for
 * the sliding-window models, Command-R7B and Gemma-2, node-llama-cpp asked
 * for a batch of 257). */
typedef struct gpu_point {
    const char *model;
    uint32_t n_ctx, n_seq, n_ubatch;
    bool fa;
    hr_type cache;
    int32_t ngl;
    double host_mib, gpu_mib; /* -1: not pinned */
} gpu_point;

static const gpu_point gpu_points[] = {
    {"tinyllama", 512, 1, 512, false, HR_TYPE_F16, 0, 10.01, 191.50},
    {"tinyllama", 4096, 2, 256, true, HR_TYPE_Q8_0, 11, 5.04, 45.02},
    {"tinymixtral", 512, 1, 512, false, HR_TYPE_F16, 0, 7.01, 90.13},
    {"tinymixtral", 1024, 1, 512, true, HR_TYPE_F16, 1, 5.01, 66.56},
    {"qwen3moe_30b_a3b", 1024, 1, 512, true, HR_TYPE_F16, 1, 9.01, 82.00},
    {"qwen15moe_a27b", 512, 1, 512, false, HR_TYPE_F16, 0, 21.01, 125.77},
    {"qwen15moe_a27b", 1024, 1, 512, true, HR_TYPE_F16, 1, 13.01, 70.50},
    /* Phi-3's host layers write a strided view of the fused QKV (V) into
     * the host cache: the scheduler copies the view, a projection row less
     * than the tensor (0.02 MiB over when the plan copied the tensor) */
    {"phi3_mini_2l", 512, 1, 512, false, HR_TYPE_F16, 0, 42.99, 150.75},
    {"phi3_mini_2l", 4096, 2, 256, true, HR_TYPE_Q8_0, 1, 15.98, 56.25},
    {"deepseek2_lite_2l", 1024, 1, 512, true, HR_TYPE_F16, 0, 9.01, 125.77},
    {"deepseek2_lite_2l", 1024, 1, 512, true, HR_TYPE_F16, 1, 9.01, 95.59},
    {"command_r7b_small", 4096, 2, 257, true, HR_TYPE_Q8_0, 1, 4.20, 32.38},
    {"gpt_oss_20b_2l", 512, 1, 512, false, HR_TYPE_F16, 3, 17.26, 97.26},
    /* Gemma-2: sliding window, soft-capping, post norms */
    {"gemma2_small", 512, 1, 512, false, HR_TYPE_F16, 4, 19.01, 89.78},
    {"gemma2_small", 4096, 2, 257, true, HR_TYPE_Q8_0, 1, 6.59, 49.22},
    /* encoders: host layers op-offload as decoders' do, and so do the
     * embeddings' token types, positions and norm, which run with layer 0
     * (on its GPU when it is there) */
    {"minilm_l6", 512, 1, 512, false, HR_TYPE_F16, 0, 3.26, 17.03},
    {"minilm_l6", 4096, 2, 256, true, HR_TYPE_Q8_0, 3, 1.25, 3.50},
    {"nomic_embed_v15", 512, 1, 512, false, HR_TYPE_F16, 13, 4.01, 23.51},
    /* recurrent and hybrid blocks on the host op-offload too: weights copied
     * in, the state cache's ops on the host, state views copied at their
     * own sizes (Mamba's scan stays on the host) */
    {"qwen35_8l", 512, 1, 512, false, HR_TYPE_F16, 0, 8.04, 27.20},
    {"qwen3next_8l", 4096, 2, 256, true, HR_TYPE_Q8_0, 4, 4.13, 30.06},
    {"granite_h_tiny_8l", 512, 1, 512, false, HR_TYPE_F16, 4, 33.08, 77.91},
    {"nemotron_h_10l", 512, 1, 512, false, HR_TYPE_F16, 5, 33.04, 39.71},
    {"falcon_h1_6l", 512, 1, 512, false, HR_TYPE_F16, 0, 26.49, 35.32},
    {"mamba2_130m", 512, 1, 512, false, HR_TYPE_F16, 1, 15.79, 99.72},
    /* GPU layers read s_copy through two views, each copied at its own size
     * (8 and 0 bytes) among the first GPU split's inputs: one copy of the
     * whole input planned 52.11 and 102.74 here */
    {"mamba2_130m", 4096, 2, 256, true, HR_TYPE_Q8_0, 12, 9.01, 60.85},
    {"mamba2_130m", 512, 1, 512, false, HR_TYPE_F16, 12, 15.79, 102.44},
    {"mamba_130m", 2048, 1, 512, false, HR_TYPE_F16, 0, 10.91, 143.03},
    {"jamba_8l", 2048, 1, 512, true, HR_TYPE_F16, 0, 16.20, 28.51},
    {"lfm2_8l", 4096, 2, 256, true, HR_TYPE_Q8_0, 4, 4.54, 16.02},
    {"lfm2moe_8l", 512, 1, 512, false, HR_TYPE_F16, 4, 6.02, 55.50},
    {"rwkv6_finch_2l", 4096, 2, 256, true, HR_TYPE_Q8_0, 1, 5.03, 66.00},
    {"rwkv7_191m", 512, 1, 512, false, HR_TYPE_F16, 0, 3.20, 182.00},
    {"rwkv7_191m", 512, 1, 512, false, HR_TYPE_F16, 6, 3.20, 129.50},
};

static void test_gpu_against_real_llamacpp(void **state)
{
    (void)state;
    int n_bad = 0;
    for (size_t i = 0; i < sizeof gpu_points / sizeof gpu_points[0]; i++) {
        const gpu_point *p = &gpu_points[i];
        hr_model *m = validation_model(p->model);
        hr_settings s;
        hr_settings_init(&s);
        s.n_ctx = p->n_ctx;
        s.n_batch = s.n_ubatch = p->n_ubatch;
        s.n_seq = p->n_seq;
        s.flash_attn = p->fa ? HR_FA_ON : HR_FA_OFF;
        s.type_k = s.type_v = p->cache;
        s.n_gpu_layers = p->ngl;
        s.use_mmap = false;
        s.runtime.backend = HR_BACKEND_VULKAN;
        s.runtime.host_alignment = 64;   /* Vulkan_Host: lavapipe's minMemoryMapAlignment */
        s.runtime.device_alignment = 16; /* lavapipe's minStorageBufferOffsetAlignment */
        hr_budget b;
        hr_budget_init_host_only(&b);
        hr_budget_device *d = &b.devices[b.n_devices++];
        memset(d, 0, sizeof *d);
        snprintf(d->name, sizeof d->name, "Vulkan0");
        d->kind = HR_DEVICE_GPU;
        d->backend = HR_BACKEND_VULKAN;
        hr_plan plan;
        hr_error err;
        if (hr_plan_compute(m, &s, &b, &plan, &err) != HR_OK)
            fail_msg("%s: %s", p->model, err.message);
        const double host = mib(plan.devices[0].bytes[HR_COMP_COMPUTE]);
        const double gpu = mib(plan.devices[1].bytes[HR_COMP_COMPUTE]);
        /* llama.cpp prints 2 decimals */
        const bool bad = (p->host_mib >= 0 && fabs(host - p->host_mib) > 0.005 + 1e-9) ||
                         fabs(gpu - p->gpu_mib) > 0.005 + 1e-9;
        n_bad += bad;
        printf("# %-18s ctx %5u np %u ub %3u fa %d ngl %2d | host %7.2f (%7.2f) Vulkan0 %7.2f (%7.2f)%s\n",
               p->model, p->n_ctx, p->n_seq, p->n_ubatch, p->fa, p->ngl, host, p->host_mib, gpu,
               p->gpu_mib, bad ? "  <--" : "");
        hr_model_free(m);
    }
    assert_int_equal(n_bad, 0);
}

/* Two GPUs holding every layer: pipeline parallelism keeps 4 copies of the
 * graph inputs on the host side (all but the embeddings, which the host
 * computes once). */
static void test_gpu_pipeline_parallel(void **state)
{
    (void)state;
    hr_model *m = shape_model("llama", 32, 4096, 32, 8, 14336, 128256);
    assert_non_null(m);
    hr_settings s;
    hr_compute_input in;
    hr_compute_output one, two;
    hr_error err;
    gpu_input(m, &s, &in, 8192, 512, 4, false, 0);
    assert_int_equal(hr_compute_estimate(&in, &one, &err), HR_OK);
    in.n_devices = 3;
    in.backends[2] = HR_BACKEND_CUDA;
    in.layer_end[1] = 16;
    in.layer_begin[2] = 16;
    in.layer_end[2] = 32;
    assert_int_equal(hr_compute_estimate(&in, &two, &err), HR_OK);
    const uint64_t embd = 4096ull * 512 * 4;
    printf("# llama 8B on 2 CUDA GPUs: CUDA0 %.2f, CUDA1 %.2f, CUDA_Host %.2f MiB (one GPU: %.2f)\n",
           mib(two.device_bytes[1]), mib(two.device_bytes[2]), mib(two.host_side_bytes),
           mib(one.host_side_bytes));
    assert_true(two.host_side_bytes >= 4 * (one.host_side_bytes - embd) + embd - 4096);
    assert_true(two.device_bytes[2] >= 128256ull * 512 * 4); /* logits on the last GPU */
    hr_model_free(m);
}

/* The periodic truncation is exact: the full replay gives the same bytes. */
static void test_truncation_is_exact(void **state)
{
    (void)state;
    static const char *const archs[] = {"llama", "qwen2", "gemma2", "qwen3moe", "command-r"};
    for (size_t a = 0; a < sizeof archs / sizeof archs[0]; a++) {
        hr_model *m = shape_model(archs[a], 24, 2048, 16, 4, 5632, 32000);
        if (!m)
            continue;
        for (int fa = 0; fa < 2; fa++) {
            for (uint32_t ub = 256; ub <= 1024; ub *= 2) {
                cp_point p = {0, 8192, ub, 2, fa, "f16", "f16", 0, 0.0};
                hr_settings s;
                hr_compute_input in;
                cpu_input(m, &p, &s, &in);
                hr_compute_output quick, full;
                hr_error err;
                assert_int_equal(hr_compute_estimate(&in, &quick, &err), HR_OK);
                in.replay_all_layers = true;
                assert_int_equal(hr_compute_estimate(&in, &full, &err), HR_OK);
                assert_int_equal(quick.device_bytes[0], full.device_bytes[0]);
            }
            /* GPU runs: host layers (op offload) then GPU layers */
            hr_settings s;
            hr_compute_input in;
            hr_compute_output quick, full;
            hr_error err;
            gpu_input(m, &s, &in, 8192, 512, 2, fa, 10);
            assert_int_equal(hr_compute_estimate(&in, &quick, &err), HR_OK);
            in.replay_all_layers = true;
            assert_int_equal(hr_compute_estimate(&in, &full, &err), HR_OK);
            assert_int_equal(quick.device_bytes[1], full.device_bytes[1]);
            assert_int_equal(quick.host_side_bytes, full.host_side_bytes);
            /* two GPUs splitting every layer (pipeline copies of the inputs) */
            gpu_input(m, &s, &in, 16384, 512, 2, fa, 0);
            in.n_devices = 3;
            in.backends[2] = HR_BACKEND_CUDA;
            in.layer_end[1] = 11;
            in.layer_begin[2] = 11;
            in.layer_end[2] = 24;
            assert_int_equal(hr_compute_estimate(&in, &quick, &err), HR_OK);
            in.replay_all_layers = true;
            assert_int_equal(hr_compute_estimate(&in, &full, &err), HR_OK);
            for (int d = 1; d < 3; d++)
                assert_int_equal(quick.device_bytes[d], full.device_bytes[d]);
            assert_int_equal(quick.host_side_bytes, full.host_side_bytes);
        }
        hr_model_free(m);
    }
}

/* Partial offloads, where the host layers' allocator state takes turns
 * between two places (settled only by the lag-2 check) or never settles:
 * the truncated replay equals the whole one for every split point, batch,
 * KV placement and a second GPU. */
static void test_partial_offload_truncation_is_exact(void **state)
{
    (void)state;
    static const char *const archs[] = {"llama", "qwen3moe", "gemma2", "phi3"};
    static const int32_t first_gpu[] = {1, 5, 12, 20, 23};
    static const uint32_t ubatch[] = {64, 512, 2048};
    for (size_t a = 0; a < sizeof archs / sizeof archs[0]; a++) {
        hr_model *m = shape_model(archs[a], 24, 2048, 16, 4, 5632, 32000);
        if (!m)
            continue;
        for (size_t f = 0; f < sizeof first_gpu / sizeof first_gpu[0]; f++) {
            for (size_t u = 0; u < sizeof ubatch / sizeof ubatch[0]; u++) {
                for (int variant = 0; variant < 3; variant++) {
                    hr_settings s;
                    hr_compute_input in;
                    hr_compute_output quick, full;
                    hr_error err;
                    gpu_input(m, &s, &in, 8192, ubatch[u], 1 + (variant == 1), variant != 1,
                              first_gpu[f]);
                    if (variant == 2) { /* KV cache on the host; a second GPU */
                        in.offload_kv = false;
                        in.n_devices = 3;
                        in.backends[2] = HR_BACKEND_CUDA;
                        in.layer_end[1] = first_gpu[f] + (24 - first_gpu[f]) / 2;
                        in.layer_begin[2] = in.layer_end[1];
                        in.layer_end[2] = 24;
                    }
                    assert_int_equal(hr_compute_estimate(&in, &quick, &err), HR_OK);
                    in.replay_all_layers = true;
                    assert_int_equal(hr_compute_estimate(&in, &full, &err), HR_OK);
                    for (int d = 1; d < in.n_devices; d++)
                        assert_int_equal(quick.device_bytes[d], full.device_bytes[d]);
                    assert_int_equal(quick.host_side_bytes, full.host_side_bytes);
                    assert_int_equal(quick.lower_bound, full.lower_bound);
                }
            }
        }
        hr_model_free(m);
    }
}

/* Every split point between the host and one GPU, and between two GPUs:
 * the runs start after another device's layers (their first layers are
 * transients), end where another device's split begins (its copies sit
 * before its first mark), and op-offloaded host layers take turns between
 * two or three layouts (settled by a lag over one period). The truncated
 * replay must equal the whole one everywhere. */
static void test_every_split_point_is_exact(void **state)
{
    (void)state;
    static const char *const archs[] = {"llama", "qwen3moe", "gemma2"};
    static const hr_ftype ftypes[] = {HR_FTYPE_MOSTLY_Q8_0, HR_FTYPE_MOSTLY_Q4_K_M};
    enum { N_LAYER = 20 };
    int cases = 0;
    for (size_t a = 0; a < sizeof archs / sizeof archs[0]; a++) {
        for (size_t f = 0; f < sizeof ftypes / sizeof ftypes[0]; f++) {
            hr_model *m = fx_model(archs[a], N_LAYER, ftypes[f]);
            assert_non_null(m);
            for (int split = 0; split <= N_LAYER; split++) {
                for (int v = 0; v < 4; v++) {
                    /* v 0, 1: host [0, split), GPU after; 2, 3: GPU 1, then GPU 2 */
                    const fx_layout two_gpus = {"", 0, 0, 0, split, split, N_LAYER};
                    const fx_layout host_gpu = {"", 0, split, split, N_LAYER, 0, 0};
                    const fx_run run = {8192, v & 1 ? 16 : 512, 0, 1, true, v != 1, split == 0, false};
                    hr_settings s;
                    hr_compute_input in;
                    hr_compute_output quick, full;
                    hr_error err;
                    fx_input(m, v < 2 ? &host_gpu : &two_gpus, &run, &s, &in);
                    assert_int_equal(hr_compute_estimate(&in, &quick, &err), HR_OK);
                    in.replay_all_layers = true;
                    assert_int_equal(hr_compute_estimate(&in, &full, &err), HR_OK);
                    if (memcmp(&quick, &full, sizeof quick) != 0)
                        print_message("# %s ftype %d, split at %d, variant %d: truncated %llu / %llu / %llu, "
                                      "whole %llu / %llu / %llu\n", archs[a], (int)ftypes[f], split, v,
                                      (unsigned long long)quick.host_side_bytes,
                                      (unsigned long long)quick.device_bytes[1],
                                      (unsigned long long)quick.device_bytes[2],
                                      (unsigned long long)full.host_side_bytes,
                                      (unsigned long long)full.device_bytes[1],
                                      (unsigned long long)full.device_bytes[2]);
                    assert_memory_equal(&quick, &full, sizeof quick);
                    cases++;
                }
            }
            hr_model_free(m);
        }
    }
    print_message("# %d placements: truncated replay = whole replay\n", cases);
}

/* A graph too big for the replay (a 400-layer model whose partial offload
 * cannot be truncated) gives a lower bound, flagged, and no crash: the
 * scheduler's copy once dropped the leafs it had no room for and read
 * garbage indices. A 32-layer MoE model split 27 host / 5 GPU layers (the
 * case that crashed) fits and equals its full replay. */
static void test_graph_overflow_is_a_lower_bound(void **state)
{
    (void)state;
    hr_settings s;
    hr_compute_input in;
    hr_compute_output quick, full;
    hr_error err;
    hr_model *big = shape_model("llama", 160, 1024, 8, 8, 2048, 32000);
    assert_non_null(big);
    gpu_input(big, &s, &in, 4096, 512, 1, false, 150);
    in.replay_all_layers = true;
    assert_int_equal(hr_compute_estimate(&in, &full, &err), HR_OK);
    assert_true(full.lower_bound);
    assert_true(full.device_bytes[1] > 0);
    hr_model_free(big);

    hr_model *moe = shape_model("qwen3moe", 32, 2048, 32, 4, 768, 151936);
    assert_non_null(moe);
    for (int fa = 0; fa < 2; fa++) {
        gpu_input(moe, &s, &in, 16384, 512, 1, fa, 27);
        assert_int_equal(hr_compute_estimate(&in, &quick, &err), HR_OK);
        in.replay_all_layers = true;
        assert_int_equal(hr_compute_estimate(&in, &full, &err), HR_OK);
        assert_false(quick.lower_bound || full.lower_bound);
        assert_int_equal(quick.device_bytes[1], full.device_bytes[1]);
        assert_int_equal(quick.host_side_bytes, full.host_side_bytes);
    }
    hr_model_free(moe);
}

/* ---- recurrent models (build_recurrent.c) ---- */

/* The recurrent and hybrid models of tests/validation over its eight settings: the CPU
 * compute buffers the real llama.cpp printed (node-llama-cpp 3.22.1,
 * llama.cpp v0.5.0 CPU build, sched_reserve's line, to 0.01 MiB). Before
 * build_recurrent.c, RWKV took Mamba's graph (rwkv6_finch_2l 140.00 for
 * 136.00, rwkv7_191m 132.50 for 131.00) and Mamba-2 with 4 sequences gave
 * 104.97 for 102.72. */
static void test_recurrent_against_real_llamacpp(void **state)
{
    (void)state;
    static const struct {
        uint32_t n_ctx, n_seq, n_ubatch;
        bool fa;
        const char *kv;
    } settings[8] = {
        {512, 1, 512, false, "f16"},    {4096, 1, 512, false, "f16"},
        {4096, 1, 512, true, "f16"},    {16384, 1, 2048, false, "f16"},
        {16384, 1, 2048, true, "f16"},  {32768, 4, 512, true, "f16"},
        {8192, 1, 1024, true, "q8_0"},  {16384, 2, 256, true, "q4_0"},
    };
    static const struct {
        const char *model;
        double compute_mib[8];
    } models[] = {
        {"rwkv6_finch_2l", {136.00, 136.00, 136.00, 544.01, 544.01, 136.00, 272.00, 68.00}},
        {"rwkv7_191m", {131.00, 131.00, 131.00, 524.01, 524.01, 131.00, 265.01, 65.50}},
        {"mamba2_130m", {102.72, 102.72, 102.72, 410.89, 410.89, 102.72, 205.45, 51.36}},
        {"mamba_130m", {102.71, 102.71, 102.71, 410.83, 410.83, 102.71, 205.41, 51.35}},
        /* hybrids: Mamba-2 and attention layers, each with an FFN (MoE in the tiny) */
        {"granite_h_12l", {200.00, 200.00, 200.00, 2212.03, 800.01, 200.00, 400.00, 100.00}},
        {"granite_h_tiny_8l", {54.01, 121.01, 55.01, 1732.04, 268.05, 59.01, 118.11, 29.58}},
        /* Mamba-2, attention-only and FFN-only layers; the output norm before the rows */
        {"nemotron_h_10l", {40.16, 83.01, 42.17, 1196.03, 216.39, 46.45, 92.32, 23.30}},
        /* with relu^2 MoE layers (sigmoid scores, a selection bias, weights normalised and scaled) */
        {"nemotron_h_moe_8l", {42.01, 81.01, 44.01, 1188.03, 224.05, 48.01, 96.10, 24.08}},
        /* short convolutions and attention, residual adds in place over the residual */
        {"lfm2_8l", {32.02, 147.01, 34.02, 2220.04, 184.05, 38.04, 76.07, 19.05}},
        /* attention and a Mamba-2 mixer side by side in every layer */
        {"falcon_h1_6l", {36.01, 83.01, 36.01, 1196.04, 192.05, 41.79, 76.11, 20.97}},
        /* LFM2 with MoE FFNs: a recurrent layer's state rows follow the MoE weights' expand */
        {"lfm2moe_8l", {44.10, 147.01, 46.11, 2220.04, 232.43, 50.11, 100.25, 25.08}},
        /* gated delta nets (the fused op) and gated attention with 4 rope positions a token */
        {"qwen35_8l", {28.02, 85.02, 28.02, 1204.06, 160.08, 32.02, 64.12, 16.09}},
        {"qwen35moe_8l", {38.02, 89.08, 40.02, 1220.31, 208.08, 44.02, 88.12, 22.09}},
        /* Qwen3-Next: q and k repeated to the value heads, beta and alpha fused */
        {"qwen3next_8l", {38.01, 89.07, 40.01, 1220.29, 208.05, 44.01, 88.11, 22.08}},
        /* the same from a GGUF with the older fused ssm_in (q, k, v and z copied out) */
        {"qwen3next_ssm_in_8l", {38.01, 89.07, 40.01, 1220.29, 208.05, 44.01, 88.11, 22.08}},
        /* Jamba: Mamba with dt/B/C norms, attention without rope, MoE every second layer */
        {"jamba_8l", {32.03, 81.01, 34.03, 1188.03, 184.13, 38.03, 76.14, 19.09}},
    };
    int n_bad = 0;
    for (size_t i = 0; i < sizeof models / sizeof models[0]; i++) {
        hr_model *m = validation_model(models[i].model);
        for (int c = 0; c < 8; c++) {
            hr_settings s;
            hr_settings_init(&s);
            s.n_ctx = settings[c].n_ctx;
            s.n_seq = settings[c].n_seq;
            s.n_batch = s.n_ubatch = settings[c].n_ubatch;
            s.flash_attn = settings[c].fa ? HR_FA_ON : HR_FA_OFF;
            s.type_k = s.type_v = hr_type_from_name(settings[c].kv);
            const double pred = host_compute_mib(m, &s);
            const bool bad = fabs(pred - models[i].compute_mib[c]) > 0.005; /* prints the same */
            n_bad += bad;
            printf("# %-16s %6u %2u %5u fa %d %-4s | %8.3f %8.2f%s\n", models[i].model,
                   settings[c].n_ctx, settings[c].n_seq, settings[c].n_ubatch, settings[c].fa,
                   settings[c].kv, pred, models[i].compute_mib[c], bad ? "  <--" : "");
        }
        hr_model_free(m);
    }
    assert_int_equal(n_bad, 0);
}

/* RWKV-6's older files: five token-shift lerps (lerp_w, _k, _v, _r, _g)
 * instead of lerp_fused, each mix its own add / mul / add. The shape's
 * tensors, lerp_fused replaced by the five, their names in *names (the
 * caller frees both and restores the model's own). */
static hr_tensor *rwkv6_unfused(hr_model *m, size_t *n, char (**names_out)[48])
{
    hr_tensor *t = calloc(m->n_tensors * 5, sizeof *t);
    char(*names)[48] = calloc(m->n_tensors * 5, sizeof *names);
    *names_out = names;
    assert_non_null(t);
    assert_non_null(names);
    static const char *const mix[5] = {"w", "k", "v", "r", "g"};
    size_t k = 0;
    for (size_t i = 0; i < m->n_tensors; i++) {
        const hr_tensor *x = &m->tensors[i];
        if (!x->name || !strstr(x->name, "time_mix_lerp_fused")) {
            t[k++] = *x;
            continue;
        }
        for (int j = 0; j < 5; j++) {
            snprintf(names[k], sizeof names[k], "blk.%d.time_mix_lerp_%s.weight", x->layer, mix[j]);
            t[k] = *x;
            t[k].name = names[k];
            t[k].n_dims = 3;
            t[k].ne[3] = 1;
            t[k].bytes = x->bytes / 5;
            k++;
        }
    }
    *n = k;
    return t;
}

/* Shapes with a 512-token vocabulary, so that the layers' own tensors set
 * the peak rather than the logits, every one of the graph's paths (RWKV-6
 * fused and not, RWKV-7's value residual, Mamba-2's groups, Mamba), several
 * sequences, odd batches and the one-token graph: the compute buffers of
 * llama.cpp built from the source node-llama-cpp 3.22.1 ships (v0.5.0, CPU;
 * the same figures as its npm build on the validation settings), from its
 * "compute buffer size is" line, to 0.0001 MiB. */
static void test_recurrent_layers_against_llamacpp(void **state)
{
    (void)state;
    static const struct {
        const char *name, *arch;
        uint32_t n_layer, n_embd, n_ff;
        uint32_t d_inner, d_state, dt_rank, n_group; /* Mamba */
        bool tied, unfused;
        double compute_mib[6];
    } shapes[] = {
        {"rwkv7-24", "rwkv7", 24, 1024, 4096, 0, 0, 0, 0, false, false,
         {38.6367, 40.1602, 7.6369, 153.5313, 0.5902, 2.3604}},
        {"rwkv6-12", "rwkv6", 12, 1024, 3584, 0, 0, 0, 0, false, false,
         {28.5196, 31.0977, 5.5326, 113.0469, 0.5593, 2.2369}},
        {"rwkv6-3", "rwkv6", 3, 2048, 7168, 0, 0, 0, 0, false, false,
         {57.0196, 60.0664, 11.0170, 226.0469, 1.1179, 4.4713}},
        {"mamba2-g2", "mamba2", 8, 512, 0, 1024, 64, 16, 2, true, false,
         {14.5645, 16.1524, 3.1284, 58.1992, 0.2980, 1.1917}},
        {"mamba-6", "mamba", 6, 512, 0, 1024, 16, 32, 0, false, false,
         {13.0899, 13.3477, 2.2389, 52.1875, 0.1036, 0.4142}},
        {"rwkv6-12 lerps", "rwkv6", 12, 1024, 3584, 0, 0, 0, 0, false, true,
         {30.5117, 32.0352, 5.8373, 0, 0.5632, 0}},
        {"rwkv6-3 lerps", "rwkv6", 3, 2048, 7168, 0, 0, 0, 0, false, true,
         {61.0196, 64.0664, 11.6264, 0, 1.1257, 0}},
    };
    static const struct { uint32_t n_ctx, n_seq, n_ubatch; } settings[6] = {
        {4096, 1, 512}, {4096, 4, 512}, {4096, 3, 77}, {8192, 2, 2048}, {4096, 1, 1}, {4096, 4, 4},
    };
    int n_bad = 0;
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        hr_shape sh;
        tu_shape(&sh, shapes[i].name, shapes[i].arch, shapes[i].n_layer, shapes[i].n_embd, 0, 0,
                 shapes[i].n_ff, 512, 1048576);
        sh.rwkv_head_size = shapes[i].d_inner ? 0 : 64;
        sh.ssm_d_conv = shapes[i].d_inner ? 4 : 0;
        sh.ssm_d_inner = shapes[i].d_inner;
        sh.ssm_d_state = shapes[i].d_state;
        sh.ssm_dt_rank = shapes[i].dt_rank;
        sh.ssm_n_group = shapes[i].n_group;
        sh.tied_output = shapes[i].tied;
        sh.ftype = HR_FTYPE_MOSTLY_Q8_0;
        hr_model *m;
        hr_error err;
        assert_int_equal(hr_model_from_shape(&sh, &m, &err), HR_OK);
        hr_tensor *const own = m->tensors, *unfused = NULL;
        const size_t own_n = m->n_tensors;
        char(*names)[48] = NULL;
        if (shapes[i].unfused) {
            unfused = rwkv6_unfused(m, &m->n_tensors, &names);
            m->tensors = unfused;
        }
        for (int c = 0; c < 6; c++) {
            if (shapes[i].compute_mib[c] == 0)
                continue;
            cp_point p = {0, settings[c].n_ctx, settings[c].n_ubatch, settings[c].n_seq, 0,
                          "f16", "f16", 0, 0.0};
            hr_settings s;
            hr_compute_input in;
            cpu_input(m, &p, &s, &in);
            in.n_seq = 1; /* a recurrent model's KV: none; its state rows follow s.n_seq */
            hr_compute_output out;
            assert_int_equal(hr_compute_estimate(&in, &out, &err), HR_OK);
            const double pred = mib(out.device_bytes[0]);
            const bool bad = fabs(pred - shapes[i].compute_mib[c]) > 0.00006;
            n_bad += bad;
            printf("# %-15s %5u %2u %5u | %10.4f %10.4f%s\n", shapes[i].name, settings[c].n_ctx,
                   settings[c].n_seq, settings[c].n_ubatch, pred, shapes[i].compute_mib[c],
                   bad ? "  <--" : "");
            /* the whole graph gives the same (truncated runs repeat exactly) */
            in.replay_all_layers = true;
            hr_compute_output full;
            assert_int_equal(hr_compute_estimate(&in, &full, &err), HR_OK);
            assert_memory_equal(&out, &full, sizeof out);
        }
        m->tensors = own;
        m->n_tensors = own_n;
        free(unfused);
        free(names);
        hr_model_free(m);
    }
    assert_int_equal(n_bad, 0);
}

/* Recurrent layers on a GPU, the host holding the first ones, and on two
 * GPUs: the truncated replay equals the whole one. */
static void test_recurrent_gpu_truncation_is_exact(void **state)
{
    (void)state;
    static const char *const archs[] = {"rwkv6", "rwkv7", "mamba", "mamba2"};
    for (size_t a = 0; a < sizeof archs / sizeof archs[0]; a++) {
        hr_shape sh;
        tu_shape(&sh, archs[a], archs[a], 24, 1024, 0, 0, 3584, 32000, 4096);
        sh.rwkv_head_size = 64;
        sh.ssm_d_conv = 4;
        sh.ssm_d_inner = 2048;
        sh.ssm_d_state = strcmp(archs[a], "mamba2") == 0 ? 128 : 16;
        sh.ssm_dt_rank = strcmp(archs[a], "mamba2") == 0 ? 32 : 64;
        sh.ssm_n_group = 1;
        sh.ftype = HR_FTYPE_MOSTLY_Q8_0;
        hr_model *m;
        hr_error err;
        assert_int_equal(hr_model_from_shape(&sh, &m, &err), HR_OK);
        static const int32_t first_gpu[] = {0, 1, 7, 23};
        for (size_t f = 0; f < sizeof first_gpu / sizeof first_gpu[0]; f++) {
            for (uint32_t n_seq = 1; n_seq <= 3; n_seq += 2) {
                hr_settings s;
                hr_compute_input in;
                hr_compute_output quick, full;
                gpu_input(m, &s, &in, 8192, 512, n_seq, true, first_gpu[f]);
                in.n_seq = 1;
                if (first_gpu[f] == 0) { /* two GPUs */
                    in.n_devices = 3;
                    in.backends[2] = HR_BACKEND_CUDA;
                    in.layer_end[1] = 9;
                    in.layer_begin[2] = 9;
                    in.layer_end[2] = 24;
                }
                assert_int_equal(hr_compute_estimate(&in, &quick, &err), HR_OK);
                in.replay_all_layers = true;
                assert_int_equal(hr_compute_estimate(&in, &full, &err), HR_OK);
                assert_false(quick.lower_bound);
                /* the logits, on the last GPU */
                assert_true(quick.device_bytes[in.n_devices - 1] >= 32000ull * 512 * 4);
                assert_memory_equal(&quick, &full, sizeof quick);
            }
        }
        hr_model_free(m);
    }
}

/* Shapes the builders only approximate, or extreme ones, still give a sane
 * positive figure: at least the logits, no crash. */
static void test_other_shapes(void **state)
{
    (void)state;
    static const char *const archs[] = {"rwkv6", "bitnet", "gpt-oss", "gemma", "phi3", "mistral",
                                        "nomic-bert", "bert", "mamba2", "qwen2moe"};
    for (size_t a = 0; a < sizeof archs / sizeof archs[0]; a++) {
        hr_model *m = shape_model(archs[a], 12, 1024, 16, 4, 4096, 32000);
        if (!m)
            continue;
        cp_point p = {0, 4096, 512, 1, 1, "f16", "f16", 0, 0.0};
        hr_settings s;
        hr_compute_input in;
        cpu_input(m, &p, &s, &in);
        hr_compute_output out;
        hr_error err;
        assert_int_equal(hr_compute_estimate(&in, &out, &err), HR_OK);
        printf("# %-10s 12 layers: %.2f MiB\n", archs[a], mib(out.device_bytes[0]));
        assert_true(out.device_bytes[0] >= 1024ull * 512 * 4);
        hr_model_free(m);
    }
    /* far more layers than one graph holds */
    hr_model *big = shape_model("llama", 200, 1024, 16, 4, 4096, 32000);
    assert_non_null(big);
    cp_point p = {0, 4096, 512, 1, 0, "f16", "f16", 0, 0.0};
    hr_settings s;
    hr_compute_input in;
    cpu_input(big, &p, &s, &in);
    hr_compute_output out;
    hr_error err;
    assert_int_equal(hr_compute_estimate(&in, &out, &err), HR_OK);
    assert_true(out.device_bytes[0] >= 32000ull * 512 * 4);
    hr_model_free(big);
}

static void test_rejects_bad_input(void **state)
{
    (void)state;
    hr_compute_input in;
    memset(&in, 0, sizeof in);
    hr_compute_output out;
    hr_error err;
    assert_int_not_equal(hr_compute_estimate(&in, &out, &err), HR_OK);
    assert_int_not_equal(hr_compute_estimate(NULL, &out, &err), HR_OK);

    /* absurd sizes are refused, not wrapped */
    hr_model *m = shape_model("llama", 4, 1024, 16, 4, 4096, 32000);
    assert_non_null(m);
    cp_point p = {0, 4000000000u, 4000000000u, 1, 0, "f16", "f16", 0, 0.0};
    hr_settings s;
    cpu_input(m, &p, &s, &in);
    in.n_kv = 4000000000u;
    assert_int_equal(hr_compute_estimate(&in, &out, &err), HR_ERR_LIMIT);
    hr_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_real_llamacpp),
        cmocka_unit_test(test_encoders_against_real_llamacpp),
        cmocka_unit_test(test_embedding_models_against_real_llamacpp),
        cmocka_unit_test(test_quantized_cache_against_real_llamacpp),
        cmocka_unit_test(test_recurrent_against_real_llamacpp),
        cmocka_unit_test(test_recurrent_layers_against_llamacpp),
        cmocka_unit_test(test_recurrent_gpu_truncation_is_exact),
        cmocka_unit_test(test_gpu_full_offload),
        cmocka_unit_test(test_gpu_partial_offload),
        cmocka_unit_test(test_gpu_against_real_llamacpp),
        cmocka_unit_test(test_gpu_pipeline_parallel),
        cmocka_unit_test(test_truncation_is_exact),
        cmocka_unit_test(test_partial_offload_truncation_is_exact),
        cmocka_unit_test(test_every_split_point_is_exact),
        cmocka_unit_test(test_graph_overflow_is_a_lower_bound),
        cmocka_unit_test(test_other_shapes),
        cmocka_unit_test(test_rejects_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
