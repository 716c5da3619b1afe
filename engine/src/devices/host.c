/* The host: RAM, cgroup limit, CPU, and the budget they allow. */
#include <string.h>

#include "devices_internal.h"

hr_status hr_detect_host(const hr_probe_paths *p, hr_host_info *out, hr_error *err)
{
    hr_probe_paths defaults;
    p = hr_probe_paths_or_default(p, &defaults);
    memset(out, 0, sizeof *out);
    const char *proc_root = p->proc_root ? p->proc_root : "/proc";
    hr_status st = hr_read_meminfo(proc_root, out, err);
    hr_read_cgroup(p, out);
    hr_read_cpuinfo(proc_root, out);

    /* a cgroup limit above physical RAM does not add memory */
    if (out->mem_total.valid && out->cgroup_limit.valid)
        out->budget = hr_reading_of(out->cgroup_limit.value < out->mem_total.value
                                        ? out->cgroup_limit.value
                                        : out->mem_total.value);
    else if (out->mem_total.valid)
        out->budget = out->mem_total;
    else if (out->cgroup_limit.valid)
        out->budget = out->cgroup_limit;
    return st;
}
