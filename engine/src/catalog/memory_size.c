/* Memory sizes with units, exact in bytes. */
#include <string.h>
#include <strings.h>

#include "catalog_internal.h"

typedef struct size_unit {
    const char *name;
    uint64_t bytes;
} size_unit;

static const size_unit size_units[] = {
    {"b", 1},
    {"kb", 1000ull}, {"mb", 1000000ull}, {"gb", 1000000000ull}, {"tb", 1000000000000ull},
    {"kib", 1ull << 10}, {"mib", 1ull << 20}, {"gib", 1ull << 30}, {"tib", 1ull << 40},
};

#define MAX_FRACTION_DIGITS 6

bool hr_parse_memory_size(const char *text, uint64_t *out, const char **why)
{
    const char *p = text;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '-') {
        *why = "negative memory size";
        return false;
    }
    if (*p == '+')
        p++;
    uint64_t whole = 0, fraction = 0, fraction_scale = 1;
    int digits = 0, fraction_digits = 0;
    for (; *p >= '0' && *p <= '9'; p++, digits++) {
        if (__builtin_mul_overflow(whole, 10u, &whole) ||
            __builtin_add_overflow(whole, (uint64_t)(*p - '0'), &whole)) {
            *why = "memory size too large";
            return false;
        }
    }
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9'; p++, fraction_digits++) {
            if (fraction_digits == MAX_FRACTION_DIGITS) {
                *why = "too many decimal digits";
                return false;
            }
            fraction = fraction * 10 + (uint64_t)(*p - '0');
            fraction_scale *= 10;
        }
    }
    if (digits == 0 && fraction_digits == 0) {
        *why = "memory size must start with a number";
        return false;
    }
    while (*p == ' ' || *p == '\t')
        p++;
    const char *unit = p;
    size_t unit_len = strlen(unit);
    while (unit_len && (unit[unit_len - 1] == ' ' || unit[unit_len - 1] == '\t'))
        unit_len--;
    uint64_t mult = 0;
    if (unit_len == 0) {
        if (fraction_digits) {
            *why = "a fractional size needs a unit";
            return false;
        }
        mult = 1;
    } else {
        for (size_t i = 0; i < sizeof size_units / sizeof size_units[0]; i++)
            if (strlen(size_units[i].name) == unit_len &&
                strncasecmp(size_units[i].name, unit, unit_len) == 0)
                mult = size_units[i].bytes;
    }
    if (!mult) {
        *why = "unknown unit (use B, KB, MB, GB, TB, KiB, MiB, GiB, TiB)";
        return false;
    }
    uint64_t bytes, part;
    if (__builtin_mul_overflow(whole, mult, &bytes) ||
        __builtin_mul_overflow(fraction, mult, &part) ||
        __builtin_add_overflow(bytes, part / fraction_scale, &bytes)) {
        *why = "memory size too large";
        return false;
    }
    if (part % fraction_scale) {
        *why = "memory size is not a whole number of bytes";
        return false;
    }
    if (bytes == 0) {
        *why = "memory size must be positive";
        return false;
    }
    *out = bytes;
    return true;
}
