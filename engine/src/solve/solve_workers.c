/* Worker instances of a transformers-style plan that fit one device. */
#include "headroom/solve.h"

hr_status hr_solve_tf_workers(const hr_model *m, const hr_tf_settings *s, const hr_budget *b,
                              int device_index, uint32_t *out, hr_tf_plan *plan_out,
                              hr_error *err)
{
    if (!m || !s || !b || !out)
        return hr_error_set(err, HR_ERR_ARG, "workers: model, settings, budget and output are required");
    *out = 0;
    if (device_index < 0 || device_index >= b->n_devices)
        return hr_error_set(err, HR_ERR_ARG, "workers: the budget has no device %d", device_index);
    const hr_budget_device *d = &b->devices[device_index];
    if (!d->capacity_known)
        return hr_error_set(err, HR_ERR_ARG, "workers: capacity of '%s' is unknown", d->name);
    hr_tf_plan plan;
    hr_status st = hr_plan_transformers(m, s, &plan, err);
    if (st != HR_OK)
        return st;
    if (plan_out)
        *plan_out = plan;
    if (plan.total_bytes == 0)
        return hr_error_set(err, HR_ERR_ARG, "workers: an instance needs no memory");
    uint64_t n = d->capacity_bytes / plan.total_bytes;
    *out = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
    return HR_OK;
}
