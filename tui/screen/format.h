/* Unit formatting for the planner: the only arithmetic the UI does on engine figures. */
#ifndef HR_TUI_FORMAT_H
#define HR_TUI_FORMAT_H

#include <stddef.h>
#include <stdint.h>

/* "1.23 GiB", "456.7 MiB", "12.0 KiB", "17 B" (binary units). */
void fmt_bytes(char *buf, size_t len, uint64_t bytes);
/* Signed variant for headroom: "-1.20 GiB". */
void fmt_bytes_signed(char *buf, size_t len, int64_t bytes);
/* Always GiB with two decimals ("24.00"), for bar captions. */
void fmt_gib(char *buf, size_t len, uint64_t bytes);
/* "8.03B", "494M" parameters. */
void fmt_params(char *buf, size_t len, uint64_t n);
/* "4k", "128k", "256" for context sizes on axes. */
void fmt_count_short(char *buf, size_t len, uint64_t n);



/* Copy src into dst (len bytes), cutting it short if needed; always terminated. */
void text_copy(char *dst, size_t len, const char *src);

#endif
