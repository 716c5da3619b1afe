/* Solvers on top of hr_plan_compute. Each search keeps the invariant "lo
 * fits, hi does not", so the answer fits and one step more does not even
 * where memory is not monotonic in the knob. */
#include <string.h>

#include "headroom/solve.h"
#include "compute/compute.h"
#include "plan/plan_internal.h"

#define HR_CTX_STEP 256
#define HR_MAX_PARALLEL 256 /* LLAMA_MAX_SEQ */

/* Plan s on b; *fits tells whether every device fits. */
static hr_status probe(const hr_model *m, const hr_settings *s, const hr_budget *b,
                       hr_plan_cache *cache, bool *fits, hr_error *err)
{
    hr_plan plan;
    hr_status rc = hr_plan_compute_cached(m, s, b, &plan, cache, err);
    if (rc != HR_OK)
        return rc;
    *fits = plan.fits;
    return HR_OK;
}

typedef void (*knob_fn)(hr_settings *s, uint64_t v);

/* Largest v in [lo, hi], on the grid lo + k*step, with probe(v) fitting,
 * given that lo fits. Grows geometrically first (cheap for wide ranges). */
static hr_status search_max(const hr_model *m, const hr_settings *base, const hr_budget *b,
                            knob_fn set, uint64_t lo, uint64_t hi, uint64_t step,
                            hr_plan_cache *cache, uint64_t *out, hr_error *err)
{
    hr_settings s = *base;
    bool fits = false;
    /* galloping: lo, lo+step, lo+3step, ... until a failure or hi */
    uint64_t jump = step;
    while (lo < hi) {
        uint64_t next = lo + jump;
        if (next > hi || next < lo)
            next = hi;
        set(&s, next);
        hr_status rc = probe(m, &s, b, cache, &fits, err);
        if (rc != HR_OK)
            return rc;
        if (fits) {
            lo = next;
            jump *= 2;
            continue;
        }
        hi = next;
        break;
    }
    if (lo >= hi) {
        *out = lo;
        return HR_OK;
    }
    /* lo fits, hi does not */
    while (hi - lo > step) {
        uint64_t mid = lo + (hi - lo) / step / 2 * step;
        if (mid == lo)
            mid = lo + step;
        if (mid >= hi)
            break;
        set(&s, mid);
        hr_status rc = probe(m, &s, b, cache, &fits, err);
        if (rc != HR_OK)
            return rc;
        if (fits)
            lo = mid;
        else
            hi = mid;
    }
    *out = lo;
    return HR_OK;
}

/* The largest v in [lo, hi] on the grid of step that fits, lo included:
 * "solve: not even <what> fits" when lo does not. The knob does not move
 * the weights (kept between probes); the compute cache is left out: a
 * bisection's far-apart points would miss it at twice a replay's cost. */
static hr_status solve_knob(const hr_model *m, const hr_settings *s, const hr_budget *b,
                            knob_fn set, uint64_t lo, uint64_t hi, uint64_t step,
                            const char *what, uint64_t *out, hr_error *err)
{
    hr_settings t = *s;
    set(&t, lo);
    bool fits;
    hr_plan_cache cache = {.work = hr_compute_work_new()};
    hr_status rc = probe(m, &t, b, &cache, &fits, err);
    if (rc == HR_OK && !fits)
        rc = hr_error_set(err, HR_ERR_NO_FIT, "solve: not even %s fits", what);
    if (rc == HR_OK)
        rc = search_max(m, s, b, set, lo, hi, step, &cache, out, err);
    hr_compute_work_free(cache.work);
    return rc;
}

_Static_assert(HR_CTX_STEP == 256, "the no-fit message of hr_solve_max_ctx names 256");

static void set_ctx(hr_settings *s, uint64_t v) { s->n_ctx = (uint32_t)v; }

hr_status hr_solve_max_ctx(const hr_model *m, const hr_settings *s, const hr_budget *b,
                           bool allow_beyond_train, uint32_t *out, hr_error *err)
{
    if (!m || !s || !out)
        return hr_error_set(err, HR_ERR_ARG, "solve: model, settings and output are required");
    uint64_t hi = allow_beyond_train || m->n_ctx_train == 0 ? (1ull << 30)
                                                           : m->n_ctx_train / HR_CTX_STEP * HR_CTX_STEP;
    if (hi < HR_CTX_STEP)
        hi = HR_CTX_STEP;
    uint64_t v;
    hr_status rc = solve_knob(m, s, b, set_ctx, HR_CTX_STEP, hi, HR_CTX_STEP,
                              "a context of 256", &v, err);
    if (rc == HR_OK)
        *out = (uint32_t)v;
    return rc;
}

static void set_batch(hr_settings *s, uint64_t v) { s->n_batch = s->n_ubatch = (uint32_t)v; }

hr_status hr_solve_max_batch(const hr_model *m, const hr_settings *s, const hr_budget *b,
                             uint32_t *out, hr_error *err)
{
    if (!m || !s || !out)
        return hr_error_set(err, HR_ERR_ARG, "solve: model, settings and output are required");
    hr_plan plan;
    hr_status rc = hr_plan_compute(m, s, b, &plan, err);
    if (rc != HR_OK)
        return rc;
    /* batches beyond the context change nothing for causal models */
    const uint64_t hi = plan.n_ctx;
    uint64_t v;
    rc = solve_knob(m, s, b, set_batch, 1, hi, 1, "a batch of 1", &v, err);
    if (rc == HR_OK)
        *out = (uint32_t)v;
    return rc;
}

static int budget_gpus(const hr_settings *s, const hr_budget *b)
{
    return b && s->mode == HR_MODE_GPU ? b->n_devices - 1 : 0;
}

hr_status hr_solve_max_gpu_layers(const hr_model *m, const hr_settings *s, const hr_budget *b,
                                  int32_t *out, hr_error *err)
{
    if (!m || !s || !out)
        return hr_error_set(err, HR_ERR_ARG, "solve: model, settings and output are required");
    hr_settings t = *s;
    /* memory is not monotonic in the layer count (host falls as GPUs
     * fill), so scan down from "all" to the first count that fits */
    const int32_t top = budget_gpus(s, b) > 0 ? (int32_t)m->n_layer + 1 : 0;
    for (int32_t n = top; n >= 0; n--) {
        t.n_gpu_layers = n;
        bool fits;
        hr_status rc = probe(m, &t, b, NULL, &fits, err);
        if (rc != HR_OK)
            return rc;
        if (fits) {
            *out = n;
            return HR_OK;
        }
    }
    return hr_error_set(err, HR_ERR_NO_FIT, "solve: no GPU layer count fits");
}

hr_status hr_solve_best_ftype(const hr_model *m, const hr_settings *s, const hr_budget *b,
                              hr_ftype *out, hr_error *err)
{
    if (!m || !s || !out)
        return hr_error_set(err, HR_ERR_ARG, "solve: model, settings and output are required");
    const hr_ftype *list = NULL;
    const int n = hr_ftype_whatif_list(&list);
    hr_settings t = *s;
    for (int i = 0; i < n; i++) {
        t.target_ftype = list[i];
        bool fits = false;
        /* a quantization that cannot apply to this model is skipped */
        if (probe(m, &t, b, NULL, &fits, NULL) != HR_OK)
            continue;
        if (fits) {
            *out = list[i];
            return HR_OK;
        }
    }
    return hr_error_set(err, HR_ERR_NO_FIT, "solve: no quantization of the what-if list fits");
}

/* n_ctx per sequence is kept in a settings field that the knob cannot
 * reach, so max_parallel runs its own search. */
static hr_status probe_parallel(const hr_model *m, const hr_settings *s, const hr_budget *b,
                                uint32_t per_seq, uint64_t n, hr_plan_cache *cache,
                                bool *fits, hr_error *err)
{
    hr_settings t = *s;
    const uint64_t ctx = (uint64_t)per_seq * n;
    if (ctx > UINT32_MAX) {
        *fits = false;
        return HR_OK;
    }
    t.n_seq = (uint32_t)n;
    t.n_ctx = (uint32_t)ctx;
    return probe(m, &t, b, cache, fits, err);
}

/* The most sequences of per_seq cells each that fit, 1..HR_MAX_PARALLEL. */
static hr_status parallel_search(const hr_model *m, const hr_settings *s, const hr_budget *b,
                                 uint32_t per_seq, hr_plan_cache *cache, uint32_t *out,
                                 hr_error *err)
{
    bool fits;
    hr_status rc = probe_parallel(m, s, b, per_seq, 1, cache, &fits, err);
    if (rc != HR_OK)
        return rc;
    if (!fits)
        return hr_error_set(err, HR_ERR_NO_FIT, "solve: not even one sequence of %u fits",
                            per_seq);
    uint64_t lo = 1, hi = HR_MAX_PARALLEL;
    rc = probe_parallel(m, s, b, per_seq, hi, cache, &fits, err);
    if (rc != HR_OK)
        return rc;
    if (fits) {
        *out = (uint32_t)hi;
        return HR_OK;
    }
    while (hi - lo > 1) {
        const uint64_t mid = lo + (hi - lo) / 2;
        rc = probe_parallel(m, s, b, per_seq, mid, cache, &fits, err);
        if (rc != HR_OK)
            return rc;
        if (fits)
            lo = mid;
        else
            hi = mid;
    }
    *out = (uint32_t)lo;
    return HR_OK;
}

hr_status hr_solve_max_parallel(const hr_model *m, const hr_settings *s, const hr_budget *b,
                                uint32_t *out, hr_error *err)
{
    if (!m || !s || !out)
        return hr_error_set(err, HR_ERR_ARG, "solve: model, settings and output are required");
    hr_plan plan;
    hr_status rc = hr_plan_compute(m, s, b, &plan, err);
    if (rc != HR_OK)
        return rc;
    const uint32_t per_seq = plan.n_ctx / (plan.n_seq ? plan.n_seq : 1);
    hr_plan_cache cache = {.work = hr_compute_work_new()}; /* sequences do not move the weights */
    rc = parallel_search(m, s, b, per_seq, &cache, out, err);
    hr_compute_work_free(cache.work);
    return rc;
}

hr_status hr_solve_replicas(const hr_model *m, const hr_settings *s, const hr_budget *b,
                            uint32_t *out, hr_error *err)
{
    if (!m || !s || !out)
        return hr_error_set(err, HR_ERR_ARG, "solve: model, settings and output are required");
    hr_plan plan;
    hr_status rc = hr_plan_compute(m, s, b, &plan, err);
    if (rc != HR_OK)
        return rc;
    /* unified-memory GPUs take their share from the host's RAM */
    uint64_t host_need = plan.devices[0].total_bytes;
    for (int d = 1; b && d < plan.n_devices; d++)
        if (b->devices[d].unified)
            host_need += plan.devices[d].total_bytes;
    uint64_t best = UINT64_MAX;
    for (int d = 0; d < plan.n_devices; d++) {
        const hr_plan_device *pd = &plan.devices[d];
        const uint64_t need = d == 0 ? host_need : pd->total_bytes;
        if (need == 0)
            continue; /* an instance does not use this device */
        if (!pd->capacity_known)
            return hr_error_set(err, HR_ERR_ARG,
                                "solve: capacity of '%s' is unknown; replicas need a budget",
                                pd->name);
        const uint64_t n = pd->capacity_bytes / need;
        if (n < best)
            best = n;
    }
    if (best == UINT64_MAX)
        return hr_error_set(err, HR_ERR_ARG, "solve: the plan uses no memory");
    *out = best > UINT32_MAX ? UINT32_MAX : (uint32_t)best;
    return HR_OK;
}

hr_status hr_solve_all(const hr_model *m, const hr_settings *s, const hr_budget *b, hr_fit *out,
                       hr_error *err)
{
    if (!m || !s || !out)
        return hr_error_set(err, HR_ERR_ARG, "solve: model, settings and output are required");
    memset(out, 0, sizeof *out);
    hr_plan plan;
    hr_status rc = hr_plan_compute(m, s, b, &plan, err);
    if (rc != HR_OK)
        return rc;
    out->fits_now = plan.fits;
    out->has_ctx = hr_solve_max_ctx(m, s, b, false, &out->max_ctx, NULL) == HR_OK;
    out->has_batch = hr_solve_max_batch(m, s, b, &out->max_batch, NULL) == HR_OK;
    out->has_gpu_layers = hr_solve_max_gpu_layers(m, s, b, &out->max_gpu_layers, NULL) == HR_OK;
    out->has_ftype = hr_solve_best_ftype(m, s, b, &out->best_ftype, NULL) == HR_OK;
    out->has_parallel = hr_solve_max_parallel(m, s, b, &out->max_parallel, NULL) == HR_OK;
    out->has_replicas = hr_solve_replicas(m, s, b, &out->replicas, NULL) == HR_OK;
    if (!out->has_replicas)
        out->replicas = 0;
    if (!out->has_ftype)
        out->best_ftype = HR_FTYPE_UNKNOWN;
    return HR_OK;
}

hr_status hr_sweep_ctx(const hr_model *m, const hr_settings *s, const hr_budget *b,
                       const uint32_t *ctx, int n_points, uint64_t *totals, hr_error *err)
{
    if (!m || !s || (n_points > 0 && (!ctx || !totals)) || n_points < 0)
        return hr_error_set(err, HR_ERR_ARG, "sweep: bad arguments");
    const int n_dev = b ? b->n_devices : 1;
    hr_settings t = *s;
    hr_compute_cache compute = {0};
    /* only n_ctx changes */
    hr_plan_cache cache = {.compute = &compute, .work = hr_compute_work_new()};
    hr_status rc = HR_OK;
    for (int i = 0; i < n_points && rc == HR_OK; i++) {
        t.n_ctx = ctx[i];
        hr_plan plan;
        rc = hr_plan_compute_cached(m, &t, b, &plan, &cache, err);
        /* plan devices are the budget's devices in order (host only in CPU mode) */
        for (int d = 0; d < n_dev && rc == HR_OK; d++)
            totals[(size_t)i * (size_t)n_dev + (size_t)d] =
                d < plan.n_devices ? plan.devices[d].total_bytes : 0;
    }
    hr_compute_work_free(cache.work);
    return rc;
}
