/* Reading /proc and /sys style files: short, size-less, read until EOF. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devices_internal.h"

static bool read_fd_into(int fd, char *buf, size_t buf_len, size_t *got_out)
{
    size_t got = 0;
    for (;;) {
        if (got + 1 >= buf_len) {
            /* full: only fine if the file ends exactly here */
            char extra;
            ssize_t r;
            do {
                r = read(fd, &extra, 1);
            } while (r < 0 && errno == EINTR);
            if (r != 0)
                return false;
            break;
        }
        ssize_t r = read(fd, buf + got, buf_len - 1 - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return false;
        if (r == 0)
            break;
        got += (size_t)r;
    }
    buf[got] = '\0';
    *got_out = got;
    return true;
}

bool hr_pseudo_read(const char *path, char *buf, size_t buf_len)
{
    if (buf_len == 0)
        return false;
    buf[0] = '\0';
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    size_t got = 0;
    bool ok = read_fd_into(fd, buf, buf_len, &got);
    close(fd);
    if (!ok)
        buf[0] = '\0';
    return ok;
}

char *hr_pseudo_read_alloc(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    size_t cap = 16384, got = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (got + 1 >= cap) {
            if (cap >= HR_PSEUDO_FILE_MAX) {
                free(buf);
                buf = NULL;
                break;
            }
            char *grown = realloc(buf, cap * 2);
            if (!grown) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = grown;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + got, cap - 1 - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            free(buf);
            buf = NULL;
            break;
        }
        if (r == 0) {
            buf[got] = '\0';
            if (len)
                *len = got;
            break;
        }
        got += (size_t)r;
    }
    close(fd);
    return buf;
}

bool hr_parse_u64(const char *s, uint64_t *out, const char **end)
{
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s < '0' || *s > '9')
        return false;
    uint64_t v = 0;
    while (*s >= '0' && *s <= '9') {
        if (__builtin_mul_overflow(v, 10u, &v) ||
            __builtin_add_overflow(v, (uint64_t)(*s - '0'), &v))
            return false;
        s++;
    }
    *out = v;
    if (end)
        *end = s;
    return true;
}

bool hr_read_u64_file(const char *path, uint64_t *out)
{
    char buf[64];
    const char *end;
    if (!hr_pseudo_read(path, buf, sizeof buf) || !hr_parse_u64(buf, out, &end))
        return false;
    while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r')
        end++;
    return *end == '\0';
}

bool hr_path_fmt(char *buf, size_t buf_len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, buf_len, fmt, ap);
    va_end(ap);
    return n >= 0 && (size_t)n < buf_len;
}

void hr_copy_str(char *dst, size_t dst_len, const char *src)
{
    if (dst_len == 0)
        return;
    size_t n = strlen(src);
    if (n >= dst_len)
        n = dst_len - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}
