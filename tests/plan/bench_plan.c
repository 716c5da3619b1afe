/* bench_plan: how long one plan and a 100-point context sweep take.
 * Prints figures; asserts nothing about time (machines differ). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <cmocka.h>

#include "plan_fixtures.h"

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int n_plans = 100000; /* argv[1] overrides (profiling runs) */
static int only = -1;         /* argv[2]: run only this case (0-based; profiling) */
static int case_no;

static int bench(const char *label, const hr_model *m, const hr_settings *s, const hr_budget *b)
{
    if (only >= 0 && case_no++ != only)
        return 0;
    hr_plan plan;
    hr_error err = {0};
    if (hr_plan_compute(m, s, b, &plan, &err) != HR_OK) {
        fprintf(stderr, "%s: %s\n", label, err.message);
        return 1;
    }
    volatile uint64_t sink = 0;
    double t0 = now_ns();
    for (int i = 0; i < n_plans; i++) {
        hr_plan_compute(m, s, b, &plan, NULL);
        sink += plan.total_bytes;
    }
    const double ns_per_plan = (now_ns() - t0) / n_plans;

    uint32_t ctx[100];
    uint64_t totals[100 * HR_MAX_DEVICES];
    for (int i = 0; i < 100; i++)
        ctx[i] = (uint32_t)(i + 1) * 1024;
    const int n_sweeps = n_plans / 100 > 0 ? n_plans / 100 : 1;
    t0 = now_ns();
    for (int i = 0; i < n_sweeps; i++) {
        if (hr_sweep_ctx(m, s, b, ctx, 100, totals, &err) != HR_OK) {
            fprintf(stderr, "%s: %s\n", label, err.message);
            return 1;
        }
        sink += totals[0];
    }
    const double us_per_sweep = (now_ns() - t0) / n_sweeps / 1000.0;
    printf("%-40s %8.0f ns/plan  %8.1f us/sweep(100)\n", label, ns_per_plan, us_per_sweep);
    (void)sink;
    return 0;
}

/* An interactive session: n_plans keys of fixture_walk_step from s, each
 * planned plainly and through one planner (the same walk). */
static int bench_walk(const char *label, const hr_model *m, hr_settings s, const hr_budget *b)
{
    if (only >= 0 && case_no++ != only)
        return 0;
    hr_settings *walk = malloc(sizeof *walk * (size_t)n_plans);
    if (!walk)
        return 1;
    uint32_t rng = 2026;
    for (int i = 0; i < n_plans; i++) {
        walk[i] = s;
        fixture_walk_step(&s, m->n_layer, &rng);
    }
    hr_error err = {0};
    hr_planner *planner = hr_planner_new(m, &err);
    if (!planner) {
        free(walk);
        return 1;
    }
    hr_plan plan;
    volatile uint64_t sink = 0;
    int ok = 0;
    double t0 = now_ns();
    for (int i = 0; i < n_plans; i++)
        if (hr_plan_compute(m, &walk[i], b, &plan, NULL) == HR_OK) {
            sink += plan.total_bytes;
            ok++;
        }
    const double plain_ns = (now_ns() - t0) / n_plans;
    t0 = now_ns();
    for (int i = 0; i < n_plans; i++)
        if (hr_planner_plan(planner, &walk[i], b, &plan, NULL) == HR_OK)
            sink += plan.total_bytes;
    const double planner_ns = (now_ns() - t0) / n_plans;
    printf("%-40s %8.0f ns/plan plain  %8.0f ns/plan planner  (%d keys, %d valid)\n", label,
           plain_ns, planner_ns, n_plans, ok);
    hr_planner_free(planner);
    free(walk);
    (void)sink;
    return 0;
}

/* A first session in the planner, key by key (each a plan): context up and
 * back down, ubatch, flash attention, KV types, GPU layers down and back up,
 * what-if quantizations, sequences, margin. Returns the number of keys. */
static int session_script(hr_settings *keys, int max, hr_settings s, uint32_t n_layer)
{
    int n = 0;
#define KEY() do { if (n < max) keys[n++] = s; } while (0)
    static const uint32_t ctx[] = {8192, 16384, 32768, 65536, 131072, 65536, 32768, 16384,
                                   8192, 4096, 2048, 4096, 8192};
    for (size_t i = 0; i < sizeof ctx / sizeof ctx[0]; i++) { s.n_ctx = ctx[i]; KEY(); }
    static const uint32_t ub[] = {1024, 2048, 1024, 512};
    for (size_t i = 0; i < sizeof ub / sizeof ub[0]; i++) { s.n_ubatch = ub[i]; KEY(); }
    s.flash_attn = HR_FA_OFF; KEY();
    s.flash_attn = HR_FA_AUTO; KEY();
    s.type_k = s.type_v = HR_TYPE_Q8_0; KEY();
    s.type_k = s.type_v = HR_TYPE_Q4_0; KEY();
    s.type_k = s.type_v = HR_TYPE_F16; KEY();
    for (int32_t l = (int32_t)n_layer; l >= (int32_t)n_layer - 8; l--) { s.n_gpu_layers = l; KEY(); }
    for (int32_t l = (int32_t)n_layer - 7; l <= (int32_t)n_layer + 1; l++) { s.n_gpu_layers = l; KEY(); }
    static const hr_ftype q[] = {HR_FTYPE_MOSTLY_Q8_0, HR_FTYPE_MOSTLY_Q6_K, HR_FTYPE_MOSTLY_Q4_K_M,
                                 HR_FTYPE_MOSTLY_Q2_K, HR_FTYPE_UNKNOWN};
    for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) { s.target_ftype = q[i]; KEY(); }
    static const uint32_t np[] = {2, 4, 1};
    for (size_t i = 0; i < sizeof np / sizeof np[0]; i++) { s.n_seq = np[i]; KEY(); }
    static const double mg[] = {5, 10, 0};
    for (size_t i = 0; i < sizeof mg / sizeof mg[0]; i++) { s.margin_percent = mg[i]; KEY(); }
#undef KEY
    return n;
}

/* The session script, plain and through a fresh planner each time. */
static int bench_session(const char *label, const hr_model *m, hr_settings s, const hr_budget *b)
{
    if (only >= 0 && case_no++ != only)
        return 0;
    hr_settings keys[128];
    const int n = session_script(keys, 128, s, m->n_layer);
    const int rounds = n_plans / n > 0 ? n_plans / n : 1;
    hr_plan plan;
    volatile uint64_t sink = 0;
    double t0 = now_ns();
    for (int r = 0; r < rounds; r++)
        for (int i = 0; i < n; i++)
            if (hr_plan_compute(m, &keys[i], b, &plan, NULL) == HR_OK)
                sink += plan.total_bytes;
    const double plain_ns = (now_ns() - t0) / (rounds * n);
    t0 = now_ns();
    for (int r = 0; r < rounds; r++) {
        hr_planner *planner = hr_planner_new(m, NULL);
        if (!planner)
            return 1;
        for (int i = 0; i < n; i++)
            if (hr_planner_plan(planner, &keys[i], b, &plan, NULL) == HR_OK)
                sink += plan.total_bytes;
        hr_planner_free(planner);
    }
    const double planner_ns = (now_ns() - t0) / (rounds * n);
    printf("%-40s %8.0f ns/plan plain  %8.0f ns/plan planner  (%d keys x %d sessions)\n", label,
           plain_ns, planner_ns, n, rounds);
    (void)sink;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && atoi(argv[1]) > 0)
        n_plans = atoi(argv[1]);
    if (argc > 2)
        only = atoi(argv[2]);
    hr_model *m = fixture_build(FIX_LLAMA31_8B);
    hr_settings s;
    hr_settings_init(&s);
    s.n_ctx = 8192;
    int rc = 0;
    s.mode = HR_MODE_CPU;
    rc |= bench("llama-3.1-8b Q4_K_M, CPU", m, &s, NULL);
    hr_budget b;
    fixture_budget(&b, 64, 1, 24);
    s.mode = HR_MODE_GPU;
    rc |= bench("llama-3.1-8b Q4_K_M, 1 GPU full offload", m, &s, &b);
    s.n_gpu_layers = 20;
    rc |= bench("llama-3.1-8b Q4_K_M, 1 GPU 20 layers", m, &s, &b);
    s.n_gpu_layers = -1;
    s.target_ftype = HR_FTYPE_MOSTLY_Q8_0;
    rc |= bench("llama-3.1-8b what-if Q8_0, 1 GPU", m, &s, &b);
    s.target_ftype = HR_FTYPE_UNKNOWN;
    rc |= bench_session("llama-3.1-8b first session, 1 GPU", m, s, &b);
    rc |= bench_walk("llama-3.1-8b random keys, 1 GPU", m, s, &b);
    hr_model_free(m);
    return rc;
}
