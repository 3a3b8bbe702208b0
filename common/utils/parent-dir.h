/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: can this process create a file at a path?
 *
 * For paths that nbdkit makes only after it forks into the background
 * (the control socket, a state directory): checked in .config_complete,
 * a mistake stops nbdkit in the foreground with a message, instead of
 * killing the background process after the parent has exited 0.
 *
 * Checked as the user nbdkit starts as (effective ids).  Not handled:
 * nbdkit -u/-g switches user after the check; started as root, every
 * permission check passes, so the switched user can still fail later.
 */
#ifndef FLEECE_PARENT_DIR_H
#define FLEECE_PARENT_DIR_H

#include <stddef.h>

/* path is absolute.  Its parent directory must exist, be a directory
 * and be writable and searchable by this process.  Returns 0, or -1
 * with errno set (ENOENT: the parent does not exist; ENOTDIR: it or
 * one of its ancestors is not a directory; EACCES, EROFS: it cannot
 * be written; ENAMETOOLONG) and the parent's path in
 * parent[parent_len] (also on success).
 */
extern int parent_dir_check (const char *path, char *parent,
                             size_t parent_len);

#endif /* FLEECE_PARENT_DIR_H */
