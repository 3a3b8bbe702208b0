#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# End to end under libvirt, the way a user runs it, with a VM of two
# disks: ONE nbdkit serves both (the fleece filter over vmdisk
# disk=vda:... disk=vdb:...), domain= naming a libvirt domain that does
# not exist yet when nbdkit starts (nbdkit must come first: QEMU needs
# its socket to boot).  The guest has two virtio disks on that socket
# (exports vda and vdb), makes ext4 on each, and its workload writes
# for the whole test; among its writers, one writes a data file on vdb,
# fsyncs it, then appends a commit record naming it on vda.
# Two backups of both disks while it runs, each from one snapshot of
# the VM (tests/guest/e2e-disks.sh, e2e_vm_backup): taken by the first
# read of snapshot/vdb (vda's connections join later), then by
# fleecectl begin on the control socket (vda copied by nbdcopy and
# qemu-img convert at once: identical).  For each: every snapshot
# export says the same generation, instant and label
# (application-consistent, 2 filesystems frozen) and names its disk;
# nbdkit's log shows one freeze and one thaw; the guest is thawed
# afterwards; verify-backup.sh passes on the pair (no journal replay,
# e2fsck -fn clean on both, every file's checksum, no torn log record,
# every commit record on vda names a complete data file on vdb, no
# data file newer than the last record but the next); vda's log is a
# prefix of the live one.
# The backup command on this guest (fleecectl backup, a full and two
# incrementals, verify, restore of every point) is in
# tests/test-e2e-ops.sh, with the operations procedures.
# The single-disk form (file=, the exports ""
# and "snapshot") keeps its end-to-end coverage in the other
# test-e2e-* tests.
source "$srcdir/functions.sh"
source "$srcdir/guest/guest.sh"
source "$srcdir/guest/e2e.sh"
source "$srcdir/guest/e2e-disks.sh"
requires virsh --version
requires qemu-system-x86_64 --version
requires qemu-img --version
requires qemu-nbd --version
requires nbdkit --version
requires nbdcopy --version
requires nbdinfo --version
requires debugfs -V
requires flock --version
t_start=$(guest_now_ms)

guest_build
guest_vmdir
guest_name
e2e_vm_disks
sock=$GUEST_VMDIR/nbd.sock
E2E_CTL=$tmpdir/ctl.sock
e2e_nbdkit_start "$tmpdir/nbdkit.log" "$sock" --filter="$FLEECE" \
  "$VMDISK" "${E2E_VM_ARGS[@]}" domain="$GUEST_DOM" uri="$GUEST_URI" \
  state-dir="$tmpdir/state" control="$E2E_CTL" cbt-dir="$tmpdir/cbt"
guest_share_socket "$sock"
[ "$(stat -c '%a %G' "$sock")" = "660 libvirt-qemu" ] ||
  e2e_fail "socket mode/group: $(stat -c '%a %G' "$sock")"

# Before the domain exists: a snapshot is crash-consistent and says why.
guest_libvirt_up
desc=$($SNAPDESC "nbd+unix:///snapshot/vda?socket=$sock")
echo "before the VM exists: $desc"
grep -q "disk vda (1 of 2), .*crash-consistent: .*$GUEST_DOM" <<<"$desc" ||
  e2e_fail "a snapshot without the domain should name it: $desc"

guest_start_libvirt "$sock" vda vdb
guest_workload /dev/vda 10

e2e_vm_backup nbd nbd
echo "store bytes used: $E2E_STORE_BYTES"
e2e_vm_backup ctl control
echo "store bytes used: $E2E_STORE_BYTES"

guest_exec /workload.sh stop
guest_stop
echo "whole test: $(( $(guest_now_ms) - t_start )) ms"
