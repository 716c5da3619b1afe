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
    hr_model_free(m);
    return rc;
}
