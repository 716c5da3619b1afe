/* The detection driver: host first, then each GPU backend in turn. */
#include <stddef.h>
#include <string.h>

#include "devices_internal.h"

void hr_probe_paths_default(hr_probe_paths *p)
{
    memset(p, 0, sizeof *p);
    p->proc_root = "/proc";
    p->sys_root = "/sys";
    p->cgroup_root = "/sys/fs/cgroup";
    p->self_cgroup = "/proc/self/cgroup";
    p->nvml_library = NULL;
}

_Static_assert(sizeof(((hr_system *)0)->nvml_status) == sizeof(((hr_system *)0)->amd_status),
               "backends share one status length");

static const hr_gpu_backend *const gpu_backends[] = {&hr_nvml_backend, &hr_amd_backend};

hr_status hr_run_gpu_backend(const hr_gpu_backend *b, const hr_probe_paths *p, hr_system *sys,
                             hr_error *err)
{
    char *status = (char *)sys + b->status_offset;
    const size_t status_len = sizeof sys->nvml_status;
    if (b->skip(p)) {
        hr_path_fmt(status, status_len, "%s: not probed (skipped)", b->vendor);
        return HR_OK;
    }
    void *ctx = NULL;
    if (!b->init(p, &ctx, status, status_len))
        return HR_OK; /* an absent vendor is normal; status says why */
    hr_status st = b->read(ctx, sys, status, status_len, err);
    b->shutdown(ctx);
    return st;
}

const hr_probe_paths *hr_probe_paths_or_default(const hr_probe_paths *p, hr_probe_paths *storage)
{
    if (p)
        return p;
    hr_probe_paths_default(storage);
    return storage;
}

hr_status hr_detect_nvidia(const hr_probe_paths *p, hr_system *sys, hr_error *err)
{
    hr_probe_paths defaults;
    p = hr_probe_paths_or_default(p, &defaults);
    return hr_run_gpu_backend(&hr_nvml_backend, p, sys, err);
}

hr_status hr_detect_amd(const hr_probe_paths *p, hr_system *sys, hr_error *err)
{
    hr_probe_paths defaults;
    p = hr_probe_paths_or_default(p, &defaults);
    return hr_run_gpu_backend(&hr_amd_backend, p, sys, err);
}

hr_status hr_system_detect(const hr_probe_paths *p, hr_system *out, hr_error *err)
{
    hr_probe_paths defaults;
    p = hr_probe_paths_or_default(p, &defaults);
    memset(out, 0, sizeof *out);
    /* keep going after a failure so the caller sees everything we found;
     * the first error is the one returned */
    hr_status first = hr_detect_host(p, &out->host, err);
    for (size_t i = 0; i < sizeof gpu_backends / sizeof gpu_backends[0]; i++) {
        hr_error backend_err;
        hr_error_clear(&backend_err);
        hr_status st = hr_run_gpu_backend(gpu_backends[i], p, out, &backend_err);
        if (st != HR_OK && first == HR_OK) {
            first = st;
            if (err)
                *err = backend_err;
        }
    }
    return first;
}
