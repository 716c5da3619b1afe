/* libFuzzer harness: safetensors header and sharded index on arbitrary bytes.
 * The first byte picks the target: even = a .safetensors file, odd = an index. */
#include "fuzz_input.h"
#include "headroom/headroom.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *index = "model.safetensors.index.json", *single = "model.safetensors";
    const char *name = (data[0] & 1) ? index : single;
    /* one file at a time: a single file beside an index is read as part of it */
    fuzz_remove_temp((data[0] & 1) ? single : index);
    const char *path = fuzz_write_temp(name, data + 1, size - 1);
    if (!path)
        return 0;
    hr_model *m = NULL;
    hr_error err;
    if (hr_model_open_safetensors(path, &m, &err) == HR_OK)
        hr_model_free(m);
    return 0;
}
