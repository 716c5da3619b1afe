/* hr_runtime_load: one runtime's overheads from configs/runtimes.yaml (libyaml). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/file_io.h"
#include "core/yaml_doc.h"
#include "headroom/plan.h"

#define HR_RUNTIMES_MAX_BYTES (1u << 20) /* a config file, not data */
#define HR_MIB 1048576.0

/* A non-negative number from a scalar; false if missing or malformed. */
static bool number(hr_yaml_doc *doc, yaml_node_t *map, const char *key, double max,
                   double *out)
{
    return hr_yaml_text_number(hr_yaml_scalar(hr_yaml_map_get(doc, map, key)), 0, max, out);
}

static hr_status fill(hr_yaml_doc *doc, yaml_node_t *entry, const char *path,
                      const char *name, hr_runtime *out, hr_error *err)
{
    memset(out, 0, sizeof *out);
    const char *label = hr_yaml_scalar(hr_yaml_map_get(doc, entry, "name"));
    snprintf(out->name, sizeof out->name, "%s", label ? label : name);
    out->backend = hr_backend_from_name(name);
    if (out->backend == HR_BACKEND_COUNT)
        return hr_error_set(err, HR_ERR_FORMAT, "%s: runtime '%s' is not a known backend", path,
                            name);
    double host_mib, dev_mib, host_align, dev_align;
    const double max_mib = 1024.0 * 1024.0; /* 1 TiB of overhead is nonsense */
    if (!number(doc, entry, "host_overhead_mib", max_mib, &host_mib) ||
        !number(doc, entry, "device_overhead_mib", max_mib, &dev_mib))
        return hr_error_set(err, HR_ERR_FORMAT,
                            "%s: runtime '%s' needs host_overhead_mib and device_overhead_mib "
                            "as non-negative numbers",
                            path, name);
    if (!number(doc, entry, "host_alignment", 65536, &host_align))
        host_align = 32;
    if (!number(doc, entry, "device_alignment", 65536, &dev_align))
        dev_align = 128;
    if (host_align < 1 || dev_align < 1)
        return hr_error_set(err, HR_ERR_FORMAT, "%s: runtime '%s' has a zero alignment", path,
                            name);
    out->host_overhead_bytes = (uint64_t)llround(host_mib * HR_MIB);
    out->device_overhead_bytes = (uint64_t)llround(dev_mib * HR_MIB);
    out->host_alignment = (uint32_t)host_align;
    out->device_alignment = (uint32_t)dev_align;
    return HR_OK;
}

hr_status hr_runtime_load(const char *path, const char *name, hr_runtime *out, hr_error *err)
{
    if (!name || !out)
        return hr_error_set(err, HR_ERR_ARG, "runtime: name and output are required");
    char found[4096];
    if (!path) {
        if (hr_config_path("runtimes.yaml", found, sizeof found) != 0)
            return hr_error_set(err, HR_ERR_NOT_FOUND,
                                "runtimes.yaml not found in the config directory");
        path = found;
    }
    char *text = NULL;
    size_t len = 0;
    hr_status rc = hr_read_file(path, HR_RUNTIMES_MAX_BYTES, &text, &len, err);
    if (rc != HR_OK)
        return rc;

    hr_yaml_doc doc;
    rc = hr_yaml_doc_load(&doc, text, len, path, "YAML error", err);
    if (rc != HR_OK) {
        free(text);
        return rc;
    }
    yaml_node_t *root = hr_yaml_root(&doc);
    yaml_node_t *runtimes = hr_yaml_map_get(&doc, root, "runtimes");
    yaml_node_t *entry = hr_yaml_map_get(&doc, runtimes, name);
    if (!runtimes)
        rc = hr_error_set(err, HR_ERR_FORMAT, "%s: no 'runtimes' mapping", path);
    else if (!entry || entry->type != YAML_MAPPING_NODE)
        rc = hr_error_set(err, HR_ERR_NOT_FOUND, "%s: no runtime named '%s'", path, name);
    else
        rc = fill(&doc, entry, path, name, out, err);
    hr_yaml_doc_free(&doc);
    free(text);
    return rc;
}
