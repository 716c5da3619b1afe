/* Error reporting: fill caller-owned hr_error, never print. */
#include <stdarg.h>
#include <stdio.h>

#include "headroom/error.h"

hr_status hr_error_set(hr_error *err, hr_status status, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->status = status;
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return status;
}

void hr_error_clear(hr_error *err)
{
    if (err) {
        err->status = HR_OK;
        err->message[0] = '\0';
    }
}

const char *hr_status_name(hr_status status)
{
    switch (status) {
    case HR_OK: return "ok";
    case HR_ERR_IO: return "io";
    case HR_ERR_FORMAT: return "format";
    case HR_ERR_UNSUPPORTED: return "unsupported";
    case HR_ERR_LIMIT: return "limit";
    case HR_ERR_NOMEM: return "nomem";
    case HR_ERR_ARG: return "argument";
    case HR_ERR_NOT_FOUND: return "not-found";
    case HR_ERR_NO_FIT: return "no-fit";
    }
    return "unknown";
}

#include "headroom/headroom.h"

const char *hr_version(void)
{
    return "0.1.0";
}
