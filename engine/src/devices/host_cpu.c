/* CPU model and core count from <proc_root>/cpuinfo. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devices_internal.h"

/* Value after "key<blanks>:" on this line, trimmed; NULL if the key differs. */
static const char *cpuinfo_value(const char *line, const char *line_end, const char *key,
                                 size_t *value_len)
{
    size_t key_len = strlen(key);
    if ((size_t)(line_end - line) < key_len || memcmp(line, key, key_len) != 0)
        return NULL;
    const char *p = line + key_len;
    while (p < line_end && (*p == ' ' || *p == '\t'))
        p++;
    if (p >= line_end || *p != ':')
        return NULL;
    p++;
    while (p < line_end && (*p == ' ' || *p == '\t'))
        p++;
    const char *e = line_end;
    while (e > p && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
        e--;
    *value_len = (size_t)(e - p);
    return p;
}

void hr_read_cpuinfo(const char *proc_root, hr_host_info *out)
{
    out->cpu_model[0] = '\0';
    out->cpu_cores = 0;
    char path[512];
    if (!hr_path_fmt(path, sizeof path, "%s/cpuinfo", proc_root))
        return;
    size_t len = 0;
    char *text = hr_pseudo_read_alloc(path, &len);
    int processors = 0;
    if (text) {
        const char *line = text;
        while (*line) {
            const char *line_end = strchr(line, '\n');
            if (!line_end)
                line_end = line + strlen(line);
            size_t vlen;
            const char *v;
            if (cpuinfo_value(line, line_end, "processor", &vlen))
                processors++;
            else if (!out->cpu_model[0] &&
                     ((v = cpuinfo_value(line, line_end, "model name", &vlen)) ||
                      (v = cpuinfo_value(line, line_end, "Model", &vlen)) ||
                      (v = cpuinfo_value(line, line_end, "Hardware", &vlen)))) {
                if (vlen >= sizeof out->cpu_model)
                    vlen = sizeof out->cpu_model - 1;
                memcpy(out->cpu_model, v, vlen);
                out->cpu_model[vlen] = '\0';
            }
            line = *line_end ? line_end + 1 : line_end;
        }
        free(text);
    }
    if (processors > 0) {
        out->cpu_cores = processors;
    } else if (strcmp(proc_root, "/proc") == 0) {
        /* only the real root may fall back to the running system's count */
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        if (n > 0 && n < 1000000)
            out->cpu_cores = (int)n;
    }
}
