#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# End to end with plain QEMU (no libvirt): the vmdisk plugin freezes
# the guest through QEMU's guest-agent socket (agent-socket=), given to
# nbdkit before QEMU exists.  An application-consistent backup with
# nbdcopy, verified like test-e2e-backup.sh.  Then nbdkit is restarted
# with quiesce=off while the guest runs (QEMU's NBD disk has
# reconnect-delay=20, so the guest's requests wait for the new nbdkit
# instead of failing: checked in the guest's kernel log), and a backup
# is taken that is labelled "crash-consistent: quiesce=off".  That label
# is honest: verify-backup.sh refuses the image (its journal needs
# replay, as after a power cut), and only after replaying the journal
# (verify-backup.sh --replay) is every file and log record intact.
source "$srcdir/functions.sh"
source "$srcdir/guest/guest.sh"
source "$srcdir/guest/e2e.sh"
requires qemu-system-x86_64 --version
requires nbdkit --version
requires nbdcopy --version
requires nbdinfo --version
requires debugfs -V
t_start=$(guest_now_ms)

guest_build
guest_vmdir
disk=$GUEST_VMDIR/disk.img
sock=$GUEST_VMDIR/nbd.sock
truncate -s 256M "$disk"
args=("$VMDISK" file="$disk" agent-socket="$GUEST_QGA_SOCK"
      state-dir="$tmpdir/state")
e2e_nbdkit_start "$tmpdir/nbdkit1.log" "$sock" --filter="$FLEECE" "${args[@]}"

GUEST_QEMU_RECONNECT=20
guest_start_qemu "$sock"
guest_workload /dev/vda 10

e2e_backup quiesced nbdcopy
echo "store bytes used: $E2E_STORE_BYTES"

# Restart nbdkit with quiesce=off under the running guest.
n=$(guest_exec /workload.sh status)
e2e_nbdkit_kill "${E2E_RESTART_SIGNAL:-KILL}"
e2e_nbdkit_start "$tmpdir/nbdkit2.log" "$sock" --filter="$FLEECE" \
  "${args[@]}" quiesce=off
guest_wait_workload $(( ${n##*records=} + 5 )) records || {
  guest_exec dmesg | tail -n 20; guest_exec cat /run/workload.out; exit 1; }
if guest_exec dmesg | grep 'I/O error'; then
  e2e_fail "the guest saw I/O errors across the nbdkit restart"
fi
echo "nbdkit restarted (quiesce=off); the guest went on without an I/O error"

e2e_log_mark
e2e_hold
grep -q ', crash-consistent: quiesce=off$' <<<"$E2E_DESC" ||
  e2e_fail "quiesce=off: wrong label: $E2E_DESC"
[ "$(e2e_description "nbd+unix:///snapshot?socket=$sock")" = "$E2E_DESC" ] ||
  e2e_fail "quiesce=off: nbdinfo shows another description"
e2e_copy nbdcopy "$tmpdir/crash.img"
e2e_release
e2e_log | grep -q 'fleece: guest frozen' && e2e_fail "quiesce=off froze the guest"
[ "$(guest_freeze_status)" = thawed ] || e2e_fail "guest not thawed"
expect_fail_msg 'journal needs replay' \
  "$GUEST_SRC/verify-backup.sh" "$tmpdir/crash.img"
"$GUEST_SRC/verify-backup.sh" --replay "$tmpdir/crash.img"

guest_exec /workload.sh stop
guest_stop
echo "whole test: $(( $(guest_now_ms) - t_start )) ms"
