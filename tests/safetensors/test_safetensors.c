/* safetensors reader: dtypes, shapes, shards, names, corrupt inputs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "safetensors_writer.h"
#include "test_util.h"

#include "headroom/model.h"

typedef struct fixture {
    char *dir;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->dir = tu_make_temp_dir("st");
    *state = f;
    return f->dir ? 0 : -1;
}

static int teardown(void **state)
{
    fixture *f = *state;
    tu_remove_tree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

static const hr_tensor *by_hf(const hr_model *m, const char *hf)
{
    for (size_t i = 0; i < m->n_tensors; i++)
        if (m->tensors[i].hf_name && strcmp(m->tensors[i].hf_name, hf) == 0)
            return &m->tensors[i];
    return NULL;
}

static const hr_tensor *by_name(const hr_model *m, const char *name)
{
    for (size_t i = 0; i < m->n_tensors; i++)
        if (strcmp(m->tensors[i].name, name) == 0)
            return &m->tensors[i];
    return NULL;
}

static bool has_warning(const hr_model *m, const char *needle)
{
    for (int i = 0; i < m->n_warnings; i++)
        if (strstr(m->warnings[i], needle))
            return true;
    return false;
}

/* A small llama-family shape shared by several tests. */
static hr_shape small_llama(void)
{
    hr_shape s;
    hr_shape_init(&s);
    s.arch_name = "llama";
    s.n_layer = 3;
    s.n_embd = 64;
    s.n_vocab = 320;
    s.n_ctx_train = 2048;
    s.n_head = 4;
    s.n_head_kv = 2;
    s.n_ff = 160;
    return s;
}

static void write_small_llama_config(const char *dir, const hr_shape *s, const char *dtype)
{
    stw_config cfg = {"LlamaForCausalLM", "llama", dtype, *s, NULL};
    assert_int_equal(stw_write_config(dir, &cfg), 0);
}

/* ---------------------------------------------------------------- dtypes */

static void test_every_dtype(void **state)
{
    fixture *f = *state;
    /* element counts chosen so sub-byte dtypes fill whole bytes */
    stw_tensor t[] = {
        {"f64", "F64", 2, {3, 5}},         {"f32", "F32", 2, {7, 3}},
        {"f16", "F16", 1, {9}},            {"bf16", "BF16", 2, {2, 11}},
        {"i64", "I64", 1, {5}},            {"i32", "I32", 1, {6}},
        {"i16", "I16", 1, {7}},            {"i8", "I8", 1, {13}},
        {"u64", "U64", 1, {2}},            {"u32", "U32", 1, {3}},
        {"u16", "U16", 1, {4}},            {"u8", "U8", 1, {5}},
        {"bool", "BOOL", 1, {17}},         {"e5m2", "F8_E5M2", 2, {4, 4}},
        {"e4m3", "F8_E4M3", 2, {8, 16}},   {"e8m0", "F8_E8M0", 1, {3}},
        {"e4m3fnuz", "F8_E4M3FNUZ", 1, {5}}, {"e5m2fnuz", "F8_E5M2FNUZ", 1, {6}},
        {"f4", "F4", 2, {3, 10}},          {"f6a", "F6_E2M3", 1, {8}},
        {"f6b", "F6_E3M2", 2, {3, 4}},     {"c64", "C64", 1, {3}},
        {"scalar", "F32", 0, {0}},         {"rank5", "BF16", 5, {2, 3, 4, 5, 6}},
        {"empty", "F16", 2, {0, 8}},
    };
    const size_t n = sizeof t / sizeof t[0];
    const hr_type expect[] = {
        HR_TYPE_F64, HR_TYPE_F32, HR_TYPE_F16, HR_TYPE_BF16, HR_TYPE_I64, HR_TYPE_I32,
        HR_TYPE_I16, HR_TYPE_I8, HR_TYPE_ST_U64, HR_TYPE_ST_U32, HR_TYPE_ST_U16, HR_TYPE_ST_U8,
        HR_TYPE_ST_BOOL, HR_TYPE_ST_F8_E5M2, HR_TYPE_ST_F8_E4M3, HR_TYPE_ST_F8_E8M0,
        HR_TYPE_ST_F8_E4M3FNUZ, HR_TYPE_ST_F8_E5M2FNUZ, HR_TYPE_ST_F4, HR_TYPE_ST_F6_E2M3,
        HR_TYPE_ST_F6_E3M2, HR_TYPE_ST_C64, HR_TYPE_F32, HR_TYPE_BF16, HR_TYPE_F16,
    };
    /* sizes to the byte, worked by hand from the dtype widths */
    const uint64_t bytes[] = {120, 84, 18, 44, 40, 24, 14, 13, 16, 12, 8, 5, 17, 16, 128,
                              3, 5, 6, 15, 6, 9, 24, 4, 1440, 0};
    char *path = tu_path(f->dir, "all.safetensors");
    uint64_t data = 0;
    assert_int_equal(stw_write(path, t, n, "{\"format\": \"pt\"}", &data), 0);
    hr_model *m = NULL;
    hr_error err;
    assert_int_equal(hr_model_open_safetensors(path, &m, &err), HR_OK);
    assert_int_equal(m->source, HR_SOURCE_SAFETENSORS);
    assert_int_equal(m->n_tensors, n);
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        const hr_tensor *x = by_hf(m, t[i].name);
        assert_non_null(x);
        assert_int_equal(x->type, expect[i]);
        assert_int_equal(x->bytes, bytes[i]);
        assert_int_equal(x->bytes, stw_tensor_bytes(&t[i]));
        sum += bytes[i];
    }
    assert_int_equal(m->n_bytes, sum);
    assert_int_equal(m->n_bytes, data);
    /* ggml order: ne[0] is the innermost dim */
    const hr_tensor *f32 = by_hf(m, "f32");
    assert_int_equal(f32->ne[0], 3);
    assert_int_equal(f32->ne[1], 7);
    /* rank 5: [2,3,4,5,6] -> ne = {6,5,4,2*3} */
    const hr_tensor *r5 = by_hf(m, "rank5");
    assert_int_equal(r5->ne[0], 6);
    assert_int_equal(r5->ne[1], 5);
    assert_int_equal(r5->ne[2], 4);
    assert_int_equal(r5->ne[3], 6);
    assert_true(has_warning(m, "rank > 4"));
    assert_false(has_warning(m, "share a GGUF name"));
    const hr_tensor *sc = by_hf(m, "scalar");
    assert_int_equal(sc->ne[0] * sc->ne[1] * sc->ne[2] * sc->ne[3], 1);
    /* the dominant dtype by bytes names the checkpoint */
    assert_string_equal(m->dtype, "BF16");
    assert_string_equal(m->quant_name, "BF16 (safetensors)");
    assert_true(has_warning(m, "no config.json"));
    hr_model_free(m);
    free(path);
}

/* ---------------------------------------------------- names and config */

static void test_llama_names_with_config(void **state)
{
    fixture *f = *state;
    hr_shape s = small_llama();
    write_small_llama_config(f->dir, &s, "bfloat16");
    stw_tensor *t;
    size_t n;
    assert_int_equal(stw_llama_tensors(&s, "BF16", &t, &n), 0);
    char *path = tu_path(f->dir, "model.safetensors");
    assert_int_equal(stw_write(path, t, n, NULL, NULL), 0);
    hr_model *m = NULL;
    hr_error err;
    assert_int_equal(hr_model_open_safetensors(path, &m, &err), HR_OK);
    assert_string_equal(m->arch_name, "llama");
    assert_int_equal(m->n_layer, 3);
    assert_int_equal(m->n_embd, 64);
    assert_int_equal(m->n_head, 4);
    assert_int_equal(m->n_head_kv, 2);
    assert_int_equal(m->n_embd_head_k, 16);
    assert_int_equal(m->layers[2].n_head_kv, 2);
    assert_true(m->layers[2].has_kv);
    assert_int_equal(m->layers[1].n_ff, 160);
    assert_false(m->tied_output);

    const struct {
        const char *hf, *gguf;
        hr_role role;
        int32_t layer;
    } cases[] = {
        {"model.embed_tokens.weight", "token_embd.weight", HR_ROLE_TOKEN_EMBD, HR_LAYER_INPUT},
        {"model.layers.0.self_attn.q_proj.weight", "blk.0.attn_q.weight", HR_ROLE_ATTN_Q, 0},
        {"model.layers.1.self_attn.k_proj.weight", "blk.1.attn_k.weight", HR_ROLE_ATTN_K, 1},
        {"model.layers.1.self_attn.v_proj.weight", "blk.1.attn_v.weight", HR_ROLE_ATTN_V, 1},
        {"model.layers.2.self_attn.o_proj.weight", "blk.2.attn_output.weight",
         HR_ROLE_ATTN_OUTPUT, 2},
        {"model.layers.2.mlp.gate_proj.weight", "blk.2.ffn_gate.weight", HR_ROLE_FFN_GATE, 2},
        {"model.layers.2.mlp.up_proj.weight", "blk.2.ffn_up.weight", HR_ROLE_FFN_UP, 2},
        {"model.layers.0.mlp.down_proj.weight", "blk.0.ffn_down.weight", HR_ROLE_FFN_DOWN, 0},
        {"model.layers.0.input_layernorm.weight", "blk.0.attn_norm.weight", HR_ROLE_NORM, 0},
        {"model.layers.0.post_attention_layernorm.weight", "blk.0.ffn_norm.weight",
         HR_ROLE_NORM, 0},
        {"model.norm.weight", "output_norm.weight", HR_ROLE_OUTPUT_NORM, HR_LAYER_OUTPUT},
        {"lm_head.weight", "output.weight", HR_ROLE_OUTPUT, HR_LAYER_OUTPUT},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const hr_tensor *x = by_hf(m, cases[i].hf);
        assert_non_null(x);
        assert_string_equal(x->name, cases[i].gguf);
        assert_int_equal(x->role, cases[i].role);
        assert_int_equal(x->layer, cases[i].layer);
    }
    /* the same config alone gives the same parameter count and bytes */
    hr_model *c = NULL;
    char *cfg = tu_path(f->dir, "config.json");
    assert_int_equal(hr_model_open_config(cfg, &c, &err), HR_OK);
    assert_int_equal(c->source, HR_SOURCE_CONFIG);
    assert_int_equal(c->n_params, m->n_params);
    assert_int_equal(c->n_bytes, m->n_bytes);
    assert_int_equal(m->n_bytes, 2 * m->n_params);
    assert_int_equal(c->n_tensors, m->n_tensors);
    for (uint32_t il = 0; il < m->n_layer; il++) {
        assert_int_equal(c->layer_bytes[il], m->layer_bytes[il]);
        assert_memory_equal(&c->layers[il], &m->layers[il], sizeof m->layers[il]);
    }
    /* hr_model_open on the directory takes the same route */
    hr_model *d = NULL;
    assert_int_equal(hr_model_open(f->dir, &d, &err), HR_OK);
    assert_int_equal(d->source, HR_SOURCE_SAFETENSORS);
    assert_int_equal(d->n_bytes, m->n_bytes);
    hr_model_free(d);
    hr_model_free(c);
    hr_model_free(m);
    stw_free_tensors(t, n);
    free(cfg);
    free(path);
}

/* Jamba's checkpoint names: its Mamba mixers' dt/B/C norms and x_proj, the
 * router, per-expert MLPs stacked */
static void test_jamba_names(void **state)
{
    fixture *f = *state;
    stw_tensor t[] = {
        {"model.embed_tokens.weight", "BF16", 2, {100, 16}},
        {"model.layers.0.mamba.dt_layernorm.weight", "F32", 1, {8}},
        {"model.layers.0.mamba.b_layernorm.weight", "F32", 1, {4}},
        {"model.layers.0.mamba.x_proj.weight", "BF16", 2, {16, 32}},
        {"model.layers.1.feed_forward.router.weight", "BF16", 2, {4, 16}},
        {"model.layers.1.feed_forward.experts.0.down_proj.weight", "BF16", 2, {16, 32}},
        {"model.layers.1.feed_forward.experts.1.down_proj.weight", "BF16", 2, {16, 32}},
    };
    char *path = tu_path(f->dir, "jamba.safetensors");
    assert_int_equal(stw_write(path, t, sizeof t / sizeof t[0], NULL, NULL), 0);
    hr_model *m = NULL;
    hr_error err;
    assert_int_equal(hr_model_open_safetensors(path, &m, &err), HR_OK);
    const struct {
        const char *gguf;
        hr_role role;
    } cases[] = {
        {"blk.0.ssm_dt_norm.weight", HR_ROLE_NORM},
        {"blk.0.ssm_b_norm.weight", HR_ROLE_NORM},
        {"blk.0.ssm_x.weight", HR_ROLE_SSM_X},
        {"blk.1.ffn_gate_inp.weight", HR_ROLE_FFN_GATE_INP},
        {"blk.1.ffn_down_exps.weight", HR_ROLE_FFN_DOWN_EXPS},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const hr_tensor *x = by_name(m, cases[i].gguf);
        if (!x)
            fail_msg("no tensor %s", cases[i].gguf);
        assert_int_equal(x->role, cases[i].role);
    }
    assert_int_equal(by_name(m, "blk.1.ffn_down_exps.weight")->ne[2], 2);
    assert_int_equal(m->n_warnings, 1); /* no config.json: inferred */
    hr_model_free(m);
    free(path);
}

static void test_moe_bert_and_unknown_names(void **state)
{
    fixture *f = *state;
    stw_tensor t[] = {
        {"model.embed_tokens.weight", "BF16", 2, {100, 16}},
        {"model.layers.0.block_sparse_moe.gate.weight", "BF16", 2, {4, 16}},
        {"model.layers.0.block_sparse_moe.experts.3.w1.weight", "BF16", 2, {32, 16}},
        {"model.layers.0.block_sparse_moe.experts.0.w1.weight", "BF16", 2, {32, 16}},
        {"model.layers.0.block_sparse_moe.experts.3.w2.weight", "BF16", 2, {16, 32}},
        {"model.layers.0.block_sparse_moe.experts.3.w3.weight", "BF16", 2, {32, 16}},
        {"model.layers.1.mlp.experts.0.gate_proj.weight", "BF16", 2, {32, 16}},
        {"model.layers.1.mlp.experts.1.gate_proj.weight", "F32", 2, {32, 16}}, /* odd one out */
        {"model.layers.1.mlp.shared_expert.down_proj.weight", "BF16", 2, {16, 32}},
        {"model.layers.1.mlp.weird_thing.weight", "F32", 1, {7}},
        {"encoder.layer.1.attention.self.query.weight", "F32", 2, {16, 16}},
        {"encoder.layer.1.output.LayerNorm.bias", "F32", 1, {16}},
        {"vision_tower.encoder.layers.9.fc1.weight", "F32", 2, {4, 4}},
        {"model.layers.0.self_attn.kv_a_proj_with_mqa.weight", "BF16", 2, {8, 16}},
        {"model.layers.1.self_attn.q_proj.qweight", "I32", 2, {2, 16}},
        {"backbone.layers.0.mixer.A_log", "F32", 2, {16, 4}},
        {"layers.0.attention.wq.weight", "BF16", 2, {16, 16}},   /* Mistral native */
        {"layers.1.feed_forward.w3.weight", "BF16", 2, {32, 16}},
        {"blocks.1.attention.receptance.weight", "F32", 2, {4, 4}}, /* RWKV */
        {"blocks.1.feed_forward.key.weight", "F32", 2, {4, 4}},
        {"model.layers.1.mlp.gate.e_score_correction_bias", "F32", 1, {4}},
    };
    char *path = tu_path(f->dir, "moe.safetensors");
    assert_int_equal(stw_write(path, t, sizeof t / sizeof t[0], NULL, NULL), 0);
    hr_model *m = NULL;
    hr_error err;
    assert_int_equal(hr_model_open_safetensors(path, &m, &err), HR_OK);
    const struct {
        const char *hf, *gguf;
        hr_role role;
        int32_t layer;
    } cases[] = {
        {"model.layers.0.block_sparse_moe.gate.weight", "blk.0.ffn_gate_inp.weight",
         HR_ROLE_FFN_GATE_INP, 0},
        /* experts stack into GGUF's 3-D tensors, as the converter writes them */
        {"model.layers.0.block_sparse_moe.experts.*.w1.weight", "blk.0.ffn_gate_exps.weight",
         HR_ROLE_FFN_GATE_EXPS, 0},
        {"model.layers.0.block_sparse_moe.experts.*.w2.weight", "blk.0.ffn_down_exps.weight",
         HR_ROLE_FFN_DOWN_EXPS, 0},
        {"model.layers.0.block_sparse_moe.experts.*.w3.weight", "blk.0.ffn_up_exps.weight",
         HR_ROLE_FFN_UP_EXPS, 0},
        /* members of different types stay split */
        {"model.layers.1.mlp.experts.0.gate_proj.weight", "blk.1.ffn_gate_exps.0.weight",
         HR_ROLE_FFN_GATE_EXPS, 1},
        {"model.layers.1.mlp.experts.1.gate_proj.weight", "blk.1.ffn_gate_exps.1.weight",
         HR_ROLE_FFN_GATE_EXPS, 1},
        {"model.layers.1.mlp.shared_expert.down_proj.weight", "blk.1.ffn_down_shexp.weight",
         HR_ROLE_FFN_DOWN_SHEXP, 1},
        {"model.layers.1.mlp.weird_thing.weight", "blk.1.mlp.weird_thing.weight",
         HR_ROLE_OTHER, 1},
        {"encoder.layer.1.attention.self.query.weight", "blk.1.attn_q.weight", HR_ROLE_ATTN_Q,
         1},
        {"encoder.layer.1.output.LayerNorm.bias", "blk.1.layer_output_norm.bias",
         HR_ROLE_BIAS, 1},
        {"vision_tower.encoder.layers.9.fc1.weight", "vision_tower.encoder.layers.9.fc1.weight",
         HR_ROLE_OTHER, HR_LAYER_INPUT},
        {"model.layers.0.self_attn.kv_a_proj_with_mqa.weight", "blk.0.attn_kv_a_mqa.weight",
         HR_ROLE_ATTN_KV_A_MQA, 0},
        {"model.layers.1.self_attn.q_proj.qweight", "blk.1.attn_q.qweight", HR_ROLE_ATTN_Q, 1},
        {"backbone.layers.0.mixer.A_log", "blk.0.ssm_a", HR_ROLE_SSM_A, 0},

        {"layers.0.attention.wq.weight", "blk.0.attn_q.weight", HR_ROLE_ATTN_Q, 0},
        {"layers.1.feed_forward.w3.weight", "blk.1.ffn_up.weight", HR_ROLE_FFN_UP, 1},
        {"blocks.1.attention.receptance.weight", "blk.1.time_mix_receptance.weight",
         HR_ROLE_TIME_MIX, 1},
        {"blocks.1.feed_forward.key.weight", "blk.1.channel_mix_key.weight",
         HR_ROLE_CHANNEL_MIX, 1},
        {"model.layers.1.mlp.gate.e_score_correction_bias", "blk.1.exp_probs_b.bias",
         HR_ROLE_BIAS, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const hr_tensor *x = by_name(m, cases[i].gguf);
        if (!x)
            fail_msg("no tensor %s", cases[i].gguf);
        assert_string_equal(x->hf_name, cases[i].hf);
        assert_int_equal(x->role, cases[i].role);
        assert_int_equal(x->layer, cases[i].layer);
    }
    const hr_tensor *gate = by_name(m, "blk.0.ffn_gate_exps.weight");
    assert_int_equal(gate->ne[0], 16);
    assert_int_equal(gate->ne[1], 32);
    assert_int_equal(gate->ne[2], 2);
    assert_int_equal(gate->n_dims, 3);
    assert_int_equal(gate->bytes, 2 * 32 * 16 * 2);
    assert_int_equal(m->n_tensors, sizeof t / sizeof t[0] - 1);
    /* no config: two layers from the block indices, width and vocab from the embedding */
    assert_int_equal(m->n_layer, 2);
    assert_int_equal(m->n_embd, 16);
    assert_int_equal(m->n_vocab, 100);
    assert_true(m->layers[0].has_kv);       /* kv_a_proj_with_mqa */
    assert_int_equal(m->layers[1].n_ff, 32); /* feed_forward.w3 */
    assert_true(m->layers[1].is_recurrent);  /* an RWKV time mix */
    assert_false(m->layers[1].has_kv);
    /* totals are unchanged by stacking; the unknown tensor still counts in layer 1 */
    uint64_t all = 0, layer1 = 0;
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        all += stw_tensor_bytes(&t[i]);
        if (strstr(t[i].name, "layers.1.") || strstr(t[i].name, "layer.1.") ||
            strstr(t[i].name, "blocks.1."))
            layer1 += stw_tensor_bytes(&t[i]);
    }
    assert_int_equal(m->n_bytes, all);
    assert_int_equal(m->layer_bytes[1], layer1);
    assert_false(has_warning(m, "share a GGUF name"));
    hr_model_free(m);
    free(path);
}

/* A small Mixtral: the checkpoint and its config.json alone agree on every
 * tensor once the experts are stacked. */
static void test_mixtral_checkpoint_matches_config(void **state)
{
    fixture *f = *state;
    const int L = 2, E = 4, e = 32, ff = 48, vocab = 64, kv = 16;
    assert_int_equal(
        stw_write_config_text(f->dir,
                              "{\"architectures\": [\"MixtralForCausalLM\"], \"model_type\": "
                              "\"mixtral\", \"hidden_size\": 32, \"intermediate_size\": 48,"
                              "\"num_attention_heads\": 4, \"num_key_value_heads\": 2,"
                              "\"num_hidden_layers\": 2, \"num_local_experts\": 4,"
                              "\"num_experts_per_tok\": 2, \"vocab_size\": 64,"
                              "\"tie_word_embeddings\": false, \"torch_dtype\": \"bfloat16\"}"),
        0);
    stw_tensor t[64];
    char names[64][96];
    size_t n = 0;
#define T(r, a, b, ...)                                                                     \
    do {                                                                                    \
        char name_[sizeof names[0]]; /* (gcc -Wrestrict: not names[] itself) */          \
        snprintf(name_, sizeof name_, __VA_ARGS__);                                         \
        memcpy(names[n], name_, sizeof name_);                                              \
        t[n] = (stw_tensor){names[n], "BF16", r, {a, b}};                                   \
        n++;                                                                                \
    } while (0)
    T(2, vocab, e, "model.embed_tokens.weight");
    for (int il = 0; il < L; il++) {
        T(1, e, 0, "model.layers.%d.input_layernorm.weight", il);
        T(2, e, e, "model.layers.%d.self_attn.q_proj.weight", il);
        T(2, kv, e, "model.layers.%d.self_attn.k_proj.weight", il);
        T(2, kv, e, "model.layers.%d.self_attn.v_proj.weight", il);
        T(2, e, e, "model.layers.%d.self_attn.o_proj.weight", il);
        T(1, e, 0, "model.layers.%d.post_attention_layernorm.weight", il);
        T(2, E, e, "model.layers.%d.block_sparse_moe.gate.weight", il);
        for (int x = 0; x < E; x++) {
            T(2, ff, e, "model.layers.%d.block_sparse_moe.experts.%d.w1.weight", il, x);
            T(2, e, ff, "model.layers.%d.block_sparse_moe.experts.%d.w2.weight", il, x);
            T(2, ff, e, "model.layers.%d.block_sparse_moe.experts.%d.w3.weight", il, x);
        }
    }
    T(1, e, 0, "model.norm.weight");
    T(2, vocab, e, "lm_head.weight");
#undef T
    assert_int_equal(stw_write_sharded(f->dir, t, n, 2), 0);
    hr_model *m = NULL, *c = NULL;
    hr_error err;
    assert_int_equal(hr_model_open(f->dir, &m, &err), HR_OK);
    char *cfg = tu_path(f->dir, "config.json");
    assert_int_equal(hr_model_open_config(cfg, &c, &err), HR_OK);
    assert_int_equal(m->n_tensors, c->n_tensors);
    assert_int_equal(m->n_params, c->n_params);
    assert_int_equal(m->n_bytes, c->n_bytes);
    for (size_t i = 0; i < c->n_tensors; i++) {
        const hr_tensor *want = &c->tensors[i];
        const hr_tensor *got = by_name(m, want->name);
        if (!got)
            fail_msg("checkpoint lacks %s", want->name);
        assert_memory_equal(got->ne, want->ne, sizeof want->ne);
        assert_int_equal(got->bytes, want->bytes);
        assert_int_equal(got->role, want->role);
    }
    assert_int_equal(m->layers[1].n_expert, 4);
    assert_false(has_warning(m, "index names"));
    hr_model_free(c);
    hr_model_free(m);
    free(cfg);
}

/* BitNet b1.58 as Hugging Face stores it: ternary weights packed four to a
 * byte along the output rows, one bf16 scale per matrix. */
/* A small DeepSeek-V2: MLA projections (kv_b split into k_b / v_b), a dense
 * lead layer, routed and shared experts; the checkpoint and the config alone
 * agree tensor by tensor. */
static void test_deepseek2_checkpoint_matches_config(void **state)
{
    fixture *f = *state;
    const int L = 3, E = 4, e = 64, heads = 4, nope = 16, rope = 8, vdim = 16, rank = 32;
    const int ff = 96, moe_ff = 24, shared = 2, vocab = 100;
    assert_int_equal(
        stw_write_config_text(
            f->dir,
            "{\"architectures\": [\"DeepseekV2ForCausalLM\"], \"model_type\": \"deepseek_v2\","
            "\"hidden_size\": 64, \"intermediate_size\": 96, \"moe_intermediate_size\": 24,"
            "\"num_attention_heads\": 4, \"num_key_value_heads\": 4, \"num_hidden_layers\": 3,"
            "\"n_routed_experts\": 4, \"n_shared_experts\": 2, \"num_experts_per_tok\": 2,"
            "\"first_k_dense_replace\": 1, \"kv_lora_rank\": 32, \"q_lora_rank\": null,"
            "\"qk_nope_head_dim\": 16, \"qk_rope_head_dim\": 8, \"v_head_dim\": 16,"
            "\"vocab_size\": 100, \"tie_word_embeddings\": false, \"torch_dtype\": \"bfloat16\"}"),
        0);
    stw_tensor t[128];
    char names[128][96];
    size_t n = 0;
#define T(r, a, b, ...)                                                                     \
    do {                                                                                    \
        char name_[sizeof names[0]]; /* (gcc -Wrestrict: not names[] itself) */          \
        snprintf(name_, sizeof name_, __VA_ARGS__);                                         \
        memcpy(names[n], name_, sizeof name_);                                              \
        t[n] = (stw_tensor){names[n], "BF16", r, {a, b}};                                   \
        n++;                                                                                \
    } while (0)
    T(2, vocab, e, "model.embed_tokens.weight");
    for (int il = 0; il < L; il++) {
        T(1, e, 0, "model.layers.%d.input_layernorm.weight", il);
        T(2, heads * (nope + rope), e, "model.layers.%d.self_attn.q_proj.weight", il);
        T(2, rank + rope, e, "model.layers.%d.self_attn.kv_a_proj_with_mqa.weight", il);
        T(1, rank, 0, "model.layers.%d.self_attn.kv_a_layernorm.weight", il);
        T(2, heads * (nope + vdim), rank, "model.layers.%d.self_attn.kv_b_proj.weight", il);
        T(2, e, heads * vdim, "model.layers.%d.self_attn.o_proj.weight", il);
        T(1, e, 0, "model.layers.%d.post_attention_layernorm.weight", il);
        if (il == 0) {
            T(2, ff, e, "model.layers.%d.mlp.gate_proj.weight", il);
            T(2, ff, e, "model.layers.%d.mlp.up_proj.weight", il);
            T(2, e, ff, "model.layers.%d.mlp.down_proj.weight", il);
            continue;
        }
        T(2, E, e, "model.layers.%d.mlp.gate.weight", il);
        for (int x = 0; x < E; x++) {
            T(2, moe_ff, e, "model.layers.%d.mlp.experts.%d.gate_proj.weight", il, x);
            T(2, moe_ff, e, "model.layers.%d.mlp.experts.%d.up_proj.weight", il, x);
            T(2, e, moe_ff, "model.layers.%d.mlp.experts.%d.down_proj.weight", il, x);
        }
        T(2, shared * moe_ff, e, "model.layers.%d.mlp.shared_experts.gate_proj.weight", il);
        T(2, shared * moe_ff, e, "model.layers.%d.mlp.shared_experts.up_proj.weight", il);
        T(2, e, shared * moe_ff, "model.layers.%d.mlp.shared_experts.down_proj.weight", il);
    }
    T(1, e, 0, "model.norm.weight");
    T(2, vocab, e, "lm_head.weight");
#undef T
    char *path = tu_path(f->dir, "model.safetensors");
    assert_int_equal(stw_write(path, t, n, NULL, NULL), 0);
    hr_model *m = NULL, *c = NULL;
    hr_error err;
    assert_int_equal(hr_model_open_safetensors(path, &m, &err), HR_OK);
    char *cfg = tu_path(f->dir, "config.json");
    assert_int_equal(hr_model_open_config(cfg, &c, &err), HR_OK);
    for (size_t i = 0; i < c->n_tensors; i++) {
        const hr_tensor *want = &c->tensors[i];
        const hr_tensor *got = by_name(m, want->name);
        if (!got)
            fail_msg("checkpoint lacks %s", want->name);
        if (memcmp(got->ne, want->ne, sizeof want->ne) != 0)
            fail_msg("%s: ne %lld,%lld,%lld vs %lld,%lld,%lld", want->name, (long long)got->ne[0],
                     (long long)got->ne[1], (long long)got->ne[2], (long long)want->ne[0],
                     (long long)want->ne[1], (long long)want->ne[2]);
        assert_int_equal(got->bytes, want->bytes);
        assert_int_equal(got->role, want->role);
    }
    assert_int_equal(m->n_tensors, c->n_tensors);
    assert_int_equal(m->n_bytes, c->n_bytes);
    assert_true(m->is_mla);
    assert_int_equal(m->layers[0].n_ff, ff);
    assert_int_equal(m->layers[2].n_expert, E);
    hr_model_free(c);
    hr_model_free(m);
    free(cfg);
    free(path);
}

/* gpt-oss as released: MXFP4 expert blocks + scales, fused gate_up, sinks,
 * biases; read in GGUF's layout it matches the config alone tensor by tensor. */
static void test_gpt_oss_checkpoint_matches_config(void **state)
{
    fixture *f = *state;
    const int L = 2, E = 4, e = 64, h = 4, kv = 2, hd = 16, F = 32, vocab = 50;
    assert_int_equal(
        stw_write_config_text(
            f->dir,
            "{\"architectures\": [\"GptOssForCausalLM\"], \"model_type\": \"gpt_oss\","
            "\"hidden_size\": 64, \"intermediate_size\": 32, \"num_attention_heads\": 4,"
            "\"num_key_value_heads\": 2, \"head_dim\": 16, \"num_hidden_layers\": 2,"
            "\"num_local_experts\": 4, \"num_experts_per_tok\": 2, \"vocab_size\": 50,"
            "\"sliding_window\": 128, \"attention_bias\": true,"
            "\"layer_types\": [\"sliding_attention\", \"full_attention\"],"
            "\"tie_word_embeddings\": false, \"torch_dtype\": \"bfloat16\","
            "\"quantization_config\": {\"quant_method\": \"mxfp4\"}}"),
        0);
    stw_tensor t[96];
    char names[96][96];
    size_t n = 0;
#define T(dt, r, a, b, c, d, ...)                                                           \
    do {                                                                                    \
        char name_[sizeof names[0]]; /* (gcc -Wrestrict: not names[] itself) */          \
        snprintf(name_, sizeof name_, __VA_ARGS__);                                         \
        memcpy(names[n], name_, sizeof name_);                                              \
        t[n] = (stw_tensor){names[n], dt, r, {a, b, c, d}};                                 \
        n++;                                                                                \
    } while (0)
    T("BF16", 2, vocab, e, 0, 0, "model.embed_tokens.weight");
    for (int il = 0; il < L; il++) {
        T("BF16", 1, e, 0, 0, 0, "model.layers.%d.input_layernorm.weight", il);
        T("BF16", 2, h * hd, e, 0, 0, "model.layers.%d.self_attn.q_proj.weight", il);
        T("BF16", 1, h * hd, 0, 0, 0, "model.layers.%d.self_attn.q_proj.bias", il);
        T("BF16", 2, kv * hd, e, 0, 0, "model.layers.%d.self_attn.k_proj.weight", il);
        T("BF16", 1, kv * hd, 0, 0, 0, "model.layers.%d.self_attn.k_proj.bias", il);
        T("BF16", 2, kv * hd, e, 0, 0, "model.layers.%d.self_attn.v_proj.weight", il);
        T("BF16", 1, kv * hd, 0, 0, 0, "model.layers.%d.self_attn.v_proj.bias", il);
        T("BF16", 2, e, h * hd, 0, 0, "model.layers.%d.self_attn.o_proj.weight", il);
        T("BF16", 1, e, 0, 0, 0, "model.layers.%d.self_attn.o_proj.bias", il);
        T("BF16", 1, h, 0, 0, 0, "model.layers.%d.self_attn.sinks", il);
        T("BF16", 1, e, 0, 0, 0, "model.layers.%d.post_attention_layernorm.weight", il);
        T("BF16", 2, E, e, 0, 0, "model.layers.%d.mlp.router.weight", il);
        T("BF16", 1, E, 0, 0, 0, "model.layers.%d.mlp.router.bias", il);
        T("U8", 4, E, 2 * F, e / 32, 16, "model.layers.%d.mlp.experts.gate_up_proj_blocks", il);
        T("U8", 3, E, 2 * F, e / 32, 0, "model.layers.%d.mlp.experts.gate_up_proj_scales", il);
        T("BF16", 2, E, 2 * F, 0, 0, "model.layers.%d.mlp.experts.gate_up_proj_bias", il);
        T("U8", 4, E, e, F / 32, 16, "model.layers.%d.mlp.experts.down_proj_blocks", il);
        T("U8", 3, E, e, F / 32, 0, "model.layers.%d.mlp.experts.down_proj_scales", il);
        T("BF16", 2, E, e, 0, 0, "model.layers.%d.mlp.experts.down_proj_bias", il);
    }
    T("BF16", 1, e, 0, 0, 0, "model.norm.weight");
    T("BF16", 2, vocab, e, 0, 0, "lm_head.weight");
#undef T
    char *path = tu_path(f->dir, "model.safetensors");
    assert_int_equal(stw_write(path, t, n, NULL, NULL), 0);
    hr_model *m = NULL, *c = NULL;
    hr_error err;
    assert_int_equal(hr_model_open_safetensors(path, &m, &err), HR_OK);
    char *cfg = tu_path(f->dir, "config.json");
    assert_int_equal(hr_model_open_config(cfg, &c, &err), HR_OK);
    for (size_t i = 0; i < c->n_tensors; i++) {
        const hr_tensor *want = &c->tensors[i];
        const hr_tensor *got = by_name(m, want->name);
        if (!got)
            fail_msg("checkpoint lacks %s", want->name);
        if (memcmp(got->ne, want->ne, sizeof want->ne) != 0 || got->type != want->type ||
            got->bytes != want->bytes)
            fail_msg("%s: ne %lld,%lld,%lld type %d bytes %llu vs %lld,%lld,%lld type %d bytes "
                     "%llu",
                     want->name, (long long)got->ne[0], (long long)got->ne[1],
                     (long long)got->ne[2], got->type, (unsigned long long)got->bytes,
                     (long long)want->ne[0], (long long)want->ne[1], (long long)want->ne[2],
                     want->type, (unsigned long long)want->bytes);
        assert_int_equal(got->role, want->role);
    }
    assert_int_equal(m->n_tensors, c->n_tensors);
    assert_int_equal(m->n_bytes, c->n_bytes);
    const hr_tensor *g = by_name(m, "blk.1.ffn_gate_exps.weight");
    assert_int_equal(g->type, HR_TYPE_MXFP4);
    assert_true(m->layers[0].is_swa);
    assert_false(m->layers[1].is_swa);
    hr_model_free(c);
    hr_model_free(m);
    free(cfg);
    free(path);
}

static void test_bitnet_checkpoint(void **state)
{
    fixture *f = *state;
    const int L = 2, e = 64, kv = 32, ff = 96, vocab = 80;
    assert_int_equal(
        stw_write_config_text(f->dir,
                              "{\"architectures\": [\"BitNetForCausalLM\"], \"model_type\": "
                              "\"bitnet\", \"hidden_size\": 64, \"intermediate_size\": 96,"
                              "\"num_attention_heads\": 4, \"num_key_value_heads\": 2,"
                              "\"num_hidden_layers\": 2, \"vocab_size\": 80,"
                              "\"tie_word_embeddings\": true, \"torch_dtype\": \"bfloat16\","
                              "\"quantization_config\": {\"quant_method\": \"bitnet\"}}"),
        0);
    stw_tensor t[64];
    char names[64][96];
    size_t n = 0;
#define T(dt, r, a, b, ...)                                                                 \
    do {                                                                                    \
        char name_[sizeof names[0]]; /* (gcc -Wrestrict: not names[] itself) */          \
        snprintf(name_, sizeof name_, __VA_ARGS__);                                         \
        memcpy(names[n], name_, sizeof name_);                                              \
        t[n] = (stw_tensor){names[n], dt, r, {a, b}};                                       \
        n++;                                                                                \
    } while (0)
#define LIN(out, in, ...)                                                                   \
    do {                                                                                    \
        T("U8", 2, (out) / 4, in, __VA_ARGS__);                                             \
        T("BF16", 1, 1, 0, "%s_scale", names[n - 1]);                                       \
    } while (0)
    T("BF16", 2, vocab, e, "model.embed_tokens.weight");
    for (int il = 0; il < L; il++) {
        T("BF16", 1, e, 0, "model.layers.%d.input_layernorm.weight", il);
        LIN(e, e, "model.layers.%d.self_attn.q_proj.weight", il);
        LIN(kv, e, "model.layers.%d.self_attn.k_proj.weight", il);
        LIN(kv, e, "model.layers.%d.self_attn.v_proj.weight", il);
        T("BF16", 1, e, 0, "model.layers.%d.self_attn.attn_sub_norm.weight", il);
        LIN(e, e, "model.layers.%d.self_attn.o_proj.weight", il);
        T("BF16", 1, e, 0, "model.layers.%d.post_attention_layernorm.weight", il);
        LIN(ff, e, "model.layers.%d.mlp.gate_proj.weight", il);
        LIN(ff, e, "model.layers.%d.mlp.up_proj.weight", il);
        T("BF16", 1, ff, 0, "model.layers.%d.mlp.ffn_sub_norm.weight", il);
        LIN(e, ff, "model.layers.%d.mlp.down_proj.weight", il);
    }
    T("BF16", 1, e, 0, "model.norm.weight");
#undef LIN
#undef T
    char *path = tu_path(f->dir, "model.safetensors");
    assert_int_equal(stw_write(path, t, n, NULL, NULL), 0);
    hr_model *m = NULL, *c = NULL;
    hr_error err;
    assert_int_equal(hr_model_open_safetensors(path, &m, &err), HR_OK);
    char *cfg = tu_path(f->dir, "config.json");
    assert_int_equal(hr_model_open_config(cfg, &c, &err), HR_OK);
    /* the packed q_proj reads as 64 -> 64 */
    const hr_tensor *q = by_name(m, "blk.1.attn_q.weight");
    assert_int_equal(q->ne[0], e);
    assert_int_equal(q->ne[1], e);
    assert_int_equal(q->bytes, e * e / 4);
    assert_non_null(by_name(m, "blk.0.attn_sub_norm.weight"));
    assert_non_null(by_name(m, "blk.0.ffn_sub_norm.weight"));
    /* the config predicts the bytes exactly; parameters differ by the 7 scales a layer */
    assert_int_equal(m->n_bytes, c->n_bytes);
    assert_int_equal(m->n_params, c->n_params + 7 * L);
    assert_string_equal(m->quant_name, "BitNet ternary (packed 2-bit) (safetensors)");
    hr_model_free(c);
    hr_model_free(m);
    free(cfg);
    free(path);
}

static void test_gemma2_norm_names(void **state)
{
    fixture *f = *state;
    assert_int_equal(
        stw_write_config_text(f->dir,
                              "{\"architectures\": [\"Gemma2ForCausalLM\"], \"model_type\": "
                              "\"gemma2\", \"hidden_size\": 8, \"intermediate_size\": 16,"
                              "\"num_attention_heads\": 2, \"num_key_value_heads\": 1,"
                              "\"head_dim\": 4, \"num_hidden_layers\": 2, \"vocab_size\": 32,"
                              "\"sliding_window\": 16, \"torch_dtype\": \"float32\"}"),
        0);
    stw_tensor t[] = {
        {"model.embed_tokens.weight", "F32", 2, {32, 8}},
        {"model.layers.1.post_attention_layernorm.weight", "F32", 1, {8}},
        {"model.layers.1.pre_feedforward_layernorm.weight", "F32", 1, {8}},
        {"model.layers.1.post_feedforward_layernorm.weight", "F32", 1, {8}},
        {"model.layers.2.mlp.up_proj.weight", "F32", 2, {16, 8}}, /* past num_hidden_layers */
    };
    char *path = tu_path(f->dir, "model.safetensors");
    assert_int_equal(stw_write(path, t, sizeof t / sizeof t[0], NULL, NULL), 0);
    hr_model *m = NULL;
    hr_error err;
    assert_int_equal(hr_model_open_safetensors(path, &m, &err), HR_OK);
    assert_string_equal(by_hf(m, t[1].name)->name, "blk.1.post_attention_norm.weight");
    assert_string_equal(by_hf(m, t[2].name)->name, "blk.1.ffn_norm.weight");
    assert_string_equal(by_hf(m, t[3].name)->name, "blk.1.post_ffw_norm.weight");
    /* a block past the config's layers keeps its HF name and is still counted */
    const hr_tensor *extra = by_hf(m, t[4].name);
    assert_string_equal(extra->name, t[4].name);
    assert_int_equal(extra->layer, HR_LAYER_INPUT);
    assert_true(has_warning(m, "past the config"));
    assert_int_equal(m->input_bytes, 32 * 8 * 4 + 16 * 8 * 4);
    /* hyperparameters still come from the config */
    assert_int_equal(m->n_layer, 2);
    assert_int_equal(m->n_swa, 16);
    assert_true(m->layers[0].is_swa);
    assert_false(m->layers[1].is_swa);
    assert_true(m->tied_output);
    hr_model_free(m);
    free(path);
}

/* A GPTQ 4-bit g32 checkpoint: every projection inside the blocks becomes
 * qweight / qzeros / scales / g_idx, as AutoGPTQ writes them. */
static void test_gptq_checkpoint(void **state)
{
    fixture *f = *state;
    hr_shape s = small_llama();
    stw_config cfg = {"LlamaForCausalLM", "llama", "float16", s,
                      "\"quantization_config\": {\"quant_method\": \"gptq\", \"bits\": 4,"
                      "\"group_size\": 32, \"desc_act\": false}"};
    assert_int_equal(stw_write_config(f->dir, &cfg), 0);
    stw_tensor *plain;
    size_t n_plain;
    assert_int_equal(stw_llama_tensors(&s, "F16", &plain, &n_plain), 0);
    stw_tensor *q = calloc(n_plain * 4, sizeof *q);
    char (*names)[160] = calloc(n_plain * 4, sizeof *names);
    size_t n = 0;
    for (size_t i = 0; i < n_plain; i++) {
        const stw_tensor *t = &plain[i];
        size_t len = strlen(t->name);
        bool proj = strstr(t->name, "layers.") && t->rank == 2;
        if (!proj) {
            q[n++] = *t;
            continue;
        }
        const int64_t N = t->shape[0], K = t->shape[1], G = K / 32;
        const char *leaf[] = {"qweight", "qzeros", "scales", "g_idx"};
        const char *dtype[] = {"I32", "I32", "F16", "I32"};
        const int64_t shapes[4][2] = {{K / 8, N}, {G, N / 8}, {G, N}, {K, 0}};
        for (int k = 0; k < 4; k++) {
            snprintf(names[n], sizeof names[n], "%.*s%s", (int)(len - strlen("weight")), t->name,
                     leaf[k]);
            q[n].name = names[n];
            q[n].dtype = dtype[k];
            q[n].rank = k == 3 ? 1 : 2;
            q[n].shape[0] = shapes[k][0];
            q[n].shape[1] = shapes[k][1];
            n++;
        }
    }
    char *path = tu_path(f->dir, "model.safetensors");
    assert_int_equal(stw_write(path, q, n, NULL, NULL), 0);
    hr_model *m = NULL, *c = NULL;
    hr_error err;
    assert_int_equal(hr_model_open_safetensors(path, &m, &err), HR_OK);
    assert_string_equal(m->quant_name, "GPTQ 4-bit g32 (safetensors)");
    assert_int_equal(m->ftype, HR_FTYPE_UNKNOWN);
    /* the packed weight reads as the 64 -> 64 projection it stands for */
    const hr_tensor *wq = by_name(m, "blk.0.attn_q.weight");
    assert_non_null(wq);
    assert_string_equal(wq->hf_name, "model.layers.0.self_attn.q_proj.qweight");
    assert_int_equal(wq->ne[0], 64);
    assert_int_equal(wq->ne[1], 64);
    assert_int_equal(wq->bytes, 64 / 8 * 64 * 4);
    const hr_tensor *wd = by_name(m, "blk.2.ffn_down.weight");
    assert_int_equal(wd->ne[0], 160);
    assert_int_equal(wd->ne[1], 64);
    /* config.json alone predicts the checkpoint to the byte */
    char *cfg_path = tu_path(f->dir, "config.json");
    assert_int_equal(hr_model_open_config(cfg_path, &c, &err), HR_OK);
    assert_int_equal(c->n_bytes, m->n_bytes);
    for (uint32_t il = 0; il < m->n_layer; il++)
        assert_int_equal(c->layer_bytes[il], m->layer_bytes[il]);
    hr_model_free(c);
    hr_model_free(m);
    free(cfg_path);
    free(path);
    free(names);
    free(q);
    stw_free_tensors(plain, n_plain);
}

/* ---------------------------------------------------------------- shards */

static void test_sharded(void **state)
{
    fixture *f = *state;
    hr_shape s = small_llama();
    s.tied_output = true;
    write_small_llama_config(f->dir, &s, "float16");
    stw_tensor *t;
    size_t n;
    assert_int_equal(stw_llama_tensors(&s, "F16", &t, &n), 0);
    assert_int_equal(stw_write_sharded(f->dir, t, n, 3), 0);
    uint64_t expect = 0;
    for (size_t i = 0; i < n; i++)
        expect += stw_tensor_bytes(&t[i]);

    const char *opens[] = {"model.safetensors.index.json", "model-00002-of-00003.safetensors",
                           ""};
    for (size_t k = 0; k < 3; k++) {
        char *p = opens[k][0] ? tu_path(f->dir, opens[k]) : strdup(f->dir);
        hr_model *m = NULL;
        hr_error err;
        assert_int_equal(hr_model_open_safetensors(p, &m, &err), HR_OK);
        assert_int_equal(m->n_files, 3);
        assert_int_equal(m->n_tensors, n);
        assert_int_equal(m->n_bytes, expect);
        assert_true(m->tied_output);
        assert_null(by_name(m, "output.weight"));
        assert_string_equal(m->quant_name, "F16 (safetensors)");
        assert_int_equal(m->ftype, HR_FTYPE_MOSTLY_F16);
        /* each tensor remembers its shard */
        const hr_tensor *emb = by_name(m, "token_embd.weight");
        assert_non_null(emb);
        assert_int_equal(emb->file_index, 0);
        assert_int_equal(by_hf(m, t[1].name)->file_index, 1);
        assert_int_equal(by_hf(m, t[2].name)->file_index, 2);
        hr_model_free(m);
        free(p);
    }
    /* through the generic entry point too */
    hr_model *m = NULL;
    hr_error err;
    assert_int_equal(hr_model_open(f->dir, &m, &err), HR_OK);
    assert_int_equal(m->n_bytes, expect);
    hr_model_free(m);

    /* sibling shards without an index still open as a set */
    char *index = tu_path(f->dir, "model.safetensors.index.json");
    assert_int_equal(remove(index), 0);
    char *shard = tu_path(f->dir, "model-00003-of-00003.safetensors");
    assert_int_equal(hr_model_open_safetensors(shard, &m, &err), HR_OK);
    assert_int_equal(m->n_files, 3);
    assert_int_equal(m->n_bytes, expect);
    hr_model_free(m);
    /* ... and a missing sibling is named */
    char *gone = tu_path(f->dir, "model-00002-of-00003.safetensors");
    assert_int_equal(remove(gone), 0);
    assert_int_not_equal(hr_model_open_safetensors(shard, &m, &err), HR_OK);
    assert_null(m);
    assert_non_null(strstr(err.message, "model-00002-of-00003.safetensors"));
    free(gone);
    free(shard);
    free(index);
    stw_free_tensors(t, n);
}

static void test_missing_shard(void **state)
{
    fixture *f = *state;
    stw_tensor t[] = {{"model.embed_tokens.weight", "F32", 2, {10, 4}}};
    char *p1 = tu_path(f->dir, "model-00001-of-00002.safetensors");
    assert_int_equal(stw_write(p1, t, 1, NULL, NULL), 0);
    const char *names[] = {"model.embed_tokens.weight", "model.norm.weight"};
    const char *files[] = {"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"};
    assert_int_equal(stw_write_index(f->dir, names, files, 2), 0);
    hr_model *m = NULL;
    hr_error err;
    assert_int_equal(hr_model_open(f->dir, &m, &err), HR_ERR_IO);
    assert_null(m);
    assert_non_null(strstr(err.message, "model-00002-of-00002.safetensors"));
    assert_non_null(strstr(err.message, "is missing"));
    /* opening the present shard reports the broken set as well */
    assert_int_equal(hr_model_open_safetensors(p1, &m, &err), HR_ERR_IO);
    assert_non_null(strstr(err.message, "model-00002-of-00002.safetensors"));
    free(p1);
}

static void test_huge_index_one_missing_file(void **state)
{
    fixture *f = *state;
    /* 10^6 weight_map entries, all naming one absent shard: de-duplication
     * keeps this linear, and the error names the file */
    const size_t n = 1000000;
    size_t cap = n * 40 + 64;
    char *json = malloc(cap);
    size_t len = (size_t)snprintf(json, cap, "{\"weight_map\": {");
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(json + len, cap - len, "%s\"t%zu\": \"gone.safetensors\"",
                                i ? "," : "", i);
    len += (size_t)snprintf(json + len, cap - len, "}}");
    char *index = tu_path(f->dir, "model.safetensors.index.json");
    assert_int_equal(tu_write_file(index, json, len), 0);
    free(json);
    /* (no wall-clock assertion: speed is the benchmarks' business, and
     * valgrind runs this test too) */
    hr_model *m = NULL;
    hr_error err;
    assert_int_equal(hr_model_open_safetensors(index, &m, &err), HR_ERR_IO);
    assert_non_null(strstr(err.message, "gone.safetensors"));
    assert_non_null(strstr(err.message, "1000000 tensors"));
    free(index);
}

/* ------------------------------------------------------------- corrupt */

static void expect_error(const char *path, hr_status want, const char *needle)
{
    hr_model *m = NULL;
    hr_error err;
    hr_error_clear(&err);
    hr_status st = hr_model_open_safetensors(path, &m, &err);
    assert_int_equal(st, want);
    assert_null(m);
    assert_non_null(strstr(err.message, path));
    if (needle && !strstr(err.message, needle))
        fail_msg("'%s' lacks '%s'", err.message, needle);
    assert_null(strchr(err.message, '\n'));
}

static void test_corrupt_files(void **state)
{
    fixture *f = *state;
    char *p = tu_path(f->dir, "bad.safetensors");
    const char *ok_entry = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}";

    /* header length beyond the file */
    assert_int_equal(stw_write_raw(p, 4096, ok_entry, 0), 0);
    expect_error(p, HR_ERR_FORMAT, "past the end");
    /* header length over the format's 100 MB cap (file big enough: the cap decides) */
    assert_int_equal(stw_write_raw(p, 100000001ull, ok_entry, 200000000ull), 0);
    expect_error(p, HR_ERR_LIMIT, "100000001");
    /* too short for the length field */
    assert_int_equal(tu_write_file(p, "abc", 3), 0);
    expect_error(p, HR_ERR_FORMAT, "too short");
    /* invalid JSON */
    const char *junk = "{\"w\": {\"dtype\": \"F32\", ";
    assert_int_equal(stw_write_raw(p, strlen(junk), junk, 0), 0);
    expect_error(p, HR_ERR_FORMAT, "not valid JSON");
    /* data past the end of the file */
    assert_int_equal(stw_write_raw(p, strlen(ok_entry), ok_entry, 8 + strlen(ok_entry) + 8), 0);
    expect_error(p, HR_ERR_FORMAT, "'w'");
    /* offsets that disagree with dtype x shape */
    const char *mismatch = "{\"w\":{\"dtype\":\"BF16\",\"shape\":[2,2],\"data_offsets\":[0,16]}}";
    assert_int_equal(stw_write_raw(p, strlen(mismatch), mismatch, 8 + strlen(mismatch) + 16), 0);
    expect_error(p, HR_ERR_FORMAT, "BF16");
    /* F4 with an odd element count cannot fill whole bytes */
    const char *f4 = "{\"w\":{\"dtype\":\"F4\",\"shape\":[3],\"data_offsets\":[0,1]}}";
    assert_int_equal(stw_write_raw(p, strlen(f4), f4, 8 + strlen(f4) + 2), 0);
    expect_error(p, HR_ERR_FORMAT, "F4");
    /* begin > end, unknown dtype, negative and fractional dims */
    const char *rev = "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}";
    assert_int_equal(stw_write_raw(p, strlen(rev), rev, 8 + strlen(rev) + 16), 0);
    expect_error(p, HR_ERR_FORMAT, "data_offsets");
    const char *dt = "{\"w\":{\"dtype\":\"Q4_K\",\"shape\":[1],\"data_offsets\":[0,4]}}";
    assert_int_equal(stw_write_raw(p, strlen(dt), dt, 8 + strlen(dt) + 16), 0);
    expect_error(p, HR_ERR_FORMAT, "unknown dtype");
    const char *neg = "{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}";
    assert_int_equal(stw_write_raw(p, strlen(neg), neg, 8 + strlen(neg) + 16), 0);
    expect_error(p, HR_ERR_FORMAT, "shape");
    const char *frac = "{\"w\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}";
    assert_int_equal(stw_write_raw(p, strlen(frac), frac, 8 + strlen(frac) + 16), 0);
    expect_error(p, HR_ERR_FORMAT, "shape");
    /* element count overflow */
    const char *big = "{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4],"
                      "\"data_offsets\":[0,4]}}";
    assert_int_equal(stw_write_raw(p, strlen(big), big, 8 + strlen(big) + 16), 0);
    expect_error(p, HR_ERR_LIMIT, "overflow");
    /* two tensors claiming the same bytes */
    const char *overlap = "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
                          "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}";
    assert_int_equal(stw_write_raw(p, strlen(overlap), overlap, 8 + strlen(overlap) + 16), 0);
    expect_error(p, HR_ERR_FORMAT, "overlaps");
    /* the same name twice (cJSON keeps duplicate keys) */
    const char *dup = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                      "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}";
    assert_int_equal(stw_write_raw(p, strlen(dup), dup, 8 + strlen(dup) + 16), 0);
    expect_error(p, HR_ERR_FORMAT, "appears twice");
    /* a block index no model has: the layer limit, naming the file */
    const char *deep = "{\"model.layers.999999.mlp.up_proj.weight\":{\"dtype\":\"F32\","
                       "\"shape\":[1],\"data_offsets\":[0,4]}}";
    assert_int_equal(stw_write_raw(p, strlen(deep), deep, 8 + strlen(deep) + 4), 0);
    expect_error(p, HR_ERR_LIMIT, "layer");
    /* not an object / missing fields */
    const char *arr = "[1,2,3]";
    assert_int_equal(stw_write_raw(p, strlen(arr), arr, 0), 0);
    expect_error(p, HR_ERR_FORMAT, "not a JSON object");
    const char *nofield = "{\"w\":{\"dtype\":\"F32\"}}";
    assert_int_equal(stw_write_raw(p, strlen(nofield), nofield, 0), 0);
    expect_error(p, HR_ERR_FORMAT, "lacks");
    free(p);
}

/* Every truncation and a thousand byte flips of a valid file: each open
 * returns a status (the sanitizer builds catch any stray read). */
static void test_mutations(void **state)
{
    fixture *f = *state;
    stw_tensor t[] = {
        {"model.embed_tokens.weight", "BF16", 2, {8, 4}},
        {"model.layers.0.self_attn.q_proj.weight", "F8_E4M3", 2, {4, 4}},
        {"model.layers.0.mlp.experts.1.up_proj.weight", "F4", 3, {2, 2, 4}},
    };
    char *path = tu_path(f->dir, "m.safetensors");
    assert_int_equal(stw_write(path, t, 3, "{\"format\": \"pt\"}", NULL), 0);
    size_t len = 0;
    unsigned char *orig = (unsigned char *)tu_read_file(path, &len);
    assert_non_null(orig);
    hr_model *m = NULL;
    hr_error err;
    assert_int_equal(hr_model_open_safetensors(path, &m, &err), HR_OK);
    hr_model_free(m);
    int ok = 0;
    for (size_t cut = 0; cut < len; cut++) {
        assert_int_equal(tu_write_file(path, orig, cut), 0);
        if (hr_model_open_safetensors(path, &m, &err) == HR_OK) {
            ok++;
            hr_model_free(m);
        } else {
            assert_null(m);
            assert_non_null(strstr(err.message, path));
        }
    }
    assert_int_equal(ok, 0); /* any cut loses data or header */
    unsigned char *buf = malloc(len);
    uint32_t seed = 12345;
    for (int round = 0; round < 1000; round++) {
        memcpy(buf, orig, len);
        for (int k = 0; k < 1 + round % 3; k++) {
            seed = seed * 1103515245u + 12345u;
            size_t at = (seed >> 8) % len;
            seed = seed * 1103515245u + 12345u;
            buf[at] = (unsigned char)(seed >> 16);
        }
        assert_int_equal(tu_write_file(path, buf, len), 0);
        if (hr_model_open_safetensors(path, &m, &err) == HR_OK)
            hr_model_free(m);
        else
            assert_null(m);
    }
    free(buf);
    free(orig);
    free(path);
}

static void test_bad_index(void **state)
{
    fixture *f = *state;
    char *index = tu_path(f->dir, "model.safetensors.index.json");
    assert_int_equal(tu_write_text(index, "{\"weight_map\": [1]}"), 0);
    expect_error(index, HR_ERR_FORMAT, "weight_map");
    assert_int_equal(tu_write_text(index, "{\"weight_map\": {\"a\": \"../etc/x.safetensors\"}}"),
                     0);
    expect_error(index, HR_ERR_FORMAT, "not a shard file name");
    assert_int_equal(tu_write_text(index, "{\"weight_map\": {}}"), 0);
    expect_error(index, HR_ERR_FORMAT, "empty");
    assert_int_equal(tu_write_text(index, "{\"weight_map\": "), 0);
    expect_error(index, HR_ERR_FORMAT, "JSON");
    free(index);
}

static void test_name_collision_warns(void **state)
{
    fixture *f = *state;
    stw_tensor t[] = {
        {"model.layers.0.mlp.up_proj.weight", "F16", 2, {8, 4}},
        {"model.layers.0.mlp.fc1.weight", "F16", 2, {8, 4}},
    };
    char *p = tu_path(f->dir, "c.safetensors");
    assert_int_equal(stw_write(p, t, 2, NULL, NULL), 0);
    hr_model *m = NULL;
    hr_error err;
    assert_int_equal(hr_model_open_safetensors(p, &m, &err), HR_OK);
    assert_true(has_warning(m, "share a GGUF name"));
    assert_int_equal(m->n_bytes, 2 * 8 * 4 * 2);
    hr_model_free(m);
    free(p);
}

static void test_bad_config_beside(void **state)
{
    fixture *f = *state;
    stw_tensor t[] = {{"model.embed_tokens.weight", "F32", 2, {10, 4}}};
    char *p = tu_path(f->dir, "model.safetensors");
    assert_int_equal(stw_write(p, t, 1, NULL, NULL), 0);
    assert_int_equal(stw_write_config_text(f->dir, "{\"num_hidden_layers\": "), 0);
    hr_model *m = NULL;
    hr_error err;
    assert_int_equal(hr_model_open_safetensors(p, &m, &err), HR_ERR_FORMAT);
    assert_non_null(strstr(err.message, "config.json"));
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_every_dtype, setup, teardown),
        cmocka_unit_test_setup_teardown(test_llama_names_with_config, setup, teardown),
        cmocka_unit_test_setup_teardown(test_jamba_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_moe_bert_and_unknown_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mixtral_checkpoint_matches_config, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deepseek2_checkpoint_matches_config, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_gpt_oss_checkpoint_matches_config, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bitnet_checkpoint, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gemma2_norm_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gptq_checkpoint, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sharded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_shard, setup, teardown),
        cmocka_unit_test_setup_teardown(test_huge_index_one_missing_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mutations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_index, setup, teardown),
        cmocka_unit_test_setup_teardown(test_name_collision_warns, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_config_beside, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
