/* The budget the harnesses plan on GPUs with: the host and n_gpus CUDA
 * devices of 24 GiB. */
#ifndef HR_FUZZ_BUDGET_H
#define HR_FUZZ_BUDGET_H

#include <string.h>

#include "headroom/headroom.h"

static inline void fuzz_gpu_budget(hr_budget *b, int n_gpus)
{
    hr_budget_init_host_only(b);
    for (int i = 1; i <= n_gpus && i < HR_MAX_DEVICES; i++) {
        hr_budget_device *d = &b->devices[i];
        memset(d, 0, sizeof *d);
        d->kind = HR_DEVICE_GPU;
        d->backend = HR_BACKEND_CUDA;
        d->capacity_bytes = 24ull << 30;
        d->capacity_known = true;
        b->n_devices = i + 1;
    }
}

#endif
