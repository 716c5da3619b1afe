/* Read-only file access used by every reader. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file_io.h"

hr_status hr_map_file(const char *path, hr_mapping *out, hr_error *err)
{
    out->data = NULL;
    out->size = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return hr_error_set(err, HR_ERR_IO, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return hr_error_set(err, HR_ERR_IO, "%s: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return hr_error_set(err, HR_ERR_IO, "%s: not a regular file", path);
    }
    out->size = (uint64_t)st.st_size;
    if (st.st_size > 0) {
        void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            int e = errno;
            close(fd);
            return hr_error_set(err, HR_ERR_IO, "%s: cannot map: %s", path, strerror(e));
        }
        out->data = p;
    }
    close(fd);
    return HR_OK;
}

void hr_unmap_file(hr_mapping *map)
{
    if (map && map->data && map->size)
        munmap((void *)map->data, (size_t)map->size);
    if (map) {
        map->data = NULL;
        map->size = 0;
    }
}

hr_status hr_read_file(const char *path, size_t max_bytes, char **out, size_t *len, hr_error *err)
{
    *out = NULL;
    if (len)
        *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return hr_error_set(err, HR_ERR_IO, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return hr_error_set(err, HR_ERR_IO, "%s: not a readable regular file", path);
    }
    if ((uint64_t)st.st_size > max_bytes) {
        close(fd);
        return hr_error_set(err, HR_ERR_LIMIT, "%s: %lld bytes is over the %zu-byte limit", path,
                            (long long)st.st_size, max_bytes);
    }
    size_t size = (size_t)st.st_size;
    char *buf = malloc(size + 1);
    if (!buf) {
        close(fd);
        return hr_error_set(err, HR_ERR_NOMEM, "%s: out of memory", path);
    }
    size_t got = 0;
    while (got < size) {
        ssize_t r = read(fd, buf + got, size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    buf[got] = '\0';
    *out = buf;
    if (len)
        *len = got;
    return HR_OK;
}

void hr_path_dirname(const char *path, char *buf, size_t buf_len)
{
    const char *slash = strrchr(path, '/');
    if (!slash) {
        snprintf(buf, buf_len, ".");
        return;
    }
    size_t n = (size_t)(slash - path);
    if (n == 0)
        n = 1; /* "/file" -> "/" */
    if (n >= buf_len)
        n = buf_len - 1;
    memcpy(buf, path, n);
    buf[n] = '\0';
}

int hr_path_join(char *buf, size_t buf_len, const char *dir, const char *name)
{
    int n = snprintf(buf, buf_len, "%s/%s", dir, name);
    return n >= 0 && (size_t)n < buf_len;
}

int hr_str_ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && memcmp(s + a - b, suffix, b) == 0;
}

static int exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

int hr_config_path(const char *relative, char *buf, size_t buf_len)
{
    const char *env = getenv("HEADROOM_CONFIG_DIR");
    if (env && *env && hr_path_join(buf, buf_len, env, relative) && exists(buf))
        return 0;
#ifdef HR_SOURCE_CONFIG_DIR
    if (hr_path_join(buf, buf_len, HR_SOURCE_CONFIG_DIR, relative) && exists(buf))
        return 0;
#endif
#ifdef HR_INSTALL_CONFIG_DIR
    if (hr_path_join(buf, buf_len, HR_INSTALL_CONFIG_DIR, relative) && exists(buf))
        return 0;
#endif
    return -1;
}
