/* Shared helpers for the cmocka suites: temp dirs, files, running the binary. */
#ifndef HR_TEST_UTIL_H
#define HR_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

/* mkdtemp under $TMPDIR (or /tmp); returns a malloc'd path. */
char *tu_make_temp_dir(const char *tag);
/* rm -rf dir (only paths made by tu_make_temp_dir). */
void tu_remove_tree(const char *dir);
/* Join into a malloc'd path. */
char *tu_path(const char *dir, const char *name);
/* Write bytes to path; returns 0 on success. */
int tu_write_file(const char *path, const void *data, size_t len);
int tu_write_text(const char *path, const char *text);
/* Read a whole file (malloc'd, NUL-terminated); NULL on failure. */
char *tu_read_file(const char *path, size_t *len);
/* Truncate/extend a file to size bytes. */
int tu_truncate(const char *path, uint64_t size);

/* The headroom binary under test ($HEADROOM_BIN). */
const char *tu_headroom_bin(void);

typedef struct tu_run_result {
    int exit_code;  /* -1 if it did not exit normally (signal) */
    char *out;      /* stdout, malloc'd */
    char *err;      /* stderr, malloc'd */
} tu_run_result;

/* Run argv (argv[0] = program path) with no stdin; capture stdout/stderr. */
int tu_run(char *const argv[], tu_run_result *res);
/* Convenience: run the headroom binary with printf-formatted, space-separated
 * arguments (no quoting: arguments must not contain spaces). */
int tu_run_headroom(tu_run_result *res, const char *fmt, ...);
void tu_run_free(tu_run_result *res);

#endif
