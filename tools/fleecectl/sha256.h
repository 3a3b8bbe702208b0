/* SPDX-License-Identifier: BSD-3-Clause */
/* fleecectl: the SHA-256 of a file (nettle), for the manifests. */
#ifndef FLEECECTL_SHA256_H
#define FLEECECTL_SHA256_H

/* hex gets the 64 lowercase hex digits of path's SHA-256.  0, or -1
 * with errno.
 */
extern int sha256_file (const char *path, char hex[65]);

#endif /* FLEECECTL_SHA256_H */
