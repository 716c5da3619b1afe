/* Placeholder: replaced by the module's real implementation. */
#include "headroom/headroom.h"
hr_status hr_preset_load(const char *d, const char *p, hr_model **o, hr_error *e) { (void)d; (void)o; return hr_error_set(e, HR_ERR_UNSUPPORTED, "%s: presets not built yet", p); }
