#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The real guest agent (qemu-ga, under libvirt) hanging or vanishing
# around a snapshot.  What must hold each time: the snapshot comes
# within its bound and its label is honest (crash-consistent, with the
# reason, when the freeze failed); its data is a consistent image
# (verified, after journal replay when crash-consistent); the guest is
# never left frozen; once the agent is back, the next backup is
# application-consistent.
#
# 1. hang: qemu-ga stopped (SIGSTOP) when the snapshot is taken; it
#    continues only after the snapshot has ended.  libvirt may have
#    passed the freeze on to the stopped agent, which then runs it when
#    it continues, long after the snapshot: vmdisk's thaw debt must
#    thaw the guest within seconds (its retries), not at frozen-max
#    (10 min here).
# 2. vanish: qemu-ga killed and kept away when the snapshot is taken.
# 3. vanish while frozen: qemu-ga killed while it holds the filesystem
#    frozen for the snapshot (the guest stays frozen: nobody can thaw
#    it until a new qemu-ga starts, 1 s later, and finds its frozen
#    state).  vmdisk's thaw debt must thaw it, without any new snapshot.
#    The freeze is held long enough for the kill as in
#    test-e2e-crash.sh: fleece waits at its barrier for a second
#    client's trim that nbdkit's delay filter, below fleece, holds (up
#    to 90 s) until the test ends it, once the guest's console shows
#    qemu-ga killed.
#
# The faults are made in the guest by /qga-fault.sh
# (tests/guest/qga-fault.sh), which talks to the test through a mailbox
# on the spare partition vda2: no sleeps decide anything here.
source "$srcdir/functions.sh"
source "$srcdir/guest/guest.sh"
source "$srcdir/guest/e2e.sh"
e2e_requires
requires dumpe2fs -V
t_start=$(guest_now_ms)

e2e_disk
sock=$GUEST_VMDIR/nbd.sock
e2e_nbdkit_start "$tmpdir/nbdkit.log" "$sock" \
  --filter="$FLEECE" --filter=delay "$VMDISK" file="$E2E_DISK" \
  domain="$GUEST_DOM" uri="$GUEST_URI" state-dir="$tmpdir/state" \
  delay-trim=90 freeze-timeout=2s quiesce-timeout=30s frozen-max=10m
e2e_boot

# fault MODE: start /qga-fault.sh MODE in the guest, detached; for hang
# and vanish, tell it to act only once the guest-exec has returned.
fault ()
{
  guest_exec setsid sh -c "/qga-fault.sh $1 > /run/qga-fault.out 2>&1 &"
  case $1 in
    hang|vanish) e2e_mailbox_wait ARMED; e2e_mailbox_send GO ;;
  esac
}

# crash_snapshot LABEL: take a snapshot that must be crash-consistent
# because the freeze failed, within its bound: a freeze, then a status
# and a thaw, each bounded by freeze-timeout (2 s), plus 10 s for a
# loaded machine; copy it, end it, verify it after replay.
crash_snapshot ()
{
  local t0 ms img=$tmpdir/$1.img
  e2e_log_mark
  t0=$(guest_now_ms)
  e2e_hold 60
  ms=$(( $(guest_now_ms) - t0 ))
  grep -q 'crash-consistent: freeze failed: ' <<<"$E2E_DESC" ||
    e2e_fail "$1: wrong label: $E2E_DESC"
  [ "$ms" -le 16000 ] || e2e_fail "$1: the snapshot took $ms ms (bound 3 x 2 s + 10 s)"
  echo "$1: snapshot after $ms ms, crash-consistent"
  e2e_copy nbdcopy "$img"
  e2e_release
  e2e_fs_extract "$img"
  "$GUEST_SRC/verify-backup.sh" --replay "$img" || e2e_fail "$1: the copy"
  rm -f "$img"
}

# wait_thawed SECONDS: until the guest answers "thawed" (bounded; the
# agent may be away for part of the time).
wait_thawed ()
{
  local i
  for i in $(seq 1 $(( $1 * 2 ))); do
    [ "$(guest_freeze_status 2>/dev/null)" = thawed ] && return 0
    sleep 0.5
  done
  e2e_fail "the guest is not thawed after $1 s"
}

echo "== 1. the agent hangs"
fault hang
e2e_mailbox_wait HUNG
crash_snapshot hang
e2e_log_mark
e2e_mailbox_post RESUME
t0=$(guest_now_ms)
# The late freeze ran (libvirt had passed it on), and vmdisk's retry
# thawed what it froze.
e2e_log_wait 'vmdisk: thawed [1-9][0-9]* filesystem' 30 ||
  e2e_fail "no thaw of a late freeze after the agent continued"
guest_wait_agent 60
wait_thawed 30
echo "agent continued; the late freeze was thawed $(( $(guest_now_ms) - t0 )) ms later"
e2e_backup after-hang nbdcopy

echo "== 2. the agent vanishes"
fault vanish
e2e_mailbox_wait GONE
crash_snapshot vanish
e2e_mailbox_post RESUME
guest_wait_agent 60
wait_thawed 30
e2e_backup after-vanish nbdcopy

echo "== 3. the agent vanishes while the guest is frozen"
# The guest's KILLED waits behind the barrier (live writes are held):
# the console says when the agent is dead; the trim is ended then.
kills=$(grep -c 'qemu-ga exited with status 137' "$GUEST_VMDIR/console.log")
fault vanish-frozen
e2e_mailbox_wait ARMED
e2e_slow_trim
e2e_log_mark
e2e_hold_open
for i in $(seq 1 300); do
  [ "$(grep -c 'qemu-ga exited with status 137' "$GUEST_VMDIR/console.log")" -gt "$kills" ] &&
    break
  sleep 0.1
done
[ "$(grep -c 'qemu-ga exited with status 137' "$GUEST_VMDIR/console.log")" -gt "$kills" ] ||
  e2e_fail "qemu-ga was not killed within 30 s of the snapshot's start"
e2e_slow_trim_end
e2e_hold_wait 60
e2e_mailbox_wait KILLED
img=$tmpdir/frozen.img
e2e_copy nbdcopy "$img"
e2e_release
# The freeze's reply may or may not have left qemu-ga before it died:
# the label says which, and the thaw debt must be paid either way.
e2e_log_wait 'vmdisk: .* thawed, frozen for [0-9]+ ms' 90 ||
  e2e_fail "vmdisk did not thaw the guest after the agent came back"
e2e_log | grep -E 'vmdisk: .*(thaw|froze|freeze)' | grep -Ev ': (pread|pwrite) ' |
  tail -n 6
wait_thawed 30
echo "the new agent was told to thaw; guest-fsfreeze-status: thawed"
e2e_fs_extract "$img"
if dumpe2fs -h "$img" 2>/dev/null | grep -q needs_recovery; then
  grep -q 'crash-consistent' <<<"$E2E_DESC" ||
    e2e_fail "an image needing journal replay labelled: $E2E_DESC"
  "$GUEST_SRC/verify-backup.sh" --replay "$img" || e2e_fail "frozen: the copy"
else
  "$GUEST_SRC/verify-backup.sh" "$img" || e2e_fail "frozen: the copy"
fi
rm -f "$img"
e2e_backup after-frozen nbdcopy

guest_exec /workload.sh stop
guest_stop
echo "whole test: $(( $(guest_now_ms) - t_start )) ms"
