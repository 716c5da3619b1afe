/* libFuzzer harness: the GGUF reader on arbitrary bytes. The first byte sizes
 * the tensor data (a sparse hole, see fuzz_input.h); the rest is the header.
 * A model that opens is planned on the host, then half on a GPU with another
 * graph (no flash attention, two sequences, a q8_0 K cache): the scheduler's
 * copies and op offload of every architecture's layers; then a context sweep
 * in that placement (the kept graphs, their records, checkpoints and
 * probes), each point checked against its own plan (a mismatch aborts). */
#include <stdlib.h>

#include "fuzz_budget.h"
#include "fuzz_input.h"
#include "headroom/headroom.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *path =
        fuzz_write_temp_hole("fuzz.gguf", data + 1, size - 1, (uint64_t)data[0] * FUZZ_HOLE_UNIT);
    if (!path)
        return 0;
    hr_model *m = NULL;
    hr_error err;
    if (hr_model_open_gguf(path, &m, &err) == HR_OK) {
        hr_settings s;
        hr_settings_init(&s);
        s.n_ctx = 512;
        hr_plan plan;
        hr_plan_compute(m, &s, NULL, &plan, &err);
        hr_budget gpu;
        fuzz_gpu_budget(&gpu, 1);
        s.mode = HR_MODE_GPU;
        s.n_gpu_layers = (int32_t)(m->n_layer / 2);
        s.flash_attn = HR_FA_OFF;
        s.n_seq = 2;
        s.type_k = HR_TYPE_Q8_0;
        hr_plan_compute(m, &s, &gpu, &plan, &err);
        static const uint32_t ctx[] = {512, 1024, 1536, 2048, 4096, 3072, 8192, 16384};
        enum { N_CTX = sizeof ctx / sizeof ctx[0] };
        uint64_t totals[N_CTX * HR_MAX_DEVICES];
        if (hr_sweep_ctx(m, &s, &gpu, ctx, N_CTX, totals, &err) == HR_OK) {
            /* every point is its own plan, byte for byte */
            for (int i = 0; i < N_CTX; i++) {
                s.n_ctx = ctx[i];
                if (hr_plan_compute(m, &s, &gpu, &plan, &err) != HR_OK)
                    abort();
                for (int d = 0; d < gpu.n_devices; d++) {
                    const uint64_t want = d < plan.n_devices ? plan.devices[d].total_bytes : 0;
                    if (totals[i * gpu.n_devices + d] != want)
                        abort();
                }
            }
        }
        char *json = hr_model_to_json(m, true);
        free(json);
        hr_model_free(m);
    }
    return 0;
}
