/* Loading, lookup and budgets of the hardware catalog. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog_internal.h"
#include "core/file_io.h"

hr_status hr_catalog_load(const char *path, hr_catalog **out, hr_error *err)
{
    *out = NULL;
    char found[1024];
    if (!path) {
        if (hr_config_path("hardware.yaml", found, sizeof found) != 0)
            return hr_error_set(err, HR_ERR_NOT_FOUND,
                                "hardware.yaml: not found in the config directories");
        path = found;
    }
    char *text = NULL;
    size_t len = 0;
    hr_status st = hr_read_file(path, HR_CATALOG_MAX_FILE, &text, &len, err);
    if (st != HR_OK)
        return st;
    st = hr_catalog_parse(text, len, path, out, err);
    free(text);
    return st;
}

void hr_catalog_free(hr_catalog *cat)
{
    if (!cat)
        return;
    hr_catalog_storage *s = (hr_catalog_storage *)cat;
    free(s->pub.entries);
    free(s->aliases);
    free(s);
}

void hr_catalog_normalize(const char *s, char *out, size_t out_len)
{
    size_t n = 0;
    for (; *s && n + 1 < out_len; s++)
        if (isalnum((unsigned char)*s))
            out[n++] = (char)tolower((unsigned char)*s);
    out[n] = '\0';
}

/* "2x RTX 4090", "2 x H100", "2xH100": the count and where the name starts.
 * "4090", "7900 XTX" or "7900XTX" are model numbers, not counts: a count is
 * 1..HR_MAX_GPUS followed by an x that is not the start of a word. */
static const char *split_count(const char *spec, int *count)
{
    *count = 1;
    const char *p = spec;
    while (isspace((unsigned char)*p))
        p++;
    int n = 0;
    const char *q = p;
    while (isdigit((unsigned char)*q) && n <= HR_MAX_GPUS)
        n = n * 10 + (*q++ - '0');
    if (q == p || isdigit((unsigned char)*q) || n < 1 || n > HR_MAX_GPUS)
        return p;
    bool spaced = false;
    while (*q == ' ' || *q == '\t') {
        q++;
        spaced = true;
    }
    if (*q != 'x' && *q != 'X')
        return p;
    q++;
    /* "2 xeon" is not a count; "2 x H100" and "2xH100" are */
    if (spaced && *q != ' ' && *q != '\t')
        return p;
    while (*q == ' ' || *q == '\t')
        q++;
    if (!*q)
        return p;
    *count = n;
    return q;
}

static bool entry_matches(const hr_hw_entry *e, const hr_hw_aliases *a, const char *want)
{
    char norm[HR_CATALOG_NAME_MAX];
    hr_catalog_normalize(e->id, norm, sizeof norm);
    if (!strcmp(norm, want))
        return true;
    hr_catalog_normalize(e->name, norm, sizeof norm);
    if (!strcmp(norm, want))
        return true;
    for (int i = 0; a && i < a->n; i++) {
        hr_catalog_normalize(a->names[i], norm, sizeof norm);
        if (!strcmp(norm, want))
            return true;
    }
    return false;
}

/* "GeForce RTX 4090" finds "NVIDIA GeForce RTX 4090": the end of a name. */
static bool name_ends_with(const hr_hw_entry *e, const char *want)
{
    char norm[HR_CATALOG_NAME_MAX];
    hr_catalog_normalize(e->name, norm, sizeof norm);
    size_t a = strlen(norm), b = strlen(want);
    return b >= 3 && a > b && !strcmp(norm + a - b, want);
}

const hr_hw_entry *hr_catalog_find(const hr_catalog *cat, const char *spec, int *count)
{
    int n = 1;
    if (count)
        *count = 0;
    if (!cat || !spec)
        return NULL;
    const char *name = split_count(spec, &n);
    char want[HR_CATALOG_NAME_MAX];
    hr_catalog_normalize(name, want, sizeof want);
    if (!want[0])
        return NULL;
    const hr_catalog_storage *s = (const hr_catalog_storage *)cat;
    const hr_hw_entry *hit = NULL;
    for (int i = 0; i < cat->n_entries && !hit; i++)
        if (entry_matches(&cat->entries[i], s->aliases ? &s->aliases[i] : NULL, want))
            hit = &cat->entries[i];
    if (!hit) {
        /* only an unambiguous partial name counts */
        for (int i = 0; i < cat->n_entries; i++) {
            if (!name_ends_with(&cat->entries[i], want))
                continue;
            if (hit)
                return NULL;
            hit = &cat->entries[i];
        }
    }
    if (hit && count)
        *count = n;
    return hit;
}

static void set_device(hr_budget_device *d, const char *name, hr_device_kind kind,
                       hr_backend backend, uint64_t bytes, double bandwidth, const char *id)
{
    snprintf(d->name, sizeof d->name, "%s", name);
    d->kind = kind;
    d->backend = backend;
    d->capacity_bytes = bytes;
    d->capacity_known = bytes > 0;
    d->bandwidth_gbps = bandwidth;
    snprintf(d->source, sizeof d->source, "catalog: %.80s", id);
}

/* count applies to discrete GPUs; a unified or CPU-only entry is one machine. */
void hr_budget_from_entry(const hr_hw_entry *e, int count, hr_budget *out)
{
    memset(out, 0, sizeof *out);
    if (!e) {
        snprintf(out->devices[0].name, sizeof out->devices[0].name, "host");
        out->n_devices = 1;
        return;
    }
    if (count < 1)
        count = 1;
    if (count > HR_MAX_GPUS)
        count = HR_MAX_GPUS;
    hr_budget_device *host = &out->devices[0];
    out->n_devices = 1;
    if (e->kind == HR_DEVICE_HOST) {
        /* a CPU-only machine: its RAM is the whole budget */
        set_device(host, e->name, HR_DEVICE_HOST, HR_BACKEND_CPU, e->memory_bytes,
                   e->bandwidth_gbps, e->id);
        snprintf(out->label, sizeof out->label, "%s", e->name);
        return;
    }
    if (e->unified) {
        /* one pool: the GPU allocates from the host's memory */
        set_device(host, "host (unified memory)", HR_DEVICE_HOST, HR_BACKEND_CPU,
                   e->memory_bytes, e->bandwidth_gbps, e->id);
        set_device(&out->devices[1], e->name, HR_DEVICE_GPU, e->backend, e->memory_bytes,
                   e->bandwidth_gbps, e->id);
        out->devices[1].unified = true;
        out->n_devices = 2;
        snprintf(out->label, sizeof out->label, "%s", e->name);
        return;
    }
    set_device(host, "host", HR_DEVICE_HOST, HR_BACKEND_CPU, e->host_memory_bytes, 0, e->id);
    for (int i = 0; i < count; i++) {
        hr_budget_device *d = &out->devices[out->n_devices++];
        set_device(d, e->name, HR_DEVICE_GPU, e->backend, e->memory_bytes, e->bandwidth_gbps,
                   e->id);
        if (count > 1)
            snprintf(d->name, sizeof d->name, "%.88s #%d", e->name, i);
    }
    if (count > 1)
        snprintf(out->label, sizeof out->label, "%dx %s", count, e->name);
    else
        snprintf(out->label, sizeof out->label, "%s", e->name);
}
