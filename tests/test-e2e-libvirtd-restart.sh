#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# libvirtd restarted under a running guest, with the real guest agent.
# vmdisk keeps one libvirt connection; when libvirtd goes away, the
# next call must make a new one.  Three moments:
#
# 1. Between snapshots: a quiesced backup, libvirtd stopped and
#    started, another quiesced backup (application-consistent, every
#    file and log record verified).
# 2. libvirtd down when a snapshot is taken: the snapshot comes within
#    the freeze bound, labelled crash-consistent with the reason
#    (libvirtd unreachable); the guest was never frozen; once libvirtd
#    is back the next backup is application-consistent.
# 3. During the freeze: the guest is frozen through one connection,
#    libvirtd is restarted while it is frozen (fleece waits at its
#    barrier for a slow trim by a second client: the delay filter below
#    fleece, as in test-e2e-crash.sh; the test ends that trim, by
#    killing its client, once libvirtd is back), and the thaw must go
#    through a new connection: the guest is thawed, the snapshot is
#    application-consistent and the backup verifies.
# 4. The libvirt hook (installed before the first restart, which makes
#    libvirtd read it): a second domain with a configuration file
#    starts its nbdkit through the hook and stops it (e2e-hook.sh).
#
# The other libvirt tests of a parallel `make check` are never
# disturbed: guest_libvirtd_stop waits for them (tests/guest/guest.sh).
source "$srcdir/functions.sh"
source "$srcdir/guest/guest.sh"
source "$srcdir/guest/e2e.sh"
source "$srcdir/unit-functions.sh"
source "$srcdir/guest/e2e-hook.sh"
e2e_requires
requires ss --version
t_start=$(guest_now_ms)

e2e_disk
sock=$GUEST_VMDIR/nbd.sock
# Trims below fleece are held 90 s (moment 3: the guest must still be
# frozen when libvirtd has restarted, even on a loaded machine; the test
# ends the trim as soon as libvirtd is back); the filesystem never trims.
e2e_nbdkit_start "$tmpdir/nbdkit.log" "$sock" \
  --filter="$FLEECE" --filter=delay "$VMDISK" file="$E2E_DISK" \
  domain="$GUEST_DOM" uri="$GUEST_URI" state-dir="$tmpdir/state" \
  delay-trim=90 frozen-max=120s freeze-timeout=20s quiesce-timeout=20s
e2e_boot

echo "== 1. libvirtd restarted between snapshots"
e2e_hook_install
e2e_backup before nbdcopy
guest_libvirtd_stop
guest_libvirtd_start
echo "libvirtd restarted (pid $(cat /run/libvirtd.pid))"
e2e_backup after-restart nbdcopy

echo "== 2. libvirtd down when the snapshot is taken"
guest_libvirtd_stop
e2e_log_mark
t0=$(guest_now_ms)
e2e_hold
ms=$(( $(guest_now_ms) - t0 ))
case "$E2E_DESC" in
  *"crash-consistent: freeze failed:"*"libvirt"*) ;;
  *) e2e_fail "libvirtd down: wrong label: $E2E_DESC" ;;
esac
echo "libvirtd down: snapshot labelled crash-consistent after $ms ms"
e2e_release
e2e_log | grep -q 'fleece: guest frozen' && e2e_fail "a freeze was reported"
guest_libvirtd_start
[ "$(guest_freeze_status)" = thawed ] || e2e_fail "the guest is frozen"
e2e_backup libvirtd-back nbdcopy

echo "== 3. libvirtd restarted while the guest is frozen"
# Wait for the other libvirt tests of a parallel make check before the
# freeze: waiting for them while frozen could outlast the slow trim.
guest_libvirtd_claim
e2e_slow_trim
e2e_log_mark
e2e_hold_open
e2e_log_wait 'fleece: guest frozen: 1 filesystems' 45
[ "$(guest_freeze_status)" = frozen ] || e2e_fail "the guest is not frozen"
guest_libvirtd_stop
guest_libvirtd_start
e2e_log | grep -q 'fleece: guest thawed' &&
  e2e_fail "the trim below fleece ended before libvirtd was back: not a restart while frozen"
echo "libvirtd restarted while the guest was frozen"
e2e_slow_trim_end
e2e_hold_wait 60
grep -q 'application-consistent: 1 filesystem' <<<"$E2E_DESC" ||
  e2e_fail "frozen across the restart: wrong label: $E2E_DESC"
e2e_log_wait 'fleece: guest thawed in' 30 || exit 1
e2e_log | grep -E 'vmdisk: .*(thaw|libvirt)' | grep -Ev ': (pread|pwrite)' |
  tail -n 5
[ "$(guest_freeze_status)" = thawed ] ||
  e2e_fail "the guest is still frozen after the restart"
echo "the thaw went through the restarted libvirtd"
e2e_copy nbdcopy "$tmpdir/frozen-restart.img"
e2e_release
e2e_freeze_numbers
e2e_fs_extract "$tmpdir/frozen-restart.img"
"$GUEST_SRC/verify-backup.sh" "$tmpdir/frozen-restart.img" ||
  e2e_fail "the backup taken across the restart"
guest_check_live_log "$tmpdir/frozen-restart.img"

echo "== 4. the libvirt hook"
e2e_hook_check

guest_exec /workload.sh stop
guest_stop
echo "whole test: $(( $(guest_now_ms) - t_start )) ms"
