/* libFuzzer harness: the llama.cpp log reader used by `headroom check`. */
#include "headroom/headroom.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hr_llama_log log;
    hr_error err;
    if (hr_llama_log_parse((const char *)data, size, &log, &err) == HR_OK) {
        hr_settings s;
        hr_settings_init(&s);
        hr_llama_log_apply(&log, &s);
        for (int c = 0; c < HR_COMP_COUNT; c++)
            (void)hr_llama_log_component_mib(&log, (hr_component)c);
    }
    return 0;
}
