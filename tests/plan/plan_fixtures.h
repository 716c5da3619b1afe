/* Models and budgets shared by the plan and solve tests, built in memory
 * from hyperparameters (the calibration specs and a few other shapes). */
#ifndef HR_PLAN_FIXTURES_H
#define HR_PLAN_FIXTURES_H

#include "headroom/headroom.h"

#define MIB (1024.0 * 1024.0)
#define GIB (1024ull * 1024ull * 1024ull)

typedef enum fixture_model {
    CAL_LLAMA32_1B = 0, /* calibration/specs/llama32_1b.json */
    CAL_QWEN25_05B,     /* calibration/specs/qwen25_05b.json */
    CAL_TINYLLAMA,      /* calibration/specs/tinyllama.json */
    FIX_GEMMA2_2B,      /* sliding-window layers */
    FIX_DEEPSEEK2_LITE, /* MLA + MoE */
    FIX_MAMBA_130M,     /* recurrent */
    FIX_STELLA_15B_F32, /* qwen2 embedding model in f32 */
    FIX_LLAMA31_8B,     /* Q4_K_M, for the bench */
    FIX_COUNT
} fixture_model;

/* Build the model (asserts success). */
hr_model *fixture_build(fixture_model which);

/* The model built once per test executable; freed by the group teardown
 * fixture_teardown_shared. */
hr_model *fixture_shared(fixture_model which);
int fixture_teardown_shared(void **state);

/* Settings of the calibration runs: CPU build, --no-mmap, 0 GPU layers. */
void fixture_cpu_settings(hr_settings *s);

/* A host of host_gib with n_gpus CUDA GPUs of gpu_gib each. */
void fixture_budget(hr_budget *b, double host_gib, int n_gpus, double gpu_gib);

/* One key of an interactive session, drawn from *rng: context up or down
 * (most often), ubatch, GPU layers, flash attention, KV types, what-if
 * ftype, sequences, margin, CPU/GPU mode, KV offload, swa-full. */
void fixture_walk_step(hr_settings *s, uint32_t n_layer, uint32_t *rng);

#endif
