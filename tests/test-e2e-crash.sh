#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Crash safety with the real guest under libvirt: nbdkit is killed with
# SIGKILL while the guest is frozen for a snapshot; the guest stays
# frozen (nobody else thaws it) and the crash-recovery marker stays;
# nbdkit is started again with the same state-dir; the restarted nbdkit
# thaws the guest and logs the warning; the guest's disk keeps working
# (a raw write lands in the image, the workload goes on) and the next
# backup is application-consistent and verified.
#
# Holding the freeze open, deterministically, without a debug flag:
# nbdkit's delay filter sits BELOW fleece and delays trims by 60 s.
# The disk has two partitions: ext4 on vda1 (made without discard and
# mounted without it, so its own I/O is never delayed and its freeze is
# fast) and a spare vda2.  A trim of vda2 by a second client of the
# live export (e2e_slow_trim) is the one slow request.  While it is in
# flight (the log shows "delay: trim"), a snapshot connection makes
# fleece freeze the guest and then wait at its barrier for that trim:
# the guest stays frozen for as long as the trim takes, and nbdkit is
# killed then.  (A trim by the guest itself is not usable for this:
# the guest's freeze sometimes waited for it, an fstrim of the mounted
# filesystem and a blkdiscard of vda2 alike.)
source "$srcdir/functions.sh"
source "$srcdir/guest/guest.sh"
source "$srcdir/guest/e2e.sh"
e2e_requires
t_start=$(guest_now_ms)

e2e_disk
sock=$GUEST_VMDIR/nbd.sock
state=$tmpdir/state
args=("$VMDISK" file="$E2E_DISK" domain="$GUEST_DOM" uri="$GUEST_URI"
      state-dir="$state" frozen-max=120s)
# Generous freeze bounds: a TCG guest on a loaded host can be slow.
e2e_nbdkit_start "$tmpdir/nbdkit1.log" "$sock" \
  --filter="$FLEECE" --filter=delay "${args[@]}" delay-trim=60 \
  freeze-timeout=30s quiesce-timeout=30s
# No lazy inode table zeroing (background writes), and a long journal
# commit interval: see "The disk after the restart" below.
e2e_boot nodiscard,lazy_itable_init=0 commit=60

e2e_slow_trim

# The snapshot connection: freeze, then the barrier waits for the trim.
e2e_log_mark
$SNAPDESC "nbd+unix:///snapshot?socket=$sock" \
  > "$tmpdir/nbdinfo.out" 2>&1 &
info_pid=$!
cleanup_pid "$info_pid"
e2e_log_wait 'fleece: guest frozen: 1 filesystems' 45
[ "$(guest_freeze_status)" = frozen ] || e2e_fail "the guest is not frozen"
marker="$state/domain-${GUEST_DOM}.frozen"
grep -qx "pid=$E2E_PID" "$marker" ||
  e2e_fail "no crash-recovery marker of pid $E2E_PID in $state"
echo "guest frozen, fleece waiting at its barrier; marker: $(tr '\n' ' ' < "$marker")"

t_kill=$(guest_now_ms)
dead_pid=$E2E_PID
e2e_nbdkit_kill KILL
echo "nbdkit $dead_pid killed with SIGKILL while the guest was frozen"
wait "$info_pid" && e2e_fail "the snapshot connection succeeded"
forget_pid "$info_pid"
[ "$(guest_freeze_status)" = frozen ] ||
  e2e_fail "the guest was thawed before nbdkit was restarted"
[ -e "$marker" ] || e2e_fail "the marker went away with nbdkit"
echo "after the kill: guest still frozen, marker still there"

# Restart: the production command line (no delay filter), same state-dir.
e2e_nbdkit_start "$tmpdir/nbdkit2.log" "$sock" --filter="$FLEECE" "${args[@]}"
guest_share_socket "$sock"
e2e_log_wait "warning: guest .* was left frozen by an earlier nbdkit \\(pid $dead_pid\\) that died; thawed 1 filesystem" 30
t_thawed=$(guest_now_ms)
e2e_log | grep -o 'vmdisk: warning: .*'
[ "$(guest_freeze_status)" = thawed ] || e2e_fail "the guest is still frozen"
[ ! -e "$marker" ] || e2e_fail "the marker is still there after the recovery"
echo "restarted nbdkit thawed the guest: $(( t_thawed - t_kill )) ms after the kill"

# The disk after the restart.  libvirt 9.0 cannot configure NBD
# reconnect (QEMU's reconnect-delay stays 0): QEMU reconnects in the
# background, retrying after 1, 2, 4, ... s, and fails guest requests
# with EIO until it has.  While the guest was frozen it sent nothing,
# but the restarted nbdkit thaws it at once, usually before QEMU is
# back, so the guest's first writes after the thaw can fail with EIO.
# The workload handles a failed fsync as a careful application must
# (workload.sh); the filesystem survives because its journal is only
# written by an fsync whose data writes succeeded (commit=60 keeps the
# periodic commit out of the window).  Report what the guest saw.
wait "$E2E_TRIM_PID" && e2e_fail "the held trim succeeded on a killed nbdkit"
forget_pid "$E2E_TRIM_PID"
for i in $(seq 1 40); do
  guest_exec dd if=/bin/busybox of=/dev/vda2 bs=64K count=1 oflag=direct \
    2>/dev/null && break
  sleep 0.5
done
[ "$i" -lt 40 ] || e2e_fail "the guest cannot write to its disk"
echo "raw guest write to vda2 after the restart: succeeded on attempt $i"
cmp -n 65536 /bin/busybox <(dd if="$E2E_DISK" bs=1M skip=194 count=1 status=none) ||
  e2e_fail "the guest's write is not in the image"
n=$(guest_exec /workload.sh status)
guest_exec dmesg > "$tmpdir/dmesg"
echo "guest I/O errors during the outage: $(grep -c 'I/O error' "$tmpdir/dmesg" || true)"
grep -E 'I/O error|EXT4-fs' "$tmpdir/dmesg" | sed 's/^/guest kernel: /' | tail -n 6
grep -Ei 'aborting journal|remount.*read-only' "$tmpdir/dmesg" &&
  e2e_fail "the guest's filesystem was aborted"
guest_exec cat /run/workload.out | sed 's/^/guest workload: /' | tail -n 4
guest_wait_workload $(( ${n##*records=} + 5 )) records
echo "the workload goes on after the restart: $(guest_exec /workload.sh status)"

# The first freeze after write errors may fail: FIFREEZE syncs the
# filesystem and reports the outage's writeback error once (EIO).  The
# snapshot must then say crash-consistent and why; the next one must be
# application-consistent (and is verified).
e2e_log_mark
e2e_hold
e2e_release
case "$E2E_DESC" in
  *application-consistent*) ;;
  *"crash-consistent: freeze failed:"*"Input/output error"*)
    echo "first snapshot after the outage: crash-consistent, as labelled" ;;
  *) e2e_fail "unexpected first snapshot after the outage: $E2E_DESC" ;;
esac
# And a quiesced backup through the restarted nbdkit.  If a write of
# the thaw (ext4 writes its superblock when thawed) hit the outage,
# ext4 recorded the error: the state is then "clean with errors",
# which verify-backup.sh reports; everything else must be clean.
E2E_VERIFY_OPTS=--accept-error-flag
e2e_backup after-restart nbdcopy
guest_exec /workload.sh stop
guest_stop
echo "whole test: $(( $(guest_now_ms) - t_start )) ms"
