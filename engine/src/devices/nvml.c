/* NVIDIA GPUs through NVML, loaded at run time with dlopen. No nvml.h: the
 * few types and entry points used are declared here, as NVML documents them. */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "devices_internal.h"

typedef int nvml_return;
typedef struct nvml_device_opaque *nvml_device;

#define NVML_SUCCESS 0
#define NVML_ERROR_NOT_SUPPORTED 3
#define NVML_DEVICE_NAME_V2_BUFFER_SIZE 96

typedef struct nvml_memory_v1 { /* nvmlMemory_t */
    unsigned long long total, free, used;
} nvml_memory_v1;

typedef struct nvml_memory_v2 { /* nvmlMemory_v2_t */
    unsigned int version;
    unsigned long long total, reserved, free, used;
} nvml_memory_v2;

/* NVML_STRUCT_VERSION(Memory, 2): the struct size with the version in the top byte */
#define NVML_MEMORY_V2_VERSION ((unsigned int)(sizeof(nvml_memory_v2) | (2u << 24)))

typedef nvml_return (*nvml_init_fn)(void);
typedef nvml_return (*nvml_shutdown_fn)(void);
typedef nvml_return (*nvml_count_fn)(unsigned int *);
typedef nvml_return (*nvml_handle_fn)(unsigned int, nvml_device *);
typedef nvml_return (*nvml_name_fn)(nvml_device, char *, unsigned int);
typedef nvml_return (*nvml_mem_v1_fn)(nvml_device, nvml_memory_v1 *);
typedef nvml_return (*nvml_mem_v2_fn)(nvml_device, nvml_memory_v2 *);
typedef const char *(*nvml_error_string_fn)(nvml_return);

typedef struct nvml_ctx {
    void *lib;
    char lib_name[128];
    nvml_shutdown_fn shutdown;
    nvml_count_fn get_count;
    nvml_handle_fn get_handle;
    nvml_name_fn get_name;
    nvml_mem_v1_fn mem_v1;
    nvml_mem_v2_fn mem_v2;
    nvml_error_string_fn error_string;
    bool initialized;
} nvml_ctx;

/* dlsym returns void *; POSIX guarantees it converts to a function pointer. */
#define NVML_SYM(ctx, type, name) ((type)(uintptr_t)dlsym((ctx)->lib, name))

static const char *nvml_error_text(const nvml_ctx *c, nvml_return r)
{
    const char *s = c->error_string ? c->error_string(r) : NULL;
    return s ? s : "unknown NVML error";
}

static bool nvml_skip(const hr_probe_paths *p)
{
    return p->skip_nvml;
}

static void nvml_close(nvml_ctx *c)
{
    if (!c)
        return;
    if (c->initialized && c->shutdown)
        c->shutdown();
    if (c->lib)
        dlclose(c->lib);
    free(c);
}

static bool nvml_init(const hr_probe_paths *p, void **out, char *status, size_t status_len)
{
    nvml_ctx *c = calloc(1, sizeof *c);
    if (!c) {
        hr_path_fmt(status, status_len, "NVML not probed: out of memory");
        return false;
    }
    static const char *const default_names[] = {"libnvidia-ml.so.1", "libnvidia-ml.so"};
    const char *tried = p->nvml_library ? p->nvml_library : default_names[0];
    if (p->nvml_library) {
        c->lib = dlopen(p->nvml_library, RTLD_NOW | RTLD_LOCAL);
        hr_copy_str(c->lib_name, sizeof c->lib_name, p->nvml_library);
    } else {
        for (size_t i = 0; i < 2 && !c->lib; i++) {
            c->lib = dlopen(default_names[i], RTLD_NOW | RTLD_LOCAL);
            hr_copy_str(c->lib_name, sizeof c->lib_name, default_names[i]);
        }
    }
    if (!c->lib) {
        hr_path_fmt(status, status_len, "NVML not present (%s not found)", tried);
        free(c);
        return false;
    }
    nvml_init_fn init = NVML_SYM(c, nvml_init_fn, "nvmlInit_v2");
    if (!init)
        init = NVML_SYM(c, nvml_init_fn, "nvmlInit");
    c->shutdown = NVML_SYM(c, nvml_shutdown_fn, "nvmlShutdown");
    c->get_count = NVML_SYM(c, nvml_count_fn, "nvmlDeviceGetCount_v2");
    if (!c->get_count)
        c->get_count = NVML_SYM(c, nvml_count_fn, "nvmlDeviceGetCount");
    c->get_handle = NVML_SYM(c, nvml_handle_fn, "nvmlDeviceGetHandleByIndex_v2");
    if (!c->get_handle)
        c->get_handle = NVML_SYM(c, nvml_handle_fn, "nvmlDeviceGetHandleByIndex");
    c->get_name = NVML_SYM(c, nvml_name_fn, "nvmlDeviceGetName");
    c->mem_v2 = NVML_SYM(c, nvml_mem_v2_fn, "nvmlDeviceGetMemoryInfo_v2");
    c->mem_v1 = NVML_SYM(c, nvml_mem_v1_fn, "nvmlDeviceGetMemoryInfo");
    c->error_string = NVML_SYM(c, nvml_error_string_fn, "nvmlErrorString");
    if (!init || !c->shutdown || !c->get_count || !c->get_handle ||
        (!c->mem_v1 && !c->mem_v2)) {
        hr_path_fmt(status, status_len, "NVML unusable: %s lacks required symbols",
                    c->lib_name);
        nvml_close(c);
        return false;
    }
    nvml_return r = init();
    if (r != NVML_SUCCESS) {
        /* a driver/library mismatch or no GPU: report, do not fail */
        hr_path_fmt(status, status_len, "NVML present (%s) but init failed: %s", c->lib_name,
                    nvml_error_text(c, r));
        nvml_close(c);
        return false;
    }
    c->initialized = true;
    *out = c;
    return true;
}

/* Memory of one device: v2 first (its "used" excludes reserved memory),
 * then v1. NOT_SUPPORTED or a zero total means no dedicated memory. */
static void nvml_read_memory(const nvml_ctx *c, nvml_device dev, hr_gpu_info *g)
{
    nvml_return r = NVML_ERROR_NOT_SUPPORTED;
    if (c->mem_v2) {
        nvml_memory_v2 m;
        memset(&m, 0, sizeof m);
        m.version = NVML_MEMORY_V2_VERSION;
        r = c->mem_v2(dev, &m);
        if (r == NVML_SUCCESS && m.total > 0) {
            g->total = hr_reading_of(m.total);
            g->free = hr_reading_of(m.free);
            g->used = hr_reading_of(m.used);
            hr_copy_str(g->source, sizeof g->source, "NVML v2");
            return;
        }
    }
    if (c->mem_v1) {
        nvml_memory_v1 m;
        memset(&m, 0, sizeof m);
        r = c->mem_v1(dev, &m);
        if (r == NVML_SUCCESS && m.total > 0) {
            g->total = hr_reading_of(m.total);
            g->free = hr_reading_of(m.free);
            g->used = hr_reading_of(m.used);
            hr_copy_str(g->source, sizeof g->source, "NVML v1");
            return;
        }
    }
    if (r == NVML_ERROR_NOT_SUPPORTED || r == NVML_SUCCESS) {
        g->unified = true;
        hr_copy_str(g->source, sizeof g->source, "NVML (unified memory: host RAM)");
    } else {
        hr_path_fmt(g->source, sizeof g->source, "NVML memory: %s", nvml_error_text(c, r));
    }
}

static hr_status nvml_read(void *ctx, hr_system *sys, char *status, size_t status_len,
                           hr_error *err)
{
    (void)err;
    nvml_ctx *c = ctx;
    unsigned int count = 0;
    nvml_return r = c->get_count(&count);
    if (r != NVML_SUCCESS) {
        hr_path_fmt(status, status_len, "NVML (%s): device count failed: %s", c->lib_name,
                    nvml_error_text(c, r));
        return HR_OK;
    }
    unsigned int added = 0, skipped = 0;
    for (unsigned int i = 0; i < count; i++) {
        if (sys->n_gpus >= HR_MAX_GPUS) {
            skipped += count - i;
            break;
        }
        nvml_device dev = NULL;
        if (c->get_handle(i, &dev) != NVML_SUCCESS) {
            skipped++;
            continue;
        }
        hr_gpu_info *g = &sys->gpus[sys->n_gpus];
        memset(g, 0, sizeof *g);
        g->index = (int)i;
        hr_copy_str(g->vendor, sizeof g->vendor, "NVIDIA");
        g->backend = HR_BACKEND_CUDA;
        char name[NVML_DEVICE_NAME_V2_BUFFER_SIZE] = {0};
        if (c->get_name && c->get_name(dev, name, sizeof name) == NVML_SUCCESS && name[0]) {
            name[sizeof name - 1] = '\0';
            hr_copy_str(g->name, sizeof g->name, name);
        } else {
            hr_path_fmt(g->name, sizeof g->name, "NVIDIA GPU %u", i);
        }
        nvml_read_memory(c, dev, g);
        sys->n_gpus++;
        added++;
    }
    hr_path_fmt(status, status_len, "NVML (%s): %u GPU%s%s", c->lib_name, added,
                added == 1 ? "" : "s", skipped ? ", some not readable or over the limit" : "");
    return HR_OK;
}

static void nvml_shutdown(void *ctx)
{
    nvml_close(ctx);
}

const hr_gpu_backend hr_nvml_backend = {
    .vendor = "NVIDIA",
    .skip = nvml_skip,
    .init = nvml_init,
    .read = nvml_read,
    .shutdown = nvml_shutdown,
    .status_offset = offsetof(hr_system, nvml_status),
};
