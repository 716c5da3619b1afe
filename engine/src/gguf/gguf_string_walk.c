/* Walking length-prefixed string arrays: one chain, or several in lock-step
 * (see gguf_string_walk.h for why and for the contract). */
#include <stdbool.h>
#include <stddef.h>

#include "gguf_string_walk.h"

#define MAX_CHAINS 4 /* more gain little: the walk becomes bound by instructions */
#define MIN_SPECULATIVE 8192u /* below this many strings one chain is quick enough */
#define WARMUP 64u            /* strings walked first to learn their average size */
#define GUESS_WINDOW 4096u    /* bytes scanned for a plausible element start */
#define GUESS_HOPS 4          /* consecutive plausible strings that make a guess */
#define GUESS_MAX_LEN 1024u   /* a plausible tokenizer string is shorter than this */

#define ALWAYS_INLINE inline __attribute__((always_inline))

static ALWAYS_INLINE uint64_t load_word(const unsigned char *p, unsigned word)
{
    uint64_t v = (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
                 (uint64_t)p[3] << 24;
    if (word == 8)
        v |= (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
             (uint64_t)p[7] << 56;
    return v;
}

/* One chain: `room` is what may be consumed while leaving a whole length
 * word after it, so each read is in bounds by construction and one
 * comparison per string suffices. A length whose step wraps keeps the walk
 * in bounds (the step is then below the word size); it is reported through
 * the top bit of *seen, which collects every length taken. */
static ALWAYS_INLINE uint64_t walk_one(const unsigned char **pp, const unsigned char *end,
                                       uint64_t n, unsigned word, uint64_t *seen)
{
    const unsigned char *p = *pp;
    if ((uint64_t)(end - p) < word)
        return 0;
    uint64_t room = (uint64_t)(end - p) - word, s = 0, i = 0;
    for (; i < n; i++) {
        uint64_t len = load_word(p, word);
        uint64_t step = len + word;
        if (step > room)
            break;
        s |= len;
        p += step;
        room -= step;
    }
    *seen |= s;
    *pp = p;
    return i;
}

/* ---- several chains (8-byte lengths only: GGUF v2 and v3) ---- */

/* A position in [from, from + GUESS_WINDOW) where GUESS_HOPS consecutive
 * short strings chain within bounds, or NULL. Only a hint. */
static const unsigned char *guess_element_start(const unsigned char *from,
                                                const unsigned char *end)
{
    for (const unsigned char *q = from; q < end && (uint64_t)(q - from) < GUESS_WINDOW; q++) {
        const unsigned char *r = q;
        int hops = 0;
        for (; hops < GUESS_HOPS; hops++) {
            if ((uint64_t)(end - r) < 16)
                break;
            uint64_t len = load_word(r, 8);
            if (len > GUESS_MAX_LEN || len > (uint64_t)(end - r) - 16)
                break;
            r += 8 + len;
        }
        if (hops == GUESS_HOPS)
            return q;
    }
    return NULL;
}

typedef enum { CHAIN_WALKING, CHAIN_PARKED, CHAIN_ARRIVED } chain_state;

typedef struct chain {
    const unsigned char *p;
    const unsigned char *target; /* the next chain's start; NULL for the last chain */
    uint64_t steps;              /* strings stepped over from this chain's start */
    chain_state state;
} chain;

typedef enum { ROUNDS_DONE, ROUNDS_ARRIVED, ROUNDS_ANOMALY } rounds_result;

/* Step k chains together, at most max_rounds rounds. Each chain keeps its
 * distance to a stop point: the next chain's start, or for the last chain
 * one byte past the last place a length word fits. A round in which a step
 * would reach a stop point is applied only if every such step lands exactly
 * on the next chain's start (ROUNDS_ARRIVED); otherwise nobody moves in it
 * (ROUNDS_ANOMALY: a string runs past the end, a length wraps, or a guess was
 * no element start). The per-string test `(step | len) >= dist` is one
 * comparison that also catches a top-bit length (whose step may wrap); it
 * can fire early near a stop point, and such a round then goes on after the
 * exact checks. */
static ALWAYS_INLINE rounds_result lockstep(chain **ch, const int k, const unsigned char *lim,
                                            uint64_t max_rounds, uint64_t *rounds_out)
{
    const unsigned char *p[MAX_CHAINS];
    uint64_t dist[MAX_CHAINS], step[MAX_CHAINS];
#pragma GCC unroll 4
    for (int c = 0; c < k; c++) {
        p[c] = ch[c]->p;
        dist[c] = (uint64_t)((ch[c]->target ? ch[c]->target : lim + 1) - p[c]);
    }
    uint64_t left = max_rounds;
    rounds_result result = ROUNDS_DONE;
    while (left > 0) {
        bool arrived = false;
#pragma GCC unroll 4
        for (int c = 0; c < k; c++) {
            uint64_t len = load_word(p[c], 8);
            step[c] = len + 8;
            if ((step[c] | len) >= dist[c])
                goto near_a_stop;
        }
    apply:
#pragma GCC unroll 4
        for (int c = 0; c < k; c++) {
            p[c] += step[c];
            dist[c] -= step[c];
        }
        left--;
        if (arrived) {
            result = ROUNDS_ARRIVED;
            break;
        }
        continue;
    near_a_stop: /* rare: redo this round's reads with the exact checks */
#pragma GCC unroll 4
        for (int c = 0; c < k; c++) {
            step[c] = load_word(p[c], 8) + 8;
            if (step[c] < 8 || step[c] > dist[c] || (step[c] == dist[c] && !ch[c]->target))
                result = ROUNDS_ANOMALY;
            arrived |= step[c] == dist[c];
        }
        if (result == ROUNDS_ANOMALY)
            break;
        goto apply;
    }
#pragma GCC unroll 4
    for (int c = 0; c < k; c++)
        ch[c]->p = p[c];
    *rounds_out = max_rounds - left;
    return result;
}

static rounds_result lockstep_k(chain **ch, int k, const unsigned char *lim, uint64_t max_rounds,
                                uint64_t *rounds)
{
    switch (k) {
    case 1: return lockstep(ch, 1, lim, max_rounds, rounds);
    case 2: return lockstep(ch, 2, lim, max_rounds, rounds);
    case 3: return lockstep(ch, 3, lim, max_rounds, rounds);
    default: return lockstep(ch, 4, lim, max_rounds, rounds);
    }
}

/* Run the chains until every chain but the last has arrived exactly at the
 * next one's start (true), or something did not go as guessed (false). The
 * last chain never takes more steps than the strings left after the others'
 * least possible counts, so it cannot overrun the array. */
static bool run_chains(chain *ch, int k, const unsigned char *lim, uint64_t n)
{
    chain *last = &ch[k - 1];
    uint64_t arrived_steps = 0;
    for (;;) {
        chain *live[MAX_CHAINS];
        int n_live = 0, walking = 0;
        uint64_t used = arrived_steps + last->steps;
        for (int c = 0; c < k - 1; c++)
            if (ch[c].state == CHAIN_WALKING) {
                live[n_live++] = &ch[c];
                walking++;
                used += ch[c].steps;
            }
        if (walking == 0)
            return true;
        if (used >= n)
            return false;
        uint64_t max_rounds = (n - used) / (uint64_t)(walking + (last->state == CHAIN_WALKING));
        if (max_rounds == 0) {
            if (last->state != CHAIN_WALKING)
                return false;
            last->state = CHAIN_PARKED; /* resumes once the others have arrived */
            continue;
        }
        if (last->state == CHAIN_WALKING)
            live[n_live++] = last;
        uint64_t rounds = 0;
        rounds_result r = lockstep_k(live, n_live, lim, max_rounds, &rounds);
        for (int i = 0; i < n_live; i++)
            live[i]->steps += rounds;
        if (r == ROUNDS_ANOMALY)
            return false;
        for (int i = 0; i < n_live; i++)
            if (live[i]->target && live[i]->p == live[i]->target) {
                live[i]->state = CHAIN_ARRIVED;
                arrived_steps += live[i]->steps;
            }
    }
}

/* One speculative pass from *pp over at most n strings: returns how many
 * were verified (*pp moved past them) and sets *clean when every guess held. */
static uint64_t chains_pass(const unsigned char **pp, const unsigned char *end, uint64_t n,
                            uint64_t *seen, bool *clean)
{
    const unsigned char *start = *pp, *p = start;
    *clean = false;
    uint64_t done = walk_one(&p, end, WARMUP, 8, seen);
    *pp = p;
    if (done < WARMUP)
        return done;
    uint64_t left = n - done, estimate;
    uint64_t avg = (uint64_t)(p - start) / done;
    if (__builtin_mul_overflow(avg, left, &estimate) || estimate > (uint64_t)(end - p))
        estimate = (uint64_t)(end - p);
    chain ch[MAX_CHAINS] = {{.p = p}};
    int k = 1;
    for (int c = 1; c < MAX_CHAINS; c++) {
        uint64_t offset = estimate / MAX_CHAINS * (uint64_t)c;
        const unsigned char *x = guess_element_start(p + offset, end);
        if (!x || x <= ch[k - 1].p)
            continue;
        ch[k - 1].target = x;
        ch[k++] = (chain){.p = x};
    }
    if (k == 1)
        return done;
    const unsigned char *lim = end - 8; /* walk_one left a whole word before end */
    uint64_t verified = 0;
    if (run_chains(ch, k, lim, left)) {
        for (int c = 0; c < k; c++)
            verified += ch[c].steps;
        *pp = ch[k - 1].p;
        *clean = true;
    } else {
        /* keep what is certain: the chains up to the first that did not arrive */
        int c = 0;
        for (; c < k - 1 && ch[c].state == CHAIN_ARRIVED; c++)
            verified += ch[c].steps;
        verified += ch[c].steps;
        *pp = ch[c].p;
    }
    return done + verified;
}

static uint64_t walk_chains(const unsigned char **pp, const unsigned char *end, uint64_t n,
                            uint64_t *seen)
{
    uint64_t done = 0;
    bool clean = true;
    /* the last chain of a pass is often parked with strings still to go: go again */
    while (clean && n - done >= MIN_SPECULATIVE)
        done += chains_pass(pp, end, n - done, seen, &clean);
    return done + walk_one(pp, end, n - done, 8, seen);
}

uint64_t gguf_walk_strings(const unsigned char *p, const unsigned char *end, uint64_t n,
                           unsigned word, const unsigned char **after)
{
    /* `seen` collects lengths taken on verified ground only (one chain, or
     * the warm-up and tail of a speculative walk): chains refuse a top-bit
     * length instead of taking it. */
    uint64_t seen = 0, count;
    *after = p;
    if (word == 8 && n >= MIN_SPECULATIVE)
        count = walk_chains(after, end, n, &seen);
    else if (word == 8)
        count = walk_one(after, end, n, 8, &seen);
    else
        count = walk_one(after, end, n, 4, &seen);
    if (seen >> 63) { /* a length that wrapped was stepped over: the careful reader decides */
        *after = p;
        return 0;
    }
    return count;
}
