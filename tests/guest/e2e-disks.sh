# SPDX-License-Identifier: BSD-3-Clause
# nbdkit-fleece: the backup of the two-disk test guest, sourced after
# e2e.sh by tests/test-e2e-backup.sh, tests/test-e2e-ops.sh and
# scripts/demo.sh.
#
# The guest has two virtio disks on ONE nbdkit socket (vmdisk
# disk=vda:PATH disk=vdb:PATH; guest_start_libvirt SOCK vda vdb): vda
# holds workload.sh's files, log and commit records, vdb the data files
# the commit records name.  A backup of the VM is one snapshot of both.
#
#   e2e_vm_disks                 make the raw disks in $GUEST_VMDIR (vda
#                                256 MiB, vdb 128 MiB); sets E2E_VM_ARGS,
#                                the plugin's disk= arguments
#   e2e_vm_backup LABEL nbd|control   one backup of every disk from one
#                                snapshot, taken
#     nbd:      by the first read of a held connection to snapshot/vdb;
#               vdb is copied (nbdcopy), the workload makes 3 more
#               commits, then vda is copied, its connections joining.
#               So were each disk snapshotted at its own first read,
#               vda's commit records would be newer than vdb's data
#               files, and verify-backup.sh would say so;
#     control:  by fleecectl begin --fresh (E2E_CTL: nbdkit's control=),
#               pinned until fleecectl end; vda is copied by nbdcopy and
#               qemu-img convert at once (the copies must be identical),
#               then vdb.
#     Checks: the snapshot exports' descriptions have one generation,
#     instant and label (application-consistent, at least one
#     filesystem per disk frozen) and each names its disk (I of N);
#     begin's reply agrees; nbdkit's log has one snapshot of N disks
#     and exactly one freeze and one thaw; the guest is thawed after;
#     verify-backup.sh VDA VDB passes (e2fsck -fn clean, no journal
#     replay, every file and log record, every commit record's data
#     file complete in vdb's backup, no data file of a later instant);
#     vda's log is a prefix of the live one (guest_check_live_log).
#     Prints each copy's time and rate, the freeze window and the
#     stall.  Sets E2E_DESC (vda's description), E2E_STORE_BYTES, and
#     per disk E2E_VM_IMAGE, E2E_VM_SIZE, E2E_VM_DATA (bytes of data in
#     the sparse copy), E2E_VM_MS (copy time).
#   e2e_vm_commits N             wait until the workload has made N more
#                                commit records
#   e2e_vm_freezes LABEL         the log section (e2e_log_mark) has one
#                                snapshot of every disk, one freeze, one
#                                thaw
#
# Everything is bounded; a failure prints "FAIL: ..." and exits.

E2E_VM_DISKS=(vda vdb)
E2E_CTL=
E2E_FLEECECTL=$abs_top_builddir/tools/fleecectl/fleecectl
declare -A E2E_VM_IMAGE E2E_VM_SIZE E2E_VM_DATA E2E_VM_MS

e2e_vm_disks ()
{
  truncate -s 256M "$GUEST_VMDIR/vda.img"
  truncate -s 128M "$GUEST_VMDIR/vdb.img"
  E2E_VM_ARGS=("disk=vda:$GUEST_VMDIR/vda.img" "disk=vdb:$GUEST_VMDIR/vdb.img")
}

# _e2e_vm_same DESC: the description without what differs between the
# disks (", disk NAME (I of N)") and the group's " of N disks".
_e2e_vm_same ()
{
  sed -E 's/, disk [A-Za-z0-9_-]+ \([0-9]+ of [0-9]+\)//; s/ of [0-9]+ disks,/,/' <<<"$1"
}

# _e2e_vm_check_desc LABEL I DISK DESC: one disk's description.
_e2e_vm_check_desc ()
{
  local n=${#E2E_VM_DISKS[@]} fs
  grep -Eq "^fleece snapshot generation [0-9]+, disk $3 \\($2 of $n\\), taken " <<<"$4" ||
    e2e_fail "$1: snapshot/$3 does not name its disk: $4"
  fs=$(sed -En 's/.*, application-consistent: ([0-9]+) filesystems? frozen for [0-9.]+ ms$/\1/p' <<<"$4")
  [ -n "$fs" ] && [ "$fs" -ge "$n" ] ||
    e2e_fail "$1: snapshot/$3 is not application-consistent with $n filesystems: $4"
  [ "$(_e2e_vm_same "$4")" = "$(_e2e_vm_same "$E2E_DESC")" ] ||
    e2e_fail "$1: snapshot/$3 is of another snapshot: '$4', not '$E2E_DESC'"
  echo "snapshot/$3: $4"
}

# _e2e_vm_copy LABEL DISK TOOL...: copy one disk with each TOOL at once.
_e2e_vm_copy ()
{
  local label=$1 d=$2 tool pid pids=() out
  shift 2
  for tool in "$@"; do
    ( e2e_copy "$tool" "$tmpdir/$label-$d-$tool.img" "snapshot/$d" &&
        echo "$E2E_COPY_MS" > "$tmpdir/$label-$d-$tool.ms" ) &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do
    wait "$pid" || e2e_fail "$label: a copy of snapshot/$d failed"
  done
  out=$tmpdir/$label-$d-$1.img
  for tool in "${@:2}"; do
    cmp "$out" "$tmpdir/$label-$d-$tool.img" ||
      e2e_fail "$label: $1 and $tool copies of snapshot/$d differ"
    rm -f "$tmpdir/$label-$d-$tool.img"
    echo "$1 and $tool copies of snapshot/$d at once: identical"
  done
  E2E_VM_IMAGE[$d]=$out
  E2E_VM_MS[$d]=$(cat "$tmpdir/$label-$d-$1.ms")
  E2E_VM_SIZE[$d]=$(stat -c %s "$out")
  E2E_VM_DATA[$d]=$(du -B1 "$out" | cut -f1)
}

e2e_vm_commits ()
{
  local c
  c=$(guest_exec /workload.sh status | sed -n 's/.* commits=\([0-9]*\).*/\1/p')
  guest_wait_workload $(( ${c:-0} + $1 )) commits
}

e2e_vm_freezes ()
{
  local n=${#E2E_VM_DISKS[@]} f t c
  c=$(e2e_log | grep -c "fleece: snapshot generation [0-9]* created: $n disks;" || true)
  f=$(e2e_log | grep -c 'fleece: guest frozen: ' || true)
  t=$(e2e_log | grep -c 'fleece: guest thawed in ' || true)
  [ "$c/$f/$t" = 1/1/1 ] ||
    e2e_fail "$1: nbdkit's log has $c snapshots of $n disks, $f freezes, $t thaws (want 1 each)"
  echo "nbdkit log: one snapshot of $n disks, one freeze, one thaw"
}

e2e_vm_backup ()
{
  local label=$1 mode=$2 i d reply order=()
  e2e_log_mark
  case $mode in
    nbd)
      local E2E_SNAP=snapshot/${E2E_VM_DISKS[-1]}
      e2e_hold
      for (( i = ${#E2E_VM_DISKS[@]} - 1; i >= 0; i-- )); do
        order+=("$i")
      done ;;
    control)
      reply=$("$E2E_FLEECECTL" --socket "$E2E_CTL" --json begin --fresh) ||
        e2e_fail "$label: fleecectl begin: $reply"
      E2E_DESC=$(/usr/bin/python3 -c 'import json, sys
print(json.loads(sys.argv[1])["description"])' "$reply")
      echo "fleecectl begin: $E2E_DESC"
      order=("${!E2E_VM_DISKS[@]}") ;;
    *) e2e_fail "e2e_vm_backup: unknown mode $mode" ;;
  esac
  for i in "${order[@]}"; do
    d=${E2E_VM_DISKS[$i]}
    _e2e_vm_check_desc "$label" $(( i + 1 )) "$d" \
      "$(e2e_description "nbd+unix:///snapshot/$d?socket=$E2E_SOCK")"
    if [ "$mode" = control ] && [ "$i" = 0 ]; then
      _e2e_vm_copy "$label" "$d" nbdcopy qemu-img
    else
      _e2e_vm_copy "$label" "$d" nbdcopy
    fi
    if [ "$mode" = nbd ] && [ "$i" -gt 0 ]; then
      e2e_vm_commits 3
    fi
  done
  E2E_DESC=$(e2e_description "nbd+unix:///snapshot/${E2E_VM_DISKS[0]}?socket=$E2E_SOCK")
  if [ "$mode" = nbd ]; then
    e2e_release
  else
    _e2e_vm_end "$label"
  fi
  [ "$(guest_freeze_status)" = thawed ] ||
    e2e_fail "$label: the guest is not thawed after the backup"
  echo "guest-fsfreeze-status after the backup: thawed"
  e2e_vm_freezes "$label"
  e2e_freeze_numbers
  "$GUEST_SRC/verify-backup.sh" "${E2E_VM_IMAGE[vda]}" "${E2E_VM_IMAGE[vdb]}" ||
    e2e_fail "$label: the backup of the two disks"
  guest_check_live_log "${E2E_VM_IMAGE[vda]}"
}

# _e2e_vm_end LABEL: fleecectl end, and the generation's end in the log.
_e2e_vm_end ()
{
  local gen
  gen=$(sed -n 's/^fleece snapshot generation \([0-9]*\),.*/\1/p' <<<"$E2E_DESC")
  "$E2E_FLEECECTL" --socket "$E2E_CTL" end > /dev/null ||
    e2e_fail "$1: fleecectl end failed"
  e2e_ended "$gen"
}
