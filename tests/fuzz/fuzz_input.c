/* Per-process temp files for the readers that take paths. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_input.h"

/* The per-process temp dir, made on first use; NULL if it cannot be. */
static const char *temp_dir(void)
{
    static char dir[256];
    if (!dir[0]) {
        const char *base = getenv("TMPDIR");
        snprintf(dir, sizeof dir, "%s/hr-fuzz-%d", base && *base ? base : "/tmp", (int)getpid());
        if (mkdir(dir, 0700) != 0 && access(dir, W_OK) != 0) {
            dir[0] = '\0';
            return NULL;
        }
    }
    return dir;
}

void fuzz_remove_temp(const char *name)
{
    const char *dir = temp_dir();
    char path[512];
    if (dir && snprintf(path, sizeof path, "%s/%s", dir, name) < (int)sizeof path)
        unlink(path);
}

const char *fuzz_write_temp_hole(const char *name, const uint8_t *data, size_t size,
                                 uint64_t hole)
{
    static char path[512];
    const char *dir = temp_dir();
    if (!dir)
        return NULL;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f)
        return NULL;
    if (size)
        fwrite(data, 1, size, f);
    fclose(f);
    if (hole && truncate(path, (off_t)(size + hole)) != 0)
        return NULL;
    return path;
}

const char *fuzz_write_temp(const char *name, const uint8_t *data, size_t size)
{
    return fuzz_write_temp_hole(name, data, size, 0);
}
