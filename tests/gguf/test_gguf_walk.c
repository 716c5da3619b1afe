/* gguf_walk_strings (the string-array walker, several chains in lock-step for
 * large arrays) against a plain one-at-a-time reference, on arrays built to
 * defeat its guesses: contents that look like length words, lengths that
 * change along the array, cuts and corrupt lengths anywhere. Buffers are
 * allocated to their exact size so ASan catches any read past the end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gguf/gguf_string_walk.h"

/* The contract, one string at a time: a string counts when its length word
 * and bytes fit with a whole length word left after it; a length whose
 * step wraps makes the answer 0. */
static uint64_t reference_walk(const unsigned char *p, const unsigned char *end, uint64_t n,
                               unsigned word, const unsigned char **after)
{
    const unsigned char *start = p;
    *after = p;
    uint64_t count = 0;
    bool wrapped = false;
    while (count < n) {
        if ((uint64_t)(end - p) < word)
            break;
        uint64_t len = 0;
        for (unsigned b = 0; b < word; b++)
            len |= (uint64_t)p[b] << (8 * b);
        uint64_t avail = (uint64_t)(end - p) - word; /* bytes after this length word */
        bool wraps = len > UINT64_MAX - word;
        uint64_t step = len + word; /* below the word size when it wraps */
        if (step > avail)
            break;
        wrapped |= wraps;
        p += step;
        count++;
    }
    if (wrapped) {
        *after = start;
        return 0;
    }
    *after = p;
    return count;
}

typedef struct rng {
    uint64_t s;
} rng;

static uint32_t next(rng *r)
{
    r->s = r->s * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(r->s >> 33);
}

typedef enum { LEN_SHORT, LEN_GROWING, LEN_SHRINKING, LEN_MIXED_LONG, LEN_ZERO } len_shape;
typedef enum { FILL_TEXT, FILL_FAKE_WORDS, FILL_ZERO } fill_kind;

/* n strings of the given shape followed by `tail` bytes of filler; the
 * buffer is exactly as long as what was written. */
static unsigned char *build(rng *r, uint64_t n, unsigned word, len_shape shape, fill_kind fill,
                            size_t tail, size_t *size)
{
    size_t cap = 1024, used = 0;
    unsigned char *buf = malloc(cap);
    assert_non_null(buf);
    for (uint64_t i = 0; i < n + 1; i++) {
        uint64_t len;
        switch (shape) {
        case LEN_SHORT: len = 1 + next(r) % 20; break;
        case LEN_GROWING: len = 1 + (i * 60) / (n + 1) + next(r) % 4; break;
        case LEN_SHRINKING: len = 1 + ((n - i) * 60) / (n + 1) + next(r) % 4; break;
        case LEN_MIXED_LONG: len = next(r) % 50 == 0 ? 1500 + next(r) % 3000 : next(r) % 12; break;
        default: len = 0; break;
        }
        size_t need = word + len + (i == n ? tail : 0);
        while (used + need > cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
        if (i == n) { /* the tail: filler after the last string */
            len = tail;
            word = 0;
        }
        for (unsigned b = 0; b < word; b++)
            buf[used + b] = (unsigned char)(len >> (8 * b));
        used += word;
        for (uint64_t b = 0; b < len; b++) {
            unsigned char c;
            if (fill == FILL_ZERO)
                c = 0;
            else if (fill == FILL_FAKE_WORDS) /* "\x03\0\0\0\0\0\0\0" over and over, shifted */
                c = (b + i) % 8 == 0 ? 3 : 0;
            else
                c = (unsigned char)('a' + next(r) % 26);
            buf[used + b] = c;
        }
        used += len;
    }
    unsigned char *exact = malloc(used ? used : 1);
    assert_non_null(exact);
    memcpy(exact, buf, used);
    free(buf);
    *size = used;
    return exact;
}

static void expect_same(const unsigned char *buf, size_t size, uint64_t n, unsigned word)
{
    const unsigned char *a = NULL, *b = NULL;
    uint64_t want = reference_walk(buf, buf + size, n, word, &a);
    uint64_t got = gguf_walk_strings(buf, buf + size, n, word, &b);
    if (want != got || a != b)
        fail_msg("n=%llu word=%u size=%zu: reference %llu strings to %td, walker %llu to %td",
                 (unsigned long long)n, word, size, (unsigned long long)want, a - buf,
                 (unsigned long long)got, b - buf);
}

static void test_matches_reference_on_shapes(void **state)
{
    (void)state;
    rng r = {42};
    const uint64_t counts[] = {0, 1, 2, 100, 8191, 8192, 20000, 70001};
    for (unsigned word = 4; word <= 8; word += 4)
        for (size_t ci = 0; ci < sizeof counts / sizeof counts[0]; ci++)
            for (int shape = LEN_SHORT; shape <= LEN_ZERO; shape++)
                for (int fill = FILL_TEXT; fill <= FILL_ZERO; fill++) {
                    uint64_t n = counts[ci];
                    size_t size;
                    unsigned char *buf = build(&r, n, word, (len_shape)shape, (fill_kind)fill,
                                               64, &size);
                    expect_same(buf, size, n, word);         /* the whole array */
                    expect_same(buf, size, n + 1000, word);  /* more claimed than there are */
                    expect_same(buf, size, n / 2, word);     /* fewer */
                    free(buf);
                }
}

static void test_cut_anywhere(void **state)
{
    (void)state;
    rng r = {7};
    for (int round = 0; round < 60; round++) {
        uint64_t n = 9000 + next(&r) % 30000;
        size_t size;
        unsigned char *buf = build(&r, n, 8, (len_shape)(round % 4), (fill_kind)(round % 2), 0,
                                   &size);
        size_t cut = (size_t)((uint64_t)next(&r) * size / UINT32_MAX);
        unsigned char *shorter = malloc(cut ? cut : 1);
        assert_non_null(shorter);
        memcpy(shorter, buf, cut);
        expect_same(shorter, cut, n, 8);
        free(shorter);
        free(buf);
    }
}

/* Overwrite the length word of string `index` (found by walking). */
static void set_length(unsigned char *buf, uint64_t index, uint64_t value)
{
    unsigned char *p = buf;
    for (uint64_t i = 0; i < index; i++) {
        uint64_t len = 0;
        for (int b = 0; b < 8; b++)
            len |= (uint64_t)p[b] << (8 * b);
        p += 8 + len;
    }
    for (int b = 0; b < 8; b++)
        p[b] = (unsigned char)(value >> (8 * b));
}

static void test_corrupt_lengths(void **state)
{
    (void)state;
    rng r = {99};
    const uint64_t values[] = {UINT64_MAX, UINT64_MAX - 7, UINT64_MAX - 8, 1ull << 63,
                               1ull << 40, 100000, 0};
    for (int round = 0; round < 70; round++) {
        uint64_t n = 12000 + next(&r) % 20000;
        size_t size;
        unsigned char *buf = build(&r, n, 8, (len_shape)(round % 4), FILL_TEXT, 16, &size);
        uint64_t index = round % 3 == 0 ? n - 1 - next(&r) % 8 : next(&r) % n;
        set_length(buf, index, values[round % (sizeof values / sizeof values[0])]);
        expect_same(buf, size, n, 8);
        free(buf);
    }
}

/* Byte offset of string `index` (walking the fixture's own lengths). */
static size_t offset_of(const unsigned char *buf, uint64_t index)
{
    size_t at = 0;
    for (uint64_t i = 0; i < index; i++) {
        uint64_t len = 0;
        for (int b = 0; b < 8; b++)
            len |= (uint64_t)buf[at + b] << (8 * b);
        at += 8 + (size_t)len;
    }
    return at;
}

/* The file ending a few bytes after a string near the end of the array: the
 * last chain must stop exactly where a whole length word no longer fits. */
static void test_end_just_after_a_string(void **state)
{
    (void)state;
    rng r = {5};
    size_t size;
    uint64_t n = 20000;
    unsigned char *buf = build(&r, n, 8, LEN_SHORT, FILL_TEXT, 0, &size);
    for (uint64_t back = 0; back < 3; back++)
        for (size_t extra = 0; extra < 17; extra++) {
            size_t cut = offset_of(buf, n - back) + extra;
            if (cut > size)
                continue;
            unsigned char *shorter = malloc(cut);
            assert_non_null(shorter);
            memcpy(shorter, buf, cut);
            expect_same(shorter, cut, n, 8);
            expect_same(shorter, cut, n - back, 8);
            free(shorter);
        }
    free(buf);
}

/* Long strings first, short ones after: the warm-up overestimates the array,
 * so guesses land beyond the strings claimed; the chains must still stop at
 * exactly n strings. */
static void test_misleading_warmup(void **state)
{
    (void)state;
    const uint64_t total = 100000, warm_lens[] = {20, 200};
    const uint64_t claims[] = {8192,  10000, 20000, 30000, 35000, 50000,
                               60000, 70000, 80000, 99999, 100000, 100001};
    for (size_t w = 0; w < sizeof warm_lens / sizeof warm_lens[0]; w++) {
        size_t size = 8;
        for (uint64_t i = 0; i < total; i++)
            size += 8 + (i < 64 ? warm_lens[w] : 5);
        unsigned char *buf = malloc(size);
        assert_non_null(buf);
        memset(buf, 'y', size);
        size_t at = 0;
        for (uint64_t i = 0; i < total; i++) {
            uint64_t len = i < 64 ? warm_lens[w] : 5;
            memset(buf + at, 0, 8);
            buf[at] = (unsigned char)len;
            at += 8 + len;
        }
        memset(buf + at, 0, 8);
        for (size_t i = 0; i < sizeof claims / sizeof claims[0]; i++)
            expect_same(buf, size, claims[i], 8);
        free(buf);
    }
}

/* Strings too long to look like tokenizer entries leave the walker no guess;
 * buffers shorter than one length word hold nothing. */
static void test_no_guess_and_tiny_buffers(void **state)
{
    (void)state;
    uint64_t n = 8300;
    size_t size = (size_t)n * (8 + 1100) + 8;
    unsigned char *buf = malloc(size);
    assert_non_null(buf);
    memset(buf, 'x', size);
    for (uint64_t i = 0; i < n; i++) {
        memset(buf + i * (8 + 1100), 0, 8);
        buf[i * (8 + 1100)] = 0x4c; /* 1100 */
        buf[i * (8 + 1100) + 1] = 0x04;
    }
    expect_same(buf, size, n, 8);
    expect_same(buf, size - 9, n, 8); /* the last string no longer leaves a word */
    free(buf);
    for (size_t len = 0; len < 20; len++) {
        unsigned char *tiny = calloc(1, len ? len : 1);
        assert_non_null(tiny);
        expect_same(tiny, len, 3, 8);
        expect_same(tiny, len, 3, 4);
        expect_same(tiny, len, 9000, 8);
        free(tiny);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches_reference_on_shapes),
        cmocka_unit_test(test_cut_anywhere),
        cmocka_unit_test(test_corrupt_lengths),
        cmocka_unit_test(test_no_guess_and_tiny_buffers),
        cmocka_unit_test(test_end_just_after_a_string),
        cmocka_unit_test(test_misleading_warmup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
