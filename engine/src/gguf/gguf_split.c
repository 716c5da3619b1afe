/* Opening a split GGUF set: any shard given opens all of them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf_split.h"
#include "headroom/model.h"

#define SPLIT_SUFFIX ".gguf"

/* Parse the digits ending just before `end` (exclusive); returns count of digits. */
static int digits_before(const char *start, const char *end, uint64_t *value)
{
    const char *p = end;
    while (p > start && p[-1] >= '0' && p[-1] <= '9' && end - p < 9)
        p--;
    uint64_t v = 0;
    for (const char *q = p; q < end; q++)
        v = v * 10 + (uint64_t)(*q - '0');
    *value = v;
    return (int)(end - p);
}

bool gguf_split_parse(const char *path, gguf_split_name *out)
{
    size_t len = strlen(path), suffix = strlen(SPLIT_SUFFIX);
    if (len <= suffix || strcmp(path + len - suffix, SPLIT_SUFFIX) != 0)
        return false;
    const char *end = path + len - suffix;
    uint64_t count, no;
    int wc = digits_before(path, end, &count);
    if (wc == 0 || end - wc - path < 4 || memcmp(end - wc - 4, "-of-", 4) != 0)
        return false;
    const char *no_end = end - wc - 4;
    int wn = digits_before(path, no_end, &no);
    if (wn == 0 || no_end - wn == path || no_end[-wn - 1] != '-')
        return false;
    if (count < 1 || no < 1 || no > count || count > HR_MODEL_MAX_FILES)
        return false;
    out->prefix_len = (size_t)(no_end - wn - 1 - path);
    out->no = (uint32_t)no;
    out->count = (uint32_t)count;
    out->width = wn;
    return true;
}

bool gguf_split_path(char *buf, size_t buf_len, const char *path, const gguf_split_name *s,
                     uint32_t no)
{
    int n = snprintf(buf, buf_len, "%.*s-%0*u-of-%0*u" SPLIT_SUFFIX, (int)s->prefix_len, path,
                     s->width, no, s->width, s->count);
    return n > 0 && (size_t)n < buf_len;
}

void gguf_close_set(gguf_file *files, uint32_t n_files)
{
    if (!files)
        return;
    for (uint32_t i = 0; i < n_files; i++)
        gguf_file_close(&files[i]);
    free(files);
}

/* split.count / split.no of one shard (0/absent means "not split"). */
static hr_status split_keys(const gguf_file *f, uint32_t *count, uint32_t *no, bool *has_no,
                            hr_error *err)
{
    *count = 0;
    *no = 0;
    hr_status st = gguf_get_u32(f, "split.count", count, NULL, err);
    if (st == HR_OK)
        st = gguf_get_u32(f, "split.no", no, has_no, err);
    return st;
}

hr_status gguf_open_set(const char *path, gguf_file **files_out, uint32_t *n_out, hr_error *err)
{
    *files_out = NULL;
    *n_out = 0;
    gguf_file given;
    hr_status st = gguf_file_open(path, &given, err);
    if (st != HR_OK)
        return st;
    uint32_t count, no;
    bool has_no;
    if ((st = split_keys(&given, &count, &no, &has_no, err)) != HR_OK) {
        gguf_file_close(&given);
        return st;
    }
    uint32_t n = count > 1 ? count : 1;
    if (n > HR_MODEL_MAX_FILES) {
        gguf_file_close(&given);
        return hr_error_set(err, HR_ERR_LIMIT, "%s: split.count %u is over the limit of %d shards",
                            path, count, HR_MODEL_MAX_FILES);
    }
    gguf_split_name name = {0};
    if (n > 1 && (!gguf_split_parse(path, &name) || name.count != n ||
                  (has_no && no != name.no - 1))) {
        gguf_file_close(&given);
        return hr_error_set(err, HR_ERR_FORMAT,
                            "%s: shard %u of a %u-file split set, but the file name does not "
                            "follow NAME-%05u-of-%05u.gguf",
                            path, no + 1, n, no + 1, n);
    }
    gguf_file *files = calloc(n, sizeof *files);
    if (!files) {
        gguf_file_close(&given);
        return hr_error_set(err, HR_ERR_NOMEM, "%s: out of memory", path);
    }
    uint32_t given_index = n > 1 ? name.no - 1 : 0;
    files[given_index] = given;
    for (uint32_t i = 0; i < n && st == HR_OK; i++) {
        if (i == given_index)
            continue;
        char shard[4096];
        if (!gguf_split_path(shard, sizeof shard, path, &name, i + 1)) {
            st = hr_error_set(err, HR_ERR_ARG, "%s: shard path too long", path);
            break;
        }
        st = gguf_file_open(shard, &files[i], err);
        if (st == HR_ERR_IO)
            st = hr_error_set(err, HR_ERR_IO, "%s: shard %u of %u of this split set is missing: %s",
                              path, i + 1, n, shard);
    }
    for (uint32_t i = 0; i < n && st == HR_OK && n > 1; i++) {
        uint32_t c, s;
        bool h;
        if ((st = split_keys(&files[i], &c, &s, &h, err)) != HR_OK)
            break;
        if (c != n || (h && s != i))
            st = hr_error_set(err, HR_ERR_FORMAT,
                              "%s: shard %u of the split set says split.no %u, split.count %u "
                              "(expected %u of %u)",
                              path, i + 1, s, c, i, n);
    }
    if (st != HR_OK) {
        gguf_close_set(files, n);
        return st;
    }
    *files_out = files;
    *n_out = n;
    return HR_OK;
}
