/* Replay of ggml-alloc's graph allocator (ggml/src/ggml-alloc.c):
 * ggml_gallocr_alloc_graph_impl over our node model, with the dynamic
 * tensor allocator's best-fit free-block list (ggml_dyn_tallocr_*).
 *
 * Facts reproduced:
 *  - leafs (the inputs) are allocated first, in discovery order; then every
 *    node in graph order; each buffer type has its own allocator;
 *  - sizes are padded to the buffer's alignment;
 *  - best fit among the free blocks except the last; otherwise the last
 *    block (the open end of the chunk), which grows max_size;
 *  - in place: an op in ggml_op_can_inplace takes over the memory of the
 *    first source that the allocator owns, is not an output, has the same
 *    layout, and has this node as its only child and no views. A view is
 *    never "owned" (the allocator never marks views allocated), so a view
 *    source is never reused;
 *  - a tensor is freed when its last child has run and no view of it
 *    remains; outputs are never freed;
 *  - freed blocks merge with their neighbours; the list stays sorted.
 * Everything lives in fixed arrays: no heap. */
#include <stddef.h>
#include <string.h>

#include "cgraph.h"
#include "galloc_plain.h"

#define REPLAY_EXTRA /* nothing */

#include "galloc_impl.h"

void cg_replay(const cg_graph *g, const uint32_t alignment[CG_MAX_BUFFERS],
               const cg_window *windows, int n_windows, cg_alloc_result *res)
{
    replay r;
    r.g = g;
    replay_result(&r, run_replay(&r, alignment, windows, n_windows, res->lag), res);
}
