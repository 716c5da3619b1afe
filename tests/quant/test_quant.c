/* llama-quantize mix rules and shape layouts (engine/src/quant, model/shape.c). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "test_util.h"

#include "headroom/model.h"
#include "headroom/quant.h"

#define MIB (1024.0 * 1024.0)

static hr_model *build(const hr_shape *s)
{
    hr_model *m = NULL;
    hr_error err = {0};
    hr_status st = hr_model_from_shape(s, &m, &err);
    if (st != HR_OK)
        fail_msg("from_shape(%s): %s", s->name, err.message);
    return m;
}

static const hr_tensor *find(const hr_model *m, const char *name)
{
    for (size_t i = 0; i < m->n_tensors; i++)
        if (strcmp(m->tensors[i].name, name) == 0)
            return &m->tensors[i];
    fail_msg("tensor %s missing", name);
    return NULL;
}

static hr_type type_of(const hr_model *m, const char *name) { return find(m, name)->type; }

static hr_type blk_type(const hr_model *m, int il, const char *stem)
{
    char name[96];
    snprintf(name, sizeof name, "blk.%d.%s.weight", il, stem);
    return type_of(m, name);
}

/* The shapes of /work/shared/calibration/specs (the GGUFs llama.cpp loaded). */
static void calib_llama32_1b(hr_shape *s)
{
    hr_shape_init(s);
    s->name = "Llama-3.2-1B-like";
    s->arch_name = "llama";
    s->n_layer = 16; s->n_embd = 2048; s->n_head = 32; s->n_head_kv = 8; s->n_ff = 8192;
    s->n_vocab = 128256; s->n_ctx_train = 131072; s->tied_output = true;
    s->ftype = HR_FTYPE_MOSTLY_Q4_K_M;
}

static void calib_qwen25_05b(hr_shape *s)
{
    hr_shape_init(s);
    s->name = "Qwen2.5-0.5B-like";
    s->arch_name = "qwen2";
    s->n_layer = 24; s->n_embd = 896; s->n_head = 14; s->n_head_kv = 2; s->n_ff = 4864;
    s->n_vocab = 151936; s->n_ctx_train = 32768; s->tied_output = true; s->qkv_bias = true;
    s->ftype = HR_FTYPE_MOSTLY_Q8_0;
}

static void calib_tinyllama(hr_shape *s)
{
    hr_shape_init(s);
    s->name = "TinyLlama-1.1B-like";
    s->arch_name = "llama";
    s->n_layer = 22; s->n_embd = 2048; s->n_head = 32; s->n_head_kv = 4; s->n_ff = 5632;
    s->n_vocab = 32000; s->n_ctx_train = 2048; s->tied_output = false;
    s->ftype = HR_FTYPE_MOSTLY_F16;
}

static void llama_8b(hr_shape *s, hr_ftype ftype)
{
    hr_shape_init(s);
    s->name = "Llama-3.1-8B";
    s->arch_name = "llama";
    s->n_layer = 32; s->n_embd = 4096; s->n_head = 32; s->n_head_kv = 8; s->n_ff = 14336;
    s->n_vocab = 128256; s->n_ctx_train = 131072;
    s->ftype = ftype;
}

/* llama.cpp's "model buffer size" lines (CPU + CPU_REPACK), printed to 0.01 MiB. */
static void assert_mib(const hr_model *m, double expect)
{
    double got = (double)m->n_bytes / MIB;
    if (fabs(got - expect) > 0.005 + 1e-9)
        fail_msg("%s: %.4f MiB, llama.cpp allocated %.2f MiB", m->name, got, expect);
}

static void test_calibration_sizes(void **state)
{
    (void)state;
    hr_shape s;
    calib_llama32_1b(&s);
    hr_model *m = build(&s);
    assert_mib(m, 762.81);
    hr_model_free(m);

    calib_qwen25_05b(&s);
    m = build(&s);
    assert_mib(m, 500.79);
    assert_int_equal(type_of(m, "blk.0.attn_q.bias"), HR_TYPE_F32);
    assert_int_equal(type_of(m, "token_embd.weight"), HR_TYPE_Q8_0);
    hr_model_free(m);

    calib_tinyllama(&s);
    m = build(&s);
    assert_mib(m, 2098.35);
    assert_int_equal(type_of(m, "output.weight"), HR_TYPE_F16);
    assert_int_equal(type_of(m, "blk.0.attn_norm.weight"), HR_TYPE_F32);
    hr_model_free(m);
}

/* llama-quantize's Q4_K_M on a 32-layer Llama: attn_v and ffn_down of the
 * use_more_bits layers (first and last 4, then every third) take Q6_K. */
static void test_q4_k_m_llama_8b_mix(void **state)
{
    (void)state;
    static const int MORE_BITS[] = {0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31};
    hr_shape s;
    llama_8b(&s, HR_FTYPE_MOSTLY_Q4_K_M);
    hr_model *m = build(&s);
    assert_int_equal(m->n_tensors, 2 + 1 + 32 * 9);
    assert_int_equal(type_of(m, "output.weight"), HR_TYPE_Q6_K);
    assert_int_equal(type_of(m, "token_embd.weight"), HR_TYPE_Q4_K);
    assert_int_equal(type_of(m, "output_norm.weight"), HR_TYPE_F32);
    int n_q6 = 0;
    for (int il = 0; il < 32; il++) {
        bool more = false;
        for (size_t k = 0; k < sizeof MORE_BITS / sizeof MORE_BITS[0]; k++)
            more |= MORE_BITS[k] == il;
        hr_type want = more ? HR_TYPE_Q6_K : HR_TYPE_Q4_K;
        assert_int_equal(blk_type(m, il, "attn_v"), want);
        assert_int_equal(blk_type(m, il, "ffn_down"), want);
        n_q6 += more;
        assert_int_equal(blk_type(m, il, "attn_q"), HR_TYPE_Q4_K);
        assert_int_equal(blk_type(m, il, "attn_k"), HR_TYPE_Q4_K);
        assert_int_equal(blk_type(m, il, "attn_output"), HR_TYPE_Q4_K);
        assert_int_equal(blk_type(m, il, "ffn_gate"), HR_TYPE_Q4_K);
        assert_int_equal(blk_type(m, il, "ffn_up"), HR_TYPE_Q4_K);
        assert_int_equal(blk_type(m, il, "attn_norm"), HR_TYPE_F32);
    }
    assert_int_equal(n_q6, 16);
    /* the published Q4_K_M file of Llama-3.1-8B is 4.58 GiB */
    assert_true(fabs((double)m->n_bytes / (MIB * 1024.0) - 4.58) < 0.01);
    hr_model_free(m);
}

static void test_other_ftypes_llama_8b(void **state)
{
    (void)state;
    hr_shape s;
    llama_8b(&s, HR_FTYPE_MOSTLY_Q3_K_M);
    hr_model *m = build(&s);
    assert_int_equal(blk_type(m, 0, "attn_v"), HR_TYPE_Q5_K);
    assert_int_equal(blk_type(m, 1, "attn_v"), HR_TYPE_Q5_K);
    assert_int_equal(blk_type(m, 2, "attn_v"), HR_TYPE_Q4_K);
    assert_int_equal(blk_type(m, 1, "ffn_down"), HR_TYPE_Q5_K);
    assert_int_equal(blk_type(m, 2, "ffn_down"), HR_TYPE_Q4_K);
    assert_int_equal(blk_type(m, 5, "attn_output"), HR_TYPE_Q4_K);
    assert_int_equal(blk_type(m, 5, "ffn_up"), HR_TYPE_Q3_K);
    hr_model_free(m);

    llama_8b(&s, HR_FTYPE_MOSTLY_Q2_K);
    m = build(&s);
    assert_int_equal(blk_type(m, 7, "attn_v"), HR_TYPE_Q4_K); /* n_gqa 4 */
    assert_int_equal(blk_type(m, 7, "ffn_down"), HR_TYPE_Q3_K);
    assert_int_equal(blk_type(m, 7, "attn_output"), HR_TYPE_Q3_K);
    assert_int_equal(blk_type(m, 7, "ffn_gate"), HR_TYPE_Q2_K);
    hr_model_free(m);

    llama_8b(&s, HR_FTYPE_MOSTLY_IQ2_XS);
    m = build(&s);
    assert_int_equal(type_of(m, "token_embd.weight"), HR_TYPE_Q2_K);
    assert_int_equal(type_of(m, "output.weight"), HR_TYPE_Q5_K);
    assert_int_equal(blk_type(m, 0, "ffn_down"), HR_TYPE_Q2_K);
    assert_int_equal(blk_type(m, 10, "ffn_down"), HR_TYPE_IQ2_XS);
    hr_model_free(m);

    llama_8b(&s, HR_FTYPE_MOSTLY_IQ4_XS);
    m = build(&s);
    assert_int_equal(blk_type(m, 10, "attn_v"), HR_TYPE_Q5_K);
    assert_int_equal(blk_type(m, 3, "ffn_down"), HR_TYPE_Q5_K);
    assert_int_equal(blk_type(m, 4, "ffn_down"), HR_TYPE_IQ4_XS);
    hr_model_free(m);

    llama_8b(&s, HR_FTYPE_MOSTLY_TQ1_0);
    m = build(&s);
    assert_int_equal(type_of(m, "token_embd.weight"), HR_TYPE_Q4_K);
    assert_int_equal(type_of(m, "output.weight"), HR_TYPE_Q6_K);
    assert_int_equal(blk_type(m, 4, "ffn_up"), HR_TYPE_TQ1_0);
    hr_model_free(m);

    llama_8b(&s, HR_FTYPE_MOSTLY_Q4_K_S);
    m = build(&s);
    assert_int_equal(blk_type(m, 3, "attn_v"), HR_TYPE_Q5_K);
    assert_int_equal(blk_type(m, 4, "attn_v"), HR_TYPE_Q4_K);
    assert_int_equal(blk_type(m, 3, "ffn_down"), HR_TYPE_Q5_K);
    assert_int_equal(blk_type(m, 31, "ffn_down"), HR_TYPE_Q4_K);
    hr_model_free(m);

    llama_8b(&s, HR_FTYPE_MOSTLY_Q5_K_M);
    m = build(&s);
    assert_int_equal(blk_type(m, 6, "attn_v"), HR_TYPE_Q6_K);
    assert_int_equal(blk_type(m, 7, "ffn_down"), HR_TYPE_Q5_K);
    assert_int_equal(blk_type(m, 30, "ffn_down"), HR_TYPE_Q6_K);
    hr_model_free(m);

    llama_8b(&s, HR_FTYPE_MOSTLY_Q3_K_L);
    m = build(&s);
    assert_int_equal(blk_type(m, 9, "attn_v"), HR_TYPE_Q5_K);
    assert_int_equal(blk_type(m, 9, "ffn_down"), HR_TYPE_Q5_K);
    assert_int_equal(blk_type(m, 9, "attn_output"), HR_TYPE_Q5_K);
    assert_int_equal(blk_type(m, 9, "attn_q"), HR_TYPE_Q3_K);
    hr_model_free(m);

    llama_8b(&s, HR_FTYPE_MOSTLY_IQ3_M);
    m = build(&s);
    assert_int_equal(blk_type(m, 9, "attn_v"), HR_TYPE_Q4_K);
    assert_int_equal(blk_type(m, 9, "attn_output"), HR_TYPE_Q4_K);
    assert_int_equal(blk_type(m, 2, "ffn_down"), HR_TYPE_Q4_K);
    assert_int_equal(blk_type(m, 9, "ffn_down"), HR_TYPE_IQ3_S);
    assert_int_equal(type_of(m, "output.weight"), HR_TYPE_Q6_K);
    hr_model_free(m);

    llama_8b(&s, HR_FTYPE_MOSTLY_Q6_K);
    m = build(&s);
    assert_int_equal(blk_type(m, 9, "attn_v"), HR_TYPE_Q6_K);
    assert_int_equal(type_of(m, "token_embd.weight"), HR_TYPE_Q6_K);
    hr_model_free(m);

    llama_8b(&s, HR_FTYPE_MOSTLY_Q8_0);
    m = build(&s);
    assert_int_equal(type_of(m, "output.weight"), HR_TYPE_Q8_0);
    assert_int_equal(blk_type(m, 0, "attn_v"), HR_TYPE_Q8_0);
    hr_model_free(m);

    llama_8b(&s, HR_FTYPE_MOSTLY_BF16);
    m = build(&s);
    assert_int_equal(blk_type(m, 4, "ffn_up"), HR_TYPE_BF16);
    assert_int_equal(blk_type(m, 4, "ffn_norm"), HR_TYPE_F32);
    hr_model_free(m);
}

/* Qwen2.5-0.5B: n_embd 896 is not a multiple of 256. */
static void test_qwen_05b_fallbacks(void **state)
{
    (void)state;
    hr_shape s;
    calib_qwen25_05b(&s);
    s.ftype = HR_FTYPE_MOSTLY_Q4_K_M;
    hr_model *m = build(&s);
    assert_int_equal(type_of(m, "token_embd.weight"), HR_TYPE_Q8_0); /* tied: output rule */
    assert_int_equal(blk_type(m, 0, "attn_q"), HR_TYPE_Q5_0);
    assert_int_equal(blk_type(m, 0, "attn_v"), HR_TYPE_Q8_0);  /* Q6_K falls back */
    assert_int_equal(blk_type(m, 4, "attn_v"), HR_TYPE_Q5_0);  /* Q4_K falls back */
    assert_int_equal(blk_type(m, 0, "ffn_up"), HR_TYPE_Q5_0);
    assert_int_equal(blk_type(m, 0, "ffn_down"), HR_TYPE_Q6_K); /* ne0 4864 = 19 * 256 */
    assert_int_equal(blk_type(m, 4, "ffn_down"), HR_TYPE_Q4_K);
    hr_model_free(m);

    const struct { hr_ftype f; hr_type ffn_up; } CASES[] = {
        {HR_FTYPE_MOSTLY_Q2_K, HR_TYPE_Q4_0},   {HR_FTYPE_MOSTLY_Q3_K_S, HR_TYPE_Q4_0},
        {HR_FTYPE_MOSTLY_Q5_K_S, HR_TYPE_Q5_1}, {HR_FTYPE_MOSTLY_Q6_K, HR_TYPE_Q8_0},
        {HR_FTYPE_MOSTLY_IQ4_XS, HR_TYPE_IQ4_NL}, {HR_FTYPE_MOSTLY_IQ3_M, HR_TYPE_IQ4_NL},
        {HR_FTYPE_MOSTLY_TQ2_0, HR_TYPE_Q4_0},  {HR_FTYPE_MOSTLY_Q4_0, HR_TYPE_Q4_0},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        s.ftype = CASES[i].f;
        m = build(&s);
        assert_int_equal(blk_type(m, 5, "ffn_up"), CASES[i].ffn_up);
        hr_model_free(m);
    }
}

static void assert_same_tensors(const hr_model *a, const hr_model *b)
{
    assert_int_equal(a->n_tensors, b->n_tensors);
    for (size_t i = 0; i < a->n_tensors; i++) {
        assert_string_equal(a->tensors[i].name, b->tensors[i].name);
        if (a->tensors[i].type != b->tensors[i].type)
            fail_msg("%s: %d vs %d", a->tensors[i].name, a->tensors[i].type, b->tensors[i].type);
        assert_int_equal(a->tensors[i].bytes, b->tensors[i].bytes);
        assert_memory_equal(a->tensors[i].ne, b->tensors[i].ne, sizeof a->tensors[i].ne);
    }
    assert_int_equal(a->n_bytes, b->n_bytes);
}

static void test_requantize_matches_shape(void **state)
{
    (void)state;
    const hr_ftype TARGETS[] = {HR_FTYPE_MOSTLY_Q4_K_M, HR_FTYPE_MOSTLY_Q3_K_L,
                                HR_FTYPE_MOSTLY_IQ2_XXS, HR_FTYPE_MOSTLY_Q8_0};
    hr_shape s;
    for (int which = 0; which < 2; which++) {
        if (which == 0)
            llama_8b(&s, HR_FTYPE_MOSTLY_F16);
        else
            calib_qwen25_05b(&s), s.ftype = HR_FTYPE_MOSTLY_F16;
        hr_model *f16 = build(&s);
        for (size_t k = 0; k < sizeof TARGETS / sizeof TARGETS[0]; k++) {
            hr_model *re = NULL;
            hr_error err;
            assert_int_equal(hr_model_requantize(f16, TARGETS[k], &re, &err), HR_OK);
            s.ftype = TARGETS[k];
            hr_model *direct = build(&s);
            assert_same_tensors(re, direct);
            assert_int_equal(re->ftype, TARGETS[k]);
            assert_string_equal(re->quant_name, hr_ftype_name(TARGETS[k]));

            uint64_t total = 0, in = 0, out = 0;
            uint64_t layers[32];
            assert_int_equal(hr_quant_project(f16, TARGETS[k], &total, &in, &out, layers, &err),
                             HR_OK);
            assert_int_equal(total, direct->n_bytes);
            assert_int_equal(in, direct->input_bytes);
            assert_int_equal(out, direct->output_bytes);
            for (uint32_t il = 0; il < direct->n_layer; il++)
                assert_int_equal(layers[il], direct->layer_bytes[il]);
            hr_model_free(re);
            hr_model_free(direct);
        }
        hr_model_free(f16);
    }
    hr_error err;
    uint64_t total;
    llama_8b(&s, HR_FTYPE_MOSTLY_F16);
    hr_model *m = build(&s);
    assert_int_equal(hr_quant_project(m, (hr_ftype)99, &total, NULL, NULL, NULL, &err),
                     HR_ERR_ARG);
    hr_model_free(m);
}

/* Mixtral: 8 experts bump attn_v / attn_k to Q8_0 and attn_output to Q5_K;
 * expert ffn_down follows its block index. */
static void test_moe_rules(void **state)
{
    (void)state;
    hr_shape s;
    llama_8b(&s, HR_FTYPE_MOSTLY_Q4_K_M);
    s.name = "Mixtral-8x7B";
    s.n_vocab = 32000;
    s.n_expert = 8;
    s.n_expert_used = 2;
    hr_model *m = build(&s);
    assert_int_equal(blk_type(m, 5, "attn_v"), HR_TYPE_Q8_0);
    assert_int_equal(blk_type(m, 5, "attn_k"), HR_TYPE_Q8_0);
    assert_int_equal(blk_type(m, 5, "attn_output"), HR_TYPE_Q5_K);
    assert_int_equal(blk_type(m, 5, "ffn_gate_inp"), HR_TYPE_F32);
    assert_int_equal(blk_type(m, 5, "ffn_down_exps"), HR_TYPE_Q4_K);
    assert_int_equal(blk_type(m, 6, "ffn_down_exps"), HR_TYPE_Q6_K);
    assert_int_equal(blk_type(m, 6, "ffn_up_exps"), HR_TYPE_Q4_K);
    const hr_tensor *exps = find(m, "blk.0.ffn_up_exps.weight");
    assert_int_equal(exps->n_dims, 3);
    assert_int_equal(exps->ne[2], 8);
    /* published 46.7B parameters */
    assert_true(fabs((double)m->n_params / 46.7e9 - 1.0) < 0.02);
    hr_model_free(m);
}

static void test_70b_attn_v(void **state)
{
    (void)state;
    hr_shape s;
    llama_8b(&s, HR_FTYPE_MOSTLY_Q4_K_M);
    s.n_layer = 80; s.n_embd = 8192; s.n_head = 64; s.n_ff = 28672;
    hr_model *m = build(&s);
    assert_int_equal(blk_type(m, 0, "attn_v"), HR_TYPE_Q6_K);
    assert_int_equal(blk_type(m, 11, "attn_v"), HR_TYPE_Q5_K); /* LLM_TYPE_70B bump */
    assert_int_equal(blk_type(m, 11, "ffn_down"), HR_TYPE_Q4_K);
    hr_model_free(m);
}

static void test_bitnet_i2_s(void **state)
{
    (void)state;
    hr_shape s;
    hr_shape_init(&s);
    s.name = "bitnet";
    s.arch_name = "bitnet";
    s.n_layer = 30; s.n_embd = 2560; s.n_head = 20; s.n_head_kv = 5; s.n_ff = 6912;
    s.n_vocab = 128256; s.tied_output = true; s.ftype = HR_FTYPE_BITNET_I2_S;
    hr_model *m = build(&s);
    assert_int_equal(type_of(m, "token_embd.weight"), HR_TYPE_F16);
    assert_int_equal(blk_type(m, 3, "attn_q"), HR_TYPE_BITNET_I2_S);
    assert_int_equal(blk_type(m, 3, "ffn_down"), HR_TYPE_BITNET_I2_S);
    assert_int_equal(blk_type(m, 3, "ffn_sub_norm"), HR_TYPE_F32);
    assert_int_equal(find(m, "blk.3.ffn_sub_norm.weight")->ne[0], 6912);
    assert_int_equal(find(m, "blk.3.attn_q.weight")->bytes, 2560ull * 2560 / 4 + 32);
    hr_model_free(m);
}

/* DeepSeek-V2-Lite: split MLA tensors; attn_k_b rows of 128 fall back. */
static void test_deepseek2_layout(void **state)
{
    (void)state;
    hr_shape s;
    hr_shape_init(&s);
    s.name = "DeepSeek-V2-Lite";
    s.arch_name = "deepseek2";
    s.n_layer = 27; s.n_embd = 2048; s.n_head = 16; s.n_head_kv = 16; s.head_dim = 192;
    s.head_dim_v = 128; s.n_rot = 64; s.n_lora_kv = 512; s.n_ff = 10944; s.n_expert = 64;
    s.n_expert_used = 6; s.n_expert_shared = 2; s.n_ff_exp = 1408; s.n_layer_dense_lead = 1;
    s.n_vocab = 102400; s.n_ctx_train = 163840; s.ftype = HR_FTYPE_MOSTLY_Q4_K_M;
    hr_model *m = build(&s);
    assert_true(m->is_mla);
    assert_int_equal(m->layers[3].n_head_kv, 1);
    assert_int_equal(m->layers[3].n_embd_head_k, 576);
    assert_int_equal(m->layers[3].n_embd_head_v, 512);
    assert_int_equal(m->layers[0].n_expert, 0);
    assert_int_equal(m->layers[0].n_ff, 10944);
    assert_int_equal(m->layers[1].n_expert, 64);
    const hr_tensor *kb = find(m, "blk.1.attn_k_b.weight");
    assert_int_equal(kb->ne[0], 128);
    assert_int_equal(kb->ne[1], 512);
    assert_int_equal(kb->ne[2], 16);
    assert_int_equal(kb->type, HR_TYPE_Q5_0);
    assert_int_equal(find(m, "blk.1.attn_kv_a_mqa.weight")->ne[1], 576);
    assert_int_equal(find(m, "blk.1.ffn_up_shexp.weight")->ne[1], 2816);
    assert_int_equal(blk_type(m, 0, "ffn_gate"), HR_TYPE_Q4_K);
    assert_true(fabs((double)m->n_params / 15.7e9 - 1.0) < 0.02);
    hr_model_free(m);
}

static void test_swa_and_norms(void **state)
{
    (void)state;
    hr_shape s;
    hr_shape_init(&s);
    s.name = "gemma3-like";
    s.arch_name = "gemma3";
    s.n_layer = 12; s.n_embd = 1024; s.n_head = 8; s.n_head_kv = 4; s.head_dim = 256;
    s.n_ff = 4096; s.n_vocab = 32768; s.n_swa = 512; s.ftype = HR_FTYPE_MOSTLY_Q8_0;
    hr_model *m = build(&s);
    for (uint32_t il = 0; il < 12; il++)
        assert_int_equal(m->layers[il].is_swa, il % 6 != 5);
    assert_int_equal(find(m, "blk.2.attn_q_norm.weight")->ne[0], 256);
    find(m, "blk.2.post_ffw_norm.weight");
    find(m, "blk.2.post_attention_norm.weight");
    assert_true(m->tied_output);
    hr_model_free(m);

    s.arch_name = "gemma2";
    s.swa_pattern = 0;
    m = build(&s);
    for (uint32_t il = 0; il < 12; il++)
        assert_int_equal(m->layers[il].is_swa, il % 2 == 0);
    hr_model_free(m);

    s.arch_name = "llama";
    m = build(&s);
    for (uint32_t il = 0; il < 12; il++)
        assert_true(m->layers[il].is_swa); /* pattern 0: every layer slides */
    hr_model_free(m);
}

static void test_dtype_mode_and_recurrent(void **state)
{
    (void)state;
    hr_shape s;
    llama_8b(&s, HR_FTYPE_UNKNOWN);
    s.dtype = HR_TYPE_BF16;
    hr_model *m = build(&s);
    assert_int_equal(type_of(m, "blk.0.attn_norm.weight"), HR_TYPE_BF16);
    assert_int_equal(type_of(m, "output.weight"), HR_TYPE_BF16);
    assert_true(fabs((double)m->n_params / 8.03e9 - 1.0) < 0.01);
    assert_int_equal(m->n_bytes, m->n_params * 2);
    hr_model_free(m);

    hr_shape_init(&s);
    s.name = "mamba-like";
    s.arch_name = "mamba";
    s.n_layer = 4; s.n_embd = 768; s.n_vocab = 50280; s.tied_output = true;
    s.ftype = HR_FTYPE_MOSTLY_Q4_K_M;
    m = build(&s);
    assert_true(m->layers[0].is_recurrent);
    assert_false(m->layers[0].has_kv);
    assert_int_equal(type_of(m, "blk.0.ssm_a"), HR_TYPE_F32);
    assert_int_equal(type_of(m, "blk.0.ssm_conv1d.weight"), HR_TYPE_F32);
    assert_int_equal(find(m, "blk.0.ssm_in.weight")->ne[1], 2 * 1536);
    hr_model_free(m);

    s.arch_name = "mamba2";
    s.n_embd = 1024;
    m = build(&s);
    assert_int_equal(find(m, "blk.0.ssm_in.weight")->ne[1], 2 * 2048 + 2 * 128 + 32);
    hr_model_free(m);
}

static void test_bad_shapes(void **state)
{
    (void)state;
    hr_shape s;
    hr_error err;
    hr_model *m = NULL;
    llama_8b(&s, HR_FTYPE_MOSTLY_Q4_K_M);
    s.n_head_kv = 7;
    assert_int_equal(hr_model_from_shape(&s, &m, &err), HR_ERR_ARG);
    assert_non_null(strstr(err.message, "Llama-3.1-8B"));
    llama_8b(&s, HR_FTYPE_MOSTLY_Q4_K_M);
    s.n_layer = 0;
    assert_int_equal(hr_model_from_shape(&s, &m, &err), HR_ERR_ARG);
    llama_8b(&s, HR_FTYPE_MOSTLY_Q4_K_M);
    s.n_embd = 1u << 30;
    assert_int_equal(hr_model_from_shape(&s, &m, &err), HR_ERR_LIMIT);
    llama_8b(&s, HR_FTYPE_UNKNOWN);
    assert_int_equal(hr_model_from_shape(&s, &m, &err), HR_ERR_ARG);
    assert_null(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_calibration_sizes),
        cmocka_unit_test(test_q4_k_m_llama_8b_mix),
        cmocka_unit_test(test_other_ftypes_llama_8b),
        cmocka_unit_test(test_qwen_05b_fallbacks),
        cmocka_unit_test(test_requantize_matches_shape),
        cmocka_unit_test(test_moe_rules),
        cmocka_unit_test(test_70b_attn_v),
        cmocka_unit_test(test_bitnet_i2_s),
        cmocka_unit_test(test_deepseek2_layout),
        cmocka_unit_test(test_swa_and_norms),
        cmocka_unit_test(test_dtype_mode_and_recurrent),
        cmocka_unit_test(test_bad_shapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
