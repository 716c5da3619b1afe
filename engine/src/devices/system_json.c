/* The detected system as a plan budget and as JSON with each figure's source. */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "devices_internal.h"

static const char *backend_label(hr_backend b)
{
    switch (b) {
    case HR_BACKEND_CUDA: return "cuda";
    case HR_BACKEND_ROCM: return "rocm";
    case HR_BACKEND_METAL: return "metal";
    case HR_BACKEND_VULKAN: return "vulkan";
    default: return "cpu";
    }
}

/* What the host budget was taken from, e.g. "cgroup v2 limit" or "MemTotal". */
static const char *host_budget_source(const hr_host_info *h)
{
    if (!h->budget.valid)
        return "unknown";
    if (h->cgroup_limit.valid && (!h->mem_total.valid || h->cgroup_limit.value < h->mem_total.value))
        return h->cgroup_version == 1 ? "cgroup v1 limit" : "cgroup v2 limit";
    return "MemTotal";
}

void hr_budget_from_system(const hr_system *sys, hr_budget *out)
{
    memset(out, 0, sizeof *out);
    const hr_host_info *h = &sys->host;
    hr_budget_device *host = &out->devices[0];
    if (h->cpu_model[0])
        hr_path_fmt(host->name, sizeof host->name, "host (%.80s)", h->cpu_model);
    else
        hr_copy_str(host->name, sizeof host->name, "host");
    host->kind = HR_DEVICE_HOST;
    host->backend = HR_BACKEND_CPU;
    host->capacity_known = h->budget.valid;
    host->capacity_bytes = h->budget.valid ? h->budget.value : 0;
    hr_path_fmt(host->source, sizeof host->source, "meminfo: %s", host_budget_source(h));
    out->n_devices = 1;

    for (int i = 0; i < sys->n_gpus && i < HR_MAX_GPUS && out->n_devices < HR_MAX_DEVICES; i++) {
        const hr_gpu_info *g = &sys->gpus[i];
        hr_budget_device *d = &out->devices[out->n_devices++];
        hr_copy_str(d->name, sizeof d->name, g->name);
        d->kind = HR_DEVICE_GPU;
        d->backend = g->backend;
        d->unified = g->unified;
        if (g->unified) {
            /* no dedicated memory: it allocates from the host pool */
            d->capacity_known = host->capacity_known;
            d->capacity_bytes = host->capacity_bytes;
        } else {
            d->capacity_known = g->total.valid;
            d->capacity_bytes = g->total.valid ? g->total.value : 0;
        }
        hr_copy_str(d->source, sizeof d->source, g->source);
    }
    hr_copy_str(out->label, sizeof out->label, "this machine");
}

/* {"bytes": N or null, "source": "..."} */
static cJSON *figure(const hr_reading *r, const char *source)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    if (r->valid)
        cJSON_AddNumberToObject(o, "bytes", (double)r->value);
    else
        cJSON_AddNullToObject(o, "bytes");
    cJSON_AddStringToObject(o, "source", source);
    return o;
}

static void add_figure(cJSON *parent, const char *key, const hr_reading *r, const char *source)
{
    cJSON *f = figure(r, source);
    if (f)
        cJSON_AddItemToObject(parent, key, f);
}

static cJSON *host_json(const hr_host_info *h)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    char src[320];
    snprintf(src, sizeof src, "%s MemTotal", h->mem_source);
    add_figure(o, "mem_total", &h->mem_total, src);
    snprintf(src, sizeof src, "%s %s", h->mem_source,
             h->available_source[0] ? h->available_source : "MemAvailable");
    add_figure(o, "mem_available", &h->mem_available, src);
    snprintf(src, sizeof src, "%s SwapTotal", h->mem_source);
    add_figure(o, "swap_total", &h->swap_total, src);
    snprintf(src, sizeof src, "%s SwapFree", h->mem_source);
    add_figure(o, "swap_free", &h->swap_free, src);

    cJSON *cg = cJSON_AddObjectToObject(o, "cgroup");
    if (cg) {
        if (h->cgroup_version)
            cJSON_AddNumberToObject(cg, "version", h->cgroup_version);
        else
            cJSON_AddNullToObject(cg, "version");
        if (h->cgroup_limit.valid)
            snprintf(src, sizeof src, "%s", h->cgroup_path);
        else if (h->cgroup_version)
            snprintf(src, sizeof src, "no limit set (%s)", h->cgroup_path);
        else
            snprintf(src, sizeof src, "no memory cgroup found");
        add_figure(cg, "limit", &h->cgroup_limit, src);
        snprintf(src, sizeof src, "%s %s", h->cgroup_version == 1 ? "cgroup v1" : "cgroup v2",
                 h->cgroup_version == 1 ? "memory.usage_in_bytes" : "memory.current");
        add_figure(cg, "current", &h->cgroup_current, h->cgroup_version ? src : "none");
    }
    add_figure(o, "budget", &h->budget, host_budget_source(h));

    cJSON *cpu = cJSON_AddObjectToObject(o, "cpu");
    if (cpu) {
        if (h->cpu_model[0])
            cJSON_AddStringToObject(cpu, "model", h->cpu_model);
        else
            cJSON_AddNullToObject(cpu, "model");
        if (h->cpu_cores > 0)
            cJSON_AddNumberToObject(cpu, "cores", h->cpu_cores);
        else
            cJSON_AddNullToObject(cpu, "cores");
    }
    return o;
}

static cJSON *gpu_json(const hr_gpu_info *g)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddNumberToObject(o, "index", g->index);
    cJSON_AddStringToObject(o, "name", g->name);
    cJSON_AddStringToObject(o, "vendor", g->vendor);
    cJSON_AddStringToObject(o, "backend", backend_label(g->backend));
    cJSON_AddBoolToObject(o, "unified", g->unified);
    add_figure(o, "total", &g->total, g->source);
    add_figure(o, "free", &g->free, g->source);
    add_figure(o, "used", &g->used, g->source);
    if (g->gtt_total.valid || g->gtt_used.valid) {
        add_figure(o, "gtt_total", &g->gtt_total, g->source);
        add_figure(o, "gtt_used", &g->gtt_used, g->source);
    }
    return o;
}

char *hr_system_to_json(const hr_system *sys)
{
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return NULL;
    cJSON *host = host_json(&sys->host);
    if (host)
        cJSON_AddItemToObject(root, "host", host);
    cJSON *gpus = cJSON_AddArrayToObject(root, "gpus");
    for (int i = 0; gpus && i < sys->n_gpus && i < HR_MAX_GPUS; i++) {
        cJSON *g = gpu_json(&sys->gpus[i]);
        if (g)
            cJSON_AddItemToArray(gpus, g);
    }
    cJSON_AddStringToObject(root, "nvml_status", sys->nvml_status);
    cJSON_AddStringToObject(root, "amd_status", sys->amd_status);
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    return text;
}
