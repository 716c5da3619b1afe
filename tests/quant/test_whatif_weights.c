/* The plan's what-if weights (hr_plan_weights: runs of layers, a padded sum
 * per projection and device) against the weights of a plan of the model
 * requantized to the same ftype, device by device, for every ftype on every
 * preset over placements that split layers between devices padding alike
 * and otherwise, and between the host and one GPU. */
#include <stdio.h>
#include <string.h>

#include "test_util.h"

#include "headroom/model.h"
#include "headroom/plan.h"
#include "headroom/quant.h"

static const char *const PRESETS[] = {
    "bitnet-b1.58-2b-4t", "deepseek-v2-lite", "gemma-2-9b", "llama-3.1-70b", "llama-3.1-8b",
    "llama-3.2-1b", "mistral-7b", "mixtral-8x7b", "phi-3-mini", "qwen2.5-0.5b", "qwen2.5-7b",
    "stella_en_1.5b_v5", "stella_en_400m_v5",
};

/* The host and three GPUs of unequal sizes: CUDA and ROCm pad rows, Vulkan
 * does not. */
static void budget_of_three(hr_budget *b)
{
    memset(b, 0, sizeof *b);
    b->n_devices = 4;
    snprintf(b->label, sizeof b->label, "test");
    const hr_backend backends[] = {HR_BACKEND_CPU, HR_BACKEND_CUDA, HR_BACKEND_VULKAN,
                                   HR_BACKEND_ROCM};
    for (int d = 0; d < 4; d++) {
        hr_budget_device *dev = &b->devices[d];
        snprintf(dev->name, sizeof dev->name, "dev%d", d);
        dev->kind = d == 0 ? HR_DEVICE_HOST : HR_DEVICE_GPU;
        dev->backend = backends[d];
        dev->capacity_bytes = (uint64_t)(16 + 8 * d) << 30;
        dev->capacity_known = true;
    }
}

/* The host and one CUDA GPU (the placement's ranges in closed form). */
static void budget_of_one(hr_budget *b)
{
    budget_of_three(b);
    b->n_devices = 2;
}

static void compare_weights(const hr_model *m, const char *name, hr_ftype ftype,
                            const hr_budget *b)
{
    hr_model *q = NULL;
    hr_error err = {0};
    if (hr_model_requantize(m, ftype, &q, &err) != HR_OK)
        return; /* (a shape the ftype cannot size) */
    const int32_t gpu_layers[] = {-1, 0, 1, (int32_t)m->n_layer / 2, (int32_t)m->n_layer,
                                  (int32_t)m->n_layer + 1};
    for (size_t g = 0; g < sizeof gpu_layers / sizeof gpu_layers[0]; g++) {
        hr_settings s;
        hr_settings_init(&s);
        s.n_ctx = 4096;
        s.mode = HR_MODE_GPU;
        s.n_gpu_layers = gpu_layers[g];
        hr_plan want, got;
        if (hr_plan_compute(q, &s, b, &want, &err) != HR_OK)
            fail_msg("%s as %s: %s", name, hr_ftype_name(ftype), err.message);
        s.target_ftype = ftype;
        if (hr_plan_compute(m, &s, b, &got, &err) != HR_OK)
            fail_msg("%s what-if %s: %s", name, hr_ftype_name(ftype), err.message);
        assert_int_equal(got.n_devices, want.n_devices);
        for (int d = 0; d < got.n_devices; d++)
            if (got.devices[d].bytes[HR_COMP_WEIGHTS] != want.devices[d].bytes[HR_COMP_WEIGHTS])
                fail_msg("%s what-if %s, %d GPU layers: device %d weights %llu, requantized %llu",
                         name, hr_ftype_name(ftype), gpu_layers[g], d,
                         (unsigned long long)got.devices[d].bytes[HR_COMP_WEIGHTS],
                         (unsigned long long)want.devices[d].bytes[HR_COMP_WEIGHTS]);
    }
    hr_model_free(q);
}

static void test_whatif_weights_match_requantized(void **state)
{
    (void)state;
    hr_budget b, one;
    budget_of_three(&b);
    budget_of_one(&one);
    for (size_t i = 0; i < sizeof PRESETS / sizeof PRESETS[0]; i++) {
        hr_model *m = NULL;
        hr_error err = {0};
        if (hr_model_open(PRESETS[i], &m, &err) != HR_OK)
            fail_msg("%s: %s", PRESETS[i], err.message);
        for (int f = 0; f < 128; f++)
            if (hr_ftype_name((hr_ftype)f)) {
                compare_weights(m, PRESETS[i], (hr_ftype)f, &b);
                compare_weights(m, PRESETS[i], (hr_ftype)f, &one);
            }
        hr_model_free(m);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_whatif_weights_match_requantized),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
