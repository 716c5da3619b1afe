/* libFuzzer harness: the GGUF reader on arbitrary bytes. The first byte sizes
 * the tensor data (a sparse hole, see fuzz_input.h); the rest is the header. */
#include <stdlib.h>

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
        char *json = hr_model_to_json(m, true);
        free(json);
        hr_model_free(m);
    }
    return 0;
}
