/* nbdkit-fleece: vmdisk, guest quiesce through libvirt.
 *
 * Design: every operation (resolve, freeze, thaw, status) is one job
 * run on its own detached worker thread: connect if needed, look the
 * domain up by UUID or name (every time: the domain may be defined,
 * started or restarted while nbdkit runs), check it is running, then
 * make the one libvirt call.  The caller waits for the job on a
 * condition variable until the deadline and then gives up waiting;
 * that is the hard bound, whatever libvirt or libvirtd do.
 * libvirt's own bound is the domain's agent response timeout, which
 * by default is "block forever": with set-agent-timeout (the default)
 * each agent call first sets it to the seconds left before the
 * deadline, so libvirtd also gives up and releases the domain's agent
 * job (otherwise an abandoned freeze would hold that job and block our
 * own thaw).  guest-fsfreeze-status passes its timeout directly.
 *
 * States of a job: running -> done (results valid), or running ->
 * abandoned (the caller left; the worker finishes alone and frees the
 * job).  Each job has two references (caller and worker) counted
 * under job->lock; the last one frees it.
 *
 * The connection: cached in conn, made by the first job (that is,
 * after nbdkit forked), and re-made when a call fails with a
 * connection error (libvirtd restarted): the domain lookup, which is
 * the first call of every job, is then retried once on a new
 * connection.  Jobs hold their own reference (virConnectRef), so the
 * cache may be replaced while an abandoned job still runs.
 *
 * Errors: the worker turns virGetLastError (thread-local, so read on
 * the worker) into one line naming the domain, the cause and the fix,
 * followed by libvirt's own message.
 *
 * Not handled: an abandoned call still running in libvirtd at unload;
 * close waits a bounded time for workers, then leaves.
 *
 * Locking: conn is only touched by callers, which quiesce.c
 * serialises.  nr_workers is protected by workers_lock.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/libvirt.h>
#include <libvirt/libvirt-qemu.h>
#include <libvirt/virterror.h>
#include <nbdkit-plugin.h>

#include "cleanup.h"
#include "monotime.h"
#include "qga-libvirt.h"
#include "qga-libvirt-errors.h"
#include "qga-reply.h"

enum op { OP_RESOLVE, OP_FREEZE, OP_THAW, OP_STATUS };
static const char *const op_names[] = {
  "look up", "freeze", "thaw", "guest-fsfreeze-status"
};

struct job {
  pthread_mutex_t lock;         /* protects refs, done */
  pthread_cond_t cond;          /* signalled when done */
  unsigned refs;
  bool done;
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
static pthread_mutex_t workers_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t workers_cond = PTHREAD_COND_INITIALIZER;
static unsigned nr_workers;

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
open_domain (struct job *job)
{
  virDomainPtr dom = NULL;
  int attempt, active;

  for (attempt = 0; attempt < 2 && dom == NULL; attempt++) {
    if (job->conn == NULL) {
      job->conn = virConnectOpen (uri);
      if (job->conn == NULL) {
        lv_error_reason (domain, "connect", job->reason,
                       sizeof job->reason);
        return NULL;
      }
    }
    dom = lookup (job->conn);
    if (dom == NULL) {
      lv_error_reason (domain, "look up", job->reason, sizeof job->reason);
      job->gone = lv_error_no_domain ();
      if (attempt > 0 || !lv_error_conn_dead ())
        return NULL;
      nbdkit_debug ("vmdisk: libvirt connection lost, reconnecting");
      virConnectClose (job->conn);
      job->conn = NULL;
    }
  }
  if (dom == NULL)
    return NULL;
  virDomainGetUUIDString (dom, job->uuid);
  active = virDomainIsActive (dom);
  if (active != 1) {
    job->gone = active == 0;
    if (active == 0)
      qga_reasonf (job->reason, sizeof job->reason, "libvirt domain '%s': "
                   "domain is not running (start it; quiescing needs a "
                   "running guest)", domain);
    else
      lv_error_reason (domain, "check state of", job->reason,
                       sizeof job->reason);
    virDomainFree (dom);
    return NULL;
  }
  return dom;
}

static void
bound_agent (struct job *job, virDomainPtr dom)
{
  if (!set_timeout)
    return;
  if (virDomainAgentSetResponseTimeout (dom, job->agent_timeout, 0) == -1) {
    virErrorPtr e = virGetLastError ();

    nbdkit_debug ("vmdisk: domain '%s': cannot set the agent response "
                  "timeout (%s); only our own wait is bounded", domain,
                  e && e->message ? e->message : "unknown error");
  }
}

static int
agent_status (struct job *job, virDomainPtr dom)
{
  char *text;
  json_object *reply, *ret;
  char why[400] = "";
  int r = -1;

  text = virDomainQemuAgentCommand (dom, "{\"execute\":"
                                    "\"guest-fsfreeze-status\"}",
                                    job->agent_timeout, 0);
  if (text == NULL) {
    lv_error_reason (domain, "query (guest-fsfreeze-status)", job->reason,
                       sizeof job->reason);
    return -1;
  }
  if (vmdisk_debug_agent)
    nbdkit_debug ("agent domain %s < %s", domain, text);
  reply = qga_reply_parse (text, "guest-fsfreeze-status", why, sizeof why);
  if (reply && qga_reply_return (reply, "guest-fsfreeze-status", &ret,
                                 why, sizeof why) == 0)
    r = qga_reply_status (ret, why, sizeof why);
  if (r == -1)
    qga_reasonf (job->reason, sizeof job->reason, "libvirt domain '%s': %s",
                 domain, why);
  json_object_put (reply);
  free (text);
  return r;
}

static void
run_op (struct job *job, virDomainPtr dom)
{
  switch (job->op) {
  case OP_RESOLVE:
    job->r = 0;
    break;
  case OP_FREEZE:
    bound_agent (job, dom);
    job->r = virDomainFSFreeze (dom, (const char **) job->mountpoints,
                                job->nr, 0);
    if (job->r == -1)
      lv_error_reason (domain, "freeze the filesystems of", job->reason,
                       sizeof job->reason);
    else if ((size_t) job->r < job->nr) {
      qga_reasonf (job->reason, sizeof job->reason, "libvirt domain '%s': "
                   "mountpoint not found: the guest froze %d of the %zu "
                   "mountpoints given (check mountpoint=)", domain,
                   job->r, job->nr);
      job->r = -1;
    }
    break;
  case OP_THAW:
    bound_agent (job, dom);
    job->r = virDomainFSThaw (dom, NULL, 0, 0);
    if (job->r == -1)
      lv_error_reason (domain, "thaw the filesystems of", job->reason,
                       sizeof job->reason);
    break;
  case OP_STATUS:
    job->r = agent_status (job, dom);
    break;
  }
}

static void
job_unref (struct job *job)
{
  bool last;

  pthread_mutex_lock (&job->lock);
  last = --job->refs == 0;
  pthread_mutex_unlock (&job->lock);
  if (!last)
    return;
  if (job->conn)
    virConnectClose (job->conn);
  pthread_mutex_destroy (&job->lock);
  pthread_cond_destroy (&job->cond);
  free (job);
}

static void *
worker (void *vp)
{
  struct job *job = vp;
  virDomainPtr dom;

  job->r = -1;
  dom = open_domain (job);
  if (dom) {
    run_op (job, dom);
    virDomainFree (dom);
  }
  if (job->r == -1)
    job->conn_dead = lv_error_conn_dead ();
  pthread_mutex_lock (&job->lock);
  job->done = true;
  pthread_cond_broadcast (&job->cond);
  pthread_mutex_unlock (&job->lock);
  job_unref (job);
  pthread_mutex_lock (&workers_lock);
  nr_workers--;
  pthread_cond_broadcast (&workers_cond);
  pthread_mutex_unlock (&workers_lock);
  return NULL;
}

static struct job *
new_job (enum op op, char *const *mountpoints, size_t nr, uint64_t left)
{
  struct job *job = calloc (1, sizeof *job);
  pthread_condattr_t attr;

  if (job == NULL)
    return NULL;
  if (pthread_condattr_init (&attr) != 0) {
    free (job);
    return NULL;
  }
  pthread_condattr_setclock (&attr, CLOCK_MONOTONIC);
  pthread_mutex_init (&job->lock, NULL);
  pthread_cond_init (&job->cond, &attr);
  pthread_condattr_destroy (&attr);
  job->refs = 2;
  job->op = op;
  job->mountpoints = mountpoints;
  job->nr = nr;
  job->agent_timeout = (int) ((left + NS_PER_SEC - 1) / NS_PER_SEC);
  if (conn) {
    virConnectRef (conn);
    job->conn = conn;
  }
  return job;
}

/* Wait until the job is done or the deadline passes.  True if done. */
static bool
wait_job (struct job *job, uint64_t deadline)
{
  struct timespec ts = { .tv_sec = deadline / NS_PER_SEC,
                         .tv_nsec = deadline % NS_PER_SEC };
  bool done;

  pthread_mutex_lock (&job->lock);
  while (!job->done &&
         pthread_cond_timedwait (&job->cond, &job->lock, &ts) != ETIMEDOUT)
    ;
  done = job->done;
  pthread_mutex_unlock (&job->lock);
  return done;
}

/* After a finished job: cache its connection, or drop a dead one. */
static void
adopt_conn (struct job *job)
{
  if (job->conn_dead || job->conn != conn) {
    if (conn)
      virConnectClose (conn);
    conn = NULL;
  }
  if (!job->conn_dead && job->conn && conn == NULL) {
    virConnectRef (job->conn);
    conn = job->conn;
  }
}

/* Start a job and wait for it until deadline.  Returns its result;
 * on -1 the reason says why (or that we stopped waiting).
 */
static int
run_job (enum op op, uint64_t deadline, char *const *mountpoints,
         size_t nr, char *uuid, size_t uuid_len, char *reason, size_t len)
{
  struct job *job = NULL;
  pthread_attr_t tattr;
  pthread_t thread;
  uint64_t now = monotime_ns ();
  int err = ENOMEM, r = -1;
  bool done;

  if (now < deadline)
    job = new_job (op, mountpoints, nr, deadline - now);
  if (job == NULL) {
    qga_reasonf (reason, len, "libvirt domain '%s': cannot %s: %s", domain,
                 op_names[op], now >= deadline ? "no time left before the "
                 "deadline" : "out of memory");
    return -1;
  }
  pthread_mutex_lock (&workers_lock);
  nr_workers++;
  pthread_mutex_unlock (&workers_lock);
  err = pthread_attr_init (&tattr);
  if (err == 0) {
    pthread_attr_setdetachstate (&tattr, PTHREAD_CREATE_DETACHED);
    err = pthread_create (&thread, &tattr, worker, job);
    pthread_attr_destroy (&tattr);
  }
  if (err != 0) {
    errno = err;
    qga_reasonf (reason, len, "libvirt domain '%s': cannot start a thread "
                 "to %s: %m", domain, op_names[op]);
    pthread_mutex_lock (&workers_lock);
    nr_workers--;
    pthread_mutex_unlock (&workers_lock);
    job->refs = 1;
    job_unref (job);
    return -1;
  }
  done = wait_job (job, deadline);
  if (done) {
    r = job->r;
    if (r == -1)
      qga_reasonf (reason, len, "%s", job->reason);
    if (r == -1 && op == OP_STATUS && job->gone)
      r = 0;                    /* a guest that is not running is thawed */
    if (uuid)
      snprintf (uuid, uuid_len, "%s", job->uuid);
    adopt_conn (job);
  }
  else
    qga_reasonf (reason, len, "libvirt domain '%s': no answer to %s within "
                 "%" PRIu64 " ms (libvirtd or the guest agent is stuck; the "
                 "call goes on in the background)", domain, op_names[op],
                 (deadline - now) / NS_PER_MS);
  job_unref (job);
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
static void
close_backend (void)
{
  uint64_t end = monotime_ns () + 2 * NS_PER_SEC;
  struct timespec ts = { .tv_sec = end / NS_PER_SEC,
                         .tv_nsec = end % NS_PER_SEC };

  if (conn)
    virConnectClose (conn);
  conn = NULL;
  pthread_mutex_lock (&workers_lock);
  while (nr_workers > 0 &&
         pthread_cond_timedwait (&workers_cond, &workers_lock, &ts) == 0)
    ;
  if (nr_workers > 0)
    nbdkit_debug ("vmdisk: %u libvirt call(s) still running at unload",
                  nr_workers);
  pthread_mutex_unlock (&workers_lock);
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
  pthread_condattr_t attr;

  virInitialize ();
  virSetErrorFunc (NULL, ignore_error);
  uri = uri_;
  domain = domain_;
  set_timeout = set_agent_timeout;
  if (pthread_condattr_init (&attr) == 0) {
    pthread_condattr_setclock (&attr, CLOCK_MONOTONIC);
    pthread_cond_destroy (&workers_cond);
    pthread_cond_init (&workers_cond, &attr);
    pthread_condattr_destroy (&attr);
  }
  return &backend;
}
