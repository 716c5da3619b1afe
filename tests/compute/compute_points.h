/* Real llama.cpp compute buffers (sched_reserve: CPU compute buffer size).
 * Generated from ../shared/calibration/llamacpp_cpu.jsonl and from loads of
 * sparse GGUFs of the shapes below with node-llama-cpp 3.22.1 (llama.cpp
 * v0.5.0 CPU build, mmap, non-unified KV): n_ctx is llama.cpp's total
 * context, n_ubatch = n_batch as llama.cpp printed them. */
#ifndef HR_TEST_COMPUTE_POINTS_H
#define HR_TEST_COMPUTE_POINTS_H
#include <stdint.h>

typedef struct cp_model {
    const char *name, *arch;
    uint32_t n_layer, n_embd, n_head, n_head_kv, head_dim, n_ff, n_vocab, n_ctx_train;
    uint32_t n_swa, swa_pattern, n_expert, n_expert_used, n_ff_exp, n_ff_shexp;
    int tied, qkv_bias;
    float attn_softcap, final_softcap;
} cp_model;

typedef struct cp_point {
    int model;
    uint32_t n_ctx, n_ubatch, n_seq;
    int flash_attn;
    const char *type_k, *type_v;
    uint32_t n_kv_swa; /* SWA cells per stream when known, else 0 */
    double compute_mib;
} cp_point;

#define CP_N_MODELS 12
static const cp_model cp_models[CP_N_MODELS] = {
    {"llama32_1b", "llama", 16, 2048, 32, 8, 0, 8192, 128256, 131072, 0, 0, 0, 0, 0, 0, 1, 0, 0.00f, 0.00f},
    {"qwen25_05b", "qwen2", 24, 896, 14, 2, 0, 4864, 151936, 32768, 0, 0, 0, 0, 0, 0, 1, 1, 0.00f, 0.00f},
    {"tinyllama", "llama", 22, 2048, 32, 4, 0, 5632, 32000, 2048, 0, 0, 0, 0, 0, 0, 0, 0, 0.00f, 0.00f},
    {"gemma2_like", "gemma2", 6, 2304, 8, 4, 256, 9216, 256000, 8192, 4096, 2, 0, 0, 0, 0, 1, 0, 50.00f, 30.00f},
    {"qwen3_like", "qwen3", 5, 2048, 16, 8, 128, 6144, 151936, 40960, 0, 0, 0, 0, 0, 0, 1, 0, 0.00f, 0.00f},
    {"qwen3moe_like", "qwen3moe", 4, 2048, 32, 4, 128, 6144, 151936, 40960, 0, 0, 128, 8, 768, 0, 0, 0, 0.00f, 0.00f},
    {"qwen2moe_like", "qwen2moe", 4, 2048, 16, 16, 0, 5632, 151936, 32768, 0, 0, 60, 4, 1408, 5632, 0, 1, 0.00f, 0.00f},
    {"phi3_like", "phi3", 4, 3072, 32, 32, 0, 8192, 32064, 4096, 0, 0, 0, 0, 0, 0, 0, 0, 0.00f, 0.00f},
    {"gemma3_like", "gemma3", 26, 1152, 4, 1, 256, 6912, 262144, 32768, 512, 6, 0, 0, 0, 0, 1, 0, 0.00f, 0.00f},
    {"commandr_like", "command-r", 4, 4096, 32, 8, 0, 14336, 65536, 8192, 0, 0, 0, 0, 0, 0, 1, 0, 0.00f, 0.00f},
    {"cohere2_like", "cohere2", 8, 4096, 32, 8, 0, 14336, 65536, 8192, 4096, 4, 0, 0, 0, 0, 1, 0, 0.00f, 0.00f},
    {"mixtral_like", "llama", 4, 4096, 32, 8, 0, 14336, 32000, 32768, 0, 0, 8, 2, 14336, 0, 0, 0, 0.00f, 0.00f},
};

static const cp_point cp_points[] = {
    {0, 512, 512, 1, 0, "f16", "f16", 0, 258.50}, /* calibration */
    {0, 4096, 512, 1, 0, "f16", "f16", 0, 286.01}, /* calibration */
    {0, 4096, 512, 1, 1, "f16", "f16", 0, 258.50}, /* calibration */
    {0, 16384, 2048, 1, 0, "f16", "f16", 0, 4312.04}, /* calibration */
    {0, 16384, 2048, 1, 1, "f16", "f16", 0, 1034.01}, /* calibration */
    {0, 32768, 512, 4, 1, "f16", "f16", 0, 258.50}, /* calibration */
    {0, 32768, 512, 1, 1, "f16", "f16", 0, 258.50}, /* calibration */
    {0, 8192, 1024, 1, 1, "q8_0", "q8_0", 0, 525.00}, /* calibration */
    {0, 16384, 256, 2, 1, "q4_0", "q4_0", 0, 131.25}, /* calibration */
    {1, 512, 512, 1, 0, "f16", "f16", 0, 300.25}, /* calibration */
    {1, 4096, 512, 1, 0, "f16", "f16", 0, 302.00}, /* calibration */
    {1, 4096, 512, 1, 1, "f16", "f16", 0, 300.25}, /* calibration */
    {1, 16384, 2048, 1, 0, "f16", "f16", 0, 1957.04}, /* calibration */
    {1, 16384, 2048, 1, 1, "f16", "f16", 0, 1201.01}, /* calibration */
    {1, 32768, 512, 4, 1, "f16", "f16", 0, 300.25}, /* calibration */
    {1, 32768, 512, 1, 1, "f16", "f16", 0, 300.25}, /* calibration */
    {1, 8192, 1024, 1, 1, "q8_0", "q8_0", 0, 604.00}, /* calibration */
    {1, 16384, 256, 2, 1, "q4_0", "q4_0", 0, 151.00}, /* calibration */
    {2, 512, 512, 1, 0, "f16", "f16", 0, 70.50}, /* calibration */
    {2, 4096, 512, 1, 0, "f16", "f16", 0, 285.01}, /* calibration */
    {2, 4096, 512, 1, 1, "f16", "f16", 0, 70.50}, /* calibration */
    {2, 16384, 2048, 1, 0, "f16", "f16", 0, 4308.04}, /* calibration */
    {2, 16384, 2048, 1, 1, "f16", "f16", 0, 282.01}, /* calibration */
    {2, 32768, 512, 4, 1, "f16", "f16", 0, 70.50}, /* calibration */
    {2, 32768, 512, 1, 1, "f16", "f16", 0, 81.01}, /* calibration */
    {2, 8192, 1024, 1, 1, "q8_0", "q8_0", 0, 149.00}, /* calibration */
    {2, 16384, 256, 2, 1, "q4_0", "q4_0", 0, 37.25}, /* calibration */
    {4, 4096, 512, 1, 0, "f16", "f16", 0, 308.75}, /* real */
    {4, 4096, 512, 1, 1, "f16", "f16", 0, 304.75}, /* real */
    {4, 16384, 2048, 1, 0, "f16", "f16", 0, 2272.04}, /* real */
    {3, 4096, 513, 1, 0, "f16", "f16", 4096, 510.00}, /* real */
    {3, 4096, 513, 1, 1, "f16", "f16", 4096, 514.50}, /* real */
    {3, 32768, 1025, 2, 0, "f16", "f16", 2688, 1019.01}, /* real */
    {5, 4096, 512, 1, 0, "f16", "f16", 0, 304.75}, /* real */
    {5, 4096, 512, 1, 1, "f16", "f16", 0, 304.75}, /* real */
    {5, 32768, 2048, 4, 1, "f16", "f16", 0, 1219.01}, /* real */
    {6, 4096, 512, 1, 0, "f16", "f16", 0, 328.99}, /* real */
    {6, 4096, 1024, 1, 1, "f16", "f16", 0, 658.00}, /* real */
    {7, 4096, 512, 1, 0, "f16", "f16", 0, 294.01}, /* real */
    {7, 4096, 512, 1, 1, "f16", "f16", 0, 90.64}, /* real */
    {4, 16384, 2048, 2, 1, "q8_0", "q8_0", 0, 1235.01}, /* real */
    {3, 8192, 2049, 1, 1, "q8_0", "q8_0", 6400, 2037.00}, /* real */
    {7, 16384, 2048, 2, 1, "q8_0", "q8_0", 0, 298.51}, /* real */
    {5, 4096, 1024, 1, 1, "q4_0", "q4_0", 0, 609.50}, /* real */
    {4, 4096, 512, 1, 0, "q8_0", "f16", 0, 308.75}, /* real */
    {8, 4096, 513, 1, 0, "f16", "f16", 1280, 519.77}, /* real */
    {8, 4096, 513, 1, 1, "f16", "f16", 1280, 517.51}, /* real */
    {8, 32768, 1025, 2, 1, "q8_0", "q8_0", 896, 1034.02}, /* real */
    {9, 4096, 512, 1, 0, "f16", "f16", 0, 308.01}, /* real */
    {9, 8192, 1024, 1, 1, "f16", "f16", 0, 288.00}, /* real */
    {10, 8192, 513, 1, 0, "f16", "f16", 4864, 578.64}, /* real */
    {10, 8192, 513, 1, 1, "f16", "f16", 4864, 152.30}, /* real */
    {11, 4096, 512, 1, 0, "f16", "f16", 0, 308.01}, /* real */
    {11, 8192, 1024, 1, 1, "f16", "f16", 0, 416.03}, /* real */
};
#endif
