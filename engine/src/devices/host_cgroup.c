/* Memory limits of our cgroup: v2 (memory.max walked up to the root) or
 * v1 (memory.limit_in_bytes and hierarchical_memory_limit). */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "devices_internal.h"

/* cgroup v1 has no "max": an unlimited group reports PAGE_COUNTER_MAX pages
 * (0x7FFFFFFFFFFFF000 with 4 KiB pages, varying with page size), so anything
 * this large is treated as no limit. */
#define HR_CGROUP_V1_UNLIMITED (1ull << 62)

typedef struct cgroup_lines {
    char v2_path[256];    /* from "0::/path" */
    char v1_memory[256];  /* from "N:...memory...:/path" */
    bool has_v2, has_v1_memory;
} cgroup_lines;

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* True if the comma-separated controller list names "memory". */
static bool lists_memory(const char *list, size_t len)
{
    const char *p = list, *end = list + len;
    while (p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *item_end = comma ? comma : end;
        if ((size_t)(item_end - p) == 6 && memcmp(p, "memory", 6) == 0)
            return true;
        p = item_end + 1;
    }
    return false;
}

static void copy_span(char *dst, size_t dst_len, const char *src, size_t len)
{
    if (len >= dst_len)
        len = dst_len - 1;
    memcpy(dst, src, len);
    dst[len] = '\0';
}

static void parse_self_cgroup(const char *text, cgroup_lines *out)
{
    memset(out, 0, sizeof *out);
    const char *line = text;
    while (*line) {
        const char *line_end = strchr(line, '\n');
        if (!line_end)
            line_end = line + strlen(line);
        /* hierarchy-id:controllers:path (the path may itself contain ':') */
        const char *c1 = memchr(line, ':', (size_t)(line_end - line));
        const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(line_end - c1 - 1)) : NULL;
        if (c2 && c2 + 1 < line_end && c2[1] == '/') {
            const char *path = c2 + 1;
            size_t path_len = (size_t)(line_end - path);
            if (c1 - line == 1 && line[0] == '0' && c2 == c1 + 1) {
                copy_span(out->v2_path, sizeof out->v2_path, path, path_len);
                out->has_v2 = true;
            } else if (lists_memory(c1 + 1, (size_t)(c2 - c1 - 1))) {
                copy_span(out->v1_memory, sizeof out->v1_memory, path, path_len);
                out->has_v1_memory = true;
            }
        }
        line = *line_end ? line_end + 1 : line_end;
    }
}

/* Drop the last component of a cgroup-relative path; false at "/". */
static bool cgroup_parent(char *rel)
{
    size_t n = strlen(rel);
    while (n > 1 && rel[n - 1] == '/')
        rel[--n] = '\0';
    if (n <= 1)
        return false;
    char *slash = strrchr(rel, '/');
    if (!slash)
        return false;
    if (slash == rel)
        slash[1] = '\0';
    else
        *slash = '\0';
    return true;
}

/* "max" or a byte count. */
static bool read_v2_limit(const char *path, uint64_t *limit, bool *unlimited)
{
    char buf[64];
    if (!hr_pseudo_read(path, buf, sizeof buf))
        return false;
    if (strncmp(buf, "max", 3) == 0 && (buf[3] == '\0' || buf[3] == '\n')) {
        *unlimited = true;
        return true;
    }
    *unlimited = false;
    return hr_read_u64_file(path, limit);
}

/* Directory of the group under base; falls back to base itself when the
 * group path is not visible (a container with its own cgroup mounted at the
 * root shows the host's path in /proc/self/cgroup). */
static void group_dir(char *dir, size_t dir_len, char *rel, size_t rel_len, const char *base,
                      const char *path)
{
    hr_copy_str(rel, rel_len, path);
    if (strcmp(rel, "/") != 0 && hr_path_fmt(dir, dir_len, "%s%s", base, rel) && is_dir(dir))
        return;
    hr_copy_str(rel, rel_len, "/");
    hr_copy_str(dir, dir_len, base);
}

static void read_v2(const char *root, const char *path, hr_host_info *out)
{
    char rel[256], dir[768], file[1024];
    group_dir(dir, sizeof dir, rel, sizeof rel, root, path);
    out->cgroup_version = 2;
    uint64_t current;
    if (hr_path_fmt(file, sizeof file, "%s/memory.current", dir) &&
        hr_read_u64_file(file, &current))
        out->cgroup_current = hr_reading_of(current);
    hr_copy_str(out->cgroup_path, sizeof out->cgroup_path, dir);
    /* the effective limit is the smallest memory.max from the leaf up */
    for (;;) {
        const char *at = strcmp(rel, "/") == 0 ? "" : rel;
        uint64_t limit;
        bool unlimited;
        if (hr_path_fmt(file, sizeof file, "%s%s/memory.max", root, at) &&
            read_v2_limit(file, &limit, &unlimited) && !unlimited &&
            (!out->cgroup_limit.valid || limit < out->cgroup_limit.value)) {
            out->cgroup_limit = hr_reading_of(limit);
            hr_copy_str(out->cgroup_path, sizeof out->cgroup_path, file);
        }
        if (!cgroup_parent(rel))
            break;
    }
}

/* hierarchical_memory_limit from memory.stat (the limit of the nearest
 * limited ancestor when use_hierarchy is on). */
static bool read_v1_hierarchical(const char *stat_path, uint64_t *out)
{
    size_t len;
    char *text = hr_pseudo_read_alloc(stat_path, &len);
    if (!text)
        return false;
    static const char key[] = "hierarchical_memory_limit ";
    bool found = false;
    for (const char *line = text; *line;) {
        if (strncmp(line, key, sizeof key - 1) == 0) {
            const char *end;
            uint64_t v;
            if (hr_parse_u64(line + sizeof key - 1, &v, &end) &&
                (*end == '\n' || *end == '\0')) {
                *out = v;
                found = true;
            }
            break;
        }
        const char *nl = strchr(line, '\n');
        if (!nl)
            break;
        line = nl + 1;
    }
    free(text);
    return found;
}

static void read_v1(const char *root, const char *path, hr_host_info *out)
{
    char base[512], rel[256], dir[768], file[1024];
    if (!hr_path_fmt(base, sizeof base, "%s/memory", root))
        return;
    group_dir(dir, sizeof dir, rel, sizeof rel, base, path);
    out->cgroup_version = 1;
    hr_copy_str(out->cgroup_path, sizeof out->cgroup_path, dir);
    uint64_t v;
    if (hr_path_fmt(file, sizeof file, "%s/memory.usage_in_bytes", dir) &&
        hr_read_u64_file(file, &v))
        out->cgroup_current = hr_reading_of(v);
    if (hr_path_fmt(file, sizeof file, "%s/memory.limit_in_bytes", dir) &&
        hr_read_u64_file(file, &v) && v < HR_CGROUP_V1_UNLIMITED) {
        out->cgroup_limit = hr_reading_of(v);
        hr_copy_str(out->cgroup_path, sizeof out->cgroup_path, file);
    }
    if (hr_path_fmt(file, sizeof file, "%s/memory.stat", dir) &&
        read_v1_hierarchical(file, &v) && v < HR_CGROUP_V1_UNLIMITED &&
        (!out->cgroup_limit.valid || v < out->cgroup_limit.value)) {
        out->cgroup_limit = hr_reading_of(v);
        if (!hr_path_fmt(out->cgroup_path, sizeof out->cgroup_path,
                         "%s hierarchical_memory_limit", file))
            hr_copy_str(out->cgroup_path, sizeof out->cgroup_path, file);
    }
}

void hr_read_cgroup(const hr_probe_paths *p, hr_host_info *out)
{
    out->cgroup_version = 0;
    out->cgroup_path[0] = '\0';
    out->cgroup_limit = out->cgroup_current = hr_reading_unknown();
    char buf[4096];
    if (!p->self_cgroup || !p->cgroup_root || !hr_pseudo_read(p->self_cgroup, buf, sizeof buf))
        return;
    cgroup_lines lines;
    parse_self_cgroup(buf, &lines);
    char v1_base[512];
    /* hybrid hosts list both; the memory controller lives where v1 mounts it */
    if (lines.has_v1_memory && hr_path_fmt(v1_base, sizeof v1_base, "%s/memory", p->cgroup_root) &&
        is_dir(v1_base))
        read_v1(p->cgroup_root, lines.v1_memory, out);
    else if (lines.has_v2 && is_dir(p->cgroup_root))
        read_v2(p->cgroup_root, lines.v2_path, out);
}
