/* configs/hardware.yaml through libyaml's document API. */
#include <float.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "catalog_internal.h"
#include "core/yaml_doc.h"

typedef hr_yaml_doc parse_ctx;

static hr_status fail(parse_ctx *c, const yaml_node_t *n, hr_status st, const char *what,
                      const char *detail)
{
    return hr_error_set(c->err, st, "%s:%u: %s%s%s", c->origin, hr_yaml_line(n), what,
                        detail ? ": " : "", detail ? detail : "");
}

static hr_status copy_text(parse_ctx *c, const yaml_node_t *n, const char *key, char *dst,
                           size_t dst_len)
{
    const char *s = hr_yaml_scalar(n);
    if (!s || !*s)
        return hr_yaml_fail(c, n, HR_ERR_FORMAT, "'%s' must be a non-empty string", key);
    if (strlen(s) >= dst_len)
        return hr_yaml_fail(c, n, HR_ERR_FORMAT, "'%s' is longer than %zu characters", key,
                            dst_len - 1);
    memcpy(dst, s, strlen(s) + 1);
    return HR_OK;
}

static hr_status parse_number(parse_ctx *c, const yaml_node_t *n, const char *key, double *out)
{
    if (!hr_yaml_text_number(hr_yaml_scalar(n), 0, DBL_MAX, out))
        return hr_yaml_fail(c, n, HR_ERR_FORMAT, "'%s' must be a non-negative number", key);
    return HR_OK;
}

static hr_status parse_bool(parse_ctx *c, const yaml_node_t *n, const char *key, bool *out)
{
    if (!hr_yaml_text_bool(hr_yaml_scalar(n), out))
        return hr_yaml_fail(c, n, HR_ERR_FORMAT, "'%s' must be true or false", key);
    return HR_OK;
}

static hr_status parse_memory(parse_ctx *c, const yaml_node_t *n, const char *key,
                              uint64_t *out)
{
    const char *s = hr_yaml_scalar(n), *why = "must be a size like \"80 GiB\"";
    if (!s || !hr_parse_memory_size(s, out, &why))
        return hr_yaml_fail(c, n, HR_ERR_FORMAT, "'%s' %s", key, why);
    return HR_OK;
}

typedef struct backend_name {
    const char *name;
    hr_backend backend;
} backend_name;

static const backend_name backend_names[] = {
    {"cpu", HR_BACKEND_CPU},     {"cuda", HR_BACKEND_CUDA},     {"rocm", HR_BACKEND_ROCM},
    {"metal", HR_BACKEND_METAL}, {"vulkan", HR_BACKEND_VULKAN},
};

static hr_status parse_aliases(parse_ctx *c, const yaml_node_t *n, hr_hw_aliases *out)
{
    if (n->type != YAML_SEQUENCE_NODE)
        return fail(c, n, HR_ERR_FORMAT, "'aliases' must be a list of names", NULL);
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
         it++) {
        yaml_node_t *item = hr_yaml_node(c, *it);
        if (out->n == HR_CATALOG_MAX_ALIASES)
            return fail(c, item, HR_ERR_LIMIT, "too many aliases", NULL);
        hr_status st = copy_text(c, item, "aliases", out->names[out->n], sizeof out->names[0]);
        if (st != HR_OK)
            return st;
        out->n++;
    }
    return HR_OK;
}

enum {
    SEEN_ID = 1 << 0, SEEN_NAME = 1 << 1, SEEN_KIND = 1 << 2, SEEN_BACKEND = 1 << 3,
    SEEN_MEMORY = 1 << 4, SEEN_BANDWIDTH = 1 << 5, SEEN_PRICE = 1 << 6, SEEN_PRICE_DATE = 1 << 7,
};

static hr_status parse_key(parse_ctx *c, const char *key, yaml_node_t *v, hr_hw_entry *e,
                           hr_hw_aliases *aliases, unsigned *seen)
{
    char text[32];
    if (!strcmp(key, "id")) {
        *seen |= SEEN_ID;
        return copy_text(c, v, key, e->id, sizeof e->id);
    }
    if (!strcmp(key, "name")) {
        *seen |= SEEN_NAME;
        return copy_text(c, v, key, e->name, sizeof e->name);
    }
    if (!strcmp(key, "vendor"))
        return copy_text(c, v, key, e->vendor, sizeof e->vendor);
    if (!strcmp(key, "aliases"))
        return parse_aliases(c, v, aliases);
    if (!strcmp(key, "kind")) {
        *seen |= SEEN_KIND;
        hr_status st = copy_text(c, v, key, text, sizeof text);
        if (st != HR_OK)
            return st;
        if (!strcmp(text, "gpu"))
            e->kind = HR_DEVICE_GPU;
        else if (!strcmp(text, "host"))
            e->kind = HR_DEVICE_HOST;
        else
            return fail(c, v, HR_ERR_FORMAT, "'kind' must be gpu or host", NULL);
        return HR_OK;
    }
    if (!strcmp(key, "backend")) {
        *seen |= SEEN_BACKEND;
        hr_status st = copy_text(c, v, key, text, sizeof text);
        if (st != HR_OK)
            return st;
        for (size_t i = 0; i < sizeof backend_names / sizeof backend_names[0]; i++)
            if (!strcmp(text, backend_names[i].name)) {
                e->backend = backend_names[i].backend;
                return HR_OK;
            }
        return fail(c, v, HR_ERR_FORMAT, "'backend' must be cpu, cuda, rocm, metal or vulkan",
                    NULL);
    }
    if (!strcmp(key, "memory")) {
        *seen |= SEEN_MEMORY;
        return parse_memory(c, v, key, &e->memory_bytes);
    }
    if (!strcmp(key, "host_memory"))
        return parse_memory(c, v, key, &e->host_memory_bytes);
    if (!strcmp(key, "bandwidth_gbps")) {
        *seen |= SEEN_BANDWIDTH;
        hr_status st = parse_number(c, v, key, &e->bandwidth_gbps);
        if (st == HR_OK && e->bandwidth_gbps <= 0)
            return fail(c, v, HR_ERR_FORMAT, "'bandwidth_gbps' must be positive", NULL);
        return st;
    }
    if (!strcmp(key, "price_usd")) {
        *seen |= SEEN_PRICE;
        e->price_known = true;
        return parse_number(c, v, key, &e->price_usd);
    }
    if (!strcmp(key, "price_date")) {
        *seen |= SEEN_PRICE_DATE;
        return copy_text(c, v, key, text, sizeof text);
    }
    if (!strcmp(key, "price_kind")) {
        hr_status st = copy_text(c, v, key, text, sizeof text);
        if (st == HR_OK && strcmp(text, "list") && strcmp(text, "street"))
            return fail(c, v, HR_ERR_FORMAT, "'price_kind' must be list or street", NULL);
        return st;
    }
    if (!strcmp(key, "unified"))
        return parse_bool(c, v, key, &e->unified);
    return hr_yaml_fail(c, v, HR_ERR_FORMAT, "unknown key '%s'", key);
}

static hr_status parse_entry(parse_ctx *c, yaml_node_t *n, hr_hw_entry *e,
                             hr_hw_aliases *aliases)
{
    if (n->type != YAML_MAPPING_NODE)
        return fail(c, n, HR_ERR_FORMAT, "each hardware entry must be a mapping", NULL);
    memset(e, 0, sizeof *e);
    memset(aliases, 0, sizeof *aliases);
    unsigned seen = 0;
    for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top;
         pr++) {
        yaml_node_t *k = hr_yaml_node(c, pr->key);
        yaml_node_t *v = hr_yaml_node(c, pr->value);
        const char *key = hr_yaml_scalar(k);
        if (!key || !v)
            return fail(c, k, HR_ERR_FORMAT, "keys must be plain names", NULL);
        hr_status st = parse_key(c, key, v, e, aliases, &seen);
        if (st != HR_OK)
            return st;
    }
    static const struct { unsigned bit; const char *key; } required[] = {
        {SEEN_ID, "id"}, {SEEN_NAME, "name"}, {SEEN_KIND, "kind"}, {SEEN_BACKEND, "backend"},
        {SEEN_MEMORY, "memory"}, {SEEN_BANDWIDTH, "bandwidth_gbps"},
    };
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        if (!(seen & required[i].bit))
            return hr_yaml_fail(c, n, HR_ERR_FORMAT, "entry '%s' lacks '%s'",
                                e->id[0] ? e->id : "?", required[i].key);
    if ((seen & SEEN_PRICE) && !(seen & SEEN_PRICE_DATE))
        return hr_yaml_fail(c, n, HR_ERR_FORMAT, "entry '%s': price_usd needs price_date",
                            e->id);
    if (e->kind == HR_DEVICE_HOST && e->backend != HR_BACKEND_CPU)
        return hr_yaml_fail(c, n, HR_ERR_FORMAT, "entry '%s': a host entry runs on cpu",
                            e->id);
    return HR_OK;
}

static hr_status parse_entries(parse_ctx *c, yaml_node_t *list, hr_catalog_storage *s)
{
    if (list->type != YAML_SEQUENCE_NODE)
        return fail(c, list, HR_ERR_FORMAT, "'hardware' must be a list of entries", NULL);
    long n = list->data.sequence.items.top - list->data.sequence.items.start;
    if (n > HR_CATALOG_MAX_ENTRIES)
        return fail(c, list, HR_ERR_LIMIT, "too many hardware entries", NULL);
    s->pub.entries = calloc(n ? (size_t)n : 1, sizeof *s->pub.entries);
    s->aliases = calloc(n ? (size_t)n : 1, sizeof *s->aliases);
    if (!s->pub.entries || !s->aliases)
        return hr_error_set(c->err, HR_ERR_NOMEM, "%s: out of memory", c->origin);
    for (long i = 0; i < n; i++) {
        yaml_node_t *item = hr_yaml_node(c, list->data.sequence.items.start[i]);
        hr_hw_entry *e = &s->pub.entries[s->pub.n_entries];
        hr_status st = parse_entry(c, item, e, &s->aliases[s->pub.n_entries]);
        if (st != HR_OK)
            return st;
        for (int j = 0; j < s->pub.n_entries; j++)
            if (!strcasecmp(s->pub.entries[j].id, e->id))
                return hr_yaml_fail(c, item, HR_ERR_FORMAT, "duplicate id '%s'", e->id);
        s->pub.n_entries++;
    }
    return HR_OK;
}

typedef struct name_key {
    char norm[HR_CATALOG_NAME_MAX];
    const char *text; /* as written */
    int entry;
} name_key;

static int compare_keys(const void *a, const void *b)
{
    const name_key *x = a, *y = b;
    int c = strcmp(x->norm, y->norm);
    return c ? c : (x->entry > y->entry) - (x->entry < y->entry);
}

static void add_key(name_key *keys, size_t *n, const char *text, int entry)
{
    hr_catalog_normalize(text, keys[*n].norm, sizeof keys[*n].norm);
    keys[*n].text = text;
    keys[*n].entry = entry;
    (*n)++;
}

/* Every id, name and alias must lead to one entry, or a lookup would
 * silently pick whichever came first. */
hr_status hr_catalog_check_names(const hr_catalog_storage *s, const char *origin,
                                 hr_error *err)
{
    size_t per_entry = 2 + HR_CATALOG_MAX_ALIASES, n = 0;
    name_key *keys = calloc((size_t)s->pub.n_entries * per_entry + 1, sizeof *keys);
    if (!keys)
        return hr_error_set(err, HR_ERR_NOMEM, "%s: out of memory", origin);
    for (int i = 0; i < s->pub.n_entries; i++) {
        add_key(keys, &n, s->pub.entries[i].id, i);
        add_key(keys, &n, s->pub.entries[i].name, i);
        for (int a = 0; a < s->aliases[i].n; a++)
            add_key(keys, &n, s->aliases[i].names[a], i);
    }
    qsort(keys, n, sizeof *keys, compare_keys);
    hr_status st = HR_OK;
    for (size_t i = 0; i + 1 < n && st == HR_OK; i++) {
        if (!keys[i].norm[0])
            st = hr_error_set(err, HR_ERR_FORMAT, "%s: entry '%s': name '%s' has no letters "
                              "or digits", origin, s->pub.entries[keys[i].entry].id,
                              keys[i].text);
        else if (!strcmp(keys[i].norm, keys[i + 1].norm) && keys[i].entry != keys[i + 1].entry)
            st = hr_error_set(err, HR_ERR_FORMAT, "%s: '%s' names both '%s' and '%s'",
                              origin, keys[i + 1].text, s->pub.entries[keys[i].entry].id,
                              s->pub.entries[keys[i + 1].entry].id);
    }
    free(keys);
    return st;
}

static hr_status parse_root(parse_ctx *c, yaml_node_t *root, hr_catalog_storage *s)
{
    if (!root || root->type != YAML_MAPPING_NODE)
        return fail(c, root, HR_ERR_FORMAT, "expected a mapping with a 'hardware' list", NULL);
    yaml_node_t *list = NULL;
    for (yaml_node_pair_t *pr = root->data.mapping.pairs.start;
         pr < root->data.mapping.pairs.top; pr++) {
        yaml_node_t *k = hr_yaml_node(c, pr->key);
        yaml_node_t *v = hr_yaml_node(c, pr->value);
        const char *key = hr_yaml_scalar(k);
        if (key && !strcmp(key, "hardware"))
            list = v;
        else if (key && !strcmp(key, "version")) {
            const char *ver = hr_yaml_scalar(v);
            if (!ver || strcmp(ver, "1"))
                return fail(c, v, HR_ERR_UNSUPPORTED, "unsupported catalog version", ver);
        } else
            return hr_error_set(c->err, HR_ERR_FORMAT, "%s:%u: unknown key '%s'", c->origin,
                                hr_yaml_line(k), key ? key : "?");
    }
    if (!list)
        return fail(c, root, HR_ERR_FORMAT, "no 'hardware' list", NULL);
    hr_status st = parse_entries(c, list, s);
    return st == HR_OK ? hr_catalog_check_names(s, c->origin, c->err) : st;
}

hr_status hr_catalog_parse(const char *yaml, size_t len, const char *origin, hr_catalog **out,
                           hr_error *err)
{
    *out = NULL;
    if (!origin)
        origin = "<catalog>";
    if (len > HR_CATALOG_MAX_FILE)
        return hr_error_set(err, HR_ERR_LIMIT, "%s: %zu bytes is over the %u-byte limit", origin,
                            len, HR_CATALOG_MAX_FILE);
    hr_catalog_storage *s = calloc(1, sizeof *s);
    if (!s)
        return hr_error_set(err, HR_ERR_NOMEM, "%s: out of memory", origin);
    hr_yaml_doc doc;
    hr_status st = hr_yaml_doc_load(&doc, yaml, len, origin, "YAML error", err);
    if (st != HR_OK) {
        free(s);
        return st;
    }
    st = parse_root(&doc, hr_yaml_root(&doc), s);
    hr_yaml_doc_free(&doc);
    if (st != HR_OK) {
        hr_catalog_free(&s->pub);
        return st;
    }
    *out = &s->pub;
    return HR_OK;
}
