/* headroom devices: this machine's memory and GPUs, with the source of each figure. */
#include <stdlib.h>

#include "cli_internal.h"

static const char *reading(char *buf, size_t len, hr_reading r, bool exact)
{
    if (!r.valid)
        return "unknown";
    return cli_size(buf, len, r.value, exact);
}

static void print_host(const hr_host_info *h, bool exact)
{
    char b[64];
    printf("Host\n");
    printf("  %-16s %s\n", "CPU", h->cpu_model[0] ? h->cpu_model : "unknown");
    if (h->cpu_cores > 0)
        printf("  %-16s %d\n", "cores", h->cpu_cores);
    else
        printf("  %-16s unknown\n", "cores");
    printf("  %-16s %-14s (%s)\n", "memory total", reading(b, sizeof b, h->mem_total, exact),
           h->mem_source[0] ? h->mem_source : "?");
    printf("  %-16s %-14s (%s)\n", "available", reading(b, sizeof b, h->mem_available, exact),
           h->available_source[0] ? h->available_source : "?");
    printf("  %-16s %-14s (%s)\n", "swap total", reading(b, sizeof b, h->swap_total, exact),
           h->mem_source[0] ? h->mem_source : "?");
    printf("  %-16s %-14s (%s)\n", "swap free", reading(b, sizeof b, h->swap_free, exact),
           h->mem_source[0] ? h->mem_source : "?");
    if (h->cgroup_version > 0)
        printf("  %-16s %-14s (cgroup v%d %s)\n", "cgroup limit",
               h->cgroup_limit.valid ? cli_size(b, sizeof b, h->cgroup_limit.value, exact)
                                     : "none",
               h->cgroup_version, h->cgroup_path);
    else
        printf("  %-16s %-14s (no cgroup found)\n", "cgroup limit", "unknown");
    printf("  %-16s %-14s (cgroup)\n", "cgroup usage", reading(b, sizeof b, h->cgroup_current, exact));
    printf("  %-16s %-14s (smaller of total and cgroup limit)\n", "budget",
           reading(b, sizeof b, h->budget, exact));
}

static void print_gpus(const hr_system *sys, bool exact)
{
    char t[64], f[64], u[64];
    printf("\nGPUs\n");
    if (sys->n_gpus == 0)
        printf("  none found\n");
    for (int i = 0; i < sys->n_gpus && i < HR_MAX_GPUS; i++) {
        const hr_gpu_info *g = &sys->gpus[i];
        printf("  GPU%d %s %s (%s)%s\n", g->index, g->vendor, g->name, hr_backend_name(g->backend),
               g->unified ? ", unified memory" : "");
        printf("    total %s, free %s, used %s (%s)\n", reading(t, sizeof t, g->total, exact),
               reading(f, sizeof f, g->free, exact), reading(u, sizeof u, g->used, exact),
               g->source[0] ? g->source : "?");
        if (g->gtt_total.valid)
            printf("    GTT total %s, used %s\n", reading(t, sizeof t, g->gtt_total, exact),
                   reading(u, sizeof u, g->gtt_used, exact));
    }
    if (sys->nvml_status[0])
        printf("  NVIDIA: %s\n", sys->nvml_status);
    if (sys->amd_status[0])
        printf("  AMD: %s\n", sys->amd_status);
}

int cmd_devices(int argc, char **argv)
{
    cli_opts o;
    int rc = cli_parse_args(argc, argv, OPT_JSON | OPT_BYTES, &o);
    if (rc != CLI_OK)
        return rc;
    if (o.help) {
        cli_print_command_help("devices", stdout);
        return CLI_OK;
    }
    if (o.n_positional != 0)
        return cli_usage_error("devices", "takes no arguments ('%s')", o.positional[0]);
    hr_system *sys = calloc(1, sizeof *sys);
    if (!sys)
        return cli_error(CLI_BAD_INPUT, "out of memory");
    hr_error err;
    if (hr_system_detect(NULL, sys, &err) != HR_OK) {
        free(sys);
        return cli_error(CLI_BAD_INPUT, "%s", err.message);
    }
    if (o.json) {
        char *text = hr_system_to_json(sys);
        free(sys);
        if (!text)
            return cli_error(CLI_BAD_INPUT, "out of memory describing the system");
        puts(text);
        free(text);
        return CLI_OK;
    }
    print_host(&sys->host, o.bytes);
    print_gpus(sys, o.bytes);
    free(sys);
    return CLI_OK;
}
