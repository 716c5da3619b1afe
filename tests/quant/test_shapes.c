/* Shapes of every supported architecture agree with the GGUF reader: the
 * shape is written as a GGUF (tests/support/gguf_writer) and read back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf_writer.h"
#include "test_util.h"

#include "headroom/model.h"

static void base(hr_shape *s, const char *arch)
{
    hr_shape_init(s);
    s->name = arch;
    s->arch_name = arch;
    s->n_layer = 6; s->n_embd = 512; s->n_head = 8; s->n_head_kv = 2; s->n_ff = 1536;
    s->n_vocab = 3000; s->n_ctx_train = 4096;
    s->ftype = HR_FTYPE_MOSTLY_Q4_K_M;
}

static void shape_for(int which, hr_shape *s, const char **label)
{
    switch (which) {
    case 0: base(s, "llama"); break;
    case 1: base(s, "qwen2"); s->qkv_bias = true; s->tied_output = true; break;
    case 2: base(s, "qwen3"); s->head_dim = 128; break;
    case 3: base(s, "qwen2moe"); s->n_expert = 8; s->n_expert_used = 2; s->n_ff_exp = 256;
        s->n_ff_shexp = 1024; s->qkv_bias = true; break;
    case 4: base(s, "qwen3moe"); s->n_expert = 16; s->n_expert_used = 4; s->n_ff_exp = 256; break;
    case 5: base(s, "gemma"); s->head_dim = 256; s->n_head_kv = 8; break;
    case 6: base(s, "gemma2"); s->head_dim = 256; s->n_swa = 1024; s->attn_logit_softcap = 50;
        s->final_logit_softcap = 30; break;
    case 7: base(s, "gemma3"); s->head_dim = 256; s->n_swa = 1024; break;
    case 8: base(s, "phi3"); s->n_head_kv = 8; break;
    case 9: base(s, "command-r"); break;
    case 10: base(s, "cohere2"); s->n_swa = 4096; break;
    case 11: base(s, "deepseek2"); s->n_head_kv = 8; s->head_dim = 192; s->head_dim_v = 128;
        s->n_rot = 64; s->n_lora_kv = 512; s->n_lora_q = 384; s->n_expert = 16;
        s->n_expert_used = 4; s->n_expert_shared = 2; s->n_ff_exp = 256;
        s->n_layer_dense_lead = 1; break;
    case 12: base(s, "mamba"); s->n_head = 0; s->n_head_kv = 0; s->n_ff = 0;
        s->tied_output = true; break;
    case 13: base(s, "mamba2"); s->n_head = 0; s->n_head_kv = 0; s->n_ff = 0; break;
    case 14: base(s, "bert"); s->n_head_kv = 8; s->attn_bias = s->ffn_bias = true;
        s->causal = false; s->n_pos_embd = 512; s->ftype = HR_FTYPE_MOSTLY_F16; break;
    case 15: base(s, "nomic-bert"); s->n_head_kv = 8; s->causal = false;
        s->ftype = HR_FTYPE_MOSTLY_Q8_0; break;
    case 16: base(s, "bitnet"); s->tied_output = true; s->ftype = HR_FTYPE_BITNET_I2_S; break;
    case 17: base(s, "llama"); s->name = "mixtral"; s->n_expert = 8; s->n_expert_used = 2;
        break;
    case 18: base(s, "gpt-oss"); s->n_expert = 8; s->n_expert_used = 2; s->n_ff_exp = 512;
        s->attn_bias = true; s->n_swa = 128; s->swa_pattern = 2; break;
    case 19: base(s, "rwkv6"); s->n_head = 0; s->n_head_kv = 0; break;
    case 20: base(s, "llama"); s->name = "bf16 checkpoint"; s->ftype = HR_FTYPE_UNKNOWN;
        s->dtype = HR_TYPE_BF16; break;
    case 21: base(s, "rwkv7"); s->n_head = 0; s->n_head_kv = 0; s->n_ff = 0;
        s->ftype = HR_FTYPE_MOSTLY_F16; break;
    case 22: base(s, "gpt-oss"); s->name = "gpt-oss, biases implied"; s->n_expert = 8;
        s->n_expert_used = 2; s->n_ff_exp = 512; s->n_swa = 128; break;
    case 23: base(s, "llama"); s->name = "llama3 rope_freqs"; s->head_dim = 128;
        s->rope_freqs = true; break;
    case 24: base(s, "mixtral"); s->n_expert = 8; s->n_expert_used = 2; break;
    }
    *label = s->name;
}

#define N_SHAPES 25

static const hr_tensor *find_tensor(const hr_model *m, const char *name)
{
    for (size_t i = 0; i < m->n_tensors; i++)
        if (strcmp(m->tensors[i].name, name) == 0)
            return &m->tensors[i];
    return NULL;
}

static void test_shapes_agree_with_gguf(void **state)
{
    (void)state;
    char *dir = tu_make_temp_dir("shapes");
    assert_non_null(dir);
    int failures = 0;
    for (int which = 0; which < N_SHAPES; which++) {
        hr_shape s;
        const char *label;
        shape_for(which, &s, &label);
        hr_model *p = NULL;
        hr_error err;
        if (hr_model_from_shape(&s, &p, &err) != HR_OK)
            fail_msg("%s: %s", label, err.message);
        char file[64];
        snprintf(file, sizeof file, "shape%d.gguf", which);
        char *path = tu_path(dir, file);
        assert_int_equal(gguf_writer_from_model(p, path), 0);
        hr_model *g = NULL;
        if (hr_model_open_gguf(path, &g, &err) != HR_OK)
            fail_msg("%s: %s", label, err.message);
        if (g->n_tensors != p->n_tensors) {
            print_message("# %s: GGUF has %zu tensors, shape %zu\n", label, g->n_tensors,
                          p->n_tensors);
            failures++;
        }
        for (size_t k = 0; k < p->n_tensors; k++) {
            const hr_tensor *a = &p->tensors[k], *b = find_tensor(g, a->name);
            if (!b || a->type != b->type || a->bytes != b->bytes ||
                memcmp(a->ne, b->ne, sizeof a->ne) != 0 || a->role != b->role) {
                print_message("# %s: tensor %s differs\n", label, a->name);
                failures++;
            }
        }
        for (uint32_t il = 0; il < p->n_layer; il++) {
            const hr_layer *a = &p->layers[il], *b = &g->layers[il];
            if (a->n_head != b->n_head || a->n_head_kv != b->n_head_kv ||
                a->n_embd_head_k != b->n_embd_head_k || a->n_embd_head_v != b->n_embd_head_v ||
                a->is_swa != b->is_swa || a->n_expert != b->n_expert || a->n_ff != b->n_ff ||
                a->n_ff_exp != b->n_ff_exp || a->is_recurrent != b->is_recurrent ||
                a->has_kv != b->has_kv) {
                print_message("# %s: layer %u differs (heads %u/%u kv %u/%u k %u/%u v %u/%u "
                              "swa %d/%d experts %u/%u ff %u/%u ffexp %u/%u rec %d/%d kv %d/%d)\n",
                              label, il, a->n_head, b->n_head, a->n_head_kv, b->n_head_kv,
                              a->n_embd_head_k, b->n_embd_head_k, a->n_embd_head_v,
                              b->n_embd_head_v, a->is_swa, b->is_swa, a->n_expert, b->n_expert,
                              a->n_ff, b->n_ff, a->n_ff_exp, b->n_ff_exp, a->is_recurrent,
                              b->is_recurrent, a->has_kv, b->has_kv);
                failures++;
                break;
            }
        }
        if (p->tied_output != g->tied_output || p->causal != g->causal ||
            p->is_mla != g->is_mla || p->n_swa != g->n_swa || p->n_expert != g->n_expert ||
            p->n_ctx_train != g->n_ctx_train || p->ssm_d_inner != g->ssm_d_inner ||
            p->ssm_d_state != g->ssm_d_state || p->ssm_dt_rank != g->ssm_dt_rank ||
            p->n_layer_dense_lead != g->n_layer_dense_lead) {
            print_message("# %s: model hparams differ (tied %d/%d causal %d/%d mla %d/%d swa "
                          "%u/%u inner %u/%u)\n", label, p->tied_output, g->tied_output,
                          p->causal, g->causal, p->is_mla, g->is_mla, p->n_swa, g->n_swa,
                          p->ssm_d_inner, g->ssm_d_inner);
            failures++;
        }
        hr_model_free(g);
        hr_model_free(p);
        free(path);
    }
    tu_remove_tree(dir);
    free(dir);
    assert_int_equal(failures, 0);
}

/* Tensor lists a real llama.cpp (node-llama-cpp 3.22.1 CPU build) loaded
 * from files written from these shapes: its loader fails on any tensor too
 * many or missing, so the counts and names below are what it expects. */
typedef struct loaded_shape {
    const char *preset;  /* configs/models preset, or NULL for the inline shape */
    int which;           /* shape_for index when preset is NULL */
    size_t n_tensors;
    const char *must_have, *must_not_have;
} loaded_shape;

static hr_model *open_loaded(const loaded_shape *c, hr_shape *s, const char **label)
{
    hr_model *m = NULL;
    hr_error err;
    if (c->preset) {
        *label = c->preset;
        if (hr_model_open(c->preset, &m, &err) != HR_OK)
            fail_msg("%s: %s", c->preset, err.message);
        return m;
    }
    shape_for(c->which, s, label);
    if (hr_model_from_shape(s, &m, &err) != HR_OK)
        fail_msg("%s: %s", *label, err.message);
    return m;
}

static void test_layouts_llama_cpp_loaded(void **state)
{
    (void)state;
    static const loaded_shape CASES[] = {
        /* stella_en_400M_v5 as nomic-bert: 24 x 13 + 4 (no ffn_gate.bias slot) */
        {"stella_en_400m_v5", 0, 316, "blk.0.ffn_up.bias", "blk.0.ffn_gate.bias"},
        /* Llama-3.1-8B GGUFs carry rope_freqs: 32 x 9 + 4 */
        {"llama-3.1-8b", 0, 292, "rope_freqs.weight", NULL},
        /* gpt-oss: q/k/v/o biases, sinks, router and expert biases always */
        {NULL, 22, 6 * 19 + 3, "blk.0.attn_output.bias", NULL},
        /* rwkv7: 28 tensors a layer (value-residual ones on layer 0 too), 6 around */
        {NULL, 21, 6 * 28 + 6, "blk.0.time_mix_v1.weight", "blk.0.channel_mix_receptance.weight"},
        /* rwkv6: 24 tensors a layer, output always written */
        {NULL, 19, 6 * 24 + 6, "output.weight", NULL},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        hr_shape s;
        const char *label;
        hr_model *m = open_loaded(&CASES[i], &s, &label);
        if (m->n_tensors != CASES[i].n_tensors)
            fail_msg("%s: %zu tensors, llama.cpp expects %zu", label, m->n_tensors,
                     CASES[i].n_tensors);
        if (CASES[i].must_have && !find_tensor(m, CASES[i].must_have))
            fail_msg("%s: no %s", label, CASES[i].must_have);
        if (CASES[i].must_not_have && find_tensor(m, CASES[i].must_not_have))
            fail_msg("%s: has %s", label, CASES[i].must_not_have);
        hr_model_free(m);
    }
}

/* llama.cpp knows mistral and mixtral models as "llama": the shape writes
 * that name and keeps headroom's family. */
static void test_llama_family_names(void **state)
{
    (void)state;
    static const char *const NAMES[] = {"mistral", "mixtral"};
    for (int i = 0; i < 2; i++) {
        hr_shape s;
        base(&s, NAMES[i]);
        hr_model *m = NULL;
        hr_error err;
        if (hr_model_from_shape(&s, &m, &err) != HR_OK)
            fail_msg("%s", err.message);
        assert_string_equal(m->arch_name, "llama");
        assert_int_equal(m->arch, hr_arch_from_name(NAMES[i]));
        hr_model_free(m);
    }
}

/* RWKV7 low-rank sizes follow the converter's formula: hidden 768 gives the
 * published rwkv7-191M ranks (decay 64, iclr 64, value mix 32, gate 128). */
static void test_rwkv7_ranks(void **state)
{
    (void)state;
    hr_shape s;
    const char *label;
    shape_for(21, &s, &label);
    s.n_embd = 768;
    hr_model *m = NULL;
    hr_error err;
    if (hr_model_from_shape(&s, &m, &err) != HR_OK)
        fail_msg("%s", err.message);
    static const struct { const char *name; int64_t rank; } R[] = {
        {"blk.0.time_mix_w1.weight", 64}, {"blk.0.time_mix_a1.weight", 64},
        {"blk.1.time_mix_v1.weight", 32}, {"blk.0.time_mix_v1.weight", 64},
        {"blk.0.time_mix_g1.weight", 128},
    };
    for (size_t i = 0; i < sizeof R / sizeof R[0]; i++) {
        const hr_tensor *t = find_tensor(m, R[i].name);
        assert_non_null(t);
        assert_int_equal(t->ne[0], 768);
        assert_int_equal(t->ne[1], R[i].rank);
    }
    assert_int_equal(find_tensor(m, "blk.0.channel_mix_key.weight")->ne[1], 4 * 768);
    hr_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shapes_agree_with_gguf),
        cmocka_unit_test(test_layouts_llama_cpp_loaded),
        cmocka_unit_test(test_rwkv7_ranks),
        cmocka_unit_test(test_llama_family_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
