#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# README command 1: install what is missing, build, and run the main
# job: a libvirt guest (the test guest of tests/guest, TCG, booted from
# Debian's kernel) with two disks, both served by ONE nbdkit with the
# fleece filter over the vmdisk plugin (disk=vda:... disk=vdb:...; the
# domain's two <disk>s are the exports vda and vdb of one socket;
# domain= names the VM: nbdkit starts first, the domain is created
# after it), with a control socket and changed-block tracking
# (control=, cbt-dir=).  The guest makes ext4 on each disk and runs a
# workload that writes all the time, among it data files on vdb, each
# committed (once fsynced) by a record on vda.  While it runs,
# `fleecectl backup` takes a full backup of the VM, then an incremental
# one (one snapshot of both disks each: one freeze, one instant; qcow2
# files in one chain directory); `fleecectl restore` then flattens the
# incremental into raw disks, and those are verified (e2fsck on both,
# every file's checksum, the workload's log, every commit record's data
# file complete on the other disk).  A summary says per backup the data
# copied, time, rate and consistency, and the restore's verification.
#
# The chain is kept in /var/tmp/nbdkit-fleece-demo/chain and the
# restored disks in /var/tmp/nbdkit-fleece-demo/restored (FLEECE_DEMO_DIR
# overrides; an earlier demo's files there are replaced); everything
# else (VM, nbdkit, libvirtd and virtlogd if the demo started them,
# temporary files) is removed.
#
# FLEECE_BUILDDIR=DIR skips the install and build steps and uses the
# build in DIR (for trying the demo on a build made elsewhere).
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD

if [ -z "${FLEECE_BUILDDIR:-}" ]; then
  scripts/deps.sh
  scripts/build.sh > /dev/null
  FLEECE_BUILDDIR=$src
fi
keep=${FLEECE_DEMO_DIR:-/var/tmp/nbdkit-fleece-demo}

# The environment tests/Makefile.am's TESTS_ENVIRONMENT gives every test.
export abs_top_builddir=$FLEECE_BUILDDIR abs_top_srcdir=$src \
       abs_builddir=$FLEECE_BUILDDIR/tests srcdir=$src/tests LIBNBD_DEBUG=0
source "$srcdir/functions.sh"
source "$srcdir/guest/guest.sh"
source "$srcdir/guest/e2e.sh"
source "$srcdir/guest/e2e-disks.sh"
source "$srcdir/guest/e2e-chain.sh"
requires virsh --version
requires qemu-system-x86_64 --version
requires qemu-img --version
requires qemu-nbd --version
requires debugfs -V
t0=$(guest_now_ms)

echo "== building (or reusing) the test guest's kernel and initramfs"
guest_build
guest_vmdir
guest_name
e2e_vm_disks
sock=$GUEST_VMDIR/nbd.sock

E2E_CTL=$tmpdir/ctl.sock
echo "== nbdkit --filter=fleece vmdisk disk=vda:vda.img disk=vdb:vdb.img domain=$GUEST_DOM control=ctl.sock cbt-dir=cbt (before the VM)"
e2e_nbdkit_start "$tmpdir/nbdkit.log" "$sock" --filter="$FLEECE" \
  "$VMDISK" "${E2E_VM_ARGS[@]}" domain="$GUEST_DOM" uri="$GUEST_URI" \
  state-dir="$tmpdir/state" control="$E2E_CTL" cbt-dir="$tmpdir/cbt"
guest_share_socket "$sock"

echo "== booting the guest under libvirt, its disks vda and vdb on nbdkit's one socket"
guest_libvirt_up
guest_start_libvirt "$sock" vda vdb
guest_wait_agent 90
echo "   guest agent up after $GUEST_BOOT_MS ms"
echo "== in the guest: mkfs.ext4 and mount each disk, start the workload"
guest_exec mkfs.ext4 -q /dev/vda
guest_exec mount /dev/vda /mnt/data
guest_exec mkfs.ext4 -q /dev/vdb
guest_exec mkdir -p /mnt/data2
guest_exec mount /dev/vdb /mnt/data2
guest_exec /workload.sh start /mnt/data /mnt/data2 | sed 's/^/   /'
guest_wait_workload 10

mkdir -p "$keep"
rm -rf "$keep/chain" "$keep/restored" "$keep/backup.img" "$keep/vda.img" \
  "$keep/vdb.img"                       # an earlier demo's files
chain=$keep/chain
lines=()
for kind in full incremental; do
  [ "$kind" = full ] || e2e_vm_commits 3
  echo "== fleecectl backup --output $chain ($kind expected), while the workload runs"
  e2e_chain_backup "$chain" "$kind"
  e2e_freeze_numbers > /dev/null
  lines+=("${E2E_CHAIN_LINE#backup }; guest frozen ${E2E_FROZEN_MS:-?} ms")
done
echo "== fleecectl restore --at $E2E_CHAIN_LAST --output $keep/restored, then verify-backup.sh on the restored disks"
e2e_chain_restore "$chain" "$E2E_CHAIN_LAST" "$keep/restored"
sed 's/^/   /' <<<"$E2E_CHAIN_VERIFY"
stall=$(guest_check_live_log "$keep/restored/vda.raw" |
          sed -n 's/^guest-observed stall at the backup: \([0-9.]* ms\).*/\1/p')
files=$(sed -n 's/^verify-backup: OK: \([0-9]*\) files.*/\1/p' <<<"$E2E_CHAIN_VERIFY")
guest_exec /workload.sh stop > /dev/null
guest_stop

echo
echo "== summary"
echo "   VM:                ${#E2E_VM_DISKS[@]} disks on one nbdkit socket (fleece + vmdisk disk=..., cbt-dir=), one snapshot of all per backup"
for i in "${!lines[@]}"; do
  printf '   backup %d:          %s\n' $(( i + 1 )) "${lines[$i]}"
done
cat <<EOF
   restore:           $E2E_CHAIN_LAST flattened to raw (qemu-img convert), each disk compared identical to its chain, in $keep/restored
   verified:          e2fsck -fn clean on each restored disk, no journal replay, ${files:-?} files and the log intact, $E2E_CHAIN_COMMITS commit records on vda each naming a complete data file on vdb
   guest-observed:    ${stall:-?} stall in the workload's log around the last backup
   chain:             $chain (fleecectl verify --input $chain; everything else is cleaned up)
   demo time:         $(( ($(guest_now_ms) - t0) / 1000 )) s
EOF
