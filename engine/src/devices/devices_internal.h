/* Devices module internals: pseudo-file readers and the GPU backend table. */
#ifndef HR_DEVICES_INTERNAL_H
#define HR_DEVICES_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "headroom/devices.h"

/* /proc and /sys files report st_size 0 or 4096, so they are read until EOF,
 * never past max_bytes. */
#define HR_PSEUDO_FILE_MAX (1u << 20)

/* Read a small pseudo file into buf (NUL-terminated). Returns false when it
 * cannot be opened or read, or is longer than buf_len - 1 bytes. */
bool hr_pseudo_read(const char *path, char *buf, size_t buf_len);

/* Read a whole pseudo file (up to HR_PSEUDO_FILE_MAX) into a malloc'd buffer. */
char *hr_pseudo_read_alloc(const char *path, size_t *len);

/* Parse a decimal uint64 from the start of s (leading blanks allowed);
 * *end points past the digits. False on no digits or overflow. */
bool hr_parse_u64(const char *s, uint64_t *out, const char **end);

/* Read a file holding one decimal integer (trailing newline allowed). */
bool hr_read_u64_file(const char *path, uint64_t *out);

/* snprintf into buf; false if truncated. */
bool hr_path_fmt(char *buf, size_t buf_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* bounded copy that always terminates */
void hr_copy_str(char *dst, size_t dst_len, const char *src);

static inline hr_reading hr_reading_of(uint64_t v)
{
    hr_reading r = {v, true};
    return r;
}

static inline hr_reading hr_reading_unknown(void)
{
    hr_reading r = {0, false};
    return r;
}

/* Host pieces (host_meminfo.c, host_cgroup.c, host_cpu.c). */
hr_status hr_read_meminfo(const char *proc_root, hr_host_info *out, hr_error *err);
void hr_read_cgroup(const hr_probe_paths *p, hr_host_info *out);
void hr_read_cpuinfo(const char *proc_root, hr_host_info *out);

/* One GPU vendor. init returns false (and fills status) when the vendor is
 * absent or unusable; the driver then skips it. read appends GPUs to sys;
 * shutdown releases whatever init acquired (ctx may be NULL). */
typedef struct hr_gpu_backend {
    const char *vendor;
    bool (*skip)(const hr_probe_paths *p);
    bool (*init)(const hr_probe_paths *p, void **ctx, char *status, size_t status_len);
    hr_status (*read)(void *ctx, hr_system *sys, char *status, size_t status_len,
                      hr_error *err);
    void (*shutdown)(void *ctx);
    size_t status_offset; /* where its status line lives in hr_system */
} hr_gpu_backend;

extern const hr_gpu_backend hr_nvml_backend;
extern const hr_gpu_backend hr_amd_backend;

/* Run one backend: init, read, shutdown; its status line lands in sys. */
hr_status hr_run_gpu_backend(const hr_gpu_backend *b, const hr_probe_paths *p, hr_system *sys,
                             hr_error *err);

/* p itself, or (p NULL) the real system's paths written into *storage. */
const hr_probe_paths *hr_probe_paths_or_default(const hr_probe_paths *p, hr_probe_paths *storage);

#endif
