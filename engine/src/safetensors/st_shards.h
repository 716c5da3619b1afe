/* Which files make up a safetensors checkpoint: one file, an index's
 * shards, or "-0000i-of-0000N" siblings. */
#ifndef HR_ST_SHARDS_H
#define HR_ST_SHARDS_H

#include <stdint.h>

#include "headroom/error.h"
#include "headroom/model.h"

#define HR_ST_PATH_MAX 4096

typedef struct st_shards {
    char dir[HR_ST_PATH_MAX];        /* directory of the checkpoint (config.json lives here) */
    char index_path[HR_ST_PATH_MAX]; /* model.safetensors.index.json used, or "" */
    char *files[HR_MODEL_MAX_FILES]; /* shard paths (malloc'd), in index / shard order */
    uint32_t count;
    uint64_t index_entries;          /* tensors the index's weight_map names */
} st_shards;

/* Resolve path (a .safetensors file, an index, or a directory) to its full
 * set of shards; every listed file exists. Release with st_shards_free. */
hr_status st_shards_resolve(const char *path, st_shards *out, hr_error *err);
void st_shards_free(st_shards *s);

#endif
