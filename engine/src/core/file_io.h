/* Engine-private file access: read-only maps and bounded whole-file reads. */
#ifndef HR_FILE_IO_H
#define HR_FILE_IO_H

#include <stddef.h>
#include <stdint.h>

#include "headroom/error.h"

typedef struct hr_mapping {
    const unsigned char *data; /* NULL for an empty file */
    uint64_t size;
} hr_mapping;

/* Map path read-only (PROT_READ, MAP_PRIVATE). */
hr_status hr_map_file(const char *path, hr_mapping *out, hr_error *err);
void hr_unmap_file(hr_mapping *map);

/* Read a whole file of at most max_bytes into a malloc'd NUL-terminated
 * buffer. Larger files fail with HR_ERR_LIMIT. */
hr_status hr_read_file(const char *path, size_t max_bytes, char **out, size_t *len,
                       hr_error *err);

/* Directory part of path into buf ("." if none). */
void hr_path_dirname(const char *path, char *buf, size_t buf_len);
/* Join dir and name into buf; returns false if it does not fit. */
int hr_path_join(char *buf, size_t buf_len, const char *dir, const char *name);
/* True if path ends with suffix (case-sensitive). */
int hr_str_ends_with(const char *s, const char *suffix);

/* Locate a file under the config dir ("models", "hardware.yaml",
 * "runtimes.yaml"): $HEADROOM_CONFIG_DIR, then the source tree's configs/,
 * then the installed datadir. Returns 0 and fills buf when it exists. */
int hr_config_path(const char *relative, char *buf, size_t buf_len);

#endif
