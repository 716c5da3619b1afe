/* Per-process temp files for the readers that take paths. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_input.h"

static char temp_dir_path[256];

/* at exit: the temp dir and what is left in it (the files are ours) */
static void remove_temp_dir(void)
{
    DIR *d = opendir(temp_dir_path);
    if (d) {
        const struct dirent *e;
        char path[512];
        while ((e = readdir(d)) != NULL)
            if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 &&
                snprintf(path, sizeof path, "%s/%s", temp_dir_path, e->d_name) < (int)sizeof path)
                unlink(path);
        closedir(d);
    }
    rmdir(temp_dir_path);
}

/* The per-process temp dir, made on first use and removed at exit; NULL if
 * it cannot be made. */
static const char *temp_dir(void)
{
    char *dir = temp_dir_path;
    if (!dir[0]) {
        const char *base = getenv("TMPDIR");
        snprintf(dir, sizeof temp_dir_path, "%s/hr-fuzz-%d", base && *base ? base : "/tmp",
                 (int)getpid());
        if (mkdir(dir, 0700) != 0 && access(dir, W_OK) != 0) {
            dir[0] = '\0';
            return NULL;
        }
        atexit(remove_temp_dir);
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
