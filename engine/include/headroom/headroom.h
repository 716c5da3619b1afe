/* headroom — memory planning for llama.cpp and transformers models.
 *
 * Umbrella header: include this one. Every public name starts with hr_ /
 * HR_. The engine is a pure library: it never prints, exits or touches the
 * terminal; errors come back as hr_status + hr_error.
 */
#ifndef HEADROOM_H
#define HEADROOM_H

#define HEADROOM_VERSION_MAJOR 0
#define HEADROOM_VERSION_MINOR 1
#define HEADROOM_VERSION_PATCH 0

#include "headroom/error.h"
#include "headroom/types.h"
#include "headroom/model.h"
#include "headroom/quant.h"
#include "headroom/preset.h"
#include "headroom/plan.h"
#include "headroom/solve.h"
#include "headroom/devices.h"
#include "headroom/catalog.h"
#include "headroom/scenario.h"
#include "headroom/llamalog.h"
#include "headroom/loader.h"

#ifdef __cplusplus
extern "C" {
#endif

/* "0.1.0" */
HR_API const char *hr_version(void);

#ifdef __cplusplus
}
#endif
#endif
