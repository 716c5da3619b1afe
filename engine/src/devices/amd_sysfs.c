/* AMD GPUs from the amdgpu driver's sysfs files:
 * <sys_root>/class/drm/cardN/device/{vendor,mem_info_vram_*,mem_info_gtt_*}. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "devices_internal.h"

#define AMD_PCI_VENDOR 0x1002u
#define AMD_MAX_CARDS 64

typedef struct amd_ctx {
    char drm_dir[512];
    int cards[AMD_MAX_CARDS]; /* N of each cardN, ascending */
    int n_cards;
} amd_ctx;

/* "card3" -> 3; connectors ("card0-DP-1") and render nodes are not cards. */
static bool card_number(const char *name, int *n)
{
    if (strncmp(name, "card", 4) != 0)
        return false;
    uint64_t v;
    const char *end;
    if (!hr_parse_u64(name + 4, &v, &end) || *end != '\0' || name[4] == ' ' || v > 1000000)
        return false;
    *n = (int)v;
    return true;
}

static int compare_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static bool amd_skip(const hr_probe_paths *p)
{
    return p->skip_amd;
}

static bool amd_init(const hr_probe_paths *p, void **out, char *status, size_t status_len)
{
    const char *sys_root = p->sys_root ? p->sys_root : "/sys";
    amd_ctx *c = calloc(1, sizeof *c);
    if (!c) {
        hr_path_fmt(status, status_len, "AMD not probed: out of memory");
        return false;
    }
    if (!hr_path_fmt(c->drm_dir, sizeof c->drm_dir, "%s/class/drm", sys_root)) {
        hr_path_fmt(status, status_len, "AMD not probed: path too long");
        free(c);
        return false;
    }
    DIR *d = opendir(c->drm_dir);
    if (!d) {
        hr_path_fmt(status, status_len, "no AMD GPU (%.100s not present)", c->drm_dir);
        free(c);
        return false;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL && c->n_cards < AMD_MAX_CARDS) {
        int n;
        if (card_number(de->d_name, &n))
            c->cards[c->n_cards++] = n;
    }
    closedir(d);
    qsort(c->cards, (size_t)c->n_cards, sizeof c->cards[0], compare_int);
    *out = c;
    return true;
}

static hr_reading read_bytes(const char *device_dir, const char *file)
{
    char path[768];
    uint64_t v;
    if (hr_path_fmt(path, sizeof path, "%s/%s", device_dir, file) && hr_read_u64_file(path, &v))
        return hr_reading_of(v);
    return hr_reading_unknown();
}

static bool is_amd_device(const char *device_dir)
{
    char path[768], buf[32];
    if (!hr_path_fmt(path, sizeof path, "%s/vendor", device_dir) ||
        !hr_pseudo_read(path, buf, sizeof buf))
        return false;
    char *end;
    unsigned long v = strtoul(buf, &end, 16); /* "0x1002\n" */
    return end != buf && v == AMD_PCI_VENDOR;
}

static hr_status amd_read(void *ctx, hr_system *sys, char *status, size_t status_len,
                          hr_error *err)
{
    (void)err;
    amd_ctx *c = ctx;
    int found = 0, dropped = 0;
    for (int i = 0; i < c->n_cards; i++) {
        char device_dir[640];
        if (!hr_path_fmt(device_dir, sizeof device_dir, "%s/card%d/device", c->drm_dir,
                         c->cards[i]) ||
            !is_amd_device(device_dir))
            continue;
        if (sys->n_gpus >= HR_MAX_GPUS) {
            dropped++;
            continue;
        }
        hr_gpu_info *g = &sys->gpus[sys->n_gpus];
        memset(g, 0, sizeof *g);
        g->index = c->cards[i];
        hr_copy_str(g->vendor, sizeof g->vendor, "AMD");
        g->backend = HR_BACKEND_ROCM;
        char path[768], name[sizeof g->name];
        if (hr_path_fmt(path, sizeof path, "%s/product_name", device_dir) &&
            hr_pseudo_read(path, name, sizeof name)) {
            size_t n = strcspn(name, "\r\n");
            name[n] = '\0';
        } else {
            name[0] = '\0';
        }
        if (name[0])
            hr_copy_str(g->name, sizeof g->name, name);
        else
            hr_path_fmt(g->name, sizeof g->name, "AMD GPU (card%d)", c->cards[i]);
        g->total = read_bytes(device_dir, "mem_info_vram_total");
        g->used = read_bytes(device_dir, "mem_info_vram_used");
        if (g->total.valid && g->used.valid && g->used.value <= g->total.value)
            g->free = hr_reading_of(g->total.value - g->used.value);
        g->gtt_total = read_bytes(device_dir, "mem_info_gtt_total");
        g->gtt_used = read_bytes(device_dir, "mem_info_gtt_used");
        hr_path_fmt(g->source, sizeof g->source, "sysfs card%d", c->cards[i]);
        sys->n_gpus++;
        found++;
    }
    if (found)
        hr_path_fmt(status, status_len, "%d AMD GPU%s in %.100s%s", found, found == 1 ? "" : "s",
                    c->drm_dir, dropped ? " (more than the GPU limit)" : "");
    else
        hr_path_fmt(status, status_len, "no AMD GPU in %.100s", c->drm_dir);
    return HR_OK;
}

static void amd_shutdown(void *ctx)
{
    free(ctx);
}

const hr_gpu_backend hr_amd_backend = {
    .vendor = "AMD",
    .skip = amd_skip,
    .init = amd_init,
    .read = amd_read,
    .shutdown = amd_shutdown,
    .status_offset = offsetof(hr_system, amd_status),
};
