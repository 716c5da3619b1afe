/* Defaults and names of the plan's settings, budgets and components. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "headroom/plan.h"

void hr_settings_init(hr_settings *s)
{
    if (!s)
        return;
    memset(s, 0, sizeof *s);
    s->n_ctx = 0;          /* the model's training context */
    s->n_batch = 2048;     /* common/common.h n_batch */
    s->n_ubatch = 512;     /* common/common.h n_ubatch */
    s->n_seq = 1;
    s->kv_unified = false;
    s->flash_attn = HR_FA_AUTO;
    s->type_k = HR_TYPE_F16;
    s->type_v = HR_TYPE_F16;
    s->n_gpu_layers = -1;  /* all */
    s->mode = HR_MODE_GPU;
    s->offload_kv = true;
    s->use_mmap = true;
    s->swa_full = false;
    s->embeddings = false;
    s->target_ftype = HR_FTYPE_UNKNOWN;
    s->margin_percent = 0.0;
    s->margin_bytes = 0;
    /* no runtime loaded: zero overheads, ggml's default alignments */
    snprintf(s->runtime.name, sizeof s->runtime.name, "none");
    s->runtime.backend = HR_BACKEND_CPU;
    s->runtime.host_alignment = 32;
    s->runtime.device_alignment = 128;
}

void hr_budget_init_host_only(hr_budget *b)
{
    if (!b)
        return;
    memset(b, 0, sizeof *b);
    b->n_devices = 1;
    hr_budget_device *h = &b->devices[0];
    snprintf(h->name, sizeof h->name, "host");
    h->kind = HR_DEVICE_HOST;
    h->backend = HR_BACKEND_CPU;
    h->capacity_known = false;
    snprintf(h->source, sizeof h->source, "unknown");
    snprintf(b->label, sizeof b->label, "host (capacity unknown)");
}

static const char *const BACKEND_NAMES[HR_BACKEND_COUNT] = {"cpu", "cuda", "rocm", "metal",
                                                            "vulkan"};

const char *hr_backend_name(hr_backend backend)
{
    if ((int)backend < 0 || backend >= HR_BACKEND_COUNT)
        return "unknown";
    return BACKEND_NAMES[backend];
}

hr_backend hr_backend_from_name(const char *name)
{
    if (!name)
        return HR_BACKEND_COUNT;
    for (int i = 0; i < HR_BACKEND_COUNT; i++)
        if (strcasecmp(name, BACKEND_NAMES[i]) == 0)
            return (hr_backend)i;
    if (strcasecmp(name, "hip") == 0)
        return HR_BACKEND_ROCM;
    return HR_BACKEND_COUNT;
}

static const char *const COMPONENT_NAMES[HR_COMP_COUNT] = {"weights", "kv",       "output",
                                                           "compute", "overhead", "margin"};

const char *hr_component_name(hr_component c)
{
    if ((int)c < 0 || c >= HR_COMP_COUNT)
        return "unknown";
    return COMPONENT_NAMES[c];
}

void hr_tf_settings_init(hr_tf_settings *s)
{
    if (!s)
        return;
    memset(s, 0, sizeof *s);
    s->batch = 1;
    s->seq_len = 0; /* 0: the model's training context */
    s->dtype = HR_TYPE_INVALID;
    s->kv_dtype = HR_TYPE_INVALID;
    s->use_kv_cache = true;
}
