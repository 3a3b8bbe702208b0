#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# README command 1: install what is missing, build, and run the main
# job: a libvirt guest (the test guest of tests/guest, TCG, booted from
# Debian's kernel) with two disks, both served by ONE nbdkit with the
# fleece filter over the vmdisk plugin (disk=vda:... disk=vdb:...; the
# domain's two <disk>s are the exports vda and vdb of one socket;
# domain= names the VM: nbdkit starts first, the domain is created
# after it).  The guest makes ext4 on each disk and runs a workload
# that writes all the time, among it data files on vdb, each committed
# (once fsynced) by a record on vda.  One quiesced backup of the VM is
# taken with nbdcopy from snapshot/vdb and snapshot/vda while it runs
# (one snapshot of both: one freeze, one instant), verified (e2fsck on
# both, every file's checksum, the workload's log, every commit
# record's data file complete on the other disk), and summed up per
# disk.
#
# The backups are kept in /var/tmp/nbdkit-fleece-demo/vda.img and
# vdb.img (FLEECE_DEMO_DIR overrides); everything else (VM, nbdkit,
# libvirtd and virtlogd if the demo started them, temporary files) is
# removed.
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
requires virsh --version
requires qemu-system-x86_64 --version
requires nbdcopy --version
requires debugfs -V
t0=$(guest_now_ms)

echo "== building (or reusing) the test guest's kernel and initramfs"
guest_build
guest_vmdir
guest_name
e2e_vm_disks
sock=$GUEST_VMDIR/nbd.sock

echo "== nbdkit --filter=fleece vmdisk disk=vda:vda.img disk=vdb:vdb.img domain=$GUEST_DOM (before the VM)"
e2e_nbdkit_start "$tmpdir/nbdkit.log" "$sock" --filter="$FLEECE" \
  "$VMDISK" "${E2E_VM_ARGS[@]}" domain="$GUEST_DOM" uri="$GUEST_URI" \
  state-dir="$tmpdir/state"
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

echo "== backup: nbdcopy of snapshot/vdb, then of snapshot/vda (one snapshot), while the workload runs"
e2e_vm_backup demo nbd > >(tee "$tmpdir/backup.out" | sed 's/^/   /')
wait $! 2>/dev/null || true
stall=$(sed -n 's/^guest-observed stall at the backup: \([0-9.]* ms\).*/\1/p' \
          "$tmpdir/backup.out")
read -r files commits < <(sed -n \
  's/^verify-backup: OK: \([0-9]*\) files.*; \([0-9]*\) commits.*/\1 \2/p' \
  "$tmpdir/backup.out" | head -n 1) || true
mkdir -p "$keep"
rm -f "$keep/backup.img"                # an older demo's single disk
for d in "${E2E_VM_DISKS[@]}"; do
  mv -f "${E2E_VM_IMAGE[$d]}" "$keep/$d.img"
done
guest_exec /workload.sh stop > /dev/null
guest_stop

# disk_line D: disk D's size, the data copied, its copy's time and rate.
disk_line ()
{
  awk -v d="$1" -v n="${E2E_VM_SIZE[$1]}" -v b="${E2E_VM_DATA[$1]}" \
      -v ms="${E2E_VM_MS[$1]}" 'BEGIN {
    r = (ms > 0) ? n / 1048576 / (ms / 1000) : 0
    printf "   disk %s:          %d MiB raw image; nbdcopy of snapshot/%s:" \
           " %.1f MiB of data (sparse) in %d ms (%.0f MiB/s)\n",
           d, n / 1048576, d, b / 1048576, ms, r }'
}
frozen=$(sed -n 's/.*frozen for \([0-9.]*\) ms$/\1/p' <<<"$E2E_DESC")
label=$(sed -E 's/^fleece snapshot //; s/, disk [A-Za-z0-9_-]+ \([0-9]+ of [0-9]+\)//' \
          <<<"$E2E_DESC")
echo
echo "== summary"
echo "   VM:                ${#E2E_VM_DISKS[@]} disks on one nbdkit socket (fleece + vmdisk disk=...), one snapshot of all"
for d in "${E2E_VM_DISKS[@]}"; do
  disk_line "$d"
done
cat <<EOF
   consistency:       $label (every disk)
   freeze window:     ${frozen:-?} ms (the guest frozen once for every disk, as nbdkit measured it)
   guest-observed:    ${stall:-?} stall in the workload's log around the snapshot
   store used:        $E2E_STORE_BYTES bytes of copy-before-write data, all disks (freed when the snapshot ended)
   verified:          e2fsck -fn clean on each disk, no journal replay, ${files:-?} files and the log intact, ${commits:-?} commit records on vda each naming a complete data file on vdb
   backup files:      $(printf "$keep/%s.img " "${E2E_VM_DISKS[@]}")(kept; everything else is cleaned up)
   demo time:         $(( ($(guest_now_ms) - t0) / 1000 )) s
EOF
