/* `headroom workers`: transformers-style plan and worker count, through the binary. */
#include <cjson/cJSON.h>
#include <string.h>

#include "test_util.h"

#include "headroom/headroom.h"

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(v))
        fail_msg("missing number '%s'", key);
    return v->valuedouble;
}

static void test_stella_workers_on_a_host(void **state)
{
    (void)state;
    tu_run_result r;
    tu_run_headroom(&r, "workers stella_en_1.5b_v5 --batch 32 --seq-len 512 --overhead 400MiB "
                        "--margin 5%% --hardware cpu-64gb-ddr4 --json");
    assert_int_equal(r.exit_code, 0);
    cJSON *j = cJSON_Parse(r.out);
    assert_non_null(j);
    const cJSON *mem = cJSON_GetObjectItemCaseSensitive(j, "memory");
    double w = num(mem, "weights_bytes"), kv = num(mem, "kv_bytes"),
           act = num(mem, "activation_bytes"), ov = num(mem, "overhead_bytes"),
           mg = num(mem, "margin_bytes"), total = num(mem, "total_bytes");
    assert_true(w + kv + act + ov + mg == total);
    /* stella_en_1.5B_v5 in f32: ~6.2 GB of weights, no KV cache for an embedding pass */
    assert_true(w > 6.1e9 && w < 6.3e9);
    assert_true(kv == 0);
    assert_true(ov == 400.0 * 1048576);
    double cap = num(j, "capacity_bytes");
    double n = num(j, "workers");
    assert_true(n == (double)(uint64_t)(cap / total));
    assert_true(n >= 1);
    cJSON_Delete(j);
    tu_run_free(&r);
}

static void test_engine_matches_binary(void **state)
{
    (void)state;
    hr_model *m;
    hr_error err;
    assert_int_equal(hr_model_open("stella_en_400m_v5", &m, &err), HR_OK);
    hr_tf_settings tf;
    hr_tf_settings_init(&tf);
    tf.batch = 16;
    tf.seq_len = 256;
    tf.use_kv_cache = false;
    hr_budget b;
    hr_budget_init_host_only(&b);
    b.devices[0].capacity_bytes = 16ull << 30;
    b.devices[0].capacity_known = true;
    uint32_t n;
    hr_tf_plan plan;
    assert_int_equal(hr_solve_tf_workers(m, &tf, &b, 0, &n, &plan, &err), HR_OK);
    assert_int_equal(n, (16ull << 30) / plan.total_bytes);
    /* one more worker does not fit, the answer does */
    assert_true((uint64_t)n * plan.total_bytes <= (16ull << 30));
    assert_true((uint64_t)(n + 1) * plan.total_bytes > (16ull << 30));
    b.devices[0].capacity_known = false;
    assert_int_equal(hr_solve_tf_workers(m, &tf, &b, 0, &n, &plan, &err), HR_ERR_ARG);
    assert_int_equal(hr_solve_tf_workers(m, &tf, &b, 3, &n, &plan, &err), HR_ERR_ARG);
    hr_model_free(m);
}

static void test_usage_errors(void **state)
{
    (void)state;
    tu_run_result r;
    tu_run_headroom(&r, "workers stella_en_1.5b_v5 --batch 0");
    assert_int_equal(r.exit_code, 2);
    assert_non_null(strstr(r.err, "--batch"));
    tu_run_free(&r);
    tu_run_headroom(&r, "workers stella_en_1.5b_v5 --dtype Q4_K");
    assert_int_equal(r.exit_code, 2);
    tu_run_free(&r);
    /* a llama.cpp setting that means nothing here is refused, not ignored */
    tu_run_headroom(&r, "workers stella_en_1.5b_v5 --ctx-size 4096");
    assert_int_equal(r.exit_code, 2);
    assert_non_null(strstr(r.err, "--ctx-size"));
    tu_run_free(&r);
    tu_run_headroom(&r, "workers stella_en_1.5b_v5 --device gpu --hardware cpu-64gb-ddr4");
    assert_int_equal(r.exit_code, 1);
    assert_non_null(strstr(r.err, "no GPU"));
    tu_run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stella_workers_on_a_host),
        cmocka_unit_test(test_engine_matches_binary),
        cmocka_unit_test(test_usage_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
