/* Compute buffers against what a real llama.cpp CPU build allocated.
 *
 * Data: ../shared/calibration/llamacpp_cpu.jsonl (27 loads of three
 * models) and compute_points.h (loads of more architectures made for this
 * module with node-llama-cpp 3.22.1 / llama.cpp v0.5.0 CPU: see that file).
 * Prints a table (predicted vs actual, error %) and fails beyond 2%. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "headroom/headroom.h"
#include "test_util.h"

#include "compute/compute.h"
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

static void test_rejects_bad_input(void **state)
{
    (void)state;
    hr_compute_input in;
    memset(&in, 0, sizeof in);
    hr_compute_output out;
    hr_error err;
    assert_int_not_equal(hr_compute_estimate(&in, &out, &err), HR_OK);
    assert_int_not_equal(hr_compute_estimate(NULL, &out, &err), HR_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_real_llamacpp),
        cmocka_unit_test(test_rejects_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
