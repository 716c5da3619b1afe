/* Helpers shared by the fuzz harnesses: give the readers a real file. */
#ifndef HR_FUZZ_INPUT_H
#define HR_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>

/* Write data to a fresh file named `name` in a per-process temp dir and
 * return its path (static storage, valid until the next call). */
const char *fuzz_write_temp(const char *name, const uint8_t *data, size_t size);

#endif
