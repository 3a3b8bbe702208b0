/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: the filter's parameters (.config, .config_complete,
 * .config_help).  They fill fleece_cfg (fleece.h).
 */
#ifndef FLEECE_PARAMS_H
#define FLEECE_PARAMS_H

#include <nbdkit-filter.h>

/* .config for one key: 1 if it is ours (accepted), 0 if not (pass it
 * on), -1 after nbdkit_error naming the key and the accepted values.
 */
extern int params_config (const char *key, const char *value);

/* .config_complete: defaults and cross-checks.  0 or -1. */
extern int params_complete (void);

/* .unload: free what the parameters allocated. */
extern void params_unload (void);

/* The changed-block tracking parameters (params-cbt.c), called by the
 * above: params_cbt_config as params_config, params_cbt_complete from
 * params_complete (cbt-granularity= against fleece-block-size=, its
 * default), params_cbt_unload from params_unload.
 */
extern int params_cbt_config (const char *key, const char *value);
extern int params_cbt_complete (void);
extern void params_cbt_unload (void);

/* One line per parameter, quiesce and control ones included. */
extern const char params_help[];

/* Around passing key down to the plugin in .config: params_hint_arm
 * (key) before, params_hint_arm (NULL) after.  If the plugin refuses
 * key (nbdkit then exits before next() returns) and key looks like a
 * mistyped fleece parameter, one more error line says which one
 * (params-hint.c).
 */
extern void params_hint_arm (const char *key);

#endif /* FLEECE_PARAMS_H */
