/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: running control commands (see cmd.h).
 *
 * Each command is one call into the snapshot lifecycle (snapshot.h);
 * its outcome becomes one reply.  Errors: snapshot-begin failing is
 * "snapshot-failed" with the lifecycle's reason, or "not-consistent"
 * when quiesce=require refuses to adopt an active crash-consistent
 * snapshot; snapshot-end with nothing active is "not-active".  Every command that changes
 * state is logged with nbdkit_debug.  No state of its own, no locks.
 */
#include <config.h>

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <nbdkit-filter.h>

#include "cbt.h"
#include "changes.h"
#include "cleanup.h"
#include "cmd.h"
#include "disks.h"
#include "fleece.h"
#include "history.h"
#include "progress.h"
#include "proto.h"
#include "quiesce.h"
#include "snapshot.h"
#include "stats.h"
#include "status.h"
#include "store.h"

/* "checkpoint": the id of changed-block tracking's checkpoint gen, or
 * null (no tracking, or no snapshot).  0 or -1.
 */
static int
checkpoint_fill (json_object *r, uint64_t gen)
{
  char id[128];

  if (gen == 0)
    return json_object_object_add (r, "checkpoint", NULL);
  cbt_checkpoint_id (gen, id, sizeof id);
  return json_object_object_add (r, "checkpoint",
                                 json_object_new_string (id));
}

/* The members of a snapshot-begin reply beyond generation and
 * description.  0 or -1.
 */
static int
begun_fill (json_object *r, const struct snapshot_begun *b)
{
  bool app = b->frozen > 0;

  if (checkpoint_fill (r, b->checkpoint) == -1 ||
      json_object_object_add (r, "created",
                              json_object_new_boolean (b->created)) == -1 ||
      json_object_object_add (r, "consistency",
                              json_object_new_string
                              (app ? "application-consistent"
                               : "crash-consistent")) == -1)
    return -1;
  return json_object_object_add (r, "consistency-reason", app ? NULL
                                 : json_object_new_string (b->reason));
}

/* The filter's quiesce= mode for the protocol's "quiesce". */
static enum quiesce_mode
mode_of (enum control_quiesce q)
{
  switch (q) {
  case CONTROL_QUIESCE_AUTO: return QUIESCE_AUTO;
  case CONTROL_QUIESCE_REQUIRE: return QUIESCE_REQUIRE;
  case CONTROL_QUIESCE_OFF: return QUIESCE_OFF;
  case CONTROL_QUIESCE_DEFAULT: break;
  }
  return QUIESCE_DEFAULT;
}

static char *
run_begin (const struct control_request *req)
{
  struct snapshot_begun b;
  json_object *r;
  char why[512];
  int e;

  e = snapshot_begin (mode_of (req->quiesce), req->fresh, &b,
                      why, sizeof why);
  if (e != 0) {
    nbdkit_debug ("fleece: control: snapshot-begin failed: %s", why);
    return control_error_line (req->id, e == SNAPSHOT_NOT_CONSISTENT ?
                               "not-consistent" : "snapshot-failed", why);
  }
  nbdkit_debug ("fleece: control: snapshot-begin: generation %" PRIu64
                " %s and pinned", b.generation,
                b.created ? "created" : "adopted");
  r = control_reply_ok (req->id);
  if (r && (control_generation_fill (r, b.generation, b.description) == -1 ||
            begun_fill (r, &b) == -1)) {
    json_object_put (r);
    r = NULL;
  }
  return control_reply_line (r);
}

static char *
run_end (const struct control_request *req)
{
  json_object *r;
  uint64_t gen = 0;
  char why[512];

  if (snapshot_end (&gen, why, sizeof why) == -1)
    return control_error_line (req->id, "not-active", why);
  nbdkit_debug ("fleece: control: snapshot-end: generation %" PRIu64
                " ended", gen);
  r = control_reply_ok (req->id);
  if (r && control_generation_fill (r, gen, NULL) == -1) {
    json_object_put (r);
    r = NULL;
  }
  return control_reply_line (r);
}

static void
gather (struct control_figures *f)
{
  struct fleece_stats *s = &fleece_stats;
  size_t i;

  snapshot_status (&f->snap);
  f->copy_count = __atomic_load_n (&s->copy.count, __ATOMIC_RELAXED);
  f->copy_mean_ns = latency_mean (&s->copy);
  f->copy_p99_ns = latency_p99 (&s->copy);
  f->bytes_copied = __atomic_load_n (&s->bytes_copied, __ATOMIC_RELAXED);
  f->live_writes = __atomic_load_n (&s->live_writes, __ATOMIC_RELAXED);
  f->live_mean_ns = latency_mean (&s->live_added);
  f->live_p99_ns = latency_p99 (&s->live_added);
  f->bytes_read = __atomic_load_n (&s->bytes_read, __ATOMIC_RELAXED);
  f->data_known = true;
  f->ndisks = fleece_ndisks;
  for (i = 0; i < f->ndisks; i++) {
    struct control_disk_figures *d = &f->disk[i];
    d->name = fleece_disks[i].name;
    d->export = fleece_disks[i].snap;
    d->data_known = progress_data_bytes (i, f->snap.info.generation,
                                         &d->data_bytes);
    d->store_bytes = store_bytes (fleece_disks[i].store);
    f->data_known &= d->data_known;
    f->data_bytes += d->data_bytes;
    f->store_bytes += d->store_bytes;
  }
  f->store_limit = fleece_cfg.max_size;
  f->block_size = fleece_cfg.block_size;
  f->pin_max_age_ns = fleece_cfg.pin_max_age_ns;
  history_totals (&f->totals);
  f->has_last = history_last (&f->last);
}

static char *
run_status (const struct control_request *req)
{
  CLEANUP_FREE struct control_figures *f = calloc (1, sizeof *f);
  json_object *r = f ? control_reply_ok (req->id) : NULL;

  if (r)
    gather (f);
  if (r && (control_status_fill (r, f) == -1 ||
            checkpoint_fill (r, f->snap.info.checkpoint) == -1)) {
    json_object_put (r);
    r = NULL;
  }
  return control_reply_line (r);
}

char *
control_command_line (const char *line, size_t len)
{
  struct control_request req;
  char *reply = NULL;

  control_parse (line, len, &req);
  switch (req.command) {
  case CONTROL_NONE:
    reply = strdup ("");
    break;
  case CONTROL_INVALID:
    reply = control_error_line (req.id, req.error_code, req.error_message);
    break;
  case CONTROL_BEGIN:
    reply = run_begin (&req);
    break;
  case CONTROL_END:
    reply = run_end (&req);
    break;
  case CONTROL_STATUS:
    reply = run_status (&req);
    break;
  case CONTROL_CHANGES:
    reply = control_run_changes (&req);
    break;
  }
  control_request_free (&req);
  return reply;
}
