/* headroom — reading a llama.cpp load log (for `headroom check`). */
#ifndef HEADROOM_LLAMALOG_H
#define HEADROOM_LLAMALOG_H

#include <stdbool.h>
#include <stdint.h>

#include "headroom/plan.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HR_LOG_MAX_BUFFERS 64

typedef struct hr_log_buffer {
    char buffer[32];         /* "CPU", "CPU_REPACK", "CUDA0", "CUDA_Host", "CPU_Mapped" */
    hr_component component;  /* weights, kv, output, compute */
    double mib;              /* as printed */
} hr_log_buffer;

typedef struct hr_llama_log {
    /* settings llama.cpp printed (llama_context: lines); *_found flags */
    uint32_t n_ctx, n_ctx_seq, n_batch, n_ubatch, n_seq;
    bool has_n_ctx, has_n_ctx_seq, has_n_batch, has_n_ubatch, has_n_seq;
    int flash_attn;          /* -1 unknown, 0 off, 1 on */
    hr_type type_k, type_v;  /* HR_TYPE_INVALID unknown */
    int kv_unified;          /* -1 unknown */
    int32_t n_gpu_layers;    /* -1 unknown (from "offloaded N/M layers") */
    hr_log_buffer buffers[HR_LOG_MAX_BUFFERS];
    int n_buffers;
} hr_llama_log;

HR_API hr_status hr_llama_log_parse(const char *text, size_t len, hr_llama_log *out,
                                    hr_error *err);

/* Apply what the log printed to settings (n_ctx, batch, ubatch, seq, fa, KV types, ngl). */
HR_API void hr_llama_log_apply(const hr_llama_log *log, hr_settings *s);

/* Sum of a component over all buffers in MiB (e.g. model = CPU + CPU_REPACK). */
HR_API double hr_llama_log_component_mib(const hr_llama_log *log, hr_component c);

#ifdef __cplusplus
}
#endif
#endif
