/* SPDX-License-Identifier: BSD-3-Clause */
/* fleecectl: a backup's manifest.json (fleecectl(1), FILES), in
 * memory and on disk.
 *
 * Strings are malloc'd and owned by the manifest; NULL stands for
 * JSON null.  Reading checks the format name and the type of every
 * member, so that later code can trust what it reads.
 */
#ifndef FLEECECTL_MANIFEST_H
#define FLEECECTL_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#define MANIFEST_FORMAT "nbdkit-fleece-backup/1"

struct mdisk {
  char *name;                   /* "" for a single-disk server */
  char *export;                 /* its snapshot export */
  char *file;                   /* NAME.qcow2, or disk.qcow2 */
  char *backing;                /* "../PARENT/FILE" or NULL */
  uint64_t size;                /* virtual size */
  uint64_t examined, copied, zeroed;
  uint64_t file_size;           /* of the qcow2 file */
  char sha256[65];              /* of the qcow2 file, hex */
};

struct manifest {
  char *name, *kind, *parent, *full_reason, *checkpoint;
  int64_t generation;
  char *taken_at, *started_at, *finished_at;
  char *consistency, *consistency_reason, *description;
  size_t ndisks;
  struct mdisk *disks;
};

/* The manifest as a JSON object (a new reference). */
extern json_object *manifest_json (const struct manifest *m);

/* Write dir/manifest.json: a temporary file, fsynced, renamed.  0, or
 * -1 with errno.
 */
extern int manifest_write (const char *dir, const struct manifest *m);

/* Read dir/manifest.json into m.  0, or -1 with a sentence in err
 * (m then needs no freeing).
 */
extern int manifest_read (const char *dir, struct manifest *m, char *err,
                          size_t len);

/* Free what m holds. */
extern void manifest_free (struct manifest *m);

#endif /* FLEECECTL_MANIFEST_H */
