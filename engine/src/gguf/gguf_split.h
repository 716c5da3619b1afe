/* Split GGUF sets: NAME-00001-of-0000N.gguf (llama.cpp's gguf-split naming). */
#ifndef HR_GGUF_SPLIT_H
#define HR_GGUF_SPLIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gguf_reader.h"

typedef struct gguf_split_name {
    size_t prefix_len; /* bytes of path before "-00001-of-0000N.gguf" */
    uint32_t no;       /* 1-based shard number from the name */
    uint32_t count;    /* shard count from the name */
    int width;         /* digits used for each number (5 in llama.cpp) */
} gguf_split_name;

/* True if path ends in -NNNNN-of-MMMMM.gguf with 1 <= no <= count. */
bool gguf_split_parse(const char *path, gguf_split_name *out);
/* Path of shard no (1-based) of the set path belongs to; false if too long. */
bool gguf_split_path(char *buf, size_t buf_len, const char *path, const gguf_split_name *s,
                     uint32_t no);

/* Open path and, when it is part of a split set (split.count > 1), every
 * shard of the set in order. On success *files is a malloc'd array of
 * *n_files parsed files (close each, then free the array). */
hr_status gguf_open_set(const char *path, gguf_file **files, uint32_t *n_files, hr_error *err);
void gguf_close_set(gguf_file *files, uint32_t n_files);

#endif
