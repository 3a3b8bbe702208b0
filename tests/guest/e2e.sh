# SPDX-License-Identifier: BSD-3-Clause
# nbdkit-fleece: the end-to-end backup steps, sourced after guest.sh by
# the tests/test-e2e-*.sh tests and scripts/demo.sh.
#
#   e2e_nbdkit_start LOG SOCK ARGS...  nbdkit -v on SOCK, its log in LOG
#                                (sets E2E_LOG, E2E_PID, E2E_SOCK; marks
#                                the log where this run starts)
#   e2e_nbdkit_kill [SIGNAL]     signal the nbdkit (default TERM), wait for
#                                it to be gone, remove the socket file
#   e2e_log_mark                 start a new section of $E2E_LOG
#   e2e_log                      print the section since the mark
#   e2e_log_wait REGEX [SECONDS] wait for a line of the section (bounded;
#                                returns 1 after printing FAIL)
#   e2e_hold                     open a connection to the snapshot export
#                                ($E2E_SNAP, default "snapshot"),
#                                take the snapshot (its first read) and
#                                keep it open, so that the following
#                                clients all join one generation (sets
#                                E2E_DESC, its export description)
#   e2e_hold_open, e2e_hold_wait [SECONDS]   the same in two halves, for
#                                doing something while the connection is
#                                being made (default 30 s)
#   e2e_release                  close it; e2e_ended
#   e2e_ended GEN                wait for generation GEN's end lines, print
#                                them (sets E2E_STORE_BYTES, summed over
#                                the disks)
#   e2e_copy TOOL OUT [EXPORT]   nbdcopy or qemu-img convert the snapshot
#                                export (default $E2E_SNAP) to OUT; prints
#                                time and throughput (sets E2E_COPY_MS)
#   e2e_backup LABEL TOOL...     one whole quiesced backup: hold, check the
#                                description (application-consistent, N >= 1,
#                                nbdinfo agrees), copy with each TOOL, release,
#                                check the guest is thawed, verify every copy
#                                (verify-backup.sh, guest_check_live_log), print
#                                the freeze window and the stall (sets
#                                E2E_IMAGE, the first copy)
#                                E2E_FS_OFFSET: the filesystem starts there
#                                on the disk (default 0); E2E_VERIFY_OPTS:
#                                options for verify-backup.sh
#   e2e_description URI          the export description nbdinfo reports
#                                (it takes no snapshot: $SNAPDESC does)
#   e2e_partition DISK           MBR: vda1 = 1 MiB + 192 MiB (the test's
#                                ext4), vda2 = 194 MiB + 62 MiB (spare, for
#                                a raw I/O outside the filesystem); sets
#                                E2E_FS_OFFSET
#   e2e_mailbox_wait STATE [SECONDS]   wait until /qga-fault.sh in the
#                                guest has posted STATE (bounded)
#   e2e_mailbox_send WORD        post WORD (GO) to /qga-fault.sh
#                                through the live export
#   e2e_mailbox_post WORD        the same (RESUME), then wait until it
#                                has posted DONE
#   e2e_slow_trim                trim 1 MiB of vda2 from a second client
#                                of the live export, and wait until
#                                nbdkit's delay filter (below fleece,
#                                delay-trim=N) holds it: a snapshot taken
#                                now freezes the guest, then waits at its
#                                barrier for that trim, so the guest stays
#                                frozen for up to N s.  E2E_TRIM_PID: the
#                                client (it exits 0 once the trim is done)
#   e2e_slow_trim_end            end that trim now: kill its client; the
#                                delay filter aborts its sleep (connection
#                                closed), the trim fails, and the barrier
#                                no longer waits for it.  Fails if the trim
#                                had already ended by itself (N too short)
#
#   e2e_requires                 the tools every libvirt end-to-end test
#                                needs (requires, from functions.sh)
#   e2e_disk                     build the guest, make $GUEST_VMDIR and a
#                                partitioned disk in it (e2e_partition;
#                                sets E2E_DISK), choose the domain's name
#   e2e_boot [MKFS_OPTS [MOUNT_OPTS]]   after e2e_nbdkit_start: let QEMU
#                                reach the socket, boot the guest under
#                                libvirt, make ext4 on vda1, mount it on
#                                /mnt/data and start the workload
#
# Everything is bounded; a failure prints "FAIL: ..." and exits.
# The numbers printed come from the nbdkit log lines of the fleece
# filter ("guest frozen: N filesystems in X ms", "guest thawed in X ms
# (frozen Y ms)", "live writes held X ms", "generation N ended: ...
# Y store bytes freed") and from the guest's own workload log.

E2E_LOG=
E2E_PID=
E2E_SOCK=
E2E_SNAP=snapshot
_e2e_mark=0
_e2e_hold_pid=
_e2e_hold_fd=

e2e_fail () { echo "$0: FAIL: $*" >&2; exit 1; }

e2e_requires ()
{
  requires virsh --version
  requires qemu-system-x86_64 --version
  requires nbdkit --version
  requires nbdkit --filter=delay null --dump-plugin
  requires nbdcopy --version
  requires nbdinfo --version
  requires nbdsh --version
  requires debugfs -V
  requires flock --version
}

e2e_disk ()
{
  guest_build
  guest_vmdir
  guest_name
  E2E_DISK=$GUEST_VMDIR/disk.img
  e2e_partition "$E2E_DISK"
}

e2e_boot ()
{
  guest_share_socket "$E2E_SOCK"
  guest_libvirt_up
  guest_start_libvirt "$E2E_SOCK"
  guest_workload /dev/vda1 10 "${1:-nodiscard}" "${2:-}"
}

e2e_nbdkit_start ()
{
  E2E_LOG=$1 E2E_SOCK=$2
  shift 2
  : >> "$E2E_LOG"
  e2e_log_mark
  start_nbdkit "$tmpdir/nbdkit.pid" "$E2E_SOCK" -v --log=stderr "$@" \
    2>> "$E2E_LOG" ||
    { cat "$E2E_LOG" >&2; e2e_fail "nbdkit did not start"; }
  E2E_PID=$(cat "$tmpdir/nbdkit.pid")
}

e2e_nbdkit_kill ()
{
  local i
  kill "-${1:-TERM}" "$E2E_PID"
  for i in $(seq 1 200); do
    pid_running "$E2E_PID" || break
    sleep 0.05
  done
  pid_running "$E2E_PID" && e2e_fail "nbdkit $E2E_PID did not exit"
  forget_pid "$E2E_PID"
  rm -f "$E2E_SOCK" "$tmpdir/nbdkit.pid"
}

e2e_log_mark () { _e2e_mark=$(wc -c < "$E2E_LOG"); }
e2e_log () { tail -c "+$(( _e2e_mark + 1 ))" "$E2E_LOG"; }

e2e_log_wait ()
{
  local i
  for i in $(seq 1 $(( ${2:-30} * 10 ))); do
    e2e_log | grep -Eq -- "$1" && return 0
    sleep 0.1
  done
  echo "$0: the last lines of $E2E_LOG (without I/O requests):" >&2
  e2e_log | grep -Ev ': (pread|pwrite|flush|trim|zero|extents)( |$)' |
    tail -n 30 >&2
  echo "$0: the last I/O requests of the section:" >&2
  e2e_log | grep -E ': (pwrite|flush|trim|zero)( |$)' | tail -n 10 >&2
  if [ -n "${GUEST_VMDIR:-}" ] && [ -r "$GUEST_VMDIR/console.log" ]; then
    echo "$0: the guest's console:" >&2
    tail -n 15 "$GUEST_VMDIR/console.log" >&2
  fi
  echo "$0: FAIL: no log line /$1/ within ${2:-30} s" >&2
  return 1
}

e2e_description ()
{
  nbdinfo --no-content --json "$1" |
    /usr/bin/python3 -c 'import json, sys
print(json.load(sys.stdin)["exports"][0].get("description", ""))'
}

e2e_hold_open ()
{
  rm -f "$tmpdir/hold.fifo" "$tmpdir/hold.out"
  mkfifo "$tmpdir/hold.fifo"
  /usr/bin/python3 -c '
import nbd, sys
from nbdcheck import open_snapshot
h, d = open_snapshot(sys.argv[1])       # its first read takes it
print(d, flush=True)
sys.stdin.read()
h.shutdown()
' "nbd+unix:///$E2E_SNAP?socket=$E2E_SOCK" \
    < "$tmpdir/hold.fifo" > "$tmpdir/hold.out" &
  _e2e_hold_pid=$!
  cleanup_pid "$_e2e_hold_pid"
  exec {_e2e_hold_fd}> "$tmpdir/hold.fifo"
}

e2e_hold_wait ()
{
  local i
  for i in $(seq 1 $(( ${1:-30} * 20 ))); do
    [ -s "$tmpdir/hold.out" ] && break
    kill -0 "$_e2e_hold_pid" 2>/dev/null || break
    sleep 0.05
  done
  E2E_DESC=$(cat "$tmpdir/hold.out")
  [ -n "$E2E_DESC" ] || e2e_fail "no snapshot connection within ${1:-30} s"
  echo "snapshot: $E2E_DESC"
}

e2e_hold () { e2e_hold_open; e2e_hold_wait; }

e2e_partition ()
{
  truncate -s 256M "$1"
  /usr/bin/python3 - "$1" <<'EOF'
import struct, sys
def part(start, count):
    return struct.pack("<B3sB3sII", 0, bytes(3), 0x83, bytes(3), start, count)
with open(sys.argv[1], "r+b") as f:
    f.seek(446)
    f.write(part(2048, 192 << 11) + part(194 << 11, 62 << 11) +
            bytes(32) + b"\x55\xaa")
EOF
  E2E_FS_OFFSET=$(( 1 << 20 ))
}

e2e_release ()
{
  local gen
  gen=$(sed -n 's/^fleece snapshot generation \([0-9]*\),.*/\1/p' <<<"$E2E_DESC")
  exec {_e2e_hold_fd}>&-
  wait "$_e2e_hold_pid" || e2e_fail "the snapshot connection failed"
  forget_pid "$_e2e_hold_pid"
  _e2e_hold_pid=
  rm -f "$tmpdir/hold.fifo" "$tmpdir/hold.out"
  e2e_ended "$gen"
}

e2e_ended ()
{
  e2e_log_wait "snapshot generation $1 ended" 30
  # Logged after every disk's end line.
  e2e_log_wait "fleece: generation $1: [0-9]+ live requests" 30
  E2E_STORE_BYTES=$(e2e_log | sed -n \
    "s/.*snapshot generation $1 ended[^:]*: .* \([0-9]*\) store bytes freed.*/\1/p" |
    awk '{ n += $1 } END { print n + 0 }')
  e2e_log | sed -n "s/.*snapshot generation $1 ended/generation $1 ended/p"
}

e2e_copy ()
{
  local uri="nbd+unix:///${3:-$E2E_SNAP}?socket=$E2E_SOCK" t size ms
  t=$(guest_now_ms)
  case "$1" in
    nbdcopy) nbdcopy "$uri" "$2" ;;
    qemu-img) qemu-img convert -f raw -O raw "$uri" "$2" ;;
    *) e2e_fail "e2e_copy: unknown tool $1" ;;
  esac
  ms=$(( $(guest_now_ms) - t ))
  size=$(stat -c %s "$2")
  E2E_COPY_MS=$ms
  awk -v n="$size" -v ms="$ms" -v tool="$1" -v f="${2##*/}" 'BEGIN {
    rate = (ms > 0) ? n / 1048576 / (ms / 1000) : 0
    printf "%s: %s: %d MiB in %d ms (%.0f MiB/s)\n", tool, f, n / 1048576,
           ms, rate }'
}

# e2e_freeze_numbers: print the freeze window of the section's snapshot.
e2e_freeze_numbers ()
{
  local f t h
  f=$(e2e_log | sed -n 's/.*fleece: guest frozen: \(.*\)/\1/p' | tail -n 1)
  t=$(e2e_log | sed -n 's/.*fleece: guest thawed in \(.*\)/\1/p' | tail -n 1)
  h=$(e2e_log | sed -n 's/.*live writes held \([0-9.]* ms\).*/\1/p' | tail -n 1)
  E2E_FROZEN_MS=$(sed -n 's/.*(frozen \([0-9.]*\) ms)/\1/p' <<<"$t")
  echo "freeze window (nbdkit log): froze ${f:-?}; thawed in ${t:-?}; live writes held ${h:-?}"
}

e2e_backup ()
{
  local label=$1 tool out n
  shift
  e2e_log_mark
  e2e_hold
  n=$(sed -n 's/.*application-consistent: \([0-9]*\) filesystems\{0,1\} frozen for [0-9.]* ms$/\1/p' \
        <<<"$E2E_DESC")
  [ -n "$n" ] && [ "$n" -ge 1 ] ||
    e2e_fail "$label: not application-consistent: $E2E_DESC"
  [ "$(e2e_description "nbd+unix:///snapshot?socket=$E2E_SOCK")" = "$E2E_DESC" ] ||
    e2e_fail "$label: nbdinfo shows another description than the snapshot's"
  E2E_IMAGE=
  for tool in "$@"; do
    out="$tmpdir/$label-$tool.img"
    e2e_copy "$tool" "$out"
    [ -n "$E2E_IMAGE" ] || E2E_IMAGE=$out
    cmp "$E2E_IMAGE" "$out" ||
      e2e_fail "$label: $tool and the first copy of one snapshot differ"
  done
  e2e_release
  [ "$(guest_freeze_status)" = thawed ] ||
    e2e_fail "$label: the guest is not thawed after the backup"
  echo "guest-fsfreeze-status after the backup: thawed"
  e2e_freeze_numbers
  for tool in "$@"; do
    out="$tmpdir/$label-$tool.img"
    if [ -n "${E2E_FS_OFFSET:-}" ]; then
      e2e_fs_extract "$out"
    fi
    "$GUEST_SRC/verify-backup.sh" ${E2E_VERIFY_OPTS:-} "$out" ||
      e2e_fail "$label: $tool copy"
    [ "$out" = "$E2E_IMAGE" ] || rm -f "$out"
  done
  guest_check_live_log "$E2E_IMAGE"
}

# e2e_fs_extract IMAGE: replace the disk IMAGE by its filesystem, which
# starts at E2E_FS_OFFSET (a partitioned disk); sparse.
e2e_fs_extract ()
{
  dd if="$1" of="$1.fs" bs=64K skip=$(( E2E_FS_OFFSET >> 16 )) \
     conv=sparse status=none
  mv -f "$1.fs" "$1"
}

# Not the guest's own trim: a guest blkdiscard of vda2 held for N s
# sometimes held the guest's fsfreeze of vda1 too (its freeze came only
# when the trim ended), and that decided the test, not nbdkit.
e2e_slow_trim ()
{
  e2e_log_mark
  nbdsh -u "nbd+unix:///?socket=$E2E_SOCK" \
    -c "h.trim(1 << 20, $(( 224 << 20 )))" > "$tmpdir/trim.out" 2>&1 &
  E2E_TRIM_PID=$!
  cleanup_pid "$E2E_TRIM_PID"
  e2e_log_wait 'delay: trim' 30 || { cat "$tmpdir/trim.out"; exit 1; }
  echo "a trim of vda2 by a second client is in flight (delayed below fleece)"
}

e2e_slow_trim_end ()
{
  local st=0
  kill "$E2E_TRIM_PID" 2>/dev/null
  wait "$E2E_TRIM_PID" || st=$?
  forget_pid "$E2E_TRIM_PID"
  [ "$st" -ne 0 ] ||
    e2e_fail "the held trim ended before the test ended it (raise delay-trim)"
  e2e_log_wait 'aborting sleep because of connection close' 30 || exit 1
  echo "the held trim was ended (its client killed)"
}

# The mailbox of tests/guest/qga-fault.sh: sectors 0 and 1 of vda2
# (e2e_partition) of the disk $GUEST_VMDIR/disk.img.
E2E_MAILBOX=$(( 194 << 20 ))

e2e_mailbox_wait ()
{
  local i
  for i in $(seq 1 $(( ${2:-30} * 10 ))); do
    dd if="$GUEST_VMDIR/disk.img" bs=512 skip=$(( E2E_MAILBOX / 512 )) \
       count=1 status=none | grep -q "^FLEECE-QGA-FAULT $1\$" && return 0
    sleep 0.1
  done
  e2e_fail "the guest's qga-fault.sh did not post $1 within ${2:-30} s"
}

e2e_mailbox_send ()
{
  nbdsh -u "nbd+unix:///?socket=$E2E_SOCK" -c "
h.pwrite(b'$1\n'.ljust(512, b'\0'), $E2E_MAILBOX + 512)
h.flush()"
}

e2e_mailbox_post ()
{
  e2e_mailbox_send "$1"
  e2e_mailbox_wait DONE
}
