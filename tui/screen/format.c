/* Unit formatting (binary units, like llama.cpp's MiB figures). */
#include "format.h"

#include <stdio.h>
#include <string.h>

#define KIB 1024.0
#define MIB (1024.0 * 1024.0)
#define GIB (1024.0 * 1024.0 * 1024.0)
#define TIB (1024.0 * 1024.0 * 1024.0 * 1024.0)

void fmt_bytes(char *buf, size_t len, uint64_t bytes)
{
    double b = (double)bytes;
    if (b >= TIB)
        snprintf(buf, len, "%.2f TiB", b / TIB);
    else if (b >= GIB)
        snprintf(buf, len, "%.2f GiB", b / GIB);
    else if (b >= MIB)
        snprintf(buf, len, "%.1f MiB", b / MIB);
    else if (b >= KIB)
        snprintf(buf, len, "%.1f KiB", b / KIB);
    else
        snprintf(buf, len, "%llu B", (unsigned long long)bytes);
}

void fmt_bytes_signed(char *buf, size_t len, int64_t bytes)
{
    if (bytes >= 0) {
        fmt_bytes(buf, len, (uint64_t)bytes);
        return;
    }
    uint64_t magnitude = bytes == INT64_MIN ? (uint64_t)INT64_MAX + 1 : (uint64_t)(-bytes);
    char tmp[32];
    fmt_bytes(tmp, sizeof tmp, magnitude);
    snprintf(buf, len, "-%s", tmp);
}

void fmt_gib(char *buf, size_t len, uint64_t bytes)
{
    snprintf(buf, len, "%.2f", (double)bytes / GIB);
}

void fmt_params(char *buf, size_t len, uint64_t n)
{
    double v = (double)n;
    if (v >= 1e12)
        snprintf(buf, len, "%.2fT", v / 1e12);
    else if (v >= 1e9)
        snprintf(buf, len, "%.2fB", v / 1e9);
    else if (v >= 1e6)
        snprintf(buf, len, "%.0fM", v / 1e6);
    else if (v >= 1e3)
        snprintf(buf, len, "%.0fK", v / 1e3);
    else
        snprintf(buf, len, "%llu", (unsigned long long)n);
}

void fmt_count_short(char *buf, size_t len, uint64_t n)
{
    if (n >= 1024 * 1024 && n % (1024 * 1024) == 0)
        snprintf(buf, len, "%lluM", (unsigned long long)(n / (1024 * 1024)));
    else if (n >= 1024 && n % 1024 == 0)
        snprintf(buf, len, "%lluk", (unsigned long long)(n / 1024));
    else
        snprintf(buf, len, "%llu", (unsigned long long)n);
}

void text_copy(char *dst, size_t len, const char *src)
{
    if (len == 0)
        return;
    size_t n = strnlen(src, len - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}
