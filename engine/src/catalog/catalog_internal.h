/* Catalog module internals: unit parsing and name matching. */
#ifndef HR_CATALOG_INTERNAL_H
#define HR_CATALOG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "headroom/catalog.h"

#define HR_CATALOG_MAX_FILE (4u << 20)
#define HR_CATALOG_MAX_ENTRIES 4096
#define HR_CATALOG_MAX_ALIASES 8
#define HR_CATALOG_NAME_MAX 96

typedef struct hr_hw_aliases {
    char names[HR_CATALOG_MAX_ALIASES][HR_CATALOG_NAME_MAX];
    int n;
} hr_hw_aliases;

/* What hr_catalog points into: the public part first, then per-entry extras. */
typedef struct hr_catalog_storage {
    hr_catalog pub;
    hr_hw_aliases *aliases; /* one per entry */
    int capacity;
} hr_catalog_storage;

/* "80 GiB", "81559 MiB", "24GB", "1.5 TiB", "85899345920". SI units are
 * powers of 1000, IEC units powers of 1024, a bare integer is bytes.
 * On failure returns false and a short reason in why. */
bool hr_parse_memory_size(const char *text, uint64_t *out, const char **why);

/* Lowercase letters and digits only: "RTX-4090" and "rtx 4090" -> "rtx4090". */
void hr_catalog_normalize(const char *s, char *out, size_t out_len);

/* Every id, name and alias must lead to one entry, or a lookup would
 * silently pick whichever came first; errors name origin. */
hr_status hr_catalog_check_names(const hr_catalog_storage *s, const char *origin,
                                 hr_error *err);

#endif
