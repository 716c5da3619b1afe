/* libFuzzer harness: every YAML reader (preset, hardware catalog, scenario)
 * on the same arbitrary bytes. A preset that parses is built and planned; a
 * scenario that parses has its settings planned on small fixed models, host
 * only and on two GPUs (scenario files carry every llama.cpp setting). */
#include <stdlib.h>
#include <string.h>

#include "fuzz_budget.h"
#include "headroom/headroom.h"
#include "tiny_shapes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void plan_quietly(const hr_model *m, const hr_settings *s)
{
    hr_budget host, gpus;
    hr_budget_init_host_only(&host);
    fuzz_gpu_budget(&gpus, 2);
    hr_plan plan;
    hr_error err;
    hr_plan_compute(m, s, &host, &plan, &err);
    hr_plan_compute(m, s, &gpus, &plan, &err);
}

/* Small models of the families whose settings paths differ (GQA, SWA, MLA
 * with experts, recurrent, and the hybrids: Mamba with attention and
 * experts, gated delta nets, short convolutions, Mamba-2 beside attention),
 * built once. */
static hr_model **fixed_models(int *n)
{
    static const char *const hybrids[] = {"jamba", "qwen3next", "lfm2", "falcon-h1"};
    static hr_model *models[4 + sizeof hybrids / sizeof hybrids[0]];
    static int count = -1;
    if (count < 0) {
        count = 0;
        for (size_t i = 0; i < sizeof hybrids / sizeof hybrids[0]; i++) {
            hr_error err;
            const size_t k = tiny_shape_index(hybrids[i]);
            if (k < N_TINY_SHAPES && (models[count] = tiny_shape_model(k, &err)) != NULL)
                count++;
        }
        const char *arches[] = {"llama", "gemma2", "deepseek2", "mamba"};
        for (int i = 0; i < 4; i++) {
            hr_shape s;
            hr_shape_init(&s);
            s.name = arches[i];
            s.arch_name = arches[i];
            s.n_layer = 2;
            s.n_embd = 64;
            s.n_vocab = 256;
            s.n_ctx_train = 4096;
            s.n_head = 4;
            s.n_head_kv = 2;
            s.n_ff = 128;
            s.ftype = HR_FTYPE_MOSTLY_Q8_0;
            if (i == 1) {
                s.n_swa = 128;
            } else if (i == 2) {
                s.n_lora_kv = 32;
                s.n_rot = 16;
                s.head_dim_qk_nope = 16;
                s.head_dim = 32;
                s.head_dim_v = 16;
                s.n_expert = 4;
                s.n_expert_used = 2;
                s.n_ff_exp = 64;
            } else if (i == 3) {
                s.ssm_d_conv = 4;
                s.ssm_d_inner = 128;
                s.ssm_d_state = 16;
                s.ssm_dt_rank = 4;
            }
            hr_error err;
            if (hr_model_from_shape(&s, &models[count], &err) == HR_OK)
                count++;
        }
    }
    *n = count;
    return models;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    hr_error err;
    hr_shape shape;
    char *strings = NULL;
    if (hr_preset_parse(text, size, "fuzz/preset.yaml", &shape, &strings, &err) == HR_OK) {
        hr_model *m = NULL;
        if (hr_model_from_shape(&shape, &m, &err) == HR_OK) {
            hr_settings s;
            hr_settings_init(&s);
            s.n_ctx = 256;
            plan_quietly(m, &s);
            hr_model_free(m);
        }
    }
    free(strings);
    hr_catalog *cat = NULL;
    if (hr_catalog_parse(text, size, "fuzz/hardware.yaml", &cat, &err) == HR_OK)
        hr_catalog_free(cat);
    hr_scenario sc;
    if (hr_scenario_parse(text, size, "fuzz/scenario.yaml", &sc, &err) == HR_OK) {
        int n;
        hr_model **models = fixed_models(&n);
        for (int i = 0; i < n; i++)
            plan_quietly(models[i], &sc.settings);
    }
    return 0;
}
