/* libFuzzer harness: every YAML reader (preset, hardware catalog, scenario)
 * on the same arbitrary bytes. */
#include <stdlib.h>

#include "headroom/headroom.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    hr_error err;
    hr_shape shape;
    char *strings = NULL;
    if (hr_preset_parse(text, size, "fuzz/preset.yaml", &shape, &strings, &err) == HR_OK) {
        hr_model *m = NULL;
        if (hr_model_from_shape(&shape, &m, &err) == HR_OK)
            hr_model_free(m);
    }
    free(strings);
    hr_catalog *cat = NULL;
    if (hr_catalog_parse(text, size, "fuzz/hardware.yaml", &cat, &err) == HR_OK)
        hr_catalog_free(cat);
    hr_scenario sc;
    hr_scenario_parse(text, size, "fuzz/scenario.yaml", &sc, &err);
    return 0;
}
