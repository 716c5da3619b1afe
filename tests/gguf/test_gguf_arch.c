/* Architecture-specific descriptions from GGUF metadata: MLA (deepseek2),
 * sliding-window patterns (gemma2/gemma3/cohere2/gpt-oss/arrays), MoE layers,
 * recurrent models, encoders, unknown architectures. */
#include "gguf_fixture.h"

/* DeepSeek-V2-Lite's published shape (shared/reference/formats.md). */
static gguf_writer *deepseek2_lite(bool new_mla_keys)
{
    gguf_writer *w = gguf_writer_new(3);
    fx_add_shape(w, "deepseek2", 27, 2048, 16, 16, 10944);
    gguf_writer_add_u32(w, "general.file_type", HR_FTYPE_MOSTLY_Q4_K_M);
    gguf_writer_add_u32(w, "deepseek2.vocab_size", 102400);
    gguf_writer_add_u32(w, "deepseek2.rope.dimension_count", 64);
    gguf_writer_add_u32(w, "deepseek2.attention.kv_lora_rank", 512);
    if (new_mla_keys) {
        /* converters since the MLA rework write the cache dims and the _mla keys */
        gguf_writer_add_u32(w, "deepseek2.attention.key_length", 576);
        gguf_writer_add_u32(w, "deepseek2.attention.value_length", 512);
        gguf_writer_add_u32(w, "deepseek2.attention.key_length_mla", 192);
        gguf_writer_add_u32(w, "deepseek2.attention.value_length_mla", 128);
    } else {
        gguf_writer_add_u32(w, "deepseek2.attention.key_length", 192);
        gguf_writer_add_u32(w, "deepseek2.attention.value_length", 128);
    }
    gguf_writer_add_u32(w, "deepseek2.expert_count", 64);
    gguf_writer_add_u32(w, "deepseek2.expert_used_count", 6);
    gguf_writer_add_u32(w, "deepseek2.expert_shared_count", 2);
    gguf_writer_add_u32(w, "deepseek2.expert_feed_forward_length", 1408);
    gguf_writer_add_u32(w, "deepseek2.leading_dense_block_count", 1);
    int64_t embd[2] = {2048, 102400}, kv_a[2] = {2048, 576}, kv_b[2] = {512, 16 * (128 + 128)};
    gguf_writer_add_tensor(w, "token_embd.weight", HR_TYPE_Q4_K, 2, embd);
    gguf_writer_add_tensor(w, "blk.0.attn_kv_a_mqa.weight", HR_TYPE_Q4_K, 2, kv_a);
    gguf_writer_add_tensor(w, "blk.0.attn_kv_b.weight", HR_TYPE_Q4_K, 2, kv_b);
    gguf_writer_add_tensor(w, "output.weight", HR_TYPE_Q6_K, 2, embd);
    return w;
}

static void check_deepseek2(const hr_model *m)
{
    assert_int_equal(m->arch, HR_ARCH_DEEPSEEK2);
    assert_true(m->is_mla);
    assert_int_equal(m->n_lora_kv, 512);
    assert_int_equal(m->n_rot, 64);
    assert_int_equal(m->n_vocab, 102400);
    assert_int_equal(m->n_head, 16);
    assert_int_equal(m->n_head_kv, 1);
    assert_int_equal(m->n_embd_head_k, 576);
    assert_int_equal(m->n_embd_head_v, 512);
    assert_int_equal(m->n_expert, 64);
    assert_int_equal(m->n_ff_exp, 1408);
    assert_int_equal(m->n_ff_shexp, 2 * 1408);
    assert_int_equal(m->n_layer_dense_lead, 1);
    assert_int_equal(m->n_ff, 10944);
    for (uint32_t l = 0; l < 27; l++) {
        const hr_layer *L = &m->layers[l];
        assert_int_equal(L->n_head, 16);
        assert_int_equal(L->n_head_kv, 1);
        assert_int_equal(L->n_embd_head_k, 576);
        assert_int_equal(L->n_embd_head_v, 512);
        assert_true(L->has_kv);
        if (l == 0) {
            assert_int_equal(L->n_ff, 10944);
            assert_int_equal(L->n_expert, 0);
        } else {
            assert_int_equal(L->n_ff, 0);
            assert_int_equal(L->n_expert, 64);
            assert_int_equal(L->n_expert_used, 6);
            assert_int_equal(L->n_expert_shared, 2);
            assert_int_equal(L->n_ff_exp, 1408);
        }
    }
}

static void test_deepseek2_mla(void **state)
{
    (void)state;
    hr_model *m;
    hr_error err;
    assert_int_equal(fx_write_open(deepseek2_lite(false), "ds2-old.gguf", &m, &err, NULL), HR_OK);
    check_deepseek2(m);
    /* the writer's from-model copy reads back the same */
    char *copy = tu_path(fx_dir, "ds2-copy.gguf");
    assert_int_equal(gguf_writer_from_model(m, copy), 0);
    hr_model_free(m);
    assert_int_equal(hr_model_open_gguf(copy, &m, &err), HR_OK);
    check_deepseek2(m);
    hr_model_free(m);
    free(copy);
    assert_int_equal(fx_write_open(deepseek2_lite(true), "ds2-new.gguf", &m, &err, NULL), HR_OK);
    check_deepseek2(m);
    hr_model_free(m);
}

static hr_model *open_swa(const char *arch, uint32_t n_layer, bool with_window, const char *name)
{
    gguf_writer *w = gguf_writer_new(3);
    fx_add_shape(w, arch, n_layer, 512, 8, 4, 1024);
    if (with_window)
        gguf_writer_add_u32(w, fx_key(arch, "attention.sliding_window"), 1024);
    hr_model *m;
    hr_error err;
    assert_int_equal(fx_write_open(w, name, &m, &err, NULL), HR_OK);
    return m;
}

static void test_gemma2_swa(void **state)
{
    (void)state;
    gguf_writer *w = gguf_writer_new(3);
    fx_add_shape(w, "gemma2", 42, 3584, 16, 8, 14336);
    gguf_writer_add_u32(w, "gemma2.attention.key_length", 256);
    gguf_writer_add_u32(w, "gemma2.attention.value_length", 256);
    gguf_writer_add_u32(w, "gemma2.attention.sliding_window", 4096);
    gguf_writer_add_f32(w, "gemma2.attn_logit_softcapping", 50.0f);
    gguf_writer_add_f32(w, "gemma2.final_logit_softcapping", 30.0f);
    hr_model *m;
    hr_error err;
    assert_int_equal(fx_write_open(w, "gemma2.gguf", &m, &err, NULL), HR_OK);
    assert_int_equal(m->arch, HR_ARCH_GEMMA2);
    assert_int_equal(m->n_swa, 4096);
    assert_int_equal(m->swa_pattern, 2);
    assert_true(m->attn_logit_softcap == 50.0f);
    assert_true(m->final_logit_softcap == 30.0f);
    assert_int_equal(m->n_embd_head_k, 256);
    int n_swa_layers = 0;
    for (uint32_t l = 0; l < 42; l++) {
        assert_int_equal(m->layers[l].is_swa, l % 2 == 0);
        assert_true(m->layers[l].has_kv);
        n_swa_layers += m->layers[l].is_swa;
    }
    assert_int_equal(n_swa_layers, 21);
    hr_model_free(m);

    /* gemma2 without the key: llama.cpp's default window of 4096 */
    m = open_swa("gemma2", 4, false, "gemma2-nokey.gguf");
    assert_int_equal(m->n_swa, 4096);
    assert_true(m->layers[0].is_swa);
    assert_false(m->layers[1].is_swa);
    hr_model_free(m);
}

static void test_other_swa_patterns(void **state)
{
    (void)state;
    hr_model *m = open_swa("gemma3", 12, true, "gemma3.gguf");
    assert_int_equal(m->swa_pattern, 6);
    for (uint32_t l = 0; l < 12; l++)
        assert_int_equal(m->layers[l].is_swa, l % 6 != 5);
    hr_model_free(m);
    m = open_swa("gemma3n", 10, true, "gemma3n.gguf");
    assert_int_equal(m->swa_pattern, 5);
    for (uint32_t l = 0; l < 10; l++)
        assert_int_equal(m->layers[l].is_swa, l % 5 != 4);
    hr_model_free(m);
    m = open_swa("cohere2", 8, true, "cohere2.gguf");
    for (uint32_t l = 0; l < 8; l++)
        assert_int_equal(m->layers[l].is_swa, l % 4 != 3);
    hr_model_free(m);
    m = open_swa("gpt-oss", 4, true, "gpt-oss.gguf");
    for (uint32_t l = 0; l < 4; l++)
        assert_int_equal(m->layers[l].is_swa, l % 2 == 0);
    hr_model_free(m);
    /* llama with a window but no pattern: llama.cpp does not use it */
    m = open_swa("llama", 4, true, "llama-window.gguf");
    for (uint32_t l = 0; l < 4; l++)
        assert_false(m->layers[l].is_swa);
    hr_model_free(m);

    /* a per-layer bool pattern overrides the architecture default */
    gguf_writer *w = gguf_writer_new(3);
    fx_add_shape(w, "gemma3", 5, 512, 8, 4, 1024);
    gguf_writer_add_u32(w, "gemma3.attention.sliding_window", 512);
    const bool pattern[5] = {false, true, true, false, true};
    gguf_writer_add_array(w, "gemma3.attention.sliding_window_pattern", GW_BOOL, pattern, 5);
    hr_error err;
    assert_int_equal(fx_write_open(w, "bool-pattern.gguf", &m, &err, NULL), HR_OK);
    for (uint32_t l = 0; l < 5; l++)
        assert_int_equal(m->layers[l].is_swa, pattern[l]);
    hr_model_free(m);

    /* a scalar pattern key on another architecture */
    w = gguf_writer_new(3);
    fx_add_shape(w, "llama", 6, 512, 8, 4, 1024);
    gguf_writer_add_u32(w, "llama.attention.sliding_window", 256);
    gguf_writer_add_u32(w, "llama.attention.sliding_window_pattern", 3);
    assert_int_equal(fx_write_open(w, "scalar-pattern.gguf", &m, &err, NULL), HR_OK);
    for (uint32_t l = 0; l < 6; l++)
        assert_int_equal(m->layers[l].is_swa, l % 3 != 2);
    assert_int_equal(m->swa_pattern, 3);
    hr_model_free(m);
}

/* MoE layers follow the router tensors when the file has them. */
static void test_moe_layers(void **state)
{
    (void)state;
    gguf_writer *w = gguf_writer_new(3);
    fx_add_shape(w, "llama", 4, 256, 4, 4, 512); /* Mixtral-style: experts of feed_forward_length */
    gguf_writer_add_u32(w, "llama.expert_count", 8);
    gguf_writer_add_u32(w, "llama.expert_used_count", 2);
    int64_t router[2] = {256, 8}, up[2] = {256, 512};
    gguf_writer_add_tensor(w, "blk.1.ffn_gate_inp.weight", HR_TYPE_F32, 2, router);
    gguf_writer_add_tensor(w, "blk.3.ffn_gate_inp.weight", HR_TYPE_F32, 2, router);
    gguf_writer_add_tensor(w, "blk.0.ffn_up.weight", HR_TYPE_F16, 2, up);
    hr_model *m;
    hr_error err;
    assert_int_equal(fx_write_open(w, "moe.gguf", &m, &err, NULL), HR_OK);
    assert_int_equal(m->n_ff_exp, 512);
    for (uint32_t l = 0; l < 4; l++) {
        bool moe = l == 1 || l == 3;
        assert_int_equal(m->layers[l].n_expert, moe ? 8 : 0);
        assert_int_equal(m->layers[l].n_expert_used, moe ? 2 : 0);
        assert_int_equal(m->layers[l].n_ff, moe ? 0 : 512);
        assert_int_equal(m->layers[l].n_ff_exp, moe ? 512 : 0);
    }
    hr_model_free(m);
}

static void test_recurrent_and_encoders(void **state)
{
    (void)state;
    gguf_writer *w = gguf_writer_new(3);
    gguf_writer_add_string(w, "general.architecture", "mamba");
    gguf_writer_add_u32(w, "mamba.block_count", 3);
    gguf_writer_add_u32(w, "mamba.embedding_length", 768);
    gguf_writer_add_u32(w, "mamba.ssm.conv_kernel", 4);
    gguf_writer_add_u32(w, "mamba.ssm.inner_size", 1536);
    gguf_writer_add_u32(w, "mamba.ssm.state_size", 16);
    gguf_writer_add_u32(w, "mamba.ssm.time_step_rank", 48);
    hr_model *m;
    hr_error err;
    assert_int_equal(fx_write_open(w, "mamba.gguf", &m, &err, NULL), HR_OK);
    assert_int_equal(m->ssm_d_conv, 4);
    assert_int_equal(m->ssm_d_inner, 1536);
    assert_int_equal(m->ssm_d_state, 16);
    assert_int_equal(m->ssm_dt_rank, 48);
    for (uint32_t l = 0; l < 3; l++) {
        assert_true(m->layers[l].is_recurrent);
        assert_false(m->layers[l].has_kv);
    }
    hr_model_free(m);

    w = gguf_writer_new(3);
    gguf_writer_add_string(w, "general.architecture", "rwkv6");
    gguf_writer_add_u32(w, "rwkv6.block_count", 2);
    gguf_writer_add_u32(w, "rwkv6.embedding_length", 2048);
    gguf_writer_add_u32(w, "rwkv6.wkv.head_size", 64);
    assert_int_equal(fx_write_open(w, "rwkv6.gguf", &m, &err, NULL), HR_OK);
    assert_int_equal(m->rwkv_head_size, 64);
    assert_true(m->layers[1].is_recurrent);
    hr_model_free(m);

    /* a hybrid of an architecture headroom does not know: recurrent where
     * head_count_kv is 0, generic keys */
    w = gguf_writer_new(3);
    gguf_writer_add_string(w, "general.architecture", "plamo2");
    gguf_writer_add_u32(w, "plamo2.block_count", 4);
    gguf_writer_add_u32(w, "plamo2.embedding_length", 512);
    gguf_writer_add_u32(w, "plamo2.attention.head_count", 8);
    const uint32_t kv[4] = {0, 0, 2, 0};
    gguf_writer_add_array(w, "plamo2.attention.head_count_kv", GW_UINT32, kv, 4);
    gguf_writer_add_u32(w, "plamo2.ssm.state_size", 128);
    gguf_writer_add_u32(w, "plamo2.ssm.inner_size", 1024);
    assert_int_equal(fx_write_open(w, "hybrid.gguf", &m, &err, NULL), HR_OK);
    assert_int_equal(m->arch, HR_ARCH_UNKNOWN);
    assert_int_equal(m->n_warnings, 1);
    assert_non_null(strstr(m->warnings[0], "plamo2"));
    for (uint32_t l = 0; l < 4; l++) {
        assert_int_equal(m->layers[l].is_recurrent, kv[l] == 0);
        assert_int_equal(m->layers[l].has_kv, kv[l] != 0);
    }
    assert_true(m->embedding_scale == 0.0f && !m->no_rope); /* Granite's keys only */
    hr_model_free(m);

    /* Nemotron-H: no KV heads in its FFN-only layers either; a layer is
     * recurrent when it has neither KV heads nor an FFN */
    w = gguf_writer_new(3);
    gguf_writer_add_string(w, "general.architecture", "nemotron_h");
    gguf_writer_add_u32(w, "nemotron_h.block_count", 4);
    gguf_writer_add_u32(w, "nemotron_h.embedding_length", 512);
    gguf_writer_add_u32(w, "nemotron_h.attention.head_count", 8);
    gguf_writer_add_array(w, "nemotron_h.attention.head_count_kv", GW_UINT32, kv, 4);
    const uint32_t ff[4] = {0, 1024, 0, 0};
    gguf_writer_add_array(w, "nemotron_h.feed_forward_length", GW_UINT32, ff, 4);
    gguf_writer_add_u32(w, "nemotron_h.ssm.state_size", 128);
    gguf_writer_add_u32(w, "nemotron_h.ssm.inner_size", 1024);
    assert_int_equal(fx_write_open(w, "nemotron.gguf", &m, &err, NULL), HR_OK);
    assert_int_equal(m->arch, HR_ARCH_NEMOTRON_H);
    assert_true(m->layers[0].is_recurrent && m->layers[3].is_recurrent);
    assert_false(m->layers[1].is_recurrent); /* the FFN-only layer */
    assert_false(m->layers[1].has_kv);
    assert_int_equal(m->layers[1].n_ff, 1024);
    assert_true(m->layers[2].has_kv && !m->layers[2].is_recurrent);
    hr_model_free(m);

    /* LFM2: its short-convolution layers are those without KV heads, even
     * when one 0 stands for every layer */
    w = gguf_writer_new(3);
    gguf_writer_add_string(w, "general.architecture", "lfm2");
    gguf_writer_add_u32(w, "lfm2.block_count", 2);
    gguf_writer_add_u32(w, "lfm2.embedding_length", 512);
    gguf_writer_add_u32(w, "lfm2.attention.head_count", 8);
    gguf_writer_add_u32(w, "lfm2.attention.head_count_kv", 0);
    gguf_writer_add_u32(w, "lfm2.shortconv.l_cache", 3);
    assert_int_equal(fx_write_open(w, "lfm2.gguf", &m, &err, NULL), HR_OK);
    assert_int_equal(m->arch, HR_ARCH_LFM2);
    assert_int_equal(m->shortconv_l_cache, 3);
    assert_true(m->layers[0].is_recurrent && m->layers[1].is_recurrent);
    hr_model_free(m);

    /* Falcon-H1: every layer a Mamba-2 mixer and attention (state and KV) */
    w = gguf_writer_new(3);
    gguf_writer_add_string(w, "general.architecture", "falcon-h1");
    gguf_writer_add_u32(w, "falcon-h1.block_count", 2);
    gguf_writer_add_u32(w, "falcon-h1.embedding_length", 512);
    gguf_writer_add_u32(w, "falcon-h1.attention.head_count", 8);
    gguf_writer_add_u32(w, "falcon-h1.attention.head_count_kv", 2);
    gguf_writer_add_u32(w, "falcon-h1.ssm.state_size", 128);
    gguf_writer_add_u32(w, "falcon-h1.ssm.inner_size", 1024);
    assert_int_equal(fx_write_open(w, "falcon.gguf", &m, &err, NULL), HR_OK);
    assert_int_equal(m->arch, HR_ARCH_FALCON_H1);
    for (uint32_t l = 0; l < 2; l++) {
        assert_true(m->layers[l].is_recurrent && m->layers[l].has_kv);
        assert_int_equal(m->layers[l].n_head_kv, 2);
    }
    hr_model_free(m);

    /* Qwen3.5: attention every full_attention_interval-th layer, or as the
     * converter's attention.recurrent_layers says */
    w = gguf_writer_new(3);
    gguf_writer_add_string(w, "general.architecture", "qwen35");
    gguf_writer_add_u32(w, "qwen35.block_count", 4);
    gguf_writer_add_u32(w, "qwen35.embedding_length", 512);
    gguf_writer_add_u32(w, "qwen35.attention.head_count", 8);
    gguf_writer_add_u32(w, "qwen35.attention.head_count_kv", 2);
    gguf_writer_add_u32(w, "qwen35.ssm.state_size", 128);
    gguf_writer_add_u32(w, "qwen35.ssm.inner_size", 1024);
    gguf_writer_add_u32(w, "qwen35.full_attention_interval", 2);
    assert_int_equal(fx_write_open(w, "qwen35.gguf", &m, &err, NULL), HR_OK);
    assert_int_equal(m->arch, HR_ARCH_QWEN35);
    for (uint32_t l = 0; l < 4; l++) {
        assert_int_equal(m->layers[l].is_recurrent, l % 2 == 0);
        assert_int_equal(m->layers[l].has_kv, l % 2 == 1);
    }
    hr_model_free(m);
    w = gguf_writer_new(3);
    gguf_writer_add_string(w, "general.architecture", "qwen35");
    gguf_writer_add_u32(w, "qwen35.block_count", 4);
    gguf_writer_add_u32(w, "qwen35.embedding_length", 512);
    gguf_writer_add_u32(w, "qwen35.attention.head_count", 8);
    gguf_writer_add_u32(w, "qwen35.ssm.state_size", 128);
    const bool recr[4] = {true, false, false, true};
    gguf_writer_add_array(w, "qwen35.attention.recurrent_layers", GW_BOOL, recr, 4);
    assert_int_equal(fx_write_open(w, "qwen35b.gguf", &m, &err, NULL), HR_OK);
    for (uint32_t l = 0; l < 4; l++)
        assert_int_equal(m->layers[l].is_recurrent, recr[l]);
    hr_model_free(m);

    /* Qwen3-Next: the same layers (default interval 4), beta and alpha fused */
    w = gguf_writer_new(3);
    gguf_writer_add_string(w, "general.architecture", "qwen3next");
    gguf_writer_add_u32(w, "qwen3next.block_count", 4);
    gguf_writer_add_u32(w, "qwen3next.embedding_length", 512);
    gguf_writer_add_u32(w, "qwen3next.attention.head_count", 8);
    gguf_writer_add_u32(w, "qwen3next.attention.head_count_kv", 2);
    gguf_writer_add_u32(w, "qwen3next.ssm.state_size", 128);
    gguf_writer_add_u32(w, "qwen3next.ssm.inner_size", 1024);
    assert_int_equal(fx_write_open(w, "qwen3next.gguf", &m, &err, NULL), HR_OK);
    assert_int_equal(m->arch, HR_ARCH_QWEN3NEXT);
    for (uint32_t l = 0; l < 4; l++)
        assert_int_equal(m->layers[l].is_recurrent, l != 3);
    assert_false(m->has_fused_qkvz);
    hr_model_free(m);
    /* its first GGUFs: one ssm_in projection for q, k, v and z (another graph) */
    w = gguf_writer_new(3);
    gguf_writer_add_string(w, "general.architecture", "qwen3next");
    gguf_writer_add_u32(w, "qwen3next.block_count", 4);
    gguf_writer_add_u32(w, "qwen3next.embedding_length", 512);
    gguf_writer_add_u32(w, "qwen3next.attention.head_count", 8);
    gguf_writer_add_u32(w, "qwen3next.ssm.state_size", 128);
    gguf_writer_add_u32(w, "qwen3next.ssm.inner_size", 1024);
    const int64_t qkvz[2] = {512, 2 * 1024 + 2 * 128};
    gguf_writer_add_tensor(w, "blk.0.ssm_in.weight", HR_TYPE_F16, 2, qkvz);
    assert_int_equal(fx_write_open(w, "qwen3next_legacy.gguf", &m, &err, NULL), HR_OK);
    assert_true(m->has_fused_qkvz);
    hr_model_free(m);

    /* Jamba: the same marking; MoE where a layer has a router */
    w = gguf_writer_new(3);
    gguf_writer_add_string(w, "general.architecture", "jamba");
    gguf_writer_add_u32(w, "jamba.block_count", 4);
    gguf_writer_add_u32(w, "jamba.embedding_length", 512);
    gguf_writer_add_u32(w, "jamba.attention.head_count", 8);
    const uint32_t jkv[4] = {0, 2, 0, 0};
    gguf_writer_add_array(w, "jamba.attention.head_count_kv", GW_UINT32, jkv, 4);
    gguf_writer_add_u32(w, "jamba.feed_forward_length", 1024);
    gguf_writer_add_u32(w, "jamba.expert_count", 4);
    gguf_writer_add_u32(w, "jamba.expert_used_count", 2);
    gguf_writer_add_u32(w, "jamba.ssm.state_size", 16);
    gguf_writer_add_u32(w, "jamba.ssm.inner_size", 1024);
    const int64_t router[2] = {512, 4};
    gguf_writer_add_tensor(w, "blk.1.ffn_gate_inp.weight", HR_TYPE_F32, 2, router);
    gguf_writer_add_tensor(w, "blk.3.ffn_gate_inp.weight", HR_TYPE_F32, 2, router);
    assert_int_equal(fx_write_open(w, "jamba.gguf", &m, &err, NULL), HR_OK);
    assert_int_equal(m->arch, HR_ARCH_JAMBA);
    for (uint32_t l = 0; l < 4; l++) {
        assert_int_equal(m->layers[l].is_recurrent, l != 1);
        assert_int_equal(m->layers[l].n_expert, l % 2 ? 4 : 0);
    }
    assert_int_equal(m->layers[0].n_ff, 1024);
    assert_int_equal(m->layers[1].n_ff_exp, 1024);
    hr_model_free(m);

    /* Granite-4.0-H: the same marking, and its multipliers and rope switch */
    w = gguf_writer_new(3);
    gguf_writer_add_string(w, "general.architecture", "granitehybrid");
    gguf_writer_add_u32(w, "granitehybrid.block_count", 4);
    gguf_writer_add_u32(w, "granitehybrid.embedding_length", 512);
    gguf_writer_add_u32(w, "granitehybrid.attention.head_count", 8);
    gguf_writer_add_array(w, "granitehybrid.attention.head_count_kv", GW_UINT32, kv, 4);
    gguf_writer_add_u32(w, "granitehybrid.ssm.state_size", 128);
    gguf_writer_add_u32(w, "granitehybrid.ssm.inner_size", 1024);
    gguf_writer_add_u32(w, "granitehybrid.ssm.group_count", 1);
    gguf_writer_add_f32(w, "granitehybrid.embedding_scale", 12.0f);
    gguf_writer_add_f32(w, "granitehybrid.residual_scale", 0.22f);
    gguf_writer_add_f32(w, "granitehybrid.logit_scale", 6.0f);
    gguf_writer_add_bool(w, "granitehybrid.rope.scaling.finetuned", false);
    assert_int_equal(fx_write_open(w, "granite.gguf", &m, &err, NULL), HR_OK);
    assert_int_equal(m->arch, HR_ARCH_GRANITE_HYBRID);
    assert_int_equal(m->n_warnings, 0);
    for (uint32_t l = 0; l < 4; l++)
        assert_int_equal(m->layers[l].is_recurrent, kv[l] == 0);
    assert_true(m->embedding_scale == 12.0f && m->residual_scale == 0.22f &&
                m->logit_scale == 6.0f && m->no_rope);
    hr_model_free(m);

    w = gguf_writer_new(3);
    fx_add_shape(w, "bert", 2, 384, 12, 12, 1536);
    gguf_writer_add_u32(w, "bert.pooling_type", 1);
    int64_t pos[2] = {384, 512};
    gguf_writer_add_tensor(w, "position_embd.weight", HR_TYPE_F32, 2, pos);
    assert_int_equal(fx_write_open(w, "bert.gguf", &m, &err, NULL), HR_OK);
    assert_false(m->causal);
    assert_true(m->embedding_only);
    assert_int_equal(m->n_pos_embd, 512);
    assert_false(m->layers[0].has_kv);
    hr_model_free(m);

    /* a causal decoder exported for embeddings (pooling LAST) */
    w = gguf_writer_new(3);
    fx_add_shape(w, "qwen3", 2, 512, 8, 8, 1024);
    gguf_writer_add_u32(w, "qwen3.pooling_type", 3);
    assert_int_equal(fx_write_open(w, "qwen3-embed.gguf", &m, &err, NULL), HR_OK);
    assert_true(m->causal);
    assert_true(m->embedding_only);
    assert_true(m->layers[0].has_kv);
    hr_model_free(m);
}

static void test_unknown_arch_and_shared_kv(void **state)
{
    (void)state;
    gguf_writer *w = gguf_writer_new(2);
    fx_add_shape(w, "futurenet", 6, 640, 10, 5, 2048);
    gguf_writer_add_u32(w, "futurenet.attention.shared_kv_layers", 2);
    int64_t up[2] = {640, 2048};
    gguf_writer_add_tensor(w, "blk.5.ffn_up.weight", HR_TYPE_Q8_0, 2, up);
    hr_model *m;
    hr_error err;
    assert_int_equal(fx_write_open(w, "future.gguf", &m, &err, NULL), HR_OK);
    assert_string_equal(m->arch_name, "futurenet");
    assert_int_equal(m->arch, HR_ARCH_UNKNOWN);
    assert_int_equal(m->n_warnings, 1);
    assert_non_null(strstr(m->warnings[0], "futurenet"));
    assert_int_equal(m->n_layer, 6);
    assert_int_equal(m->n_embd_head_k, 64);
    assert_int_equal(m->n_shared_kv_layers, 2);
    for (uint32_t l = 0; l < 6; l++)
        assert_int_equal(m->layers[l].has_kv, l < 4);
    /* no general.file_type: the quantization is named after the dominant type */
    assert_int_equal(m->ftype, HR_FTYPE_UNKNOWN);
    assert_string_equal(m->quant_name, "Q8_0");
    assert_int_equal(m->layer_bytes[5], 640ull / 32 * 34 * 2048);
    hr_model_free(m);
}

/* Shape facts read from which tensors exist (found in one pass over names):
 * each flag follows its own tensor, and look-alike names do not count. */
static void test_tensor_presence_facts(void **state)
{
    (void)state;
    int64_t vec[1] = {256}, sq[2] = {256, 256}, qkv[2] = {256, 768}, qkv_b[1] = {768};
    for (int variant = 0; variant < 3; variant++) {
        gguf_writer *w = gguf_writer_new(3);
        fx_add_shape(w, "phi2", 2, 256, 4, 4, 512);
        /* distractors: other blocks, other prefixes */
        gguf_writer_add_tensor(w, "blk.1.attn_output.bias", HR_TYPE_F32, 1, vec);
        gguf_writer_add_tensor(w, "blk.1.ffn_up.bias", HR_TYPE_F32, 1, vec);
        gguf_writer_add_tensor(w, "output_norm.weight", HR_TYPE_F32, 1, vec);
        if (variant == 0) {
            gguf_writer_add_tensor(w, "blk.0.attn_qkv.weight", HR_TYPE_F16, 2, qkv);
            gguf_writer_add_tensor(w, "blk.0.attn_qkv.bias", HR_TYPE_F32, 1, qkv_b);
            gguf_writer_add_tensor(w, "blk.0.attn_output.bias", HR_TYPE_F32, 1, vec);
            gguf_writer_add_tensor(w, "blk.0.ffn_down.bias", HR_TYPE_F32, 1, vec);
            gguf_writer_add_tensor(w, "output.weight", HR_TYPE_F16, 2, sq);
        } else if (variant == 1) {
            gguf_writer_add_tensor(w, "blk.0.attn_q.bias", HR_TYPE_F32, 1, vec);
            gguf_writer_add_tensor(w, "blk.0.ffn_up.bias", HR_TYPE_F32, 1, vec);
        } else {
            gguf_writer_add_tensor(w, "blk.0.attn_q.weight", HR_TYPE_F16, 2, sq);
            gguf_writer_add_tensor(w, "blk.0.attn_qkv.biasx", HR_TYPE_F32, 1, qkv_b);
        }
        hr_model *m;
        hr_error err;
        assert_int_equal(fx_write_open(w, "facts.gguf", &m, &err, NULL), HR_OK);
        assert_int_equal(m->tied_output, variant != 0);
        assert_int_equal(m->has_fused_qkv, variant == 0);
        assert_int_equal(m->has_qkv_bias, variant != 2);
        assert_int_equal(m->has_attn_bias, variant == 0);
        assert_int_equal(m->has_ffn_bias, variant != 2);
        hr_model_free(m);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deepseek2_mla),
        cmocka_unit_test(test_gemma2_swa),
        cmocka_unit_test(test_other_swa_patterns),
        cmocka_unit_test(test_moe_layers),
        cmocka_unit_test(test_recurrent_and_encoders),
        cmocka_unit_test(test_unknown_arch_and_shared_kv),
        cmocka_unit_test(test_tensor_presence_facts),
    };
    return cmocka_run_group_tests(tests, fx_setup, fx_teardown);
}
