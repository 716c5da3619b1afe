/* hr_plan_to_json: the plan as the JSON object scripts read (key names are
 * fixed by the plan issue). */
#include <cjson/cJSON.h>

#include "headroom/plan.h"

static const char *const COMPONENT_KEYS[HR_COMP_COUNT] = {
    "weights_bytes", "kv_bytes", "output_bytes", "compute_bytes", "overhead_bytes", "margin_bytes"};

/* cJSON numbers are doubles: exact up to 2^53 bytes (8 PiB) */
static bool add_num(cJSON *o, const char *k, double v)
{
    return cJSON_AddNumberToObject(o, k, v) != NULL;
}

static bool add_memory(cJSON *o, const uint64_t *bytes, uint64_t total)
{
    for (int c = 0; c < HR_COMP_COUNT; c++)
        if (!add_num(o, COMPONENT_KEYS[c], (double)bytes[c]))
            return false;
    return add_num(o, "total_bytes", (double)total);
}

static bool add_device(cJSON *arr, const hr_plan_device *d)
{
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddItemToArray(arr, o))
        return cJSON_Delete(o), false;
    bool ok = cJSON_AddStringToObject(o, "name", d->name) &&
              cJSON_AddStringToObject(o, "kind", d->kind == HR_DEVICE_HOST ? "host" : "gpu") &&
              cJSON_AddStringToObject(o, "backend", hr_backend_name(d->backend)) &&
              add_memory(o, d->bytes, d->total_bytes);
    if (!ok)
        return false;
    if (d->capacity_known)
        ok = add_num(o, "capacity_bytes", (double)d->capacity_bytes);
    else
        ok = cJSON_AddNullToObject(o, "capacity_bytes") != NULL;
    ok = ok && cJSON_AddBoolToObject(o, "fits", d->fits) &&
         add_num(o, "headroom_bytes", (double)d->headroom_bytes) &&
         add_num(o, "weights_mapped_bytes", (double)d->weights_mapped_bytes) &&
         add_num(o, "compute_host_bytes", (double)d->compute_host_bytes);
    if (!ok)
        return false;
    cJSON *layers = cJSON_AddArrayToObject(o, "layers");
    if (!layers)
        return false;
    cJSON *b = cJSON_CreateNumber(d->layer_begin), *e = cJSON_CreateNumber(d->layer_end);
    if (!b || !cJSON_AddItemToArray(layers, b)) {
        cJSON_Delete(b);
        cJSON_Delete(e);
        return false;
    }
    if (!e || !cJSON_AddItemToArray(layers, e))
        return cJSON_Delete(e), false;
    return true;
}

static const char *type_name(hr_type t)
{
    const hr_type_info *ti = hr_type_get(t);
    return ti ? ti->name : "unknown";
}

static bool add_resolved(cJSON *o, const hr_plan *p)
{
    const char *ftype = hr_ftype_name(p->weights_ftype);
    return add_num(o, "n_ctx", p->n_ctx) && add_num(o, "n_ctx_seq", p->n_ctx_seq) &&
           add_num(o, "n_seq", p->n_seq) && add_num(o, "n_batch", p->n_batch) &&
           add_num(o, "n_ubatch", p->n_ubatch) && add_num(o, "n_outputs", p->n_outputs) &&
           add_num(o, "kv_cells", p->kv_cells) && add_num(o, "kv_cells_swa", p->kv_cells_swa) &&
           add_num(o, "n_layer_kv", p->n_layer_kv) && add_num(o, "n_layer_swa", p->n_layer_swa) &&
           add_num(o, "n_layer_recurrent", p->n_layer_recurrent) &&
           cJSON_AddBoolToObject(o, "flash_attn", p->flash_attn) &&
           cJSON_AddStringToObject(o, "type_k", type_name(p->type_k)) &&
           cJSON_AddStringToObject(o, "type_v", type_name(p->type_v)) &&
           add_num(o, "n_gpu_layers", p->n_gpu_layers) &&
           (ftype ? cJSON_AddStringToObject(o, "weights_ftype", ftype) != NULL
                  : cJSON_AddNullToObject(o, "weights_ftype") != NULL) &&
           add_num(o, "kv_k_bytes", (double)p->kv_k_bytes) &&
           add_num(o, "kv_v_bytes", (double)p->kv_v_bytes) &&
           add_num(o, "kv_swa_k_bytes", (double)p->kv_swa_k_bytes) &&
           add_num(o, "kv_swa_v_bytes", (double)p->kv_swa_v_bytes) &&
           add_num(o, "recurrent_bytes", (double)p->recurrent_bytes);
}

char *hr_plan_to_json(const hr_plan *plan)
{
    if (!plan)
        return NULL;
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return NULL;
    bool ok = true;
    cJSON *mem = cJSON_AddObjectToObject(root, "memory");
    ok = mem && add_memory(mem, plan->bytes, plan->total_bytes);
    cJSON *devs = ok ? cJSON_AddArrayToObject(root, "devices") : NULL;
    ok = ok && devs;
    for (int d = 0; ok && d < plan->n_devices && d < HR_MAX_DEVICES; d++)
        ok = add_device(devs, &plan->devices[d]);
    cJSON *res = ok ? cJSON_AddObjectToObject(root, "resolved") : NULL;
    ok = ok && res && add_resolved(res, plan);
    cJSON *notes = ok ? cJSON_AddArrayToObject(root, "notes") : NULL;
    ok = ok && notes;
    for (int i = 0; ok && i < plan->n_notes && i < HR_PLAN_MAX_NOTES; i++) {
        cJSON *n = cJSON_CreateString(plan->notes[i]);
        ok = n && cJSON_AddItemToArray(notes, n);
        if (!ok)
            cJSON_Delete(n);
    }
    ok = ok && cJSON_AddBoolToObject(root, "fits", plan->fits);
    char *text = ok ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    return text;
}
