/* Loader-facing requirement: a request mapped onto the plan. */
#include <string.h>
#include <strings.h>

#include "headroom/headroom.h"

#define MIB 1048576.0

hr_status hr_request_to_settings(const hr_model *model, const hr_request *rq, hr_settings *s,
                                 hr_error *err)
{
    hr_settings_init(s);
    const char *device = rq->device ? rq->device : "cpu";
    bool gpu;
    if (strcasecmp(device, "cpu") == 0)
        gpu = false;
    else if (strcasecmp(device, "gpu") == 0)
        gpu = true;
    else
        return hr_error_set(err, HR_ERR_ARG, "device must be \"cpu\" or \"gpu\", not \"%s\"",
                            device);
    uint32_t batch = rq->batch ? rq->batch : 1;
    uint32_t seq_len = rq->seq_len ? rq->seq_len : 512;
    uint64_t tokens = (uint64_t)batch * seq_len;
    if (tokens > (1u << 30))
        return hr_error_set(err, HR_ERR_ARG, "batch %u x sequence length %u is too large", batch,
                            seq_len);
    if (rq->margin_percent < 0 || rq->margin_percent > 1000)
        return hr_error_set(err, HR_ERR_ARG, "margin of %g%% is out of range", rq->margin_percent);
    /* One KV stream per sequence; the whole batch goes through in one ubatch
     * (what an embedding server or a batched loader does). */
    s->n_ctx = (uint32_t)tokens;
    s->n_seq = batch;
    s->n_batch = (uint32_t)tokens;
    s->n_ubatch = (uint32_t)tokens;
    s->mode = gpu ? HR_MODE_GPU : HR_MODE_CPU;
    s->n_gpu_layers = gpu ? -1 : 0;
    s->embeddings = model->embedding_only;
    s->margin_percent = rq->margin_percent;
    s->margin_bytes = rq->margin_bytes;
    if (rq->quant && *rq->quant) {
        s->target_ftype = hr_ftype_from_name(rq->quant);
        if (s->target_ftype == HR_FTYPE_UNKNOWN)
            return hr_error_set(err, HR_ERR_ARG, "unknown quantization \"%s\"", rq->quant);
    }
    hr_error rt_err;
    if (hr_runtime_load(rq->runtimes_file, gpu ? "cuda" : "cpu", &s->runtime, &rt_err) != HR_OK &&
        rq->runtimes_file)
        return hr_error_set(err, rt_err.status, "%s", rt_err.message);
    return HR_OK;
}

static void fill_mib(hr_requirement *r)
{
    r->total_mib = (double)r->total_bytes / MIB;
    r->gpu_mib = (double)r->gpu_bytes / MIB;
    r->cpu_mib = (double)r->cpu_bytes / MIB;
    r->weights_mib = (double)r->weights_bytes / MIB;
    r->kv_mib = (double)r->kv_bytes / MIB;
    r->compute_mib = (double)r->compute_bytes / MIB;
    r->overhead_mib = (double)r->overhead_bytes / MIB;
    r->margin_mib = (double)r->margin_bytes / MIB;
}

hr_status hr_requirement_for_model(const hr_model *model, const hr_request *rq,
                                   hr_requirement *out, hr_error *err)
{
    if (!model || !rq || !out)
        return hr_error_set(err, HR_ERR_ARG, "requirement: model, request and output are required");
    memset(out, 0, sizeof *out);
    hr_settings s;
    hr_status st = hr_request_to_settings(model, rq, &s, err);
    if (st != HR_OK)
        return st;
    /* Plan for a host plus (for "gpu") one GPU, capacities unknown: the
     * requirement does not depend on what is free. */
    hr_budget budget;
    hr_budget_init_host_only(&budget);
    if (s.mode == HR_MODE_GPU) {
        hr_budget_device *g = &budget.devices[budget.n_devices++];
        memset(g, 0, sizeof *g);
        strcpy(g->name, "GPU");
        g->kind = HR_DEVICE_GPU;
        g->backend = s.runtime.backend == HR_BACKEND_CPU ? HR_BACKEND_CUDA : s.runtime.backend;
    }
    hr_plan plan;
    st = hr_plan_compute(model, &s, &budget, &plan, err);
    if (st != HR_OK)
        return st;
    out->n_devices = plan.n_devices;
    for (int d = 0; d < plan.n_devices; d++) {
        const hr_plan_device *pd = &plan.devices[d];
        out->device_bytes[d] = pd->total_bytes;
        out->device_kind[d] = pd->kind;
        if (pd->kind == HR_DEVICE_GPU)
            out->gpu_bytes += pd->total_bytes;
        else
            out->cpu_bytes += pd->total_bytes;
    }
    out->total_bytes = plan.total_bytes;
    out->weights_bytes = plan.bytes[HR_COMP_WEIGHTS];
    out->kv_bytes = plan.bytes[HR_COMP_KV];
    out->compute_bytes = plan.bytes[HR_COMP_COMPUTE] + plan.bytes[HR_COMP_OUTPUT];
    out->overhead_bytes = plan.bytes[HR_COMP_OVERHEAD];
    out->margin_bytes = plan.bytes[HR_COMP_MARGIN];
    fill_mib(out);
    return HR_OK;
}

hr_status hr_requirement_for(const hr_request *rq, hr_requirement *out, hr_error *err)
{
    if (!rq || !rq->model)
        return hr_error_set(err, HR_ERR_ARG, "requirement: no model given");
    hr_model *m = NULL;
    hr_status st = hr_model_open(rq->model, &m, err);
    if (st != HR_OK)
        return st;
    st = hr_requirement_for_model(m, rq, out, err);
    hr_model_free(m);
    return st;
}
