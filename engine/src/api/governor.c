/* Governor: admission accounting over a memory budget, thread-safe. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "headroom/headroom.h"

#define MAX_ADMISSIONS 4096

typedef struct admission {
    hr_admission token;
    uint64_t bytes[HR_MAX_DEVICES];
} admission;

struct hr_governor {
    pthread_mutex_t lock;
    hr_budget budget;
    uint64_t reserved[HR_MAX_DEVICES];
    admission *live;
    uint32_t n_live;
    hr_admission next_token;
};

hr_status hr_governor_create(const hr_budget *budget, hr_governor **out, hr_error *err)
{
    if (!out)
        return hr_error_set(err, HR_ERR_ARG, "governor: no output pointer");
    *out = NULL;
    hr_governor *g = calloc(1, sizeof *g);
    if (!g)
        return hr_error_set(err, HR_ERR_NOMEM, "governor: out of memory");
    g->live = calloc(MAX_ADMISSIONS, sizeof *g->live);
    if (!g->live) {
        free(g);
        return hr_error_set(err, HR_ERR_NOMEM, "governor: out of memory");
    }
    if (budget) {
        g->budget = *budget;
    } else {
        hr_system sys;
        hr_status st = hr_system_detect(NULL, &sys, err);
        if (st != HR_OK) {
            free(g->live);
            free(g);
            return st;
        }
        hr_budget_from_system(&sys, &g->budget);
    }
    int n_devices = g->budget.n_devices;
    if (n_devices < 1 || n_devices > HR_MAX_DEVICES) {
        free(g->live);
        free(g);
        return hr_error_set(err, HR_ERR_ARG, "governor: budget has %d devices", n_devices);
    }
    pthread_mutex_init(&g->lock, NULL);
    g->next_token = 1;
    *out = g;
    return HR_OK;
}

void hr_governor_destroy(hr_governor *g)
{
    if (!g)
        return;
    pthread_mutex_destroy(&g->lock);
    free(g->live);
    free(g);
}

/* Devices beyond the budget's count cannot hold anything: a requirement
 * that needs them does not fit. */
static bool fits_locked(const hr_governor *g, const hr_requirement *req)
{
    for (int d = 0; d < req->n_devices && d < HR_MAX_DEVICES; d++) {
        uint64_t need = req->device_bytes[d];
        if (need == 0)
            continue;
        if (d >= g->budget.n_devices)
            return false;
        const hr_budget_device *bd = &g->budget.devices[d];
        if (!bd->capacity_known)
            continue;
        uint64_t sum;
        if (__builtin_add_overflow(g->reserved[d], need, &sum) || sum > bd->capacity_bytes)
            return false;
    }
    return true;
}

hr_status hr_governor_admit(hr_governor *g, const hr_requirement *req, hr_admission *token,
                            hr_error *err)
{
    if (!g || !req || !token)
        return hr_error_set(err, HR_ERR_ARG, "governor: admit needs a governor, a requirement and a token");
    *token = 0;
    pthread_mutex_lock(&g->lock);
    hr_status st = HR_OK;
    if (g->n_live == MAX_ADMISSIONS) {
        st = hr_error_set(err, HR_ERR_LIMIT, "governor: %d instances already admitted",
                          MAX_ADMISSIONS);
    } else if (!fits_locked(g, req)) {
        st = hr_error_set(err, HR_ERR_NO_FIT, "does not fit: %.2f MiB needed, budget exhausted",
                          req->total_mib);
    } else {
        admission *a = &g->live[g->n_live++];
        memset(a, 0, sizeof *a);
        a->token = g->next_token++;
        for (int d = 0; d < req->n_devices && d < HR_MAX_DEVICES; d++) {
            a->bytes[d] = req->device_bytes[d];
            g->reserved[d] += req->device_bytes[d];
        }
        *token = a->token;
    }
    pthread_mutex_unlock(&g->lock);
    return st;
}

hr_status hr_governor_release(hr_governor *g, hr_admission token, hr_error *err)
{
    if (!g)
        return hr_error_set(err, HR_ERR_ARG, "governor: no governor");
    pthread_mutex_lock(&g->lock);
    for (uint32_t i = 0; i < g->n_live; i++) {
        if (g->live[i].token != token)
            continue;
        for (int d = 0; d < HR_MAX_DEVICES; d++)
            g->reserved[d] -= g->live[i].bytes[d];
        g->live[i] = g->live[--g->n_live];
        pthread_mutex_unlock(&g->lock);
        return HR_OK;
    }
    pthread_mutex_unlock(&g->lock);
    return hr_error_set(err, HR_ERR_ARG, "governor: token %llu is not admitted",
                        (unsigned long long)token);
}

uint32_t hr_governor_how_many_more(hr_governor *g, const hr_requirement *req)
{
    if (!g || !req)
        return 0;
    pthread_mutex_lock(&g->lock);
    uint64_t best = UINT32_MAX;
    bool limited = false;
    for (int d = 0; d < req->n_devices && d < HR_MAX_DEVICES; d++) {
        uint64_t need = req->device_bytes[d];
        if (need == 0)
            continue;
        if (d >= g->budget.n_devices) {
            best = 0;
            limited = true;
            break;
        }
        const hr_budget_device *bd = &g->budget.devices[d];
        if (!bd->capacity_known)
            continue;
        uint64_t free_bytes =
            bd->capacity_bytes > g->reserved[d] ? bd->capacity_bytes - g->reserved[d] : 0;
        uint64_t n = free_bytes / need;
        if (n < best)
            best = n;
        limited = true;
    }
    uint32_t room = MAX_ADMISSIONS - g->n_live;
    pthread_mutex_unlock(&g->lock);
    if (!limited)
        return UINT32_MAX;
    return (uint32_t)(best < room ? best : room);
}

uint64_t hr_governor_reserved_bytes(hr_governor *g, int d)
{
    if (!g || d < 0 || d >= HR_MAX_DEVICES)
        return 0;
    pthread_mutex_lock(&g->lock);
    uint64_t v = g->reserved[d];
    pthread_mutex_unlock(&g->lock);
    return v;
}

uint64_t hr_governor_capacity_bytes(hr_governor *g, int d)
{
    if (!g || d < 0 || d >= g->budget.n_devices)
        return 0;
    return g->budget.devices[d].capacity_known ? g->budget.devices[d].capacity_bytes : 0;
}

uint32_t hr_governor_active(hr_governor *g)
{
    if (!g)
        return 0;
    pthread_mutex_lock(&g->lock);
    uint32_t n = g->n_live;
    pthread_mutex_unlock(&g->lock);
    return n;
}
