/* libFuzzer harness: config.json (transformers) on arbitrary bytes. */
#include "headroom/headroom.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hr_model *m = NULL;
    hr_error err;
    if (hr_model_from_config_json((const char *)data, size, "fuzz/config.json", &m, &err) ==
        HR_OK) {
        hr_settings s;
        hr_settings_init(&s);
        s.n_ctx = 256;
        hr_plan plan;
        hr_plan_compute(m, &s, NULL, &plan, &err);
        hr_model_free(m);
    }
    return 0;
}
