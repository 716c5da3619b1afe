/* config.json reader: published shapes, quantization, SWA, bad configs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "safetensors_writer.h"
#include "test_util.h"

#include "headroom/model.h"

static hr_model *from_json(const char *json)
{
    hr_model *m = NULL;
    hr_error err;
    hr_status st = hr_model_from_config_json(json, strlen(json), "test/config.json", &m, &err);
    if (st != HR_OK)
        fail_msg("config rejected: %s", err.message);
    return m;
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

#define LLAMA31_8B                                                                          \
    "\"architectures\": [\"LlamaForCausalLM\"], \"model_type\": \"llama\","                  \
    "\"hidden_size\": 4096, \"intermediate_size\": 14336, \"num_attention_heads\": 32,"     \
    "\"num_hidden_layers\": 32, \"num_key_value_heads\": 8, \"vocab_size\": 128256,"        \
    "\"max_position_embeddings\": 131072, \"tie_word_embeddings\": false,"                  \
    "\"rope_scaling\": {\"factor\": 8.0, \"rope_type\": \"llama3\"}, \"rms_norm_eps\": 1e-05"

/* Llama-3.1-8B's parameters, counted tensor by tensor. */
static uint64_t llama31_8b_params(void)
{
    const uint64_t e = 4096, kv = 8 * 128, ff = 14336, vocab = 128256, L = 32;
    const uint64_t per_layer = e * e * 2 + e * kv * 2 + 3 * e * ff + 2 * e;
    return L * per_layer + 2 * vocab * e + e;
}

static void test_llama31_8b(void **state)
{
    (void)state;
    hr_model *m = from_json("{" LLAMA31_8B ", \"torch_dtype\": \"bfloat16\"}");
    assert_int_equal(m->source, HR_SOURCE_CONFIG);
    assert_string_equal(m->arch_name, "llama");
    assert_int_equal(m->arch, HR_ARCH_LLAMA);
    assert_int_equal(m->n_layer, 32);
    assert_int_equal(m->n_head_kv, 8);
    assert_int_equal(m->n_embd_head_k, 128);
    assert_int_equal(m->n_ctx_train, 131072);
    assert_true(m->layers[31].has_kv);
    assert_int_equal(m->layers[31].n_ff, 14336);
    /* the published 8.03B, plus the 64 rope_freqs floats llama.cpp's converter
     * writes for rope_scaling "llama3" (they are computed, not in the checkpoint) */
    assert_int_equal(m->n_params, llama31_8b_params() + 64);
    assert_int_equal(m->n_params, 8030261248ull + 64);
    assert_int_equal(m->n_bytes, 2 * m->n_params);
    assert_string_equal(m->dtype, "bfloat16");
    assert_string_equal(m->quant_name, "BF16");
    assert_int_equal(m->ftype, HR_FTYPE_MOSTLY_BF16);
    assert_string_equal(m->name, "test"); /* the config's directory */
    hr_model_free(m);
}

static void test_mistral_is_llama(void **state)
{
    (void)state;
    hr_model *m = from_json("{\"architectures\": [\"MistralForCausalLM\"], \"model_type\": "
                            "\"mistral\", \"_name_or_path\": \"mistralai/Mistral-7B-v0.3\","
                            "\"hidden_size\": 4096, \"intermediate_size\": 14336,"
                            "\"num_attention_heads\": 32, \"num_hidden_layers\": 32,"
                            "\"num_key_value_heads\": 8, \"vocab_size\": 32768,"
                            "\"sliding_window\": null, \"torch_dtype\": \"bfloat16\"}");
    assert_string_equal(m->arch_name, "llama");
    assert_string_equal(m->name, "mistralai/Mistral-7B-v0.3");
    assert_int_equal(m->n_swa, 0);
    /* 7.25B published */
    assert_true(m->n_params > 7240000000ull && m->n_params < 7260000000ull);
    hr_model_free(m);

    /* no _name_or_path: a Hugging Face cache path still names the repo */
    const char *json = "{\"architectures\": [\"MistralForCausalLM\"], \"hidden_size\": 256,"
                       "\"intermediate_size\": 512, \"num_attention_heads\": 4,"
                       "\"num_hidden_layers\": 2, \"vocab_size\": 100}";
    const char *origin = "/x/hub/models--mistralai--Mistral-7B-v0.3/snapshots/0d4b76e1/config.json";
    hr_error err;
    assert_int_equal(hr_model_from_config_json(json, strlen(json), origin, &m, &err), HR_OK);
    assert_string_equal(m->name, "mistralai/Mistral-7B-v0.3");
    assert_string_equal(m->arch_name, "llama");
    hr_model_free(m);
}

static void test_stella_1_5b(void **state)
{
    (void)state;
    /* stella_en_1.5B_v5: a Qwen2 encoder for embeddings, kept in float32 */
    hr_model *m = from_json(
        "{\"architectures\": [\"Qwen2Model\"], \"model_type\": \"qwen2\","
        "\"hidden_size\": 1536, \"intermediate_size\": 8960, \"num_attention_heads\": 12,"
        "\"num_hidden_layers\": 28, \"num_key_value_heads\": 2, \"vocab_size\": 151646,"
        "\"max_position_embeddings\": 131072, \"max_window_layers\": 21,"
        "\"use_sliding_window\": false, \"sliding_window\": 131072,"
        "\"tie_word_embeddings\": false, \"torch_dtype\": \"float32\"}");
    assert_string_equal(m->arch_name, "qwen2");
    assert_true(m->embedding_only);
    assert_int_equal(m->n_swa, 0);
    assert_null(by_name(m, "output.weight"));
    assert_non_null(by_name(m, "blk.0.attn_q.bias"));
    /* embed + 28 x (attention with q/k/v biases, SwiGLU, 2 norms) + final norm */
    const uint64_t e = 1536, kv = 256, ff = 8960;
    const uint64_t layer = e * e * 2 + e * kv * 2 + (e + 2 * kv) + 3 * e * ff + 2 * e;
    const uint64_t params = 151646 * e + 28 * layer + e;
    assert_int_equal(m->n_params, params);
    assert_true(m->n_params > 1535000000ull && m->n_params < 1545000000ull); /* 1.54B */
    assert_int_equal(m->n_bytes, 4 * params);                                 /* ~6.2 GB */
    assert_true(m->n_bytes > 6150000000ull && m->n_bytes < 6200000000ull);
    assert_string_equal(m->quant_name, "F32");
    hr_model_free(m);
}

static void test_stella_400m(void **state)
{
    (void)state;
    hr_model *m = from_json(
        "{\"architectures\": [\"NewModel\"], \"model_type\": \"new\", \"hidden_size\": 1024,"
        "\"intermediate_size\": 4096, \"num_attention_heads\": 16, \"num_hidden_layers\": 24,"
        "\"vocab_size\": 30528, \"max_position_embeddings\": 8192, \"type_vocab_size\": 2,"
        "\"position_embedding_type\": \"rope\", \"torch_dtype\": \"float32\"}");
    assert_false(m->causal);
    assert_true(m->embedding_only);
    assert_int_equal(m->n_pos_embd, 0);
    /* published 0.434B */
    assert_true(m->n_params > 430000000ull && m->n_params < 440000000ull);
    assert_int_equal(m->n_bytes, 4 * m->n_params);
    hr_model_free(m);
}

static void test_gptq(void **state)
{
    (void)state;
    hr_model *m = from_json("{" LLAMA31_8B ", \"torch_dtype\": \"float16\","
                            "\"quantization_config\": {\"quant_method\": \"gptq\", \"bits\": 4,"
                            "\"group_size\": 128, \"desc_act\": false, \"sym\": true}}");
    assert_string_equal(m->quant_name, "GPTQ 4-bit g128");
    assert_int_equal(m->ftype, HR_FTYPE_UNKNOWN);
    /* q_proj 4096 -> 4096: qweight 4096*4/32*4 * 4096, qzeros 32 * (4096*4/32*4),
     * scales 32 * 4096 * 2, g_idx 4096 * 4 */
    const hr_tensor *q = by_name(m, "blk.0.attn_q.weight");
    assert_non_null(q);
    const uint64_t K = 4096, N = 4096, G = K / 128;
    assert_int_equal(q->bytes, K * 4 / 8 * N + G * (N * 4 / 8) + G * N * 2 + K * 4);
    /* embeddings, norms and lm_head stay float16 */
    const hr_tensor *emb = by_name(m, "token_embd.weight");
    assert_int_equal(emb->bytes, 2ull * 4096 * 128256);
    assert_int_equal(by_name(m, "output.weight")->bytes, 2ull * 4096 * 128256);
    assert_int_equal(by_name(m, "blk.3.attn_norm.weight")->bytes, 2 * 4096);
    /* ~4.25 bits per quantized weight: far below the fp16 16 GB */
    assert_true(m->n_bytes < 6000000000ull && m->n_bytes > 5000000000ull);
    hr_model_free(m);

    hr_model *awq = from_json("{" LLAMA31_8B ", \"torch_dtype\": \"float16\","
                              "\"quantization_config\": {\"quant_method\": \"awq\","
                              "\"bits\": 4, \"group_size\": 128}}");
    assert_string_equal(awq->quant_name, "AWQ 4-bit g128");
    const hr_tensor *k = by_name(awq, "blk.0.attn_k.weight"); /* 4096 -> 1024 */
    assert_int_equal(k->bytes, 4096ull * 1024 / 2 + 32ull * 1024 / 2 + 32ull * 1024 * 2);
    hr_model_free(awq);

    hr_model *nf4 = from_json("{" LLAMA31_8B ", \"torch_dtype\": \"bfloat16\","
                              "\"quantization_config\": {\"quant_method\": \"bitsandbytes\","
                              "\"load_in_4bit\": true, \"bnb_4bit_quant_type\": \"nf4\"}}");
    assert_string_equal(nf4->quant_name, "bitsandbytes NF4");
    const hr_tensor *d = by_name(nf4, "blk.0.ffn_down.weight");
    assert_int_equal(d->bytes, 4096ull * 14336 / 2 + 4096ull * 14336 / 64 * 4);
    hr_model_free(nf4);
}

static void test_gemma2_swa_and_softcap(void **state)
{
    (void)state;
    hr_model *m = from_json(
        "{\"architectures\": [\"Gemma2ForCausalLM\"], \"model_type\": \"gemma2\","
        "\"hidden_size\": 3584, \"intermediate_size\": 14336, \"num_attention_heads\": 16,"
        "\"num_hidden_layers\": 42, \"num_key_value_heads\": 8, \"head_dim\": 256,"
        "\"vocab_size\": 256000, \"max_position_embeddings\": 8192, \"sliding_window\": 4096,"
        "\"attn_logit_softcapping\": 50.0, \"final_logit_softcapping\": 30.0,"
        "\"torch_dtype\": \"float32\"}");
    assert_string_equal(m->arch_name, "gemma2");
    assert_int_equal(m->n_swa, 4096);
    assert_int_equal(m->swa_pattern, 2);
    assert_true(m->layers[0].is_swa);
    assert_false(m->layers[1].is_swa);
    assert_true(m->tied_output);
    assert_true(m->attn_logit_softcap == 50.0f);
    assert_true(m->final_logit_softcap == 30.0f);
    assert_int_equal(m->n_embd_head_k, 256);
    /* published 9.24B */
    assert_true(m->n_params > 9200000000ull && m->n_params < 9300000000ull);
    hr_model_free(m);
}

static void test_layer_types(void **state)
{
    (void)state;
    /* gemma3 text config inside a multimodal wrapper, layer_types given */
    char json[4096];
    int n = snprintf(json, sizeof json,
                     "{\"architectures\": [\"Gemma3ForConditionalGeneration\"],"
                     "\"model_type\": \"gemma3\", \"torch_dtype\": \"bfloat16\","
                     "\"vision_config\": {\"hidden_size\": 1152},"
                     "\"text_config\": {\"model_type\": \"gemma3_text\", \"hidden_size\": 2560,"
                     "\"intermediate_size\": 10240, \"num_attention_heads\": 8,"
                     "\"num_key_value_heads\": 4, \"head_dim\": 256, \"num_hidden_layers\": 8,"
                     "\"vocab_size\": 262208, \"sliding_window\": 1024, \"layer_types\": [");
    for (int i = 0; i < 8; i++)
        n += snprintf(json + n, sizeof json - (size_t)n, "%s\"%s\"", i ? "," : "",
                      i % 6 == 5 ? "full_attention" : "sliding_attention");
    snprintf(json + n, sizeof json - (size_t)n, "]}}");
    hr_model *m = from_json(json);
    assert_string_equal(m->arch_name, "gemma3");
    assert_int_equal(m->n_layer, 8);
    assert_int_equal(m->n_swa, 1024);
    assert_int_equal(m->swa_pattern, 6);
    for (uint32_t i = 0; i < 8; i++)
        assert_int_equal(m->layers[i].is_swa, i % 6 != 5);
    assert_true(has_warning(m, "vision"));
    hr_model_free(m);

    /* irregular layer_types survive as per-layer flags (gpt-oss style arch) */
    hr_model *o = from_json(
        "{\"architectures\": [\"GptOssForCausalLM\"], \"model_type\": \"gpt_oss\","
        "\"hidden_size\": 256, \"intermediate_size\": 128, \"num_attention_heads\": 4,"
        "\"num_key_value_heads\": 2, \"head_dim\": 64, \"num_hidden_layers\": 4,"
        "\"num_local_experts\": 4, \"num_experts_per_tok\": 2, \"vocab_size\": 1000,"
        "\"sliding_window\": 128, \"layer_types\": [\"full_attention\", \"sliding_attention\","
        "\"sliding_attention\", \"full_attention\"], \"torch_dtype\": \"bfloat16\","
        "\"quantization_config\": {\"quant_method\": \"mxfp4\"}}");
    assert_false(o->layers[0].is_swa);
    assert_true(o->layers[1].is_swa);
    assert_true(o->layers[2].is_swa);
    assert_false(o->layers[3].is_swa);
    assert_int_equal(o->layers[0].n_expert, 4);
    assert_string_equal(o->quant_name, "MXFP4 (experts)");
    const hr_tensor *g = by_name(o, "blk.0.ffn_gate_exps.weight");
    assert_non_null(g);
    assert_int_equal(g->bytes, 4ull * (256 * 128 / 2 + 256 * 128 / 32));
    /* attention stays bf16 */
    assert_int_equal(by_name(o, "blk.0.attn_q.weight")->bytes, 2ull * 256 * 256);
    hr_model_free(o);
}

/* Granite-4.0-H (GraniteMoeHybrid): layer_types' "mamba" layers get Mamba-2
 * mixers and no KV cache, every layer an FFN (the shared MLP as the shared
 * expert, or as the dense FFN without experts), the multipliers and NoPE. */
static void test_granite_hybrid(void **state)
{
    (void)state;
    char json[4096];
    int n = snprintf(json, sizeof json,
                     "{\"architectures\": [\"GraniteMoeHybridForCausalLM\"],"
                     "\"model_type\": \"granitemoehybrid\", \"hidden_size\": 256,"
                     "\"num_hidden_layers\": 6, \"num_attention_heads\": 4,"
                     "\"num_key_value_heads\": 2, \"intermediate_size\": 64,"
                     "\"shared_intermediate_size\": 128, \"num_local_experts\": %d,"
                     "\"num_experts_per_tok\": 2, \"vocab_size\": 1000, \"mamba_d_state\": 16,"
                     "\"mamba_n_heads\": 8, \"mamba_d_head\": 64, \"mamba_n_groups\": 1,"
                     "\"mamba_d_conv\": 4, \"embedding_multiplier\": 12,"
                     "\"residual_multiplier\": 0.22, \"logits_scaling\": 6,"
                     "\"position_embedding_type\": \"nope\", \"tie_word_embeddings\": true,"
                     "\"torch_dtype\": \"bfloat16\", \"layer_types\": [", 8);
    for (int i = 0; i < 6; i++)
        n += snprintf(json + n, sizeof json - (size_t)n, "%s\"%s\"", i ? "," : "",
                      i == 2 ? "attention" : "mamba");
    snprintf(json + n, sizeof json - (size_t)n, "]}");
    hr_model *m = from_json(json);
    assert_int_equal(m->arch, HR_ARCH_GRANITE_HYBRID);
    assert_int_equal(m->n_warnings, 0);
    for (uint32_t i = 0; i < 6; i++) {
        assert_int_equal(m->layers[i].is_recurrent, i != 2);
        assert_int_equal(m->layers[i].has_kv, i == 2);
        assert_int_equal(m->layers[i].n_expert, 8);
    }
    assert_int_equal(m->ssm_d_inner, 512);
    assert_int_equal(m->ssm_dt_rank, 8);
    assert_true(m->embedding_scale == 12.0f && m->residual_scale == 0.22f &&
                m->logit_scale == 6.0f && m->no_rope);
    assert_non_null(by_name(m, "blk.0.ssm_in.weight"));
    assert_null(by_name(m, "blk.0.attn_q.weight"));
    assert_non_null(by_name(m, "blk.2.attn_q.weight"));
    const hr_tensor *sh = by_name(m, "blk.0.ffn_up_shexp.weight");
    assert_non_null(sh);
    assert_int_equal(sh->ne[1], 128);
    hr_model_free(m);

    /* no experts: the shared MLP is the dense FFN */
    n = snprintf(json, sizeof json,
                 "{\"model_type\": \"granitemoehybrid\", \"hidden_size\": 256,"
                 "\"num_hidden_layers\": 2, \"num_attention_heads\": 4,"
                 "\"num_key_value_heads\": 2, \"intermediate_size\": 64,"
                 "\"shared_intermediate_size\": 128, \"num_local_experts\": 0,"
                 "\"vocab_size\": 1000, \"mamba_n_heads\": 8, \"mamba_d_head\": 64,"
                 "\"position_embedding_type\": \"rope\", \"torch_dtype\": \"bfloat16\","
                 "\"layer_types\": [\"mamba\", \"attention\"]}");
    m = from_json(json);
    assert_int_equal(m->layers[0].n_ff, 128);
    assert_int_equal(m->layers[0].n_expert, 0);
    assert_true(m->layers[0].is_recurrent && !m->layers[1].is_recurrent);
    assert_false(m->no_rope);
    assert_true(m->embedding_scale == 0.0f);
    hr_model_free(m);
}

/* Jamba: Mamba mixers but in every attn_layer_period-th layer, MoE FFNs in
 * every expert_layer_period-th */
static void test_jamba(void **state)
{
    (void)state;
    hr_model *m = from_json(
        "{\"architectures\": [\"JambaForCausalLM\"], \"model_type\": \"jamba\","
        "\"hidden_size\": 256, \"num_hidden_layers\": 8, \"num_attention_heads\": 4,"
        "\"num_key_value_heads\": 2, \"intermediate_size\": 512, \"num_experts\": 4,"
        "\"num_experts_per_tok\": 2, \"vocab_size\": 1000, \"mamba_d_state\": 16,"
        "\"mamba_d_conv\": 4, \"mamba_expand\": 2, \"mamba_dt_rank\": 16,"
        "\"attn_layer_period\": 8, \"attn_layer_offset\": 4, \"expert_layer_period\": 2,"
        "\"expert_layer_offset\": 1, \"tie_word_embeddings\": false,"
        "\"torch_dtype\": \"bfloat16\"}");
    assert_int_equal(m->arch, HR_ARCH_JAMBA);
    assert_int_equal(m->n_warnings, 0);
    for (uint32_t i = 0; i < 8; i++) {
        assert_int_equal(m->layers[i].is_recurrent, i != 4);
        assert_int_equal(m->layers[i].n_expert, i % 2 == 1 ? 4 : 0);
    }
    assert_int_equal(m->ssm_d_inner, 512);
    assert_int_equal(m->ssm_n_group, 0); /* Mamba (1) */
    assert_non_null(by_name(m, "blk.0.ssm_dt_norm.weight"));
    assert_non_null(by_name(m, "blk.0.ssm_b_norm.weight"));
    assert_non_null(by_name(m, "blk.4.attn_q.weight"));
    assert_null(by_name(m, "blk.0.attn_q.weight"));
    const hr_tensor *up = by_name(m, "blk.1.ffn_up_exps.weight");
    assert_non_null(up);
    assert_int_equal(up->ne[1], 512);
    assert_non_null(by_name(m, "blk.0.ffn_up.weight"));
    hr_model_free(m);
}

/* Nemotron-H: hybrid_override_pattern names each layer's one block, dense
 * or with MoE FFN layers (E). */
static void test_nemotron_h(void **state)
{
    (void)state;
    hr_model *m = from_json(
        "{\"architectures\": [\"NemotronHForCausalLM\"], \"model_type\": \"nemotron_h\","
        "\"hidden_size\": 256, \"num_hidden_layers\": 4, \"num_attention_heads\": 4,"
        "\"num_key_value_heads\": 2, \"head_dim\": 64, \"intermediate_size\": 512,"
        "\"vocab_size\": 1000, \"mamba_num_heads\": 8, \"mamba_head_dim\": 32,"
        "\"n_groups\": 2, \"ssm_state_size\": 16, \"conv_kernel\": 4,"
        "\"hybrid_override_pattern\": \"M-*M\", \"torch_dtype\": \"bfloat16\"}");
    assert_int_equal(m->arch, HR_ARCH_NEMOTRON_H);
    assert_int_equal(m->n_warnings, 0);
    assert_true(m->layers[0].is_recurrent && m->layers[3].is_recurrent);
    assert_true(!m->layers[1].is_recurrent && m->layers[1].n_ff == 512 && !m->layers[1].has_kv);
    assert_true(m->layers[2].has_kv && m->layers[2].n_ff == 0);
    assert_int_equal(m->ssm_d_inner, 256);
    assert_int_equal(m->ssm_dt_rank, 8);
    assert_int_equal(m->ssm_n_group, 2);
    assert_non_null(by_name(m, "blk.1.ffn_up.weight"));
    assert_null(by_name(m, "blk.1.ffn_gate.weight")); /* relu^2, no gate */
    assert_null(by_name(m, "blk.2.ffn_up.weight"));
    assert_non_null(by_name(m, "blk.3.ssm_in.weight"));
    hr_model_free(m);

    m = from_json(
        "{\"model_type\": \"nemotron_h\", \"hidden_size\": 256, \"num_hidden_layers\": 2,"
        "\"num_attention_heads\": 4, \"num_key_value_heads\": 2, \"head_dim\": 64,"
        "\"vocab_size\": 1000, \"mamba_num_heads\": 8, \"mamba_head_dim\": 32,"
        "\"n_routed_experts\": 8, \"num_experts_per_tok\": 2, \"moe_intermediate_size\": 128,"
        "\"moe_shared_expert_intermediate_size\": 256, \"n_shared_experts\": 1,"
        "\"norm_topk_prob\": true, \"routed_scaling_factor\": 2.5,"
        "\"hybrid_override_pattern\": \"ME\", \"torch_dtype\": \"bfloat16\"}");
    assert_int_equal(m->arch, HR_ARCH_NEMOTRON_H_MOE);
    assert_int_equal(m->n_warnings, 0);
    assert_true(m->layers[0].is_recurrent && m->layers[0].n_expert == 0);
    assert_int_equal(m->layers[1].n_expert, 8);
    assert_int_equal(m->layers[1].n_ff_exp, 128);
    assert_int_equal(m->n_ff_shexp, 256);
    assert_true(m->expert_weights_norm && m->expert_weights_scale == 2.5f);
    assert_non_null(by_name(m, "blk.1.ffn_up_exps.weight"));
    assert_non_null(by_name(m, "blk.1.exp_probs_b.bias"));
    assert_null(by_name(m, "blk.1.ffn_gate_exps.weight")); /* relu^2 experts, no gate */
    assert_null(by_name(m, "blk.1.ffn_gate_shexp.weight"));
    hr_model_free(m);
}

/* LFM2: layer_types' conv layers are short convolutions of conv_L_cache,
 * the FFN the converter's adjusted block_ff_dim (LFM2-1.2B: 12288 -> 8192),
 * tie_embedding ties the output. */
static void test_lfm2(void **state)
{
    (void)state;
    hr_model *m = from_json(
        "{\"architectures\": [\"Lfm2ForCausalLM\"], \"model_type\": \"lfm2\","
        "\"hidden_size\": 256, \"num_hidden_layers\": 3, \"num_attention_heads\": 4,"
        "\"num_key_value_heads\": 2, \"block_ff_dim\": 12288, \"block_auto_adjust_ff_dim\": true,"
        "\"block_ffn_dim_multiplier\": 1.0, \"block_multiple_of\": 256, \"vocab_size\": 1000,"
        "\"conv_L_cache\": 3, \"tie_embedding\": true, \"torch_dtype\": \"bfloat16\","
        "\"layer_types\": [\"conv\", \"full_attention\", \"conv\"]}");
    assert_int_equal(m->arch, HR_ARCH_LFM2);
    assert_int_equal(m->n_warnings, 0);
    assert_int_equal(m->shortconv_l_cache, 3);
    assert_int_equal(m->layers[0].n_ff, 8192);
    assert_true(m->layers[0].is_recurrent && !m->layers[1].is_recurrent && m->layers[2].is_recurrent);
    assert_true(m->layers[1].has_kv && !m->layers[0].has_kv);
    assert_true(m->tied_output);
    assert_non_null(by_name(m, "blk.0.shortconv.in_proj.weight"));
    assert_non_null(by_name(m, "blk.1.attn_q_norm.weight"));
    assert_non_null(by_name(m, "token_embd_norm.weight"));
    assert_null(by_name(m, "output.weight"));
    hr_model_free(m);

    /* LFM2-MoE: leading dense layers, then MoE FFNs with a selection bias */
    m = from_json(
        "{\"architectures\": [\"Lfm2MoeForCausalLM\"], \"model_type\": \"lfm2_moe\","
        "\"hidden_size\": 256, \"num_hidden_layers\": 3, \"num_attention_heads\": 4,"
        "\"num_key_value_heads\": 2, \"intermediate_size\": 768, \"moe_intermediate_size\": 128,"
        "\"num_experts\": 8, \"num_experts_per_tok\": 2, \"num_dense_layers\": 1,"
        "\"vocab_size\": 1000, \"conv_L_cache\": 3, \"torch_dtype\": \"bfloat16\","
        "\"layer_types\": [\"conv\", \"full_attention\", \"conv\"]}");
    assert_int_equal(m->arch, HR_ARCH_LFM2MOE);
    assert_int_equal(m->layers[0].n_ff, 768);
    assert_int_equal(m->layers[0].n_expert, 0);
    assert_int_equal(m->layers[1].n_expert, 8);
    assert_int_equal(m->layers[2].n_ff_exp, 128);
    assert_non_null(by_name(m, "blk.2.exp_probs_b.bias"));
    assert_non_null(by_name(m, "blk.2.ffn_gate_exps.weight"));
    hr_model_free(m);
}

/* Falcon-H1: attention and a Mamba-2 mixer in every layer; the mixer's
 * grouped norm only with mamba_rms_norm. */
static void test_falcon_h1(void **state)
{
    (void)state;
    const char *json =
        "{\"architectures\": [\"FalconH1ForCausalLM\"], \"model_type\": \"falcon_h1\","
        "\"hidden_size\": 256, \"num_hidden_layers\": 2, \"num_attention_heads\": 4,"
        "\"num_key_value_heads\": 2, \"head_dim\": 64, \"intermediate_size\": 512,"
        "\"vocab_size\": 1000, \"mamba_d_ssm\": 512, \"mamba_n_heads\": 8,"
        "\"mamba_d_head\": 64, \"mamba_n_groups\": 1, \"mamba_d_state\": 16,"
        "\"mamba_d_conv\": 4, \"torch_dtype\": \"bfloat16\"}";
    hr_model *m = from_json(json);
    assert_int_equal(m->arch, HR_ARCH_FALCON_H1);
    assert_int_equal(m->n_warnings, 0);
    assert_true(m->layers[0].is_recurrent && m->layers[0].has_kv);
    assert_int_equal(m->layers[1].n_head_kv, 2);
    assert_int_equal(m->ssm_d_inner, 512);
    assert_int_equal(m->ssm_dt_rank, 8);
    assert_non_null(by_name(m, "blk.0.ssm_in.weight"));
    assert_non_null(by_name(m, "blk.0.attn_q.weight"));
    assert_non_null(by_name(m, "blk.0.ffn_gate.weight"));
    assert_null(by_name(m, "blk.0.ssm_norm.weight")); /* mamba_rms_norm absent: false */
    hr_model_free(m);
}

/* Qwen3.5: gated delta nets in the linear_attention layers (or all but
 * every full_attention_interval-th), gated attention in the others */
static void test_qwen35(void **state)
{
    (void)state;
    hr_model *m = from_json(
        "{\"architectures\": [\"Qwen3_5ForCausalLM\"], \"model_type\": \"qwen3_5\","
        "\"hidden_size\": 256, \"num_hidden_layers\": 4, \"num_attention_heads\": 4,"
        "\"num_key_value_heads\": 2, \"head_dim\": 64, \"intermediate_size\": 512,"
        "\"vocab_size\": 1000, \"linear_key_head_dim\": 32, \"linear_num_key_heads\": 2,"
        "\"linear_num_value_heads\": 4, \"linear_value_head_dim\": 32,"
        "\"linear_conv_kernel_dim\": 4, \"full_attention_interval\": 2,"
        "\"torch_dtype\": \"bfloat16\"}");
    assert_int_equal(m->arch, HR_ARCH_QWEN35);
    assert_int_equal(m->n_warnings, 0);
    assert_true(m->layers[0].is_recurrent && !m->layers[1].is_recurrent);
    assert_true(m->layers[1].has_kv && !m->layers[0].has_kv);
    assert_int_equal(m->ssm_d_inner, 128);
    assert_int_equal(m->ssm_dt_rank, 4);
    assert_non_null(by_name(m, "blk.0.attn_qkv.weight"));
    assert_non_null(by_name(m, "blk.0.ssm_beta.weight"));
    assert_non_null(by_name(m, "blk.1.post_attention_norm.weight"));
    const hr_tensor *q = by_name(m, "blk.1.attn_q.weight");
    assert_non_null(q);
    assert_int_equal(q->ne[1], 2 * 4 * 64); /* Q and its gate */
    hr_model_free(m);

    /* the MoE form: experts and a shared expert behind a gate vector */
    m = from_json(
        "{\"architectures\": [\"Qwen3_5MoeForCausalLM\"], \"model_type\": \"qwen3_5_moe\","
        "\"hidden_size\": 256, \"num_hidden_layers\": 4, \"num_attention_heads\": 4,"
        "\"num_key_value_heads\": 2, \"head_dim\": 64, \"num_experts\": 8,"
        "\"num_experts_per_tok\": 2, \"moe_intermediate_size\": 128,"
        "\"shared_expert_intermediate_size\": 128, \"vocab_size\": 1000,"
        "\"linear_key_head_dim\": 32, \"linear_num_key_heads\": 2,"
        "\"linear_num_value_heads\": 4, \"linear_value_head_dim\": 32,"
        "\"layer_types\": [\"linear_attention\", \"linear_attention\", \"linear_attention\","
        "\"full_attention\"], \"torch_dtype\": \"bfloat16\"}");
    assert_int_equal(m->arch, HR_ARCH_QWEN35MOE);
    assert_int_equal(m->n_warnings, 0);
    assert_true(m->layers[2].is_recurrent && !m->layers[3].is_recurrent);
    assert_int_equal(m->layers[0].n_expert, 8);
    assert_non_null(by_name(m, "blk.0.ffn_gate_inp_shexp.weight"));
    assert_non_null(by_name(m, "blk.0.ffn_up_shexp.weight"));
    hr_model_free(m);

    /* Qwen3-Next: the same, with beta and alpha in one projection */
    m = from_json(
        "{\"architectures\": [\"Qwen3NextForCausalLM\"], \"model_type\": \"qwen3_next\","
        "\"hidden_size\": 256, \"num_hidden_layers\": 4, \"num_attention_heads\": 4,"
        "\"num_key_value_heads\": 2, \"head_dim\": 64, \"num_experts\": 8,"
        "\"num_experts_per_tok\": 2, \"moe_intermediate_size\": 128,"
        "\"shared_expert_intermediate_size\": 128, \"vocab_size\": 1000,"
        "\"linear_key_head_dim\": 32, \"linear_num_key_heads\": 2,"
        "\"linear_num_value_heads\": 4, \"linear_value_head_dim\": 32,"
        "\"full_attention_interval\": 4, \"torch_dtype\": \"bfloat16\"}");
    assert_int_equal(m->arch, HR_ARCH_QWEN3NEXT);
    assert_int_equal(m->n_warnings, 0);
    assert_true(m->layers[2].is_recurrent && !m->layers[3].is_recurrent);
    const hr_tensor *ba = by_name(m, "blk.0.ssm_ba.weight");
    assert_non_null(ba);
    assert_int_equal(ba->ne[1], 2 * 4);
    assert_null(by_name(m, "blk.0.ssm_beta.weight"));
    assert_non_null(by_name(m, "blk.0.ffn_gate_inp_shexp.weight"));
    hr_model_free(m);
}

static void test_moe_and_mla(void **state)
{
    (void)state;
    /* DeepSeek-V2-Lite */
    hr_model *m = from_json(
        "{\"architectures\": [\"DeepseekV2ForCausalLM\"], \"model_type\": \"deepseek_v2\","
        "\"hidden_size\": 2048, \"intermediate_size\": 10944, \"moe_intermediate_size\": 1408,"
        "\"num_attention_heads\": 16, \"num_key_value_heads\": 16, \"num_hidden_layers\": 27,"
        "\"n_routed_experts\": 64, \"n_shared_experts\": 2, \"num_experts_per_tok\": 6,"
        "\"first_k_dense_replace\": 1, \"kv_lora_rank\": 512, \"q_lora_rank\": null,"
        "\"qk_nope_head_dim\": 128, \"qk_rope_head_dim\": 64, \"v_head_dim\": 128,"
        "\"vocab_size\": 102400, \"max_position_embeddings\": 163840,"
        "\"tie_word_embeddings\": false, \"torch_dtype\": \"bfloat16\"}");
    assert_string_equal(m->arch_name, "deepseek2");
    assert_true(m->is_mla);
    assert_int_equal(m->n_lora_kv, 512);
    assert_int_equal(m->n_rot, 64);
    assert_int_equal(m->n_expert, 64);
    assert_int_equal(m->n_expert_used, 6);
    assert_int_equal(m->n_expert_shared, 2);
    assert_int_equal(m->n_layer_dense_lead, 1);
    assert_int_equal(m->layers[0].n_expert, 0);
    assert_int_equal(m->layers[0].n_ff, 10944);
    assert_int_equal(m->layers[1].n_expert, 64);
    assert_int_equal(m->layers[1].n_ff_exp, 1408);
    /* greedy routing: no expert score-correction bias */
    assert_null(by_name(m, "blk.1.exp_probs_b.bias"));
    /* published 15.7B */
    assert_true(m->n_params > 15500000000ull && m->n_params < 15900000000ull);
    hr_model_free(m);

    /* Mixtral-8x7B: llama with experts, 46.7B */
    hr_model *x = from_json(
        "{\"architectures\": [\"MixtralForCausalLM\"], \"model_type\": \"mixtral\","
        "\"hidden_size\": 4096, \"intermediate_size\": 14336, \"num_attention_heads\": 32,"
        "\"num_key_value_heads\": 8, \"num_hidden_layers\": 32, \"num_local_experts\": 8,"
        "\"num_experts_per_tok\": 2, \"vocab_size\": 32000, \"torch_dtype\": \"bfloat16\"}");
    assert_string_equal(x->arch_name, "llama");
    assert_int_equal(x->n_expert, 8);
    assert_int_equal(x->layers[5].n_ff_exp, 14336);
    assert_true(x->n_params > 46600000000ull && x->n_params < 46800000000ull);
    hr_model_free(x);
}

/* Qwen1.5-MoE-A2.7B's published shape; SPARSE_KEYS sets its layer pattern. */
#define QWEN15_MOE(SPARSE_KEYS)                                                             \
    "{\"architectures\": [\"Qwen2MoeForCausalLM\"], \"model_type\": \"qwen2_moe\","          \
    "\"hidden_size\": 2048, \"intermediate_size\": 5632, \"moe_intermediate_size\": 1408,"  \
    "\"shared_expert_intermediate_size\": 5632, \"num_attention_heads\": 16,"               \
    "\"num_key_value_heads\": 16, \"num_hidden_layers\": 24, \"num_experts\": 60,"          \
    "\"num_experts_per_tok\": 4, " SPARSE_KEYS ", \"vocab_size\": 151936,"                  \
    "\"max_position_embeddings\": 8192, \"tie_word_embeddings\": false,"                    \
    "\"torch_dtype\": \"bfloat16\"}"

static size_t index_of(const hr_model *m, const char *name)
{
    for (size_t i = 0; i < m->n_tensors; i++)
        if (strcmp(m->tensors[i].name, name) == 0)
            return i;
    fail_msg("no tensor %s", name);
    return 0;
}

static const hr_tensor *block_tensor(const hr_model *m, uint32_t il, const char *stem)
{
    char name[96];
    snprintf(name, sizeof name, "blk.%u.%s", il, stem);
    return by_name(m, name);
}

static void test_qwen_moe_dense_layers(void **state)
{
    (void)state;
    const uint64_t e = 2048, ff = 5632, ff_exp = 1408, n_exp = 60, vocab = 151936;
    /* per block: q/k/v with biases, o, two norms; then the FFN */
    const uint64_t attn = 4 * e * e + 3 * e + 2 * e;
    const uint64_t dense_ffn = 3 * e * ff;
    const uint64_t sparse_ffn = e * n_exp + 3 * e * ff_exp * n_exp + e + 3 * e * ff;

    /* the published model: every layer sparse (14.3B), nothing changes */
    hr_model *all = from_json(QWEN15_MOE("\"decoder_sparse_step\": 1, \"mlp_only_layers\": []"));
    for (uint32_t il = 0; il < 24; il++)
        assert_int_equal(all->layers[il].n_expert, 60);
    assert_int_equal(all->n_params, 24 * (attn + sparse_ffn) + 2 * vocab * e + e);
    assert_int_equal(all->n_params, 14315784192ull);
    assert_false(has_warning(all, "dense MLP"));
    hr_model_free(all);

    /* every 2nd layer sparse (1, 3, ...), layer 5 forced dense, 99 past the end */
    hr_model *m = from_json(
        QWEN15_MOE("\"decoder_sparse_step\": 2, \"mlp_only_layers\": [5, 99]"));
    uint64_t params = 2 * vocab * e + e;
    uint32_t n_dense = 0;
    for (uint32_t il = 0; il < 24; il++) {
        const hr_layer *l = &m->layers[il];
        const bool sparse = (il + 1) % 2 == 0 && il != 5;
        n_dense += !sparse;
        params += attn + (sparse ? sparse_ffn : dense_ffn);
        assert_int_equal(l->n_expert, sparse ? 60 : 0);
        assert_int_equal(l->n_expert_used, sparse ? 4 : 0);
        assert_int_equal(l->n_ff, sparse ? 0 : ff);
        assert_int_equal(l->n_ff_exp, sparse ? ff_exp : 0);
        assert_true(l->has_kv);
        assert_int_equal(m->layer_bytes[il], 2 * (attn + (sparse ? sparse_ffn : dense_ffn)));
        const hr_tensor *gate = block_tensor(m, il, "ffn_gate.weight");
        const hr_tensor *exps = block_tensor(m, il, "ffn_gate_exps.weight");
        if (sparse) {
            assert_null(gate);
            assert_non_null(exps);
            assert_int_equal(exps->bytes, 2 * e * ff_exp * n_exp);
            assert_non_null(block_tensor(m, il, "ffn_gate_inp_shexp.weight"));
            assert_non_null(block_tensor(m, il, "ffn_down_shexp.weight"));
            continue;
        }
        assert_non_null(gate);
        assert_int_equal(gate->ne[0], e);
        assert_int_equal(gate->ne[1], ff);
        assert_int_equal(gate->bytes, 2 * e * ff);
        assert_int_equal(gate->layer, (int32_t)il);
        assert_int_equal(gate->type, HR_TYPE_BF16);
        assert_int_equal(block_tensor(m, il, "ffn_down.weight")->ne[0], ff);
        assert_non_null(block_tensor(m, il, "ffn_up.weight"));
        assert_null(exps);
        assert_null(block_tensor(m, il, "ffn_gate_inp.weight"));
        assert_null(block_tensor(m, il, "ffn_gate_inp_shexp.weight"));
        assert_null(block_tensor(m, il, "ffn_up_shexp.weight"));
    }
    assert_int_equal(n_dense, 13);
    assert_int_equal(m->n_params, params);
    assert_int_equal(m->n_params, 7566573568ull);
    assert_int_equal(m->n_bytes, 2 * params);
    assert_int_equal(m->n_tensors, 3 + 24 * 9 + 11 * 8 + 13 * 3);
    /* the dense FFN sits where the experts were: after ffn_norm, before blk.1 */
    assert_true(index_of(m, "blk.0.ffn_gate.weight") > index_of(m, "blk.0.ffn_norm.weight"));
    assert_true(index_of(m, "blk.0.ffn_down.weight") < index_of(m, "blk.1.attn_norm.weight"));
    assert_int_equal(m->n_ff, ff);
    assert_true(has_warning(m, "13 of 24 layers use a dense MLP"));
    assert_true(has_warning(m, "cannot load"));
    hr_model_free(m);

    /* Qwen3-MoE: the dense layer keeps the q/k norms of its attention */
    hr_model *q3 = from_json(
        "{\"architectures\": [\"Qwen3MoeForCausalLM\"], \"model_type\": \"qwen3_moe\","
        "\"hidden_size\": 256, \"intermediate_size\": 768, \"moe_intermediate_size\": 64,"
        "\"num_attention_heads\": 4, \"num_key_value_heads\": 2, \"head_dim\": 64,"
        "\"num_hidden_layers\": 3, \"num_experts\": 8, \"num_experts_per_tok\": 2,"
        "\"mlp_only_layers\": [0], \"vocab_size\": 1000, \"torch_dtype\": \"bfloat16\"}");
    assert_int_equal(q3->layers[0].n_expert, 0);
    assert_int_equal(q3->layers[0].n_ff, 768);
    assert_int_equal(q3->layers[1].n_expert, 8);
    assert_int_equal(q3->layers[2].n_ff_exp, 64);
    assert_non_null(by_name(q3, "blk.0.attn_q_norm.weight"));
    assert_int_equal(by_name(q3, "blk.0.ffn_up.weight")->bytes, 2ull * 256 * 768);
    assert_null(by_name(q3, "blk.0.ffn_up_exps.weight"));
    assert_non_null(by_name(q3, "blk.2.ffn_up_exps.weight"));
    assert_true(has_warning(q3, "qwen3moe"));
    hr_model_free(q3);

    /* decoder_sparse_step 0 would divide by zero in transformers: taken as 1 */
    hr_model *z = from_json(QWEN15_MOE("\"decoder_sparse_step\": 0"));
    assert_int_equal(z->layers[0].n_expert, 60);
    assert_true(has_warning(z, "decoder_sparse_step 0"));
    hr_model_free(z);

    /* a list of something other than layer indices is refused, naming the file */
    const char *bad[] = {QWEN15_MOE("\"mlp_only_layers\": [\"a\"]"),
                         QWEN15_MOE("\"mlp_only_layers\": [-1]"),
                         QWEN15_MOE("\"mlp_only_layers\": [1.5]")};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hr_model *b = NULL;
        hr_error err;
        assert_int_not_equal(hr_model_from_config_json(bad[i], strlen(bad[i]), "q/config.json",
                                                       &b, &err), HR_OK);
        assert_null(b);
        assert_non_null(strstr(err.message, "q/config.json"));
        assert_non_null(strstr(err.message, "mlp_only_layers"));
    }
}

/* A tiny Qwen2-MoE checkpoint: the safetensors path takes its per-layer
 * hyperparameters from the config the same way. */
static void test_qwen_moe_dense_layers_safetensors(void **state)
{
    (void)state;
    char *dir = tu_make_temp_dir("st");
    const int64_t e = 64, ff = 128, ff_exp = 32, n_exp = 4, vocab = 100;
    stw_tensor t[128];
    char names[128][96];
    size_t n = 0;
#define ST_ADD(rank_, d0, d1, ...)                                                          \
    do {                                                                                    \
        snprintf(names[n], sizeof names[n], __VA_ARGS__);                                   \
        t[n] = (stw_tensor){names[n], "BF16", rank_, {d0, d1}};                             \
        n++;                                                                                \
    } while (0)
    ST_ADD(2, vocab, e, "model.embed_tokens.weight");
    ST_ADD(1, e, 0, "model.norm.weight");
    ST_ADD(2, vocab, e, "lm_head.weight");
    for (int il = 0; il < 4; il++) {
        ST_ADD(1, e, 0, "model.layers.%d.input_layernorm.weight", il);
        ST_ADD(1, e, 0, "model.layers.%d.post_attention_layernorm.weight", il);
        static const char *const proj[] = {"q", "k", "v", "o"};
        for (int p = 0; p < 4; p++)
            ST_ADD(2, e, e, "model.layers.%d.self_attn.%s_proj.weight", il, proj[p]);
        for (int p = 0; p < 3; p++)
            ST_ADD(1, e, 0, "model.layers.%d.self_attn.%s_proj.bias", il, proj[p]);
        if (il % 2 == 0) { /* decoder_sparse_step 2: layers 0 and 2 are dense */
            ST_ADD(2, ff, e, "model.layers.%d.mlp.gate_proj.weight", il);
            ST_ADD(2, ff, e, "model.layers.%d.mlp.up_proj.weight", il);
            ST_ADD(2, e, ff, "model.layers.%d.mlp.down_proj.weight", il);
            continue;
        }
        ST_ADD(2, n_exp, e, "model.layers.%d.mlp.gate.weight", il);
        for (int x = 0; x < n_exp; x++) {
            ST_ADD(2, ff_exp, e, "model.layers.%d.mlp.experts.%d.gate_proj.weight", il, x);
            ST_ADD(2, ff_exp, e, "model.layers.%d.mlp.experts.%d.up_proj.weight", il, x);
            ST_ADD(2, e, ff_exp, "model.layers.%d.mlp.experts.%d.down_proj.weight", il, x);
        }
        ST_ADD(2, 1, e, "model.layers.%d.mlp.shared_expert_gate.weight", il);
        ST_ADD(2, ff, e, "model.layers.%d.mlp.shared_expert.gate_proj.weight", il);
        ST_ADD(2, ff, e, "model.layers.%d.mlp.shared_expert.up_proj.weight", il);
        ST_ADD(2, e, ff, "model.layers.%d.mlp.shared_expert.down_proj.weight", il);
    }
#undef ST_ADD
    char *path = tu_path(dir, "model.safetensors");
    assert_int_equal(stw_write(path, t, n, NULL, NULL), 0);
    assert_int_equal(
        stw_write_config_text(
            dir, "{\"architectures\": [\"Qwen2MoeForCausalLM\"], \"model_type\": \"qwen2_moe\","
                 "\"hidden_size\": 64, \"intermediate_size\": 128, \"moe_intermediate_size\": 32,"
                 "\"shared_expert_intermediate_size\": 128, \"num_attention_heads\": 4,"
                 "\"num_key_value_heads\": 4, \"num_hidden_layers\": 4, \"num_experts\": 4,"
                 "\"num_experts_per_tok\": 2, \"decoder_sparse_step\": 2, \"vocab_size\": 100,"
                 "\"tie_word_embeddings\": false, \"torch_dtype\": \"bfloat16\"}"),
        0);
    hr_model *m = NULL;
    hr_error err;
    if (hr_model_open(dir, &m, &err) != HR_OK)
        fail_msg("checkpoint rejected: %s", err.message);
    assert_int_equal(m->source, HR_SOURCE_SAFETENSORS);
    for (uint32_t il = 0; il < 4; il++) {
        const bool sparse = il % 2 == 1;
        assert_int_equal(m->layers[il].n_expert, sparse ? 4 : 0);
        assert_int_equal(m->layers[il].n_ff, sparse ? 0 : 128);
        assert_int_equal(m->layers[il].n_ff_exp, sparse ? 32 : 0);
        assert_true((block_tensor(m, il, "ffn_gate.weight") != NULL) == !sparse);
        assert_true((block_tensor(m, il, "ffn_gate_exps.weight") != NULL) == sparse);
    }
    assert_true(has_warning(m, "dense MLP"));
    hr_model_free(m);
    tu_remove_tree(dir);
    free(path);
    free(dir);
}

/* DeepSeek-V3's shape: 61 layers, 3 dense, 256 routed experts + 1 shared. */
#define DEEPSEEK_V3(ROUTING)                                                                \
    "{\"architectures\": [\"DeepseekV3ForCausalLM\"], \"model_type\": \"deepseek_v3\","      \
    "\"hidden_size\": 7168, \"intermediate_size\": 18432, \"moe_intermediate_size\": 2048," \
    "\"num_attention_heads\": 128, \"num_key_value_heads\": 128, \"num_hidden_layers\": 61,"\
    "\"n_routed_experts\": 256, \"n_shared_experts\": 1, \"num_experts_per_tok\": 8,"       \
    "\"first_k_dense_replace\": 3, \"kv_lora_rank\": 512, \"q_lora_rank\": 1536,"           \
    "\"qk_nope_head_dim\": 128, \"qk_rope_head_dim\": 64, \"v_head_dim\": 128,"             \
    "\"n_group\": 8, \"topk_group\": 4, " ROUTING "\"vocab_size\": 129280,"                 \
    "\"max_position_embeddings\": 163840, \"tie_word_embeddings\": false,"                  \
    "\"torch_dtype\": \"bfloat16\"}"

static void test_deepseek_v3_probs_bias(void **state)
{
    (void)state;
    hr_model *m = from_json(
        DEEPSEEK_V3("\"topk_method\": \"noaux_tc\", \"scoring_func\": \"sigmoid\","));
    assert_string_equal(m->arch_name, "deepseek2");
    uint64_t bias_bytes = 0;
    for (uint32_t il = 0; il < 61; il++) {
        const hr_tensor *b = block_tensor(m, il, "exp_probs_b.bias");
        if (il < 3) { /* first_k_dense_replace: no router, no bias */
            assert_null(b);
            assert_int_equal(m->layers[il].n_expert, 0);
            continue;
        }
        assert_non_null(b);
        assert_int_equal(b->type, HR_TYPE_F32);
        assert_int_equal(b->n_dims, 1);
        assert_int_equal(b->ne[0], 256);
        assert_int_equal(b->ne[1], 1);
        assert_int_equal(b->bytes, 256 * 4);
        assert_int_equal(b->layer, (int32_t)il);
        bias_bytes += b->bytes;
        /* created right after the router, as llama.cpp's loader lists them */
        const hr_tensor *inp = block_tensor(m, il, "ffn_gate_inp.weight");
        assert_ptr_equal(inp + 1, b);
    }
    assert_int_equal(bias_bytes, 58 * 1024);
    /* every other tensor stays bf16 */
    assert_int_equal(m->n_bytes, 2 * (m->n_params - 58 * 256) + bias_bytes);
    /* the GGUF's list: 3 dense blocks of 13, 58 MoE blocks of 18, 3 outside */
    assert_int_equal(m->n_tensors, 3 * 13 + 58 * 18 + 3);
    hr_model_free(m);

    /* transformers' DeepseekV3 carries the bias even without topk_method */
    hr_model *plain = from_json(DEEPSEEK_V3(""));
    assert_non_null(by_name(plain, "blk.3.exp_probs_b.bias"));
    assert_int_equal(plain->n_tensors, 3 * 13 + 58 * 18 + 3);
    hr_model_free(plain);

    /* greedy routing (DeepSeek-V2 style) has none */
    hr_model *greedy = from_json(DEEPSEEK_V3("\"topk_method\": \"greedy\","));
    for (size_t i = 0; i < greedy->n_tensors; i++)
        assert_null(strstr(greedy->tensors[i].name, "exp_probs_b"));
    assert_int_equal(greedy->n_tensors, 3 * 13 + 58 * 17 + 3);
    hr_model_free(greedy);

    /* FP8 checkpoint: the bias is no linear layer and keeps its f32 size */
    hr_model *fp8 = from_json(DEEPSEEK_V3(
        "\"topk_method\": \"noaux_tc\", \"quantization_config\": {\"quant_method\": \"fp8\","
        "\"weight_block_size\": [128, 128]},"));
    assert_int_equal(by_name(fp8, "blk.60.exp_probs_b.bias")->bytes, 1024);
    hr_model_free(fp8);
}

static void test_unknown_and_generic(void **state)
{
    (void)state;
    hr_model *m = from_json(
        "{\"architectures\": [\"FancyForCausalLM\"], \"model_type\": \"fancy\","
        "\"hidden_size\": 512, \"intermediate_size\": 1024, \"num_attention_heads\": 8,"
        "\"num_hidden_layers\": 4, \"vocab_size\": 1000, \"torch_dtype\": \"float16\"}");
    assert_string_equal(m->arch_name, "fancy");
    assert_true(has_warning(m, "unknown architecture"));
    assert_int_equal(m->n_layer, 4);
    assert_int_equal(m->n_head_kv, 8);
    assert_int_equal(m->n_bytes, 2 * m->n_params);
    hr_model_free(m);

    /* no torch_dtype: float32 assumed, with a warning */
    hr_model *f = from_json("{" LLAMA31_8B "}");
    assert_int_equal(f->n_bytes, 4 * f->n_params);
    assert_true(has_warning(f, "torch_dtype"));
    hr_model_free(f);
}

static void test_bad_configs(void **state)
{
    (void)state;
    const char *bad[] = {
        "{\"num_hidden_layers\": 4",                                   /* invalid JSON */
        "[1, 2]",                                                      /* not an object */
        "{\"hidden_size\": 64}",                                       /* no layer count */
        "{\"num_hidden_layers\": 0, \"hidden_size\": 64}",             /* no layers */
        "{\"num_hidden_layers\": -3, \"hidden_size\": 64}",            /* negative */
        "{\"num_hidden_layers\": 2.5, \"hidden_size\": 64}",           /* fractional */
        "{\"num_hidden_layers\": 1e12, \"hidden_size\": 64}",          /* absurd */
        "{\"num_hidden_layers\": \"32\", \"hidden_size\": 64}",        /* a string */
        ("{\"num_hidden_layers\": 2, \"hidden_size\": 64, \"num_attention_heads\": 6,"
         "\"num_key_value_heads\": 4, \"vocab_size\": 10, \"intermediate_size\": 8}"),
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hr_model *m = NULL;
        hr_error err;
        hr_status st = hr_model_from_config_json(bad[i], strlen(bad[i]), "x/config.json", &m,
                                                 &err);
        assert_int_not_equal(st, HR_OK);
        assert_null(m);
        if (!strstr(err.message, "x/config.json"))
            fail_msg("case %zu: '%s' does not name the file", i, err.message);
    }
    /* the file reader names the path and caps the size */
    char *dir = tu_make_temp_dir("st");
    char *path = tu_path(dir, "config.json");
    assert_int_equal(tu_write_text(path, "{}"), 0);
    assert_int_equal(tu_truncate(path, 17u * 1024 * 1024), 0);
    hr_model *m = NULL;
    hr_error err;
    assert_int_equal(hr_model_open_config(path, &m, &err), HR_ERR_LIMIT);
    assert_non_null(strstr(err.message, path));
    tu_remove_tree(dir);
    free(path);
    free(dir);
}

/* Every prefix of a real config parses or fails cleanly. */
static void test_config_truncations(void **state)
{
    (void)state;
    const char *json = "{" LLAMA31_8B ", \"torch_dtype\": \"bfloat16\","
                       "\"quantization_config\": {\"quant_method\": \"gptq\", \"bits\": 4,"
                       "\"group_size\": 128}, \"layer_types\": [\"full_attention\"]}";
    size_t len = strlen(json);
    for (size_t cut = 0; cut < len; cut++) {
        hr_model *m = NULL;
        hr_error err;
        if (hr_model_from_config_json(json, cut, "cut/config.json", &m, &err) == HR_OK)
            hr_model_free(m);
        else
            assert_non_null(strstr(err.message, "cut/config.json"));
    }
}

static void test_open_config_file(void **state)
{
    (void)state;
    char *dir = tu_make_temp_dir("st");
    hr_shape s;
    hr_shape_init(&s);
    s.n_layer = 2;
    s.n_embd = 128;
    s.n_vocab = 500;
    s.n_head = 4;
    s.n_ff = 256;
    s.tied_output = true;
    stw_config cfg = {"Qwen3ForCausalLM", "qwen3", "bfloat16", s,
                      "\"head_dim\": 64, \"rms_norm_eps\": 1e-6"};
    assert_int_equal(stw_write_config(dir, &cfg), 0);
    hr_model *m = NULL;
    hr_error err;
    /* a directory holding only config.json opens through hr_model_open */
    assert_int_equal(hr_model_open(dir, &m, &err), HR_OK);
    assert_int_equal(m->source, HR_SOURCE_CONFIG);
    assert_string_equal(m->arch_name, "qwen3");
    assert_int_equal(m->n_embd_head_k, 64);
    assert_non_null(by_name(m, "blk.1.attn_k_norm.weight"));
    assert_null(by_name(m, "output.weight"));
    hr_model_free(m);
    tu_remove_tree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_llama31_8b),
        cmocka_unit_test(test_mistral_is_llama),
        cmocka_unit_test(test_stella_1_5b),
        cmocka_unit_test(test_stella_400m),
        cmocka_unit_test(test_gptq),
        cmocka_unit_test(test_gemma2_swa_and_softcap),
        cmocka_unit_test(test_layer_types),
        cmocka_unit_test(test_granite_hybrid),
        cmocka_unit_test(test_jamba),
        cmocka_unit_test(test_nemotron_h),
        cmocka_unit_test(test_lfm2),
        cmocka_unit_test(test_falcon_h1),
        cmocka_unit_test(test_qwen35),
        cmocka_unit_test(test_moe_and_mla),
        cmocka_unit_test(test_qwen_moe_dense_layers),
        cmocka_unit_test(test_qwen_moe_dense_layers_safetensors),
        cmocka_unit_test(test_deepseek_v3_probs_bias),
        cmocka_unit_test(test_unknown_and_generic),
        cmocka_unit_test(test_bad_configs),
        cmocka_unit_test(test_config_truncations),
        cmocka_unit_test(test_open_config_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
