/* A user's hardware file on top of the shipped catalog: its entries are added,
 * and one that has the name of a shipped entry replaces it. */
#include <stdlib.h>
#include <string.h>

#include "catalog_internal.h"

enum { KEEP = -1, DROP = -2 };

/* The same device as far as lookups can tell: ids or names equal once
 * normalised the way hr_catalog_find compares them (case, spaces, dashes). */
static bool same_device(const hr_hw_entry *a, const hr_hw_entry *b)
{
    const char *names_a[2] = {a->id, a->name}, *names_b[2] = {b->id, b->name};
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) {
            char x[HR_CATALOG_NAME_MAX], y[HR_CATALOG_NAME_MAX];
            hr_catalog_normalize(names_a[i], x, sizeof x);
            hr_catalog_normalize(names_b[j], y, sizeof y);
            if (x[0] && !strcmp(x, y))
                return true;
        }
    return false;
}

/* owner[i] for each entry of into: KEEP, DROP, or the index in from that
 * takes its place; placed[j]: entry j of from took the place of one. */
static void match_entries(const hr_catalog *into, const hr_catalog *from, int *owner,
                          bool *placed)
{
    for (int i = 0; i < into->n_entries; i++)
        owner[i] = KEEP;
    for (int j = 0; j < from->n_entries; j++) {
        placed[j] = false;
        for (int i = 0; i < into->n_entries; i++) {
            if (owner[i] != KEEP || !same_device(&into->entries[i], &from->entries[j]))
                continue;
            /* one user entry naming two shipped ones replaces both */
            owner[i] = placed[j] ? DROP : j;
            placed[j] = true;
        }
    }
}

hr_status hr_catalog_merge(hr_catalog *into, const hr_catalog *from, const char *origin,
                           hr_error *err)
{
    if (!into || !from)
        return hr_error_set(err, HR_ERR_ARG, "catalog merge: no catalog given");
    if (!origin)
        origin = "<catalog>";
    hr_catalog_storage *dst = (hr_catalog_storage *)into;
    const hr_catalog_storage *src = (const hr_catalog_storage *)from;
    size_t n_into = (size_t)into->n_entries, n_from = (size_t)from->n_entries, total;
    if (__builtin_add_overflow(n_into, n_from, &total) || total > 2 * HR_CATALOG_MAX_ENTRIES)
        return hr_error_set(err, HR_ERR_LIMIT, "%s: too many hardware entries", origin);

    hr_catalog_storage merged = {0};
    merged.pub.entries = calloc(total + 1, sizeof *merged.pub.entries);
    merged.aliases = calloc(total + 1, sizeof *merged.aliases);
    int *owner = calloc(n_into + 1, sizeof *owner);
    bool *placed = calloc(n_from + 1, sizeof *placed);
    hr_status st = HR_OK;
    if (!merged.pub.entries || !merged.aliases || !owner || !placed) {
        st = hr_error_set(err, HR_ERR_NOMEM, "%s: out of memory", origin);
        goto done;
    }
    match_entries(into, from, owner, placed);
    int n = 0;
    for (size_t i = 0; i < n_into; i++) {
        if (owner[i] == DROP)
            continue;
        bool keep = owner[i] == KEEP;
        merged.pub.entries[n] = keep ? into->entries[i] : from->entries[owner[i]];
        if (keep ? dst->aliases != NULL : src->aliases != NULL)
            merged.aliases[n] = keep ? dst->aliases[i] : src->aliases[owner[i]];
        n++;
    }
    for (size_t j = 0; j < n_from; j++) {
        if (placed[j])
            continue;
        merged.pub.entries[n] = from->entries[j];
        if (src->aliases)
            merged.aliases[n] = src->aliases[j];
        n++;
    }
    merged.pub.n_entries = n;
    /* an alias of one file may still name an entry of the other */
    st = hr_catalog_check_names(&merged, origin, err);
    if (st != HR_OK)
        goto done;
    free(dst->pub.entries);
    free(dst->aliases);
    dst->pub = merged.pub;
    dst->aliases = merged.aliases;
    merged.pub.entries = NULL;
    merged.aliases = NULL;
done:
    free(merged.pub.entries);
    free(merged.aliases);
    free(owner);
    free(placed);
    return st;
}

hr_status hr_catalog_load_merged(const char *user_path, hr_catalog **out, hr_error *err)
{
    *out = NULL;
    hr_catalog *shipped = NULL;
    hr_status st = hr_catalog_load(NULL, &shipped, err);
    if (!user_path || !*user_path) {
        if (st == HR_OK)
            *out = shipped;
        return st;
    }
    /* with no catalog installed, the user's file is the whole catalog */
    if (st != HR_OK && st != HR_ERR_NOT_FOUND)
        return st;
    hr_error_clear(err);
    hr_catalog *user = NULL;
    hr_status user_st = hr_catalog_load(user_path, &user, err);
    if (user_st != HR_OK || !shipped) {
        hr_catalog_free(shipped);
        if (user_st == HR_OK)
            *out = user;
        return user_st;
    }
    st = hr_catalog_merge(shipped, user, user_path, err);
    hr_catalog_free(user);
    if (st != HR_OK) {
        hr_catalog_free(shipped);
        return st;
    }
    *out = shipped;
    return HR_OK;
}
