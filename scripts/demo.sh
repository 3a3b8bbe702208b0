#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# README command 1: install what is missing, build, and run the main
# job: a libvirt guest (the test guest of tests/guest, TCG, booted from
# Debian's kernel) whose disk is served by nbdkit with the fleece filter
# over the vmdisk plugin (domain= names the VM: nbdkit starts first,
# the domain is created after it).  The guest makes ext4 and runs a
# workload that writes all the time; a quiesced backup is taken with
# nbdcopy from the snapshot export, verified (e2fsck, every file's
# checksum, the workload's log), and summed up.
#
# The backup is kept in /var/tmp/nbdkit-fleece-demo/backup.img
# (FLEECE_DEMO_DIR overrides); everything else (VM, nbdkit, libvirtd and
# virtlogd if the demo started them, temporary files) is removed.
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
requires virsh --version
requires qemu-system-x86_64 --version
requires nbdcopy --version
requires debugfs -V
t0=$(guest_now_ms)

echo "== building (or reusing) the test guest's kernel and initramfs"
guest_build
guest_vmdir
guest_name
disk=$GUEST_VMDIR/disk.img
sock=$GUEST_VMDIR/nbd.sock
truncate -s 256M "$disk"

echo "== nbdkit --filter=fleece vmdisk file=disk.img domain=$GUEST_DOM (before the VM)"
e2e_nbdkit_start "$tmpdir/nbdkit.log" "$sock" --filter="$FLEECE" \
  "$VMDISK" file="$disk" domain="$GUEST_DOM" uri="$GUEST_URI" \
  state-dir="$tmpdir/state"
guest_share_socket "$sock"

echo "== booting the guest under libvirt, its disk on nbdkit's socket"
guest_libvirt_up
guest_start_libvirt "$sock"
guest_wait_agent 90
echo "   guest agent up after $GUEST_BOOT_MS ms"
echo "== in the guest: mkfs.ext4, mount, start the workload"
guest_exec mkfs.ext4 -q /dev/vda
guest_exec mount /dev/vda /mnt/data
guest_exec /workload.sh start /mnt/data | sed 's/^/   /'
guest_wait_workload 10

echo "== backup: nbdcopy 'nbd+unix:///snapshot?socket=...' while the workload runs"
e2e_backup demo nbdcopy > >(tee "$tmpdir/backup.out" | sed 's/^/   /')
wait $! 2>/dev/null || true
stall=$(sed -n 's/^guest-observed stall at the backup: \([0-9.]* ms\).*/\1/p' \
          "$tmpdir/backup.out")
files=$(sed -n 's/^verify-backup: OK: \([0-9]*\) files.*/\1/p' "$tmpdir/backup.out" |
          head -n 1)
mkdir -p "$keep"
mv -f "$E2E_IMAGE" "$keep/backup.img"
guest_exec /workload.sh stop > /dev/null
guest_stop

size=$(stat -c %s "$keep/backup.img")
frozen=$(sed -n 's/.*frozen for \([0-9.]*\) ms$/\1/p' <<<"$E2E_DESC")
cat <<EOF

== summary
   disk:              $(( size >> 20 )) MiB raw image, served by nbdkit (fleece + vmdisk); the backup holds $(( $(du -k "$keep/backup.img" | cut -f1) >> 10 )) MiB of data (sparse)
   backup:            nbdcopy of the snapshot export in $E2E_COPY_MS ms ($(
                        awk -v n="$size" -v ms="$E2E_COPY_MS" 'BEGIN {
                          r = (ms > 0) ? n / 1048576 / (ms / 1000) : 0
                          printf "%.0f MiB/s", r }'))
   consistency:       ${E2E_DESC#*, taken *, }
   freeze window:     ${frozen:-?} ms (guest frozen, as nbdkit measured it)
   guest-observed:    ${stall:-?} stall in the workload's log around the snapshot
   store used:        $E2E_STORE_BYTES bytes of copy-before-write data (freed when the snapshot ended)
   verified:          e2fsck -fn clean, no journal replay, ${files:-?} files and the log intact
   backup file:       $keep/backup.img (kept; everything else is cleaned up)
   demo time:         $(( ($(guest_now_ms) - t0) / 1000 )) s
EOF
