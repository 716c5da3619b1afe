/* A stand-in for libnvidia-ml.so that the devices tests dlopen.
 *
 * FAKE_NVML_MODE picks what it reports:
 *   (unset) / "one"  one 24 GiB GPU
 *   "two-gpus"       two GPUs of different sizes
 *   "unified"        memory queries answer NOT_SUPPORTED (Jetson / GH200 style)
 *   "zero-total"     memory queries succeed with a total of 0
 *   "init-fails"     nvmlInit fails with DRIVER_NOT_LOADED
 *   "v2-broken"      the _v2 memory query fails, v1 works
 * FAKE_NVML_LOG names a file to which each call appends a line, so tests can
 * check that init and shutdown pair up.
 * Built twice: with FAKE_NVML_LEGACY only the unversioned symbols exist, as in
 * drivers older than the _v2 entry points. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int nvmlReturn_t;
typedef struct fake_device *nvmlDevice_t;

#define NVML_SUCCESS 0
#define NVML_ERROR_INVALID_ARGUMENT 2
#define NVML_ERROR_NOT_SUPPORTED 3
#define NVML_ERROR_UNINITIALIZED 1
#define NVML_ERROR_DRIVER_NOT_LOADED 9
#define NVML_ERROR_ARGUMENT_VERSION_MISMATCH 25

typedef struct {
    unsigned long long total, free, used;
} nvmlMemory_t;

typedef struct {
    unsigned int version;
    unsigned long long total, reserved, free, used;
} nvmlMemory_v2_t;

#define FAKE_MEMORY_V2_VERSION ((unsigned int)(sizeof(nvmlMemory_v2_t) | (2u << 24)))

struct fake_device {
    const char *name;
    unsigned long long total, reserved, used;
};

static struct fake_device fake_devices[2] = {
    {"Fake GPU 24G", 24ull << 30, 300ull << 20, 1ull << 30},
    {"Fake GPU 80G", 80ull << 30, 500ull << 20, 0},
};

static int initialized;

static const char *mode(void)
{
    const char *m = getenv("FAKE_NVML_MODE");
    return m ? m : "one";
}

static int mode_is(const char *m)
{
    return strcmp(mode(), m) == 0;
}

static void log_call(const char *what)
{
    const char *path = getenv("FAKE_NVML_LOG");
    if (!path)
        return;
    FILE *f = fopen(path, "a");
    if (f) {
        fprintf(f, "%s\n", what);
        fclose(f);
    }
}

static nvmlReturn_t do_init(const char *name)
{
    log_call(name);
    if (mode_is("init-fails"))
        return NVML_ERROR_DRIVER_NOT_LOADED;
    initialized++;
    return NVML_SUCCESS;
}

static nvmlReturn_t do_count(unsigned int *count)
{
    if (!initialized)
        return NVML_ERROR_UNINITIALIZED;
    *count = mode_is("two-gpus") ? 2 : 1;
    return NVML_SUCCESS;
}

static nvmlReturn_t do_handle(unsigned int index, nvmlDevice_t *device)
{
    unsigned int count;
    nvmlReturn_t r = do_count(&count);
    if (r != NVML_SUCCESS)
        return r;
    if (index >= count)
        return NVML_ERROR_INVALID_ARGUMENT;
    *device = &fake_devices[index];
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlInit(void)
{
    return do_init("nvmlInit");
}

nvmlReturn_t nvmlDeviceGetCount(unsigned int *count)
{
    return do_count(count);
}

nvmlReturn_t nvmlDeviceGetHandleByIndex(unsigned int index, nvmlDevice_t *device)
{
    return do_handle(index, device);
}

nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t device, char *name, unsigned int length)
{
    if (!initialized || !device || !name || length == 0)
        return NVML_ERROR_INVALID_ARGUMENT;
    snprintf(name, length, "%s", device->name);
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t device, nvmlMemory_t *memory)
{
    log_call("nvmlDeviceGetMemoryInfo");
    if (!initialized || !device || !memory)
        return NVML_ERROR_INVALID_ARGUMENT;
    if (mode_is("unified"))
        return NVML_ERROR_NOT_SUPPORTED;
    memset(memory, 0, sizeof *memory);
    if (mode_is("zero-total"))
        return NVML_SUCCESS;
    /* v1 counts the driver's reservation as used */
    memory->total = device->total;
    memory->used = device->used + device->reserved;
    memory->free = device->total - memory->used;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlShutdown(void)
{
    log_call("nvmlShutdown");
    if (!initialized)
        return NVML_ERROR_UNINITIALIZED;
    initialized--;
    return NVML_SUCCESS;
}

const char *nvmlErrorString(nvmlReturn_t result)
{
    switch (result) {
    case NVML_SUCCESS: return "Success";
    case NVML_ERROR_NOT_SUPPORTED: return "Not Supported";
    case NVML_ERROR_DRIVER_NOT_LOADED: return "Driver Not Loaded";
    case NVML_ERROR_ARGUMENT_VERSION_MISMATCH: return "Argument Version Mismatch";
    default: return "Unknown Error";
    }
}

#ifndef FAKE_NVML_LEGACY
nvmlReturn_t nvmlInit_v2(void)
{
    return do_init("nvmlInit_v2");
}

nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *count)
{
    return do_count(count);
}

nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t *device)
{
    return do_handle(index, device);
}

nvmlReturn_t nvmlDeviceGetMemoryInfo_v2(nvmlDevice_t device, nvmlMemory_v2_t *memory)
{
    log_call("nvmlDeviceGetMemoryInfo_v2");
    if (!initialized || !device || !memory)
        return NVML_ERROR_INVALID_ARGUMENT;
    /* the real library rejects a struct whose version word is not its own */
    if (memory->version != FAKE_MEMORY_V2_VERSION)
        return NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
    if (mode_is("unified"))
        return NVML_ERROR_NOT_SUPPORTED;
    if (mode_is("v2-broken"))
        return NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
    unsigned int version = memory->version;
    memset(memory, 0, sizeof *memory);
    memory->version = version;
    if (mode_is("zero-total"))
        return NVML_SUCCESS;
    memory->total = device->total;
    memory->reserved = device->reserved;
    memory->used = device->used;
    memory->free = device->total - device->reserved - device->used;
    return NVML_SUCCESS;
}
#endif
