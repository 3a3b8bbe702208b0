/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: quiesce, guest quiesce through libvirt.
 *
 * Design: every operation (resolve, freeze, thaw, status) is one call:
 * connect if needed, look the domain up by UUID or name (every time:
 * the domain may be defined, started or restarted while nbdkit runs),
 * check it is running, then make the one libvirt call.  Each call runs
 * as a bounded job (job.h) on its own detached worker thread, which the
 * caller waits for until the deadline and then gives up waiting; that
 * is the hard bound, whatever libvirt or libvirtd do.  libvirt's own
 * bound is the domain's agent response timeout, which by default is
 * "block forever": with set-agent-timeout (the default) each agent
 * call first sets it to the seconds left before the deadline, so
 * libvirtd also gives up and releases the domain's agent job
 * (otherwise an abandoned freeze would hold that job and block our own
 * thaw).  guest-fsfreeze-status passes its timeout directly.
 *
 * A struct call holds one call's parameters and results.  It belongs
 * to its job: the worker writes the results, the caller reads them
 * only if the job is done, and the job frees the call (and its
 * connection reference) when both have let go.
 *
 * The connection: cached in conn, made by the first call (that is,
 * after nbdkit forked), and re-made when a call fails with a
 * connection error (libvirtd restarted): the domain lookup, which is
 * the first step of every call, is then retried once on a new
 * connection.  Calls hold their own reference (virConnectRef), so the
 * cache may be replaced while an abandoned call still runs.
 *
 * Errors: the worker turns virGetLastError (thread-local, so read on
 * the worker) into one line naming the domain, the cause and the fix,
 * followed by libvirt's own message.
 *
 * Not handled: an abandoned call still running in libvirtd at unload;
 * close waits a bounded time for workers (qga_job_drain), then leaves
 * and says how many still run, so that the caller keeps uri, domain
 * and the mountpoints (which they read) allocated.
 *
 * Locking: conn is only touched by callers, which the guard
 * serialises (backend.h); a call's fields as job.h says.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/libvirt.h>
#include <libvirt/libvirt-qemu.h>
#include <libvirt/virterror.h>
#include <nbdkit-plugin.h>

#include "monotime.h"
#include "job.h"
#include "libvirt.h"
#include "libvirt-errors.h"
#include "agent-reply.h"

enum op { OP_RESOLVE, OP_FREEZE, OP_THAW, OP_STATUS };
static const char *const op_names[] = {
  "look up", "freeze", "thaw", "guest-fsfreeze-status"
};

struct call {
  enum op op;
  char *const *mountpoints;
  size_t nr;
  int agent_timeout;            /* seconds */
  virConnectPtr conn;           /* our reference, or NULL */
  /* Results, written by the worker before done. */
  int r;
  char uuid[VIR_UUID_STRING_BUFLEN];
  bool conn_dead;               /* the last call lost the connection */
  bool gone;                    /* domain not running or not defined */
  char reason[512];
};

static const char *uri, *domain;
static bool set_timeout;
static virConnectPtr conn;

static void
describe (char *buf, size_t len)
{
  snprintf (buf, len, "libvirt domain '%s' on %s", domain,
            uri ? uri : "libvirt's default URI");
}

static virDomainPtr
lookup (virConnectPtr c)
{
  virDomainPtr dom = NULL;

  if (strlen (domain) == VIR_UUID_STRING_BUFLEN - 1 ||
      strlen (domain) == 2 * VIR_UUID_BUFLEN) {
    dom = virDomainLookupByUUIDString (c, domain);
    if (dom)
      return dom;
  }
  return virDomainLookupByName (c, domain);
}

/* Connect (or reuse), find the domain, check it runs.  NULL on error. */
static virDomainPtr
open_domain (struct call *call)
{
  virDomainPtr dom = NULL;
  int attempt, active;

  for (attempt = 0; attempt < 2 && dom == NULL; attempt++) {
    if (call->conn == NULL) {
      call->conn = virConnectOpen (uri);
      if (call->conn == NULL) {
        lv_error_reason (domain, "connect", call->reason,
                         sizeof call->reason);
        return NULL;
      }
    }
    dom = lookup (call->conn);
    if (dom == NULL) {
      lv_error_reason (domain, "look up", call->reason, sizeof call->reason);
      call->gone = lv_error_no_domain ();
      if (attempt > 0 || !lv_error_conn_dead ())
        return NULL;
      nbdkit_debug ("vmdisk: libvirt connection lost, reconnecting");
      virConnectClose (call->conn);
      call->conn = NULL;
    }
  }
  if (dom == NULL)
    return NULL;
  virDomainGetUUIDString (dom, call->uuid);
  active = virDomainIsActive (dom);
  if (active != 1) {
    call->gone = active == 0;
    if (active == 0)
      qga_reasonf (call->reason, sizeof call->reason, "libvirt domain '%s': "
                   "domain is not running (start it; quiescing needs a "
                   "running guest)", domain);
    else
      lv_error_reason (domain, "check state of", call->reason,
                       sizeof call->reason);
    virDomainFree (dom);
    return NULL;
  }
  return dom;
}

static void
bound_agent (struct call *call, virDomainPtr dom)
{
  if (!set_timeout)
    return;
  if (virDomainAgentSetResponseTimeout (dom, call->agent_timeout, 0) == -1) {
    virErrorPtr e = virGetLastError ();

    nbdkit_debug ("vmdisk: domain '%s': cannot set the agent response "
                  "timeout (%s); only our own wait is bounded", domain,
                  e && e->message ? e->message : "unknown error");
  }
}

static int
agent_status (struct call *call, virDomainPtr dom)
{
  char *text;
  json_object *reply, *ret;
  char why[400] = "";
  int r = -1;

  text = virDomainQemuAgentCommand (dom, "{\"execute\":"
                                    "\"guest-fsfreeze-status\"}",
                                    call->agent_timeout, 0);
  if (text == NULL) {
    lv_error_reason (domain, "query (guest-fsfreeze-status)", call->reason,
                     sizeof call->reason);
    return -1;
  }
  if (vmdisk_debug_agent)
    nbdkit_debug ("agent domain %s < %s", domain, text);
  reply = qga_reply_parse (text, "guest-fsfreeze-status", why, sizeof why);
  if (reply && qga_reply_return (reply, "guest-fsfreeze-status", &ret,
                                 why, sizeof why) == 0)
    r = qga_reply_status (ret, why, sizeof why);
  if (r == -1)
    qga_reasonf (call->reason, sizeof call->reason, "libvirt domain '%s': %s",
                 domain, why);
  json_object_put (reply);
  free (text);
  return r;
}

static void
run_op (struct call *call, virDomainPtr dom)
{
  switch (call->op) {
  case OP_RESOLVE:
    call->r = 0;
    break;
  case OP_FREEZE:
    bound_agent (call, dom);
    call->r = virDomainFSFreeze (dom, (const char **) call->mountpoints,
                                 call->nr, 0);
    if (call->r == -1)
      lv_error_reason (domain, "freeze the filesystems of", call->reason,
                       sizeof call->reason);
    else if ((size_t) call->r < call->nr) {
      qga_reasonf (call->reason, sizeof call->reason, "libvirt domain '%s': "
                   "mountpoint not found: the guest froze %d of the %zu "
                   "mountpoints given (check mountpoint=)", domain,
                   call->r, call->nr);
      call->r = -1;
    }
    break;
  case OP_THAW:
    bound_agent (call, dom);
    call->r = virDomainFSThaw (dom, NULL, 0, 0);
    if (call->r == -1)
      lv_error_reason (domain, "thaw the filesystems of", call->reason,
                       sizeof call->reason);
    break;
  case OP_STATUS:
    call->r = agent_status (call, dom);
    break;
  }
}

/* The job's fn: runs on the worker. */
static void
call_main (void *vp)
{
  struct call *call = vp;
  virDomainPtr dom;

  call->r = -1;
  dom = open_domain (call);
  if (dom) {
    run_op (call, dom);
    virDomainFree (dom);
  }
  if (call->r == -1)
    call->conn_dead = lv_error_conn_dead ();
}

/* The job's free_data: when the caller and the worker have let go. */
static void
free_call (void *vp)
{
  struct call *call = vp;

  if (call->conn)
    virConnectClose (call->conn);
  free (call);
}

/* A job for op, not started, with its call in *callp.  NULL if out of
 * memory.
 */
static struct qga_job *
new_job (enum op op, char *const *mountpoints, size_t nr, uint64_t left,
         struct call **callp)
{
  struct call *call = calloc (1, sizeof *call);
  struct qga_job *job = NULL;

  if (call)
    job = qga_job_new (call_main, free_call, call);
  if (job == NULL) {
    free (call);
    return NULL;
  }
  call->op = op;
  call->mountpoints = mountpoints;
  call->nr = nr;
  call->agent_timeout = (int) ((left + NS_PER_SEC - 1) / NS_PER_SEC);
  if (conn) {
    virConnectRef (conn);
    call->conn = conn;
  }
  *callp = call;
  return job;
}

/* After a finished call: cache its connection, or drop a dead one. */
static void
adopt_conn (struct call *call)
{
  if (call->conn_dead || call->conn != conn) {
    if (conn)
      virConnectClose (conn);
    conn = NULL;
  }
  if (!call->conn_dead && call->conn && conn == NULL) {
    virConnectRef (call->conn);
    conn = call->conn;
  }
}

/* Start a job and wait for it until deadline.  Returns its result;
 * on -1 the reason says why (or that we stopped waiting).
 */
static int
run_job (enum op op, uint64_t deadline, char *const *mountpoints,
         size_t nr, char *uuid, size_t uuid_len, char *reason, size_t len)
{
  struct call *call = NULL;
  struct qga_job *job = NULL;
  uint64_t now = monotime_ns ();
  int err, r = -1;

  if (now < deadline)
    job = new_job (op, mountpoints, nr, deadline - now, &call);
  if (job == NULL) {
    qga_reasonf (reason, len, "libvirt domain '%s': cannot %s: %s", domain,
                 op_names[op], now >= deadline ? "no time left before the "
                 "deadline" : "out of memory");
    return -1;
  }
  err = qga_job_start (job);
  if (err != 0) {
    errno = err;
    qga_reasonf (reason, len, "libvirt domain '%s': cannot start a thread "
                 "to %s: %m", domain, op_names[op]);
  }
  else if (qga_job_wait (job, deadline)) {
    r = call->r;
    if (r == -1)
      qga_reasonf (reason, len, "%s", call->reason);
    if (r == -1 && op == OP_STATUS && call->gone)
      r = 0;                    /* a guest that is not running is thawed */
    if (uuid)
      snprintf (uuid, uuid_len, "%s", call->uuid);
    adopt_conn (call);
  }
  else
    qga_reasonf (reason, len, "libvirt domain '%s': no answer to %s within "
                 "%" PRIu64 " ms (libvirtd or the guest agent is stuck; the "
                 "call goes on in the background)", domain, op_names[op],
                 (deadline - now) / NS_PER_MS);
  qga_job_release (job);
  return r;
}

static int
resolve (uint64_t deadline, char *id, size_t id_len, char *reason, size_t len)
{
  return run_job (OP_RESOLVE, deadline, NULL, 0, id, id_len, reason, len);
}

static int
freeze (uint64_t deadline, char *const *mountpoints, size_t nr,
        char *reason, size_t len)
{
  return run_job (OP_FREEZE, deadline, mountpoints, nr, NULL, 0,
                  reason, len);
}

static int
thaw (uint64_t deadline, char *reason, size_t len)
{
  return run_job (OP_THAW, deadline, NULL, 0, NULL, 0, reason, len);
}

static int
status (uint64_t deadline, char *reason, size_t len)
{
  return run_job (OP_STATUS, deadline, NULL, 0, NULL, 0, reason, len);
}

/* Drop the connection, then give running workers up to 2 seconds. */
static unsigned
close_backend (void)
{
  uint64_t end = monotime_ns () + 2 * NS_PER_SEC;
  unsigned left;

  if (conn)
    virConnectClose (conn);
  conn = NULL;
  left = qga_job_drain (end);
  if (left > 0)
    nbdkit_debug ("vmdisk: %u libvirt call(s) still running at unload",
                  left);
  return left;
}

/* libvirt prints every error on stderr by default; we report ours. */
static void
ignore_error (void *opaque, virErrorPtr e)
{
}

static const struct qga_backend backend = {
  .name = "libvirt",
  .describe = describe,
  .resolve = resolve,
  .freeze = freeze,
  .thaw = thaw,
  .status = status,
  .close = close_backend,
};

const struct qga_backend *
qga_libvirt_backend (const char *uri_, const char *domain_,
                     bool set_agent_timeout)
{
  virInitialize ();
  virSetErrorFunc (NULL, ignore_error);
  uri = uri_;
  domain = domain_;
  set_timeout = set_agent_timeout;
  qga_job_init ();
  return &backend;
}
