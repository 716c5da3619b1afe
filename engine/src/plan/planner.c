/* hr_planner: plans of one model that remember what the next plan can reuse.
 *
 * An interactive session changes one setting at a time, and often goes back
 * and forth. Two parts of a plan are costly and depend on few settings:
 *  - the weights per device (tensor by tensor with a what-if quantization):
 *    a function of the placement, the devices' backends and alignments and
 *    the target ftype only;
 *  - the compute buffers (a replay of the reserve graph): a function of the
 *    compute inputs, and over a range of KV cells the compute module gives
 *    them as exact linear forms (hr_compute_cache), so a context change
 *    inside the range costs no replay.
 * The planner keeps a few of each, least recently used out. A hit gives the
 * same bytes as a fresh plan: the keys hold every input the two parts read. */
#include <stdlib.h>
#include <string.h>

#include "compute/compute.h"
#include "plan_internal.h"

#define WEIGHT_SLOTS 32 /* the quantization view plans 17 ftypes at once */
#define COMPUTE_SLOTS 16

/* everything hr_plan_weights reads besides the model */
typedef struct weights_key {
    hr_placement place;
    hr_backend backends[HR_MAX_DEVICES];
    uint32_t alignment[HR_MAX_DEVICES];
    hr_ftype target_ftype;
} weights_key;

typedef struct weights_slot {
    bool valid;
    uint64_t used; /* tick of the last use: the smallest goes first */
    weights_key key;
    uint64_t weights[HR_MAX_DEVICES];
} weights_slot;

/* One compute setting: its last few points (exact inputs and result) and,
 * once the context moved under it twice, its linear forms over a range of
 * KV cells. A point costs one plain replay; forms cost about two, so they
 * are only made for settings whose context keeps moving. Several points:
 * going back and forth between two contexts on either side of a range's
 * end would otherwise rebuild the forms on every key. */
#define SLOT_POINTS 4
typedef struct compute_point {
    uint32_t n_kv, n_kv_swa;
    hr_compute_output out;
} compute_point;

typedef struct compute_slot {
    bool valid;
    uint64_t used;
    hr_compute_key key;
    int n_points, next;        /* points kept; the one replaced next */
    compute_point points[SLOT_POINTS];
    bool moved;                /* the context has moved under this key before */
    hr_compute_cache forms;    /* forms.valid: ranges for this key */
} compute_slot;

struct hr_planner {
    const hr_model *model;
    hr_compute_work *work; /* the replays' room (NULL: each allocates its own) */
    uint64_t tick;
    weights_slot weights[WEIGHT_SLOTS];
    compute_slot compute[COMPUTE_SLOTS];
};

hr_planner *hr_planner_new(const hr_model *model, hr_error *err)
{
    if (!model) {
        hr_error_set(err, HR_ERR_ARG, "planner: no model");
        return NULL;
    }
    hr_planner *p = calloc(1, sizeof *p);
    if (!p) {
        hr_error_set(err, HR_ERR_NOMEM, "planner: out of memory");
        return NULL;
    }
    p->model = model;
    p->work = hr_compute_work_new();
    return p;
}

void hr_planner_free(hr_planner *planner)
{
    if (planner)
        hr_compute_work_free(planner->work);
    free(planner);
}

hr_status hr_planner_plan(hr_planner *planner, const hr_settings *settings,
                          const hr_budget *budget, hr_plan *out, hr_error *err)
{
    if (!planner)
        return hr_error_set(err, HR_ERR_ARG, "plan: no planner");
    hr_plan_cache cache = {.planner = planner, .work = planner->work};
    return hr_plan_compute_cached(planner->model, settings, budget, out, &cache, err);
}

hr_status hr_planner_weights(hr_planner *planner, const hr_settings *s, const hr_placement *place,
                             const hr_backend *backends, const uint32_t *alignment, int n_devices,
                             uint64_t *dev_bytes, hr_error *err)
{
    weights_key key;
    memset(&key, 0, sizeof key); /* padding and unused devices compare equal */
    key.place.n_gpus = place->n_gpus;
    key.place.n_gpu_layers = place->n_gpu_layers;
    key.place.i_gpu_start = place->i_gpu_start;
    for (int g = 0; g < place->n_gpus && g < HR_MAX_GPUS; g++)
        key.place.splits[g] = place->splits[g];
    for (int d = 0; d < n_devices && d < HR_MAX_DEVICES; d++) {
        key.backends[d] = backends[d];
        key.alignment[d] = alignment[d];
    }
    key.target_ftype = s->target_ftype;

    planner->tick++;
    weights_slot *victim = &planner->weights[0];
    for (int i = 0; i < WEIGHT_SLOTS; i++) {
        weights_slot *w = &planner->weights[i];
        if (w->valid && memcmp(&w->key, &key, sizeof key) == 0) {
            w->used = planner->tick;
            for (int d = 0; d < n_devices; d++)
                if (__builtin_add_overflow(dev_bytes[d], w->weights[d], &dev_bytes[d]))
                    return hr_error_set(err, HR_ERR_LIMIT, "weights size overflows");
            return HR_OK;
        }
        if (!w->valid || w->used < victim->used)
            victim = w;
    }
    uint64_t sums[HR_MAX_DEVICES] = {0};
    hr_status rc = hr_plan_weights(planner->model, s, place, backends, alignment, sums, err);
    if (rc != HR_OK)
        return rc;
    victim->valid = true;
    victim->used = planner->tick;
    victim->key = key;
    memcpy(victim->weights, sums, sizeof sums);
    for (int d = 0; d < n_devices; d++)
        if (__builtin_add_overflow(dev_bytes[d], sums[d], &dev_bytes[d]))
            return hr_error_set(err, HR_ERR_LIMIT, "weights size overflows");
    return HR_OK;
}

hr_status hr_planner_compute(hr_planner *planner, const hr_compute_input *in,
                             hr_compute_output *out, hr_error *err)
{
    hr_compute_key key;
    hr_compute_key_of(in, &key);
    planner->tick++;
    compute_slot *slot = NULL, *victim = &planner->compute[0];
    for (int i = 0; i < COMPUTE_SLOTS && !slot; i++) {
        compute_slot *c = &planner->compute[i];
        if (c->valid && hr_compute_key_equal(&c->key, &key))
            slot = c;
        else if (!c->valid || c->used < victim->used)
            victim = c;
    }
    if (slot) {
        slot->used = planner->tick;
        for (int i = 0; i < slot->n_points; i++) {
            const compute_point *pt = &slot->points[i];
            if (pt->n_kv == in->n_kv && pt->n_kv_swa == in->n_kv_swa) {
                *out = pt->out;
                return HR_OK;
            }
        }
        /* the context moved under this setting: the second time, forms (or
         * an answer from them); a setting whose context moves once is
         * cheaper replayed plainly */
        hr_status rc = slot->moved ? hr_compute_estimate_cached(in, &slot->forms, out, err)
                                   : hr_compute_estimate(in, out, err);
        if (rc != HR_OK)
            return rc;
        slot->moved = true;
    } else {
        hr_status rc = hr_compute_estimate(in, out, err);
        if (rc != HR_OK)
            return rc;
        slot = victim;
        memset(slot, 0, sizeof *slot);
        slot->valid = true;
        slot->used = planner->tick;
        slot->key = key;
    }
    compute_point *pt = &slot->points[slot->next];
    pt->n_kv = in->n_kv;
    pt->n_kv_swa = in->n_kv_swa;
    pt->out = *out;
    slot->next = (slot->next + 1) % SLOT_POINTS;
    if (slot->n_points < SLOT_POINTS)
        slot->n_points++;
    return HR_OK;
}
