/* Host RAM from <proc_root>/meminfo ("Key:   value kB" lines). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices_internal.h"

enum { MI_TOTAL, MI_AVAILABLE, MI_FREE, MI_BUFFERS, MI_CACHED, MI_SWAP_TOTAL, MI_SWAP_FREE,
       MI_COUNT };

static const char *const meminfo_keys[MI_COUNT] = {
    "MemTotal", "MemAvailable", "MemFree", "Buffers", "Cached", "SwapTotal", "SwapFree",
};

/* One "Key: N kB" line into bytes. A value that overflows, lacks digits or
 * has an unknown unit leaves the reading invalid. */
static hr_reading parse_meminfo_value(const char *p, const char *line_end)
{
    uint64_t v;
    const char *end;
    if (!hr_parse_u64(p, &v, &end) || end > line_end)
        return hr_reading_unknown();
    while (end < line_end && (*end == ' ' || *end == '\t'))
        end++;
    size_t unit_len = (size_t)(line_end - end);
    while (unit_len && (end[unit_len - 1] == ' ' || end[unit_len - 1] == '\r'))
        unit_len--;
    uint64_t mult;
    if (unit_len == 0)
        mult = 1;
    else if (unit_len == 2 && (end[0] == 'k' || end[0] == 'K') && end[1] == 'B')
        mult = 1024; /* the kernel's "kB" is KiB */
    else
        return hr_reading_unknown();
    uint64_t bytes;
    if (__builtin_mul_overflow(v, mult, &bytes))
        return hr_reading_unknown();
    return hr_reading_of(bytes);
}

static void parse_meminfo(const char *text, hr_reading vals[MI_COUNT])
{
    for (int i = 0; i < MI_COUNT; i++)
        vals[i] = hr_reading_unknown();
    const char *line = text;
    while (*line) {
        const char *line_end = strchr(line, '\n');
        if (!line_end)
            line_end = line + strlen(line);
        const char *colon = memchr(line, ':', (size_t)(line_end - line));
        if (colon) {
            size_t key_len = (size_t)(colon - line);
            for (int i = 0; i < MI_COUNT; i++) {
                if (strlen(meminfo_keys[i]) == key_len &&
                    memcmp(meminfo_keys[i], line, key_len) == 0) {
                    vals[i] = parse_meminfo_value(colon + 1, line_end);
                    break;
                }
            }
        }
        line = *line_end ? line_end + 1 : line_end;
    }
}

hr_status hr_read_meminfo(const char *proc_root, hr_host_info *out, hr_error *err)
{
    out->mem_total = out->mem_available = out->swap_total = out->swap_free =
        hr_reading_unknown();
    out->available_source[0] = '\0';
    char path[512];
    if (!hr_path_fmt(path, sizeof path, "%s/meminfo", proc_root))
        return hr_error_set(err, HR_ERR_ARG, "%s/meminfo: path too long", proc_root);
    hr_copy_str(out->mem_source, sizeof out->mem_source, path);

    size_t len = 0;
    char *text = hr_pseudo_read_alloc(path, &len);
    if (!text)
        return hr_error_set(err, HR_ERR_IO, "%s: cannot read host memory", path);
    hr_reading v[MI_COUNT];
    parse_meminfo(text, v);
    free(text);

    out->mem_total = v[MI_TOTAL];
    out->swap_total = v[MI_SWAP_TOTAL];
    out->swap_free = v[MI_SWAP_FREE];
    if (v[MI_AVAILABLE].valid) {
        out->mem_available = v[MI_AVAILABLE];
        hr_copy_str(out->available_source, sizeof out->available_source, "MemAvailable");
    } else if (v[MI_FREE].valid && v[MI_BUFFERS].valid && v[MI_CACHED].valid) {
        /* kernels before 3.14 have no MemAvailable: the old estimate */
        uint64_t sum;
        if (!__builtin_add_overflow(v[MI_FREE].value, v[MI_BUFFERS].value, &sum) &&
            !__builtin_add_overflow(sum, v[MI_CACHED].value, &sum)) {
            out->mem_available = hr_reading_of(sum);
            hr_copy_str(out->available_source, sizeof out->available_source,
                        "MemFree+Buffers+Cached");
        }
    }
    if (!out->mem_total.valid)
        return hr_error_set(err, HR_ERR_FORMAT, "%s: no usable MemTotal line", path);
    return HR_OK;
}
