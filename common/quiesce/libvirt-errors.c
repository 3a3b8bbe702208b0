/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: quiesce, libvirt errors as one-line reasons.
 *
 * Design: a table from libvirt error codes to the cause a user can act
 * on and its fix.  Two causes share codes with others and are told
 * apart by libvirt's message: an agent command disabled in the guest
 * (reported as an internal error quoting the agent) and a mountpoint
 * the guest does not have (reported as an invalid operation on a
 * domain we already know is running).  libvirt's own text always
 * follows ours, so nothing is lost.  virGetLastError is per thread:
 * call these on the thread that made the failing call.  No state.
 */
#include <config.h>

#include <stdio.h>
#include <string.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "libvirt-errors.h"
#include "agent-reply.h"

static const struct {
  int code;
  const char *cause;
} causes[] = {
  { VIR_ERR_NO_DOMAIN, "domain not found (define it, or fix domain= or uri=)" },
  { VIR_ERR_OPERATION_INVALID,
    "domain is not running (start it; quiescing needs a running guest)" },
  { VIR_ERR_ARGUMENT_UNSUPPORTED,
    "no guest agent channel configured (add a virtio channel named "
    "org.qemu.guest_agent.0 to the domain)" },
  { VIR_ERR_AGENT_UNRESPONSIVE,
    "guest agent not answering (install and start qemu-guest-agent in "
    "the guest, or raise freeze-timeout=)" },
  { VIR_ERR_AGENT_UNSYNCED,
    "guest agent out of sync (it answered an older command; retry)" },
  { VIR_ERR_OPERATION_TIMEOUT,
    "timed out (the guest agent or libvirtd is busy; retry or raise "
    "freeze-timeout=)" },
  { VIR_ERR_NO_SUPPORT,
    "not supported by this libvirt driver (use a QEMU/KVM uri=)" },
  { VIR_ERR_AUTH_FAILED,
    "permission denied (run nbdkit as a user allowed to manage the domain, "
    "or fix uri=)" },
  { VIR_ERR_AUTH_CANCELLED,
    "permission denied (run nbdkit as a user allowed to manage the domain, "
    "or fix uri=)" },
  { VIR_ERR_AUTH_UNAVAILABLE,
    "permission denied (run nbdkit as a user allowed to manage the domain, "
    "or fix uri=)" },
  { VIR_ERR_ACCESS_DENIED,
    "permission denied (run nbdkit as a user allowed to manage the domain, "
    "or fix uri=)" },
  { VIR_ERR_OPERATION_DENIED,
    "permission denied (a read-only connection cannot freeze; fix uri=)" },
  { VIR_ERR_NO_CONNECT,
    "libvirtd unreachable (start libvirtd or virtqemud, or fix uri=)" },
  { VIR_ERR_SYSTEM_ERROR,
    "libvirtd unreachable (start libvirtd or virtqemud, or fix uri=)" },
  { VIR_ERR_RPC,
    "libvirtd unreachable (start libvirtd or virtqemud, or fix uri=)" },
  { VIR_ERR_INVALID_CONN,
    "libvirtd unreachable (start libvirtd or virtqemud, or fix uri=)" },
};

static const char *
cause_of (virErrorPtr e)
{
  size_t i;
  const char *msg = e->message ? e->message : "";

  if (strstr (msg, "has been disabled") || strstr (msg, "CommandNotFound"))
    return "guest agent command disabled in the guest (allow the "
      "guest-fsfreeze-* commands in qemu-ga's --allow-rpcs/--block-rpcs)";
  if (e->code == VIR_ERR_OPERATION_INVALID && strstr (msg, "mount"))
    return "mountpoint not found (check every mountpoint= is a mounted "
      "filesystem in the guest)";
  if (e->code == VIR_ERR_OPERATION_INVALID && strstr (msg, "agent"))
    return "no guest agent channel configured or connected (add a virtio "
      "channel named org.qemu.guest_agent.0 and run qemu-guest-agent)";
  for (i = 0; i < sizeof causes / sizeof causes[0]; i++)
    if (causes[i].code == e->code)
      return causes[i].cause;
  if (e->domain == VIR_FROM_RPC || e->domain == VIR_FROM_REMOTE)
    return "libvirtd unreachable (start libvirtd or virtqemud, or fix uri=)";
  return NULL;
}

void
lv_error_reason (const char *domain, const char *what,
                 char *reason, size_t len)
{
  virErrorPtr e = virGetLastError ();
  const char *cause;

  if (e == NULL) {
    qga_reasonf (reason, len, "libvirt domain '%s': cannot %s the domain "
                 "(libvirt gave no reason)", domain, what);
    return;
  }
  cause = cause_of (e);
  if (cause)
    qga_reasonf (reason, len, "libvirt domain '%s': %s: libvirt: %s",
                 domain, cause, e->message ? e->message : "");
  else
    qga_reasonf (reason, len, "libvirt domain '%s': cannot %s the domain: "
                 "libvirt: %s", domain, what, e->message ? e->message : "");
}

bool
lv_error_conn_dead (void)
{
  virErrorPtr e = virGetLastError ();

  if (e == NULL)
    return false;
  return e->code == VIR_ERR_SYSTEM_ERROR || e->code == VIR_ERR_RPC ||
    e->code == VIR_ERR_NO_CONNECT || e->code == VIR_ERR_INVALID_CONN ||
    e->domain == VIR_FROM_RPC;
}

bool
lv_error_no_domain (void)
{
  virErrorPtr e = virGetLastError ();

  return e != NULL && e->code == VIR_ERR_NO_DOMAIN;
}
