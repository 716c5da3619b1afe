/* Layer placement over the host and the GPUs, as llama.cpp's load_tensors. */
#include "plan_internal.h"

void hr_place_init(hr_placement *p, const hr_model *m, const hr_settings *s,
                   const hr_budget_device *gpus, int n_gpus)
{
    const int32_t n_layer = (int32_t)m->n_layer;
    p->n_gpus = n_gpus;
    int32_t ngl = s->n_gpu_layers;
    if (ngl < 0 || ngl > n_layer + 1)
        ngl = n_layer + 1; /* -1 and anything beyond mean "all" */
    if (n_gpus <= 0 || s->mode == HR_MODE_CPU)
        ngl = 0; /* act_gpu_layers = 0 without devices */
    p->n_gpu_layers = ngl;
    p->i_gpu_start = n_layer + 1 - ngl;
    if (p->i_gpu_start < 0)
        p->i_gpu_start = 0;

    bool all_zero = true;
    for (int g = 0; g < n_gpus; g++)
        if (s->tensor_split[g] != 0.0f)
            all_zero = false;
    bool capacity_known = true;
    for (int g = 0; g < n_gpus; g++)
        if (!gpus[g].capacity_known || gpus[g].capacity_bytes == 0)
            capacity_known = false;
    /* cumulative sum then normalise, in float like llama.cpp */
    float sum = 0.0f;
    for (int g = 0; g < n_gpus; g++) {
        float w;
        if (!all_zero)
            w = s->tensor_split[g] > 0.0f ? s->tensor_split[g] : 0.0f;
        else if (capacity_known)
            w = (float)gpus[g].capacity_bytes;
        else
            w = 1.0f;
        sum += w;
        p->splits[g] = sum;
    }
    for (int g = 0; g < n_gpus; g++)
        p->splits[g] = sum > 0.0f ? p->splits[g] / sum : 1.0f;
}
