/* Helpers shared by the GGUF suites: a temp dir per suite, small model
 * skeletons, and write-then-open in one call. Header-only (static). */
#ifndef HR_GGUF_FIXTURE_H
#define HR_GGUF_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf_writer.h"
#include "headroom/model.h"
#include "test_util.h"

static char *fx_dir;

static inline int fx_setup(void **state)
{
    (void)state;
    fx_dir = tu_make_temp_dir("gguf");
    return fx_dir ? 0 : -1;
}

static inline int fx_teardown(void **state)
{
    (void)state;
    tu_remove_tree(fx_dir);
    free(fx_dir);
    fx_dir = NULL;
    return 0;
}

/* "<arch>.<suffix>" in a static buffer (one at a time). */
static inline const char *fx_key(const char *arch, const char *suffix)
{
    static char buf[256];
    snprintf(buf, sizeof buf, "%s.%s", arch, suffix);
    return buf;
}

/* The keys every decoder model carries (u32, scalars). */
static inline void fx_add_shape(gguf_writer *w, const char *arch, uint32_t n_layer, uint32_t n_embd,
                         uint32_t n_head, uint32_t n_head_kv, uint32_t n_ff)
{
    gguf_writer_add_string(w, "general.architecture", arch);
    gguf_writer_add_string(w, "general.name", "fixture");
    gguf_writer_add_u32(w, fx_key(arch, "context_length"), 4096);
    gguf_writer_add_u32(w, fx_key(arch, "embedding_length"), n_embd);
    gguf_writer_add_u32(w, fx_key(arch, "block_count"), n_layer);
    gguf_writer_add_u32(w, fx_key(arch, "feed_forward_length"), n_ff);
    gguf_writer_add_u32(w, fx_key(arch, "attention.head_count"), n_head);
    gguf_writer_add_u32(w, fx_key(arch, "attention.head_count_kv"), n_head_kv);
}

/* Write w to fx_dir/name (freeing w), open it; the path is returned malloc'd
 * through path_out when non-NULL. */
static inline hr_status fx_write_open(gguf_writer *w, const char *name, hr_model **m, hr_error *err,
                               char **path_out)
{
    char *path = tu_path(fx_dir, name);
    assert_int_equal(gguf_writer_write(w, path), 0);
    gguf_writer_free(w);
    *m = NULL;
    hr_status st = hr_model_open_gguf(path, m, err);
    if (path_out)
        *path_out = path;
    else
        free(path);
    return st;
}

/* Expect the open to fail with `status` and a message naming the file and
 * containing `needle` (when non-NULL). */
static inline void fx_expect_error(gguf_writer *w, const char *name, hr_status status,
                            const char *needle)
{
    hr_model *m = NULL;
    hr_error err;
    char *path = NULL;
    hr_status st = fx_write_open(w, name, &m, &err, &path);
    if (st != status || !strstr(err.message, path) || (needle && !strstr(err.message, needle)))
        print_error("%s: got status %d '%s', expected %d with '%s'\n", name, (int)st,
                    st == HR_OK ? "" : err.message, (int)status, needle ? needle : "");
    assert_int_equal(st, status);
    assert_null(m);
    assert_non_null(strstr(err.message, path));
    if (needle)
        assert_non_null(strstr(err.message, needle));
    assert_null(strchr(err.message, '\n'));
    free(path);
}

#endif
