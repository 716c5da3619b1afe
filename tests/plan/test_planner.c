/* hr_planner: every plan equals hr_plan_compute's, byte for byte, over long
 * walks of interactive changes on several model shapes and budgets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "plan_fixtures.h"

/* Plans along a walk of steps keys from settings s, planner against plain. */
static void walk_and_compare(const hr_model *m, hr_settings s, const hr_budget *b, int steps,
                             uint32_t seed)
{
    hr_error err = {0};
    hr_planner *planner = hr_planner_new(m, &err);
    assert_non_null(planner);
    uint32_t rng = seed;
    int ok = 0;
    for (int i = 0; i < steps; i++) {
        hr_plan want, got;
        hr_error e1 = {0}, e2 = {0};
        const hr_status r1 = hr_plan_compute(m, &s, b, &want, &e1);
        const hr_status r2 = hr_planner_plan(planner, &s, b, &got, &e2);
        if (r1 != r2 || (r1 == HR_OK && memcmp(&want, &got, sizeof want) != 0)) {
            print_error("step %d: ctx %u ub %u ngl %d fa %d seq %u ftype %d mode %d: "
                        "plain %d %llu, planner %d %llu\n",
                        i, s.n_ctx, s.n_ubatch, s.n_gpu_layers, (int)s.flash_attn, s.n_seq,
                        (int)s.target_ftype, (int)s.mode, (int)r1,
                        (unsigned long long)want.total_bytes, (int)r2,
                        (unsigned long long)got.total_bytes);
            fail();
        }
        if (r1 == HR_OK)
            ok++;
        else
            assert_string_equal(e1.message, e2.message);
        fixture_walk_step(&s, m->n_layer, &rng);
    }
    assert_true(ok > steps / 2); /* the walk mostly stays on valid settings */
    hr_planner_free(planner);
}

static void test_walks_match_plain_plans(void **state)
{
    (void)state;
    static const fixture_model models[] = {CAL_LLAMA32_1B, CAL_QWEN25_05B, FIX_GEMMA2_2B,
                                           FIX_DEEPSEEK2_LITE, FIX_MAMBA_130M};
    hr_budget one, two;
    fixture_budget(&one, 64, 1, 8);
    fixture_budget(&two, 64, 2, 24);
    for (size_t k = 0; k < sizeof models / sizeof models[0]; k++) {
        const hr_model *m = fixture_shared(models[k]);
        hr_settings s;
        hr_settings_init(&s);
        s.n_ctx = 4096;
        walk_and_compare(m, s, &one, 300, 1234u + (uint32_t)k);
        walk_and_compare(m, s, &two, 150, 99u + (uint32_t)k);
        s.mode = HR_MODE_CPU;
        walk_and_compare(m, s, NULL, 100, 7u + (uint32_t)k);
    }
}

/* More keys than the planner keeps: old entries go, plans stay right. */
static void test_eviction_keeps_plans_right(void **state)
{
    (void)state;
    const hr_model *m = fixture_shared(CAL_LLAMA32_1B);
    hr_budget b;
    fixture_budget(&b, 64, 1, 8);
    hr_error err = {0};
    hr_planner *planner = hr_planner_new(m, &err);
    assert_non_null(planner);
    hr_settings s;
    hr_settings_init(&s);
    for (int round = 0; round < 2; round++) {
        for (int32_t ngl = 0; ngl <= (int32_t)m->n_layer + 1; ngl++) {
            s.n_gpu_layers = ngl;
            s.n_ctx = 2048u + 256u * (uint32_t)ngl;
            hr_plan want, got;
            assert_int_equal(hr_plan_compute(m, &s, &b, &want, &err), HR_OK);
            assert_int_equal(hr_planner_plan(planner, &s, &b, &got, &err), HR_OK);
            assert_memory_equal(&want, &got, sizeof want);
        }
    }
    hr_planner_free(planner);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    hr_error err = {0};
    assert_null(hr_planner_new(NULL, &err));
    assert_int_equal(err.status, HR_ERR_ARG);
    hr_settings s;
    hr_settings_init(&s);
    hr_plan plan;
    assert_int_equal(hr_planner_plan(NULL, &s, NULL, &plan, &err), HR_ERR_ARG);
    hr_planner_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_walks_match_plain_plans),
        cmocka_unit_test(test_eviction_keeps_plans_right),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, fixture_teardown_shared);
}
