/* headroom — errors.
 *
 * Every fallible engine call returns an hr_status and, when the caller passes
 * a non-NULL hr_error, fills it with a one-line human message (no trailing
 * newline) that names the file and the problem where there is one.
 * The engine never prints, never exits, never aborts on bad input.
 * Thread safety: hr_error is plain caller-owned storage.
 */
#ifndef HEADROOM_ERROR_H
#define HEADROOM_ERROR_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef HR_API
#define HR_API __attribute__((visibility("default")))
#endif

typedef enum hr_status {
    HR_OK = 0,
    HR_ERR_IO,          /* cannot open / read / map a file */
    HR_ERR_FORMAT,      /* the file is not what it claims, or is corrupt / truncated */
    HR_ERR_UNSUPPORTED, /* valid input that headroom cannot handle (e.g. big-endian v2) */
    HR_ERR_LIMIT,       /* input asks for more than the safety limits allow */
    HR_ERR_NOMEM,       /* an allocation failed */
    HR_ERR_ARG,         /* a bad argument or setting from the caller */
    HR_ERR_NOT_FOUND,   /* a named preset / catalog entry / key does not exist */
    HR_ERR_NO_FIT       /* a solver found no setting that fits the budget */
} hr_status;

#define HR_ERROR_MESSAGE_MAX 512

typedef struct hr_error {
    hr_status status;
    char message[HR_ERROR_MESSAGE_MAX];
} hr_error;

/* Set *err (if non-NULL) and return status, printf-style. */
HR_API hr_status hr_error_set(hr_error *err, hr_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Clear an error to HR_OK / empty message. */
HR_API void hr_error_clear(hr_error *err);

/* Short stable name of a status ("format", "io", ...). */
HR_API const char *hr_status_name(hr_status status);

#ifdef __cplusplus
}
#endif
#endif
