#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The backup command and the operations procedures of
# docs/deployment.md on the real two-disk guest (libvirt, both disks
# exports of one nbdkit with control= and cbt-dir=), each command as the
# document shows it, in one guest's life (the boot on the restored
# images is a second one):
#   Backup chain (tests/guest/e2e-chain.sh): fleecectl backup into one
#     directory, a full backup and two incrementals while the workload
#     runs (a few commits between them), each application-consistent
#     with one freeze; the incrementals read only the changed ranges
#     (bytes-examined under an eighth of the disks); fleecectl verify passes; every point is
#     restored (fleecectl restore, raw) and the restored pair passes
#     verify-backup.sh; each point is later than the one before (more
#     log records and commit records).
#   Upgrade (section 8), between the two incrementals: `virsh suspend`,
#     kill nbdkit (SIGKILL), start it again (the "upgrade"), reads from
#     the monitor (HMP qemu-io) until QEMU has reconnected both disks
#     (ss), `virsh resume`.  Checks: the workload goes on, the guest's
#     kernel log has no I/O error, /run/workload.out is empty, and the
#     next backup is an application-consistent incremental (the killed
#     nbdkit's change maps were trusted).
#   Restore (section 9): a single file (the log) taken out of the
#     newest restored vda with debugfs is a prefix of the live guest's
#     log.  Then the whole VM: stop it and nbdkit, move the restored
#     disks over the VM's images, ...
#   Back out (section 10): ... and start it from the plain-file domain
#     XML (virsh define; no nbdkit): the guest boots on those images,
#     mounts both filesystems without error, its log has the restored
#     records; after umount, verify-backup.sh passes on the images.
source "$srcdir/functions.sh"
source "$srcdir/guest/guest.sh"
source "$srcdir/guest/e2e.sh"
source "$srcdir/guest/e2e-disks.sh"
source "$srcdir/guest/e2e-chain.sh"
requires virsh --version
requires qemu-system-x86_64 --version
requires qemu-img --version
requires nbdcopy --version
requires nbdinfo --version
requires nbdkit --version
requires debugfs -V
requires flock --version
t_start=$(guest_now_ms)

guest_build
guest_vmdir
guest_name
e2e_vm_disks
sock=$GUEST_VMDIR/nbd.sock
E2E_CTL=$tmpdir/ctl.sock
nbdkit_args=(--filter="$FLEECE" "$VMDISK" "${E2E_VM_ARGS[@]}"
             domain="$GUEST_DOM" uri="$GUEST_URI" state-dir="$tmpdir/state"
             control="$E2E_CTL" cbt-dir="$tmpdir/cbt")
e2e_nbdkit_start "$tmpdir/nbdkit.log" "$sock" "${nbdkit_args[@]}"
guest_share_socket "$sock"
guest_libvirt_up
guest_start_libvirt "$sock" vda vdb
guest_workload /dev/vda 10
virsh -q -c "$GUEST_URI" dumpxml "$GUEST_DOM" > "$tmpdir/fleece.xml"

# ops_reconnect DOM SOCK N: section 8's loop: a read of each disk from
# the monitor (the first one after the restart fails: it is what makes
# QEMU reconnect; qemu-io prints to QEMU's stdout, not to the monitor)
# until the socket has N connections (ss).
ops_reconnect ()
{
  local i n=0 disk
  for i in $(seq 1 50); do
    for disk in virtio-disk0 virtio-disk1; do
      virsh -q -c "$GUEST_URI" qemu-monitor-command "$1" --hmp \
        "qemu-io -d /machine/peripheral/$disk/virtio-backend \"read 0 512\"" \
        > /dev/null
    done
    n=$(ss -Hx state connected src "$2" | wc -l)
    [ "$n" -ge "$3" ] && break
    sleep 0.2
  done
  [ "$n" -ge "$3" ] || e2e_fail "QEMU has $n connections to $2, not $3"
  echo "QEMU reconnected both disks after $i round(s) of reads"
}

# chain_backup KIND: one backup of the chain; an incremental examines
# only the changed ranges (under an eighth of the disks: a change map
# that says "everything" fails here; one that says "nothing", the
# restores' "later than the point before").
chain=$tmpdir/chain points=()
chain_backup ()
{
  local examined
  e2e_chain_backup "$chain" "$1"
  echo "fleecectl backup ran $E2E_CHAIN_MS ms"
  points+=("$E2E_CHAIN_LAST")
  examined=$(/usr/bin/python3 -c 'import json, sys
print(sum(d["bytes-examined"] for d in json.load(open(sys.argv[1]))["disks"]))' \
               "$chain/$E2E_CHAIN_LAST/manifest.json")
  if [ "$1" = incremental ] && [ "$examined" -ge $(( 384 << 17 )) ]; then
    e2e_fail "$E2E_CHAIN_LAST examined $examined bytes: not only the changes (disks: 384 MiB)"
  fi
}

echo "== fleecectl backup: a full backup and an incremental while the workload runs"
chain_backup full
e2e_vm_commits 2
chain_backup incremental

echo "== upgrade: suspend, restart nbdkit, reconnect, resume"
records=$(guest_exec /workload.sh status | sed -n 's/.*records=\([0-9]*\).*/\1/p')
t=$(guest_now_ms)
virsh -q -c "$GUEST_URI" suspend "$GUEST_DOM" > /dev/null
# SIGKILL: nbdkit 1.32 waits on SIGTERM until its clients disconnect,
# and the paused QEMU never does (see section 8).
e2e_nbdkit_kill KILL
e2e_nbdkit_start "$tmpdir/nbdkit.log" "$sock" "${nbdkit_args[@]}"
guest_share_socket "$sock"
ops_reconnect "$GUEST_DOM" "$sock" 2
virsh -q -c "$GUEST_URI" resume "$GUEST_DOM" > /dev/null
echo "the guest was paused $(( $(guest_now_ms) - t )) ms"
guest_wait_workload $(( records + 10 )) records
guest_exec dmesg > "$tmpdir/dmesg"
if grep -Ei 'I/O error|EXT4-fs (error|warning)|Buffer I/O' "$tmpdir/dmesg"; then
  e2e_fail "the guest saw I/O errors through the upgrade (above)"
fi
out=$(guest_exec cat /run/workload.out)
[ -z "$out" ] || e2e_fail "the workload reported: $out"
echo "guest kernel log: no I/O error; the workload: no error"

echo "== an incremental backup after the upgrade (the change maps survived)"
e2e_vm_commits 2
chain_backup incremental
echo "== fleecectl verify"
e2e_chain_verify "$chain"
echo "== fleecectl restore of every point, each verified"
records=0 commits=0
for p in "${points[@]}"; do
  restored=$tmpdir/restored-$p
  e2e_chain_restore "$chain" "$p" "$restored"
  echo "  $E2E_CHAIN_VERIFY"
  [ "$E2E_CHAIN_RECORDS" -gt "$records" ] && [ "$E2E_CHAIN_COMMITS" -gt "$commits" ] ||
    e2e_fail "$p: restored $E2E_CHAIN_RECORDS records, $E2E_CHAIN_COMMITS commits: not later than the point before ($records, $commits)"
  records=$E2E_CHAIN_RECORDS commits=$E2E_CHAIN_COMMITS
  [ "$p" = "${points[-1]}" ] || rm -rf "$restored"
done
echo "== a single file from the newest restored disk (debugfs dump)"
guest_check_live_log "$restored/vda.raw"

echo "== the whole VM: restored disks in place, back out to plain file disks"
guest_exec /workload.sh stop
guest_stop
e2e_nbdkit_kill TERM
mv "$restored/vda.raw" "$GUEST_VMDIR/vda.img"
mv "$restored/vdb.raw" "$GUEST_VMDIR/vdb.img"
# The saved plain XML: the fleece domain's network disks made file disks
# (what the VM had before it moved to nbdkit; section 10).
/usr/bin/python3 - "$tmpdir/fleece.xml" "$GUEST_VMDIR" > "$tmpdir/plain.xml" <<'EOF'
import sys, xml.etree.ElementTree as ET
tree = ET.parse(sys.argv[1])
for disk in tree.getroot().iter("disk"):
    src = disk.find("source")
    if src is None or src.get("protocol") != "nbd":
        continue
    dev = disk.find("target").get("dev")
    disk.set("type", "file")
    disk.remove(src)
    disk.insert(1, ET.Element("source", file="%s/%s.img" % (sys.argv[2], dev)))
tree.write(sys.stdout, encoding="unicode")
EOF
grep -q "<source file=\"$GUEST_VMDIR/vdb.img\"" "$tmpdir/plain.xml" ||
  e2e_fail "the plain XML has no file disk: $(cat "$tmpdir/plain.xml")"
GUEST_DOM=$(sed -n 's|.*<name>\(.*\)</name>.*|\1|p' "$tmpdir/plain.xml")
virsh -q -c "$GUEST_URI" define "$tmpdir/plain.xml" > /dev/null
_guest_start_ms=$(guest_now_ms)
virsh -q -c "$GUEST_URI" start "$GUEST_DOM" > /dev/null ||
  { virsh -q -c "$GUEST_URI" undefine "$GUEST_DOM"; GUEST_DOM=
    e2e_fail "virsh start of the plain-file domain failed"; }
# Transient from now on: guest_stop's destroy removes it.
virsh -q -c "$GUEST_URI" undefine "$GUEST_DOM" > /dev/null
guest_wait_agent 90
echo "boot on the restored images, no nbdkit: $GUEST_BOOT_MS ms"
guest_exec mount /dev/vda /mnt/data
guest_exec mkdir -p /mnt/data2
guest_exec mount /dev/vdb /mnt/data2
guest_exec cat /mnt/data/log > "$tmpdir/booted.log"
"$GUEST_SRC/verify-backup.sh" --log "$tmpdir/booted.log"
n=$(wc -l < "$tmpdir/booted.log")
[ "$n" = "$E2E_CHAIN_RECORDS" ] ||
  e2e_fail "the booted guest's log has $n records, the restore $E2E_CHAIN_RECORDS"
guest_exec dmesg > "$tmpdir/dmesg"
if grep -Ei 'I/O error|EXT4-fs (error|warning)' "$tmpdir/dmesg"; then
  e2e_fail "the restored guest's kernel log has errors (above)"
fi
guest_exec umount /mnt/data2
guest_exec umount /mnt/data
guest_stop
"$GUEST_SRC/verify-backup.sh" "$GUEST_VMDIR/vda.img" "$GUEST_VMDIR/vdb.img"
echo "whole test: $(( $(guest_now_ms) - t_start )) ms"
