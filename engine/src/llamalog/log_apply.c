/* Turning what a llama.cpp log printed into planner settings. */
#include <string.h>

#include "headroom/llamalog.h"

/* Host buffers are named CPU, CPU_REPACK, CPU_Mapped, CUDA_Host, ...: every
 * other name (CUDA0, ROCm1, Metal, Vulkan0) is device memory. */
static bool is_host_buffer(const char *name)
{
    return strncmp(name, "CPU", 3) == 0 || strstr(name, "_Host") != NULL;
}

void hr_llama_log_apply(const hr_llama_log *log, hr_settings *s)
{
    if (log->has_n_ctx)
        s->n_ctx = log->n_ctx;
    if (log->has_n_batch)
        s->n_batch = log->n_batch;
    if (log->has_n_ubatch)
        s->n_ubatch = log->n_ubatch;
    if (log->has_n_seq)
        s->n_seq = log->n_seq;
    if (log->flash_attn >= 0)
        s->flash_attn = log->flash_attn ? HR_FA_ON : HR_FA_OFF;
    if (log->kv_unified >= 0)
        s->kv_unified = log->kv_unified != 0;
    if (log->type_k != HR_TYPE_INVALID)
        s->type_k = log->type_k;
    if (log->type_v != HR_TYPE_INVALID)
        s->type_v = log->type_v;

    bool device_buffers = false, any_weights = false, mapped = false;
    for (int i = 0; i < log->n_buffers; i++) {
        const hr_log_buffer *b = &log->buffers[i];
        if (!is_host_buffer(b->buffer))
            device_buffers = true;
        if (b->component == HR_COMP_WEIGHTS) {
            any_weights = true;
            if (strcmp(b->buffer, "CPU_Mapped") == 0 || strstr(b->buffer, "_Mapped"))
                mapped = true;
        }
    }
    /* llama.cpp names an mmap'd weight buffer *_Mapped; a plain CPU buffer means --no-mmap */
    if (any_weights)
        s->use_mmap = mapped;
    if (log->n_gpu_layers >= 0) {
        s->n_gpu_layers = log->n_gpu_layers;
        s->mode = log->n_gpu_layers > 0 || device_buffers ? HR_MODE_GPU : HR_MODE_CPU;
    } else if (device_buffers) {
        s->mode = HR_MODE_GPU;
    }
}
