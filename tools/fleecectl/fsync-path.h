/* SPDX-License-Identifier: BSD-3-Clause */
/* fleecectl: make a file or a directory durable (backup, restore). */
#ifndef FLEECECTL_FSYNC_PATH_H
#define FLEECECTL_FSYNC_PATH_H

/* open path read-only with flags (0, or O_DIRECTORY for a directory:
 * after a rename in it), fsync, close.  0, or -1 with errno.
 */
extern int fsync_path (const char *path, int flags);

#endif /* FLEECECTL_FSYNC_PATH_H */
