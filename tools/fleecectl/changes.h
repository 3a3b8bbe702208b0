/* SPDX-License-Identifier: BSD-3-Clause */
/* fleecectl: changes --since ID [--disk NAME]: the ranges of the
 * active snapshot that may differ from checkpoint ID's, page after
 * page ("next"), merged across pages; then the total dirty bytes in
 * IEC units.  With --json, each reply line as it came.
 */
#ifndef FLEECECTL_CHANGES_H
#define FLEECECTL_CHANGES_H

#include "conn.h"
#include "options.h"

/* EXIT_SUCCESS; errors end the program (request.h). */
extern int changes (const struct options *o, struct conn *c);

#endif /* FLEECECTL_CHANGES_H */
