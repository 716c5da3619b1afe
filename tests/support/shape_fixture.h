/* An hr_shape of the given sizes, everything else hr_shape_init's defaults:
 * where the tests' models-from-hyperparameters start (tests/plan,
 * tests/compute). */
#ifndef TESTS_SUPPORT_SHAPE_FIXTURE_H
#define TESTS_SUPPORT_SHAPE_FIXTURE_H

#include "headroom/headroom.h"

static inline void tu_shape(hr_shape *s, const char *name, const char *arch, uint32_t n_layer,
                            uint32_t n_embd, uint32_t n_head, uint32_t n_head_kv, uint32_t n_ff,
                            uint32_t n_vocab, uint32_t n_ctx_train)
{
    hr_shape_init(s);
    s->name = name;
    s->arch_name = arch;
    s->n_layer = n_layer;
    s->n_embd = n_embd;
    s->n_head = n_head;
    s->n_head_kv = n_head_kv;
    s->n_ff = n_ff;
    s->n_vocab = n_vocab;
    s->n_ctx_train = n_ctx_train;
}

#endif
