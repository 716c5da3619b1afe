/* Solvers: every answer fits and one step more does not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "plan_fixtures.h"


static bool fits(const hr_model *m, const hr_settings *s, const hr_budget *b)
{
    hr_plan p;
    hr_error err = {0};
    hr_status rc = hr_plan_compute(m, s, b, &p, &err);
    if (rc != HR_OK)
        fprintf(stderr, "# %s\n", err.message);
    assert_int_equal(rc, HR_OK);
    return p.fits;
}

static uint64_t total(const hr_model *m, const hr_settings *s, const hr_budget *b)
{
    hr_plan p;
    assert_int_equal(hr_plan_compute(m, s, b, &p, NULL), HR_OK);
    return p.total_bytes;
}

static void test_max_ctx_exact(void **state)
{
    (void)state;
    const hr_model *m = fixture_shared(CAL_LLAMA32_1B);
    const double host_gib[] = {1.5, 2.0, 3.0, 5.0};
    for (size_t i = 0; i < sizeof host_gib / sizeof host_gib[0]; i++) {
        hr_budget b;
        fixture_budget(&b, host_gib[i], 0, 0);
        hr_settings s;
        fixture_cpu_settings(&s);
        uint32_t ctx = 0;
        hr_error err = {0};
        assert_int_equal(hr_solve_max_ctx(m, &s, &b, false, &ctx, &err), HR_OK);
        assert_int_equal(ctx % 256, 0);
        s.n_ctx = ctx;
        assert_true(fits(m, &s, &b));
        if (ctx < m->n_ctx_train) {
            s.n_ctx = ctx + 256;
            assert_false(fits(m, &s, &b));
        }
        printf("# llama32 in %.1f GiB: max ctx %u\n", host_gib[i], ctx);
    }
    /* nothing fits */
    hr_budget tiny;
    fixture_budget(&tiny, 0.25, 0, 0);
    hr_settings s;
    fixture_cpu_settings(&s);
    uint32_t ctx;
    assert_int_equal(hr_solve_max_ctx(m, &s, &tiny, false, &ctx, NULL), HR_ERR_NO_FIT);
    /* capped at the training context unless allowed beyond */
    hr_budget big;
    fixture_budget(&big, 64, 0, 0);
    const hr_model *t = fixture_shared(CAL_TINYLLAMA);
    assert_int_equal(hr_solve_max_ctx(t, &s, &big, false, &ctx, NULL), HR_OK);
    assert_int_equal(ctx, 2048);
    assert_int_equal(hr_solve_max_ctx(t, &s, &big, true, &ctx, NULL), HR_OK);
    assert_true(ctx > 2048);
    s.n_ctx = ctx;
    assert_true(fits(t, &s, &big));
    s.n_ctx = ctx + 256;
    assert_false(fits(t, &s, &big));
}

static void test_max_batch_exact(void **state)
{
    (void)state;
    const hr_model *m = fixture_shared(CAL_QWEN25_05B);
    const double host_gib[] = {1.0, 1.5, 3.0};
    for (size_t i = 0; i < sizeof host_gib / sizeof host_gib[0]; i++) {
        hr_budget b;
        fixture_budget(&b, host_gib[i], 0, 0);
        hr_settings s;
        fixture_cpu_settings(&s);
        s.n_ctx = 8192;
        uint32_t batch = 0;
        hr_error err = {0};
        assert_int_equal(hr_solve_max_batch(m, &s, &b, &batch, &err), HR_OK);
        s.n_batch = s.n_ubatch = batch;
        assert_true(fits(m, &s, &b));
        if (batch < 8192) {
            s.n_batch = s.n_ubatch = batch + 1;
            assert_false(fits(m, &s, &b));
        }
        printf("# qwen 0.5b in %.1f GiB at ctx 8192: max batch %u\n", host_gib[i], batch);
    }
}

static void test_max_gpu_layers_exact(void **state)
{
    (void)state;
    const hr_model *m = fixture_shared(CAL_TINYLLAMA);
    const double gpu_gib[] = {0.5, 1.0, 1.5, 8.0};
    for (size_t i = 0; i < sizeof gpu_gib / sizeof gpu_gib[0]; i++) {
        hr_budget b;
        fixture_budget(&b, 64, 1, gpu_gib[i]);
        hr_settings s;
        hr_settings_init(&s);
        s.n_ctx = 2048;
        int32_t ngl = -5;
        assert_int_equal(hr_solve_max_gpu_layers(m, &s, &b, &ngl, NULL), HR_OK);
        assert_true(ngl >= 0 && ngl <= (int32_t)m->n_layer + 1);
        s.n_gpu_layers = ngl;
        assert_true(fits(m, &s, &b));
        if (ngl < (int32_t)m->n_layer + 1) {
            s.n_gpu_layers = ngl + 1;
            assert_false(fits(m, &s, &b));
        }
        printf("# tinyllama with a %.1f GiB GPU: %d layers\n", gpu_gib[i], ngl);
    }
}

static void test_best_ftype(void **state)
{
    (void)state;
    const hr_model *m = fixture_shared(FIX_LLAMA31_8B);
    const hr_ftype *list = NULL;
    const int n = hr_ftype_whatif_list(&list);
    const double gpu_gib[] = {6.0, 10.0, 24.0};
    for (size_t i = 0; i < sizeof gpu_gib / sizeof gpu_gib[0]; i++) {
        hr_budget b;
        fixture_budget(&b, 64, 1, gpu_gib[i]);
        hr_settings s;
        hr_settings_init(&s);
        s.n_ctx = 4096;
        hr_ftype best = HR_FTYPE_UNKNOWN;
        assert_int_equal(hr_solve_best_ftype(m, &s, &b, &best, NULL), HR_OK);
        s.target_ftype = best;
        assert_true(fits(m, &s, &b));
        /* every higher entry of the list does not fit (or cannot apply) */
        for (int k = 0; k < n && list[k] != best; k++) {
            s.target_ftype = list[k];
            hr_plan p;
            if (hr_plan_compute(m, &s, &b, &p, NULL) == HR_OK)
                assert_false(p.fits);
        }
        printf("# llama 8b on a %.0f GiB GPU: best %s\n", gpu_gib[i], hr_ftype_name(best));
    }
}

static void test_max_parallel_exact(void **state)
{
    (void)state;
    const hr_model *m = fixture_shared(CAL_TINYLLAMA);
    hr_budget b;
    fixture_budget(&b, 4, 0, 0);
    hr_settings s;
    fixture_cpu_settings(&s);
    s.n_ctx = 2048;
    uint32_t n = 0;
    assert_int_equal(hr_solve_max_parallel(m, &s, &b, &n, NULL), HR_OK);
    assert_true(n >= 1);
    s.n_seq = n;
    s.n_ctx = 2048 * n;
    assert_true(fits(m, &s, &b));
    s.n_seq = n + 1;
    s.n_ctx = 2048 * (n + 1);
    assert_false(fits(m, &s, &b));
    printf("# tinyllama 2048 per sequence in 4 GiB: %u sequences\n", n);
}

static void test_replicas_stella(void **state)
{
    (void)state;
    const hr_model *m = fixture_shared(FIX_STELLA_15B_F32);
    hr_settings s;
    fixture_cpu_settings(&s);
    s.n_ctx = 512;
    s.n_batch = s.n_ubatch = 512;
    s.embeddings = true;
    hr_budget b;
    fixture_budget(&b, 32, 0, 0);
    uint32_t n = 99;
    assert_int_equal(hr_solve_replicas(m, &s, &b, &n, NULL), HR_OK);
    const uint64_t one = total(m, &s, &b);
    assert_true(one > 6000000000ull); /* ~6.2 GB of f32 weights alone */
    assert_true((uint64_t)n * one <= b.devices[0].capacity_bytes);
    assert_true((uint64_t)(n + 1) * one > b.devices[0].capacity_bytes);
    printf("# stella 1.5B f32 (%.2f GiB each) in 32 GiB: %u workers\n", one / (double)GIB, n);
    /* 0 is a valid answer */
    fixture_budget(&b, 4, 0, 0);
    assert_int_equal(hr_solve_replicas(m, &s, &b, &n, NULL), HR_OK);
    assert_int_equal(n, 0);
    /* unknown capacity cannot be divided */
    assert_int_equal(hr_solve_replicas(m, &s, NULL, &n, NULL), HR_ERR_ARG);
}

static void test_solve_all_and_sweep(void **state)
{
    (void)state;
    const hr_model *m = fixture_shared(CAL_LLAMA32_1B);
    hr_budget b;
    fixture_budget(&b, 16, 1, 4);
    hr_settings s;
    hr_settings_init(&s);
    s.n_ctx = 8192;
    hr_fit fit;
    assert_int_equal(hr_solve_all(m, &s, &b, &fit, NULL), HR_OK);
    assert_true(fit.fits_now);
    assert_true(fit.has_ctx && fit.has_batch && fit.has_gpu_layers && fit.has_parallel);
    assert_true(fit.max_ctx >= 8192);
    assert_true(fit.replicas >= 1);

    uint32_t ctx[5] = {1024, 4096, 8192, 16384, 32768};
    uint64_t totals[5 * 2];
    assert_int_equal(hr_sweep_ctx(m, &s, &b, ctx, 5, totals, NULL), HR_OK);
    for (int i = 0; i < 5; i++) {
        s.n_ctx = ctx[i];
        hr_plan p;
        assert_int_equal(hr_plan_compute(m, &s, &b, &p, NULL), HR_OK);
        assert_int_equal(totals[i * 2 + 0], p.devices[0].total_bytes);
        assert_int_equal(totals[i * 2 + 1], p.devices[1].total_bytes);
        if (i > 0)
            assert_true(totals[i * 2 + 1] > totals[(i - 1) * 2 + 1]);
    }
    /* CPU mode: the GPU column stays 0 */
    s.mode = HR_MODE_CPU;
    assert_int_equal(hr_sweep_ctx(m, &s, &b, ctx, 5, totals, NULL), HR_OK);
    assert_int_equal(totals[1], 0);
    assert_int_equal(hr_sweep_ctx(m, &s, &b, NULL, 5, totals, NULL), HR_ERR_ARG);
}

/* A sweep answers most points from one replay whose sizes are linear in the
 * KV cells (galloc_param.c): every point must still equal its own plan,
 * byte for byte, whatever the model, devices, settings and point order. */
static void test_sweep_matches_plans(void **state)
{
    (void)state;
    enum { N = 72 };
    uint32_t ctx[N];
    for (int i = 0; i < 40; i++) /* rising, 256 to 40k in uneven steps */
        ctx[i] = 256u + (uint32_t)i * 1000u + (uint32_t)(i % 3) * 256u;
    for (int i = 40; i < 56; i++) /* doubling up to 256k, then down again */
        ctx[i] = i < 48 ? 2048u << (i - 40) : 262144u >> (i - 48);
    for (int i = 56; i < N; i++) /* jumping about, some not multiples of 256 */
        ctx[i] = (uint32_t)((i * 7919) % 65536) + 100u;
    struct variant {
        const char *what;
        hr_device_mode mode;
        int gpus, ngl;
        hr_flash_attn fa;
        hr_type kv;
        uint32_t seqs, ubatch;
        bool unified, offload_kv;
    } variants[] = {
        {"cpu", HR_MODE_CPU, 0, -1, HR_FA_AUTO, HR_TYPE_F16, 1, 512, false, true},
        {"cpu fa off", HR_MODE_CPU, 0, -1, HR_FA_OFF, HR_TYPE_F16, 1, 512, false, true},
        {"cpu q8_0 4 seqs ub 2048", HR_MODE_CPU, 0, -1, HR_FA_ON, HR_TYPE_Q8_0, 4, 2048, false, true},
        {"gpu full", HR_MODE_GPU, 1, -1, HR_FA_AUTO, HR_TYPE_F16, 1, 512, false, true},
        {"gpu fa off", HR_MODE_GPU, 1, -1, HR_FA_OFF, HR_TYPE_F16, 1, 512, false, true},
        {"gpu partial", HR_MODE_GPU, 1, 5, HR_FA_AUTO, HR_TYPE_F16, 1, 512, false, true},
        {"gpu partial fa off", HR_MODE_GPU, 1, 9, HR_FA_OFF, HR_TYPE_F16, 2, 1024, false, true},
        {"2 gpus unified q4_0", HR_MODE_GPU, 2, -1, HR_FA_ON, HR_TYPE_Q4_0, 3, 512, true, true},
        {"gpu no kv offload", HR_MODE_GPU, 1, -1, HR_FA_AUTO, HR_TYPE_F16, 1, 512, false, false},
    };
    const int n_var = (int)(sizeof variants / sizeof variants[0]);
    uint64_t totals[N * 3];
    int checked = 0;
    for (int f = 0; f < FIX_COUNT; f++) {
        const hr_model *m = fixture_shared((fixture_model)f);
        for (int v = 0; v < n_var; v++) {
            const struct variant *x = &variants[v];
            hr_budget b;
            fixture_budget(&b, 512, x->gpus, 80);
            hr_settings s;
            hr_settings_init(&s);
            s.mode = x->mode;
            s.n_gpu_layers = x->ngl;
            s.flash_attn = x->fa;
            s.type_k = s.type_v = x->kv;
            s.n_seq = x->seqs;
            s.n_batch = s.n_ubatch = x->ubatch;
            s.kv_unified = x->unified;
            s.offload_kv = x->offload_kv;
            hr_error err = {0};
            if (hr_sweep_ctx(m, &s, &b, ctx, N, totals, &err) != HR_OK)
                continue; /* a setting this model refuses (checked by the plan tests) */
            const int n_dev = b.n_devices;
            for (int i = 0; i < N; i++) {
                s.n_ctx = ctx[i];
                hr_plan p;
                assert_int_equal(hr_plan_compute(m, &s, &b, &p, NULL), HR_OK);
                for (int d = 0; d < n_dev; d++) {
                    const uint64_t want = d < p.n_devices ? p.devices[d].total_bytes : 0;
                    if (totals[i * n_dev + d] != want)
                        fail_msg("fixture %d, %s, n_ctx %u, device %d: sweep %llu, plan %llu", f,
                                 x->what, ctx[i], d, (unsigned long long)totals[i * n_dev + d],
                                 (unsigned long long)want);
                }
                checked++;
            }
        }
    }
    assert_true(checked >= N * FIX_COUNT * 5);
}

/* hr_fit tells "no replica fits" from "cannot be counted" (has_replicas). */
static void test_solve_all_has_replicas(void **state)
{
    (void)state;
    const hr_model *m = fixture_shared(CAL_LLAMA32_1B);
    hr_settings s;
    hr_settings_init(&s);
    s.n_ctx = 4096;
    hr_budget b;
    hr_fit fit;
    uint32_t n = 0;
    /* known capacities: a count equal to hr_solve_replicas's */
    fixture_budget(&b, 64, 1, 24);
    assert_int_equal(hr_solve_all(m, &s, &b, &fit, NULL), HR_OK);
    assert_true(fit.has_replicas);
    assert_int_equal(hr_solve_replicas(m, &s, &b, &n, NULL), HR_OK);
    assert_int_equal(fit.replicas, n);
    assert_true(fit.replicas >= 1);
    /* known, but too small: 0 replicas, still a known answer */
    fixture_budget(&b, 64, 1, 0.25);
    assert_int_equal(hr_solve_all(m, &s, &b, &fit, NULL), HR_OK);
    assert_true(fit.has_replicas);
    assert_int_equal(hr_solve_replicas(m, &s, &b, &n, NULL), HR_OK);
    assert_int_equal(n, 0);
    assert_int_equal(fit.replicas, 0);
    /* the host's capacity unknown (a catalog GPU naming no host): cannot tell */
    fixture_budget(&b, 64, 1, 24);
    b.devices[0].capacity_known = false;
    b.devices[0].capacity_bytes = 0;
    assert_int_equal(hr_solve_all(m, &s, &b, &fit, NULL), HR_OK);
    assert_false(fit.has_replicas);
    assert_int_equal(fit.replicas, 0);
    assert_int_equal(hr_solve_replicas(m, &s, &b, &n, NULL), HR_ERR_ARG);
    /* no budget at all */
    assert_int_equal(hr_solve_all(m, &s, NULL, &fit, NULL), HR_OK);
    assert_false(fit.has_replicas);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_max_ctx_exact),
        cmocka_unit_test(test_max_batch_exact),
        cmocka_unit_test(test_max_gpu_layers_exact),
        cmocka_unit_test(test_best_ftype),
        cmocka_unit_test(test_max_parallel_exact),
        cmocka_unit_test(test_replicas_stella),
        cmocka_unit_test(test_solve_all_and_sweep),
        cmocka_unit_test(test_sweep_matches_plans),
        cmocka_unit_test(test_solve_all_has_replicas),
    };
    return cmocka_run_group_tests(tests, NULL, fixture_teardown_shared);
}
