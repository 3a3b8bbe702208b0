/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: quiesce, the state directory rule. */
#ifndef QUIESCE_STATE_DIR_H
#define QUIESCE_STATE_DIR_H

#include <stdbool.h>
#include <stddef.h>

/* Check the state directory dir, given by the parameter param (for
 * messages), by the rule that marker_check_dir documents (marker.h).
 * 0, or -1 with a reason naming param and the fix.
 */
extern int state_dir_check (const char *dir, const char *param,
                            bool as_user, char *reason, size_t len);

#endif /* QUIESCE_STATE_DIR_H */
