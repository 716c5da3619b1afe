/* The plain instantiation of galloc_impl.h's size type: byte counts, the
 * graph's own (galloc.c, galloc_program.c; a run from a record reads its
 * sizes through PROGRAM_SZ instead). */
#ifndef HR_COMPUTE_GALLOC_PLAIN_H
#define HR_COMPUTE_GALLOC_PLAIN_H

typedef uint64_t SZ;
#define SZ_PLAIN 1
#define SZ_ZERO ((uint64_t)0)
#define SZ_OF(r, id) ((r)->g->nodes[id].bytes)
#define SZ_CONST(v) ((uint64_t)(v))
#define SZ_SEPARATOR UINT64_MAX
#define SZ_ADD(x, y) ((x) + (y))
#define SZ_SUB(x, y) ((x) - (y))
/* alignments are powers of two (32, 128): a mask instead of a division */
#define SZ_ALIGN(r, x, a) \
    (((a) & ((a) - 1)) == 0 ? ((x) + (a) - 1) & ~((uint64_t)(a) - 1) : ((x) + (a) - 1) / (a) * (a))
#define SZ_EQ(r, x, y) ((x) == (y))
#define SZ_LT(r, x, y) ((x) < (y))
#define SZ_LE(r, x, y) ((x) <= (y))
#define SZ_GT(r, x, y) ((x) > (y))
#define SZ_GE(r, x, y) ((x) >= (y))
#define SAME_SNAPSHOT(r, a, b) \
    (memcmp((a)->words, (b)->words, (size_t)(a)->n * sizeof(a)->words[0]) == 0)
#define LAYOUT_EQ(r, a, b) ((r)->g->nodes[a].layout == (r)->g->nodes[b].layout)

#endif
