/* Stepping over GGUF string arrays fast.
 *
 * Tokenizer tokens and merges are ~400k length-prefixed strings, most of an
 * 8 MB header, and each length decides where the next one starts: one walk is
 * bound by that chain of dependent loads. Large arrays are therefore walked as
 * several chains at once: the extra chains start at guessed element
 * boundaries further on, and a chain's work counts only once the chain before
 * it lands exactly on its start. A wrong guess costs time, never correctness.
 */
#ifndef HR_GGUF_STRING_WALK_H
#define HR_GGUF_STRING_WALK_H

#include <stdint.h>

/* Step over up to n strings starting at p, each a `word`-byte (4 or 8)
 * little-endian length followed by that many bytes, reading nothing at or
 * past end (p <= end). Returns how many were stepped over; every one of them
 * lies before end with room for one more length word after it, and *after is
 * where the next begins. Fewer than n means the rest needs a careful reader
 * to tell why: the next string is the last one in the file, runs past the
 * end, or has a length so large that adding the word size wraps (then 0 is
 * returned). */
uint64_t gguf_walk_strings(const unsigned char *p, const unsigned char *end, uint64_t n,
                           unsigned word, const unsigned char **after);

#endif
