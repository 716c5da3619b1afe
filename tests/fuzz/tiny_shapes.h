/* Tiny shapes of the families added after the first seven fuzz seeds
 * (recurrent, hybrid, sliding-window, MoE and encoder layers), as preset
 * YAML: gen_seeds.c writes them as GGUF seeds, fuzz_yaml.c plans fuzzed
 * settings on some. Shared: 64 wide, 256 tokens, Q8_0. */
#ifndef HR_FUZZ_TINY_SHAPES_H
#define HR_FUZZ_TINY_SHAPES_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "headroom/headroom.h"

#define QWEN3NEXT                                                                  \
    "arch: qwen3next\nlayers: 4\nheads: 4\nkv_heads: 2\nhead_dim: 16\n"              \
    "experts: 4\nexperts_used: 2\nffn_exp: 64\nffn_shexp: 64\nssm_conv: 4\n"         \
    "ssm_inner: 64\nssm_state: 16\nssm_dt_rank: 4\nssm_groups: 2\n"                  \
    "attn_layer_period: 2\nattn_layer_offset: 1\ntied: true\n"
static const struct { const char *stem, *yaml; } tiny_shapes[] = {
    {"mamba2",
     "arch: mamba2\nlayers: 2\nssm_conv: 4\nssm_inner: 128\nssm_state: 16\n"
     "ssm_dt_rank: 2\nssm_groups: 1\ntied: true\n"},
    {"rwkv6",
     "arch: rwkv6\nlayers: 2\nffn: 224\nrwkv_head_size: 32\ntied: false\n"},
    {"rwkv7",
     "arch: rwkv7\nlayers: 2\nffn: 256\nrwkv_head_size: 32\ntied: false\n"},
    {"granitehybrid",
     "arch: granitehybrid\nlayers: 4\nheads: 4\nkv_heads: 2\nffn: 128\n"
     "ssm_conv: 4\nssm_inner: 128\nssm_state: 16\nssm_dt_rank: 2\n"
     "ssm_groups: 1\nattn_layer_period: 2\nattn_layer_offset: 1\n"
     "embedding_scale: 12\nresidual_scale: 0.22\nlogit_scale: 8\n"
     "no_rope: true\ntied: true\n"},
    {"nemotron_h",
     "arch: nemotron_h\nlayers: 4\nlayer_pattern: \"M*-M\"\nheads: 4\n"
     "kv_heads: 2\nhead_dim: 16\nffn: 128\nssm_conv: 4\nssm_inner: 128\n"
     "ssm_state: 16\nssm_dt_rank: 4\nssm_groups: 2\ntied: false\n"},
    {"nemotron_h_moe",
     "arch: nemotron_h_moe\nlayers: 4\nlayer_pattern: \"ME*E\"\nheads: 4\n"
     "kv_heads: 2\nhead_dim: 16\nexperts: 4\nexperts_used: 2\nffn_exp: 64\n"
     "ffn_shexp: 64\nexperts_norm: true\nexperts_scale: 2.5\nssm_conv: 4\n"
     "ssm_inner: 128\nssm_state: 16\nssm_dt_rank: 4\nssm_groups: 2\n"
     "tied: false\n"},
    {"lfm2",
     "arch: lfm2\nlayers: 4\nlayer_pattern: \"CC*C\"\nheads: 4\n"
     "kv_heads: 2\nffn: 128\nshortconv_l_cache: 3\ntied: true\n"},
    {"lfm2moe",
     "arch: lfm2moe\nlayers: 4\nlayer_pattern: \"CC*C\"\nheads: 4\n"
     "kv_heads: 2\nffn: 128\ndense_lead: 1\nexperts: 4\nexperts_used: 2\n"
     "ffn_exp: 64\nshortconv_l_cache: 3\ntied: true\n"},
    {"falcon-h1",
     "arch: falcon-h1\nlayers: 2\nheads: 4\nkv_heads: 2\nhead_dim: 16\n"
     "ffn: 128\nssm_conv: 4\nssm_inner: 128\nssm_state: 16\nssm_dt_rank: 2\n"
     "ssm_groups: 1\ntied: false\n"},
    {"qwen35",
     "arch: qwen35\nlayers: 4\nheads: 4\nkv_heads: 2\nhead_dim: 16\n"
     "ffn: 128\nssm_conv: 4\nssm_inner: 64\nssm_state: 16\nssm_dt_rank: 4\n"
     "ssm_groups: 2\nattn_layer_period: 2\nattn_layer_offset: 1\n"
     "tied: true\n"},
    {"qwen35moe",
     "arch: qwen35moe\nlayers: 4\nheads: 4\nkv_heads: 2\nhead_dim: 16\n"
     "experts: 4\nexperts_used: 2\nffn_exp: 64\nffn_shexp: 64\nssm_conv: 4\n"
     "ssm_inner: 64\nssm_state: 16\nssm_dt_rank: 4\nssm_groups: 2\n"
     "attn_layer_period: 2\nattn_layer_offset: 1\ntied: true\n"},
    {"qwen3next", QWEN3NEXT},
    {"qwen3next_ssm_in", QWEN3NEXT "ssm_fused_qkvz: true\n"}, /* its first GGUFs' ssm_in */
    {"jamba",
     "arch: jamba\nlayers: 4\nheads: 4\nkv_heads: 2\nhead_dim: 16\n"
     "ffn: 128\nexperts: 4\nexperts_used: 2\nffn_exp: 64\nssm_conv: 4\n"
     "ssm_inner: 128\nssm_state: 16\nssm_dt_rank: 4\nattn_layer_period: 4\n"
     "attn_layer_offset: 2\nexpert_layer_period: 2\nexpert_layer_offset: 1\n"
     "tied: false\n"},
    {"gemma3",
     "arch: gemma3\nlayers: 4\nheads: 4\nkv_heads: 1\nhead_dim: 32\n"
     "ffn: 128\nsliding_window: 128\nswa_pattern: 2\ntied: true\n"},
    {"cohere2",
     "arch: cohere2\nlayers: 4\nheads: 4\nkv_heads: 2\nhead_dim: 16\n"
     "ffn: 128\nsliding_window: 128\nswa_pattern: 4\ntied: true\n"},
    {"gpt-oss",
     "arch: gpt-oss\nlayers: 2\nheads: 4\nkv_heads: 2\nhead_dim: 16\n"
     "ffn: 64\nexperts: 4\nexperts_used: 2\nffn_exp: 64\n"
     "sliding_window: 128\nswa_pattern: 2\nattn_bias: true\ntied: false\n"},
    {"phi3",
     "arch: phi3\nlayers: 2\nheads: 4\nkv_heads: 4\nhead_dim: 16\nffn: 128\n"
     "tied: false\n"},
    {"qwen3moe",
     "arch: qwen3moe\nlayers: 2\nheads: 4\nkv_heads: 2\nhead_dim: 16\n"
     "ffn: 128\nexperts: 4\nexperts_used: 2\nffn_exp: 64\ntied: false\n"},
    {"nomic-bert",
     "arch: nomic-bert\nlayers: 2\nheads: 4\nkv_heads: 4\nhead_dim: 16\n"
     "ffn: 128\ncausal: false\nembedding_only: true\n"},
};

#define N_TINY_SHAPES (sizeof tiny_shapes / sizeof tiny_shapes[0])

/* The model of tiny_shapes[i]; NULL (err says why) when it does not build. */
static inline hr_model *tiny_shape_model(size_t i, hr_error *err)
{
    static const char common[] = "embd: 64\nvocab: 256\nctx_train: 512\nquant: Q8_0\n";
    char yaml[1024];
    const int n = snprintf(yaml, sizeof yaml, "name: tiny-%s\n%s%s", tiny_shapes[i].stem, common,
                           tiny_shapes[i].yaml);
    if (n < 0 || (size_t)n >= sizeof yaml) {
        hr_error_set(err, HR_ERR_LIMIT, "%s: shape text too long", tiny_shapes[i].stem);
        return NULL;
    }
    hr_shape s;
    char *strings = NULL;
    hr_model *m = NULL;
    if (hr_preset_parse(yaml, (size_t)n, tiny_shapes[i].stem, &s, &strings, err) == HR_OK)
        hr_model_from_shape(&s, &m, err);
    free(strings);
    return m;
}

/* The index of the shape named stem, or N_TINY_SHAPES. */
static inline size_t tiny_shape_index(const char *stem)
{
    size_t i = 0;
    while (i < N_TINY_SHAPES && strcmp(tiny_shapes[i].stem, stem) != 0)
        i++;
    return i;
}

#endif
