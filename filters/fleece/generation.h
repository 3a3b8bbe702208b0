/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: building one generation (struct snap, snapshot.h):
 * its per-disk state before the freeze, its descriptions after the
 * thaw.  Called only by the lifecycle, with its mutex held; nothing
 * here touches the barrier.
 */
#ifndef FLEECE_GENERATION_H
#define FLEECE_GENERATION_H

#include <stddef.h>

#include "snapshot.h"

/* Before the freeze: a generation of every disk (fleece_disks), all
 * blocks clean, each disk's size asked of the plugin now through a
 * context of its own.  Everything slow is here.  NULL after
 * nbdkit_error.
 */
extern struct snap *generation_new (void);

/* Free it (NULL is ignored). */
extern void generation_free (struct snap *);

/* At the switch: taken_at is now (UTC). */
extern void generation_stamp (struct snap *);


/* After the thaw: the snapshot's description and each disk's export
 * description (generation, instant, consistency).
 */
extern void generation_describe (struct snap *);

#endif /* FLEECE_GENERATION_H */
