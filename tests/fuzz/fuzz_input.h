/* Helpers shared by the fuzz harnesses: give the readers a real file. */
#ifndef HR_FUZZ_INPUT_H
#define HR_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>

/* Write data to a fresh file named `name` in a per-process temp dir and
 * return its path (static storage, valid until the next call). */
const char *fuzz_write_temp(const char *name, const uint8_t *data, size_t size);

/* Same, then extend the file by `hole` zero bytes left as a sparse hole
 * (tensor data is never read: only its size matters to the readers). */
const char *fuzz_write_temp_hole(const char *name, const uint8_t *data, size_t size,
                                 uint64_t hole);

/* Remove `name` from the temp dir (a file an earlier input left that the
 * reader would otherwise find beside the next one). */
void fuzz_remove_temp(const char *name);

/* GGUF inputs: the first byte k gives a data hole of k * FUZZ_HOLE_UNIT bytes
 * after the header bytes that follow it, so the fuzzer mutates headers only. */
#define FUZZ_HOLE_UNIT 4096u

#endif
