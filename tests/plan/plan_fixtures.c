/* Fixture models from hyperparameters (see plan_fixtures.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "plan_fixtures.h"
#include "shape_fixture.h"

hr_model *fixture_build(fixture_model which)
{
    hr_shape s;
    switch (which) {
    case CAL_LLAMA32_1B:
        tu_shape(&s, "Llama-3.2-1B-like", "llama", 16, 2048, 32, 8, 8192, 128256, 131072);
        s.tied_output = true;
        s.ftype = HR_FTYPE_MOSTLY_Q4_K_M;
        break;
    case CAL_QWEN25_05B:
        tu_shape(&s, "Qwen2.5-0.5B-like", "qwen2", 24, 896, 14, 2, 4864, 151936, 32768);
        s.tied_output = true;
        s.qkv_bias = true;
        s.ftype = HR_FTYPE_MOSTLY_Q8_0;
        break;
    case CAL_TINYLLAMA:
        tu_shape(&s, "TinyLlama-1.1B-like", "llama", 22, 2048, 32, 4, 5632, 32000, 2048);
        s.tied_output = false;
        s.ftype = HR_FTYPE_MOSTLY_F16;
        break;
    case FIX_GEMMA2_2B:
        tu_shape(&s, "gemma-2-2b-like", "gemma2", 26, 2304, 8, 4, 9216, 256000, 8192);
        s.head_dim = 256;
        s.n_swa = 4096;
        s.swa_pattern = 2;
        s.tied_output = true;
        s.attn_logit_softcap = 50.0f;
        s.final_logit_softcap = 30.0f;
        s.ftype = HR_FTYPE_MOSTLY_Q8_0;
        break;
    case FIX_DEEPSEEK2_LITE:
        tu_shape(&s, "DeepSeek-V2-Lite-like", "deepseek2", 27, 2048, 16, 16, 10944, 102400, 163840);
        s.head_dim = 192;
        s.head_dim_v = 128;
        s.n_lora_q = 0;
        s.n_lora_kv = 512;
        s.n_rot = 64;
        s.head_dim_qk_nope = 128;
        s.n_expert = 64;
        s.n_expert_used = 6;
        s.n_expert_shared = 2;
        s.n_ff_exp = 1408;
        s.n_ff_shexp = 2816;
        s.n_layer_dense_lead = 1;
        s.ftype = HR_FTYPE_MOSTLY_Q4_K_M;
        break;
    case FIX_MAMBA_130M:
        tu_shape(&s, "mamba-130m-like", "mamba", 24, 768, 0, 0, 0, 50280, 1048576);
        s.ssm_d_conv = 4;
        s.ssm_d_inner = 1536;
        s.ssm_d_state = 16;
        s.ssm_dt_rank = 48;
        s.tied_output = true;
        s.ftype = HR_FTYPE_MOSTLY_F16;
        break;
    case FIX_STELLA_15B_F32:
        tu_shape(&s, "stella_en_1.5B_v5-like", "qwen2", 28, 1536, 12, 2, 8960, 151646, 131072);
        s.qkv_bias = true;
        s.tied_output = true;
        s.embedding_only = true;
        s.ftype = HR_FTYPE_UNKNOWN;
        s.dtype = HR_TYPE_F32;
        break;
    case FIX_LLAMA31_8B:
    default:
        tu_shape(&s, "Llama-3.1-8B-like", "llama", 32, 4096, 32, 8, 14336, 128256, 131072);
        s.ftype = HR_FTYPE_MOSTLY_Q4_K_M;
        break;
    }
    hr_model *m = NULL;
    hr_error err = {0};
    hr_status rc = hr_model_from_shape(&s, &m, &err);
    if (rc != HR_OK)
        fprintf(stderr, "# fixture %d: %s\n", (int)which, err.message);
    assert_int_equal(rc, HR_OK);
    assert_non_null(m);
    return m;
}

void fixture_cpu_settings(hr_settings *s)
{
    hr_settings_init(s);
    s->mode = HR_MODE_CPU;
    s->n_gpu_layers = 0;
    s->use_mmap = false;
}

void fixture_budget(hr_budget *b, double host_gib, int n_gpus, double gpu_gib)
{
    memset(b, 0, sizeof *b);
    b->n_devices = 1 + n_gpus;
    snprintf(b->label, sizeof b->label, "test");
    hr_budget_device *h = &b->devices[0];
    snprintf(h->name, sizeof h->name, "host");
    h->kind = HR_DEVICE_HOST;
    h->backend = HR_BACKEND_CPU;
    h->capacity_bytes = (uint64_t)(host_gib * (double)GIB);
    h->capacity_known = true;
    for (int g = 0; g < n_gpus; g++) {
        hr_budget_device *d = &b->devices[1 + g];
        snprintf(d->name, sizeof d->name, "CUDA%d", g);
        d->kind = HR_DEVICE_GPU;
        d->backend = HR_BACKEND_CUDA;
        d->capacity_bytes = (uint64_t)(gpu_gib * (double)GIB);
        d->capacity_known = true;
    }
}

static hr_model *shared[FIX_COUNT];

hr_model *fixture_shared(fixture_model which)
{
    if (!shared[which])
        shared[which] = fixture_build(which);
    return shared[which];
}

int fixture_teardown_shared(void **state)
{
    (void)state;
    for (int i = 0; i < FIX_COUNT; i++) {
        hr_model_free(shared[i]);
        shared[i] = NULL;
    }
    return 0;
}

/* xorshift32: the same walk on every machine */
static uint32_t walk_rand(uint32_t *state)
{
    uint32_t x = *state ? *state : 0x9E3779B9u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    return x;
}

void fixture_walk_step(hr_settings *s, uint32_t n_layer, uint32_t *rng)
{
    static const uint32_t ubatches[] = {32, 64, 128, 256, 512, 1024, 2048};
    static const hr_type kv_types[] = {HR_TYPE_F16, HR_TYPE_Q8_0, HR_TYPE_Q4_0};
    static const hr_ftype ftypes[] = {HR_FTYPE_UNKNOWN, HR_FTYPE_MOSTLY_Q8_0,
                                      HR_FTYPE_MOSTLY_Q4_K_M, HR_FTYPE_MOSTLY_Q2_K,
                                      HR_FTYPE_MOSTLY_F16};
    static const uint32_t seqs[] = {1, 2, 4};
    const uint32_t r = walk_rand(rng);
    switch (r % 16) {
    case 0: case 1: case 2: case 3: /* context up or down, the most common key */
        if (s->n_ctx == 0)
            s->n_ctx = 4096;
        if ((r >> 8) & 1)
            s->n_ctx = s->n_ctx < 131072 ? s->n_ctx * 2 : s->n_ctx;
        else
            s->n_ctx = s->n_ctx > 512 ? s->n_ctx / 2 : s->n_ctx;
        break;
    case 4: /* a typed context, not a multiple of 256 */
        s->n_ctx = 1000 + (r >> 8) % 20000;
        break;
    case 5: case 6:
        s->n_ubatch = ubatches[(r >> 8) % 7];
        break;
    case 7: case 8: /* GPU layers one up or down, or anywhere */
        if ((r >> 8) % 4 == 0)
            s->n_gpu_layers = (int32_t)((r >> 10) % (n_layer + 2));
        else if (s->n_gpu_layers < 0)
            s->n_gpu_layers = (int32_t)n_layer;
        else
            s->n_gpu_layers += (r >> 9) & 1 ? 1 : -1;
        if (s->n_gpu_layers > (int32_t)n_layer + 1)
            s->n_gpu_layers = -1;
        break;
    case 9:
        s->flash_attn = (hr_flash_attn)((r >> 8) % 3);
        break;
    case 10:
        s->type_k = kv_types[(r >> 8) % 3];
        s->type_v = kv_types[(r >> 12) % 3];
        break;
    case 11:
        s->target_ftype = ftypes[(r >> 8) % 5];
        break;
    case 12:
        s->n_seq = seqs[(r >> 8) % 3];
        s->kv_unified = (r >> 12) & 1;
        break;
    case 13:
        s->margin_percent = (double)((r >> 8) % 3) * 5.0;
        break;
    case 14:
        s->mode = (r >> 8) % 4 == 0 ? HR_MODE_CPU : HR_MODE_GPU;
        break;
    default:
        if ((r >> 8) & 1)
            s->offload_kv = !s->offload_kv;
        else
            s->swa_full = !s->swa_full;
        break;
    }
}
