/* headroom — solvers on top of the plan.
 *
 * Each answer is exact against hr_plan_compute: the answer fits the budget
 * and one step more does not. Pure and thread-safe.
 */
#ifndef HEADROOM_SOLVE_H
#define HEADROOM_SOLVE_H

#include "headroom/plan.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest n_ctx (multiple of 256, up to the training context unless
 * allow_beyond_train) whose plan fits. HR_ERR_NO_FIT if not even 256 fits. */
HR_API hr_status hr_solve_max_ctx(const hr_model *m, const hr_settings *s, const hr_budget *b,
                                  bool allow_beyond_train, uint32_t *out, hr_error *err);
/* Largest ubatch (= batch) that fits, power-of-two steps then exact. */
HR_API hr_status hr_solve_max_batch(const hr_model *m, const hr_settings *s, const hr_budget *b,
                                    uint32_t *out, hr_error *err);
/* Most GPU layers (0..n_layer+1) that fit. */
HR_API hr_status hr_solve_max_gpu_layers(const hr_model *m, const hr_settings *s,
                                         const hr_budget *b, int32_t *out, hr_error *err);
/* Highest-bits ftype from the what-if list that fits. */
HR_API hr_status hr_solve_best_ftype(const hr_model *m, const hr_settings *s, const hr_budget *b,
                                     hr_ftype *out, hr_error *err);
/* Most parallel sequences (n_ctx per sequence kept) that fit. */
HR_API hr_status hr_solve_max_parallel(const hr_model *m, const hr_settings *s,
                                       const hr_budget *b, uint32_t *out, hr_error *err);
/* How many independent instances (each a full plan; overhead counted per
 * instance) fit in the budget. 0 is a valid answer. */
HR_API hr_status hr_solve_replicas(const hr_model *m, const hr_settings *s, const hr_budget *b,
                                   uint32_t *out, hr_error *err);

typedef struct hr_fit {
    bool fits_now;
    bool has_ctx, has_batch, has_gpu_layers, has_ftype, has_parallel;
    uint32_t max_ctx, max_batch, max_parallel, replicas;
    int32_t max_gpu_layers;
    hr_ftype best_ftype;
    /* replicas is a count; false: it cannot be told (a device the plan uses
     * has unknown capacity), replicas is then 0 */
    bool has_replicas;
} hr_fit;

HR_API hr_status hr_solve_all(const hr_model *m, const hr_settings *s, const hr_budget *b,
                              hr_fit *out, hr_error *err);

/* Totals over a list of context sizes: totals[i * n_devices + d] (bytes incl.
 * margin) for the budget's devices. */
HR_API hr_status hr_sweep_ctx(const hr_model *m, const hr_settings *s, const hr_budget *b,
                              const uint32_t *ctx, int n_points, uint64_t *totals,
                              hr_error *err);

/* Transformers-style workers (embedding servers): how many instances of the
 * hr_plan_transformers plan fit on device `device_index` of the budget
 * (0 = host RAM, 1.. = GPUs). *plan_out (may be NULL) gets one instance's
 * plan. HR_ERR_ARG if that device does not exist or its capacity is unknown. */
HR_API hr_status hr_solve_tf_workers(const hr_model *m, const hr_tf_settings *s,
                                     const hr_budget *b, int device_index, uint32_t *out,
                                     hr_tf_plan *plan_out, hr_error *err);

#ifdef __cplusplus
}
#endif
#endif
