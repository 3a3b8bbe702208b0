# SPDX-License-Identifier: BSD-3-Clause
# nbdkit-fleece: sourced by the backup tests (test-backup-*.sh), after
# functions.sh and fleecectl-functions.sh.
#
# A test point is taken as a backup script would, with a reference:
# `pin` begins a fresh snapshot (its generation in $gen), `read_refs`
# reads every snapshot export with nbdcopy into reference files, then
# `fleecectl backup` adopts the pinned snapshot (so the backup must be
# exactly the references) while `writer` keeps writing to the live
# disks, and `unpin` ends it.  $WL runs backup_workload.py (the guest's
# writes, logged, and the checks of a backup's files); $seed makes
# every random choice repeatable (FLEECE_TEST_SEED=N).  The server's
# socket is $sock, its control socket $ctl.

requires nbdcopy --version
requires nbdinfo --version
requires qemu-img --version
requires jq --version
requires /usr/bin/python3 -c 'import nbd'
WL="/usr/bin/python3 $srcdir/backup_workload.py"
seed="${FLEECE_TEST_SEED:-$(date +%s)}"
echo "seed $seed (FLEECE_TEST_SEED=$seed repeats this run)"

# uri [EXPORT]: the NBD URI of an export of the server.
uri () { echo "nbd+unix:///${1:-}?socket=$sock"; }

# disks: one line per disk of the active snapshot: NAME EXPORT SIZE
# (NAME "-" for the single unnamed disk).
disks ()
{
  "$FLEECECTL" -s "$ctl" status --json | /usr/bin/python3 -c '
import json, sys
for d in json.load(sys.stdin)["disks"]:
    print(d["name"] or "-", d["export"], d["disk-size"])'
}

# live_uris: the URI of every live export (not a snapshot export),
# one a line.  The tests keep them in $live after each start of nbdkit.
live_uris ()
{
  nbdinfo --list --json "$(uri)" | /usr/bin/python3 -c '
import json, sys
for e in json.load(sys.stdin)["exports"]:
    if e["export-name"].split("/")[0] != "snapshot":
        print(sys.argv[1] % e["export-name"])' "$(uri %s)"
}

# pin: begin a fresh snapshot (crash-consistent is fine), $gen := its
# generation.
pin ()
{
  local out st=0
  out=$("$FLEECECTL" -s "$ctl" begin --fresh --json 2>/dev/null) || st=$?
  if [ "$st" != 0 ] && [ "$st" != 3 ]; then
    echo "$0: FAIL: begin exited $st: $out" >&2; exit 1
  fi
  gen=$(grep -o '"generation":[0-9]*' <<<"$out" | head -n1 | cut -d: -f2)
}

# unpin: the pinned generation $gen must still be active (a backup that
# adopted it must not have ended it); end it.
unpin ()
{
  local r
  r=$("$FLEECECTL" -s "$ctl" status --json)
  if ! grep -q '"state":"active"' <<<"$r" ||
     [ "$(grep -o '"generation":[0-9]*' <<<"$r" | head -n1)" != "\"generation\":$gen" ]; then
    echo "$0: FAIL: pinned generation $gen is no longer active:" >&2
    echo "$r (a backup ended a snapshot it had adopted)" >&2
    exit 1
  fi
  "$FLEECECTL" -s "$ctl" end > /dev/null
}

# read_refs PREFIX DISKS: each snapshot export listed in the file
# DISKS (as disks prints them) into PREFIX.NAME ("disk" for the
# unnamed disk).
read_refs ()
{
  local n e s
  while read -r n e s; do
    [ "$n" = - ] && n=disk
    rm -f "$1.$n"
    nbdcopy "$(uri "$e")" "$1.$n"
  done < "$2"
}

# start_writer LOG: the guest writes to every live disk until
# stop_writer (returning once it has written); its writes are logged
# in LOG.
start_writer ()
{
  rm -f "$tmpdir/stop" "$tmpdir/stop.ready"
  _writers=$((_writers + 1))
  # shellcheck disable=SC2086
  $WL writer "$seed.w$_writers" "$1" "$tmpdir/stop" ${live:?} &
  writer_pid=$!
  cleanup_pid "$writer_pid"
  for _ in $(seq 400); do               # writing before the backup begins
    [ -e "$tmpdir/stop.ready" ] && return 0
    kill -0 "$writer_pid" 2>/dev/null || break
    sleep 0.02
  done
  echo "$0: FAIL: the guest writer did not start writing" >&2
  exit 1
}

# stop_writer: it must have finished without a refused write.
stop_writer ()
{
  touch "$tmpdir/stop"
  wait "$writer_pid" || { echo "$0: FAIL: the guest writer failed" >&2; exit 1; }
  forget_pid "$writer_pid"
}
_writers=0

# backup WANT ARGS...: fleecectl backup ARGS... must exit WANT; its
# standard output and error in $tmpdir/bk.out and $tmpdir/bk.err.
backup ()
{
  local want="$1" st=0
  shift
  "$FLEECECTL" -s "$ctl" backup --uri "$(uri)" "$@" \
    > "$tmpdir/bk.out" 2> "$tmpdir/bk.err" || st=$?
  if [ "$st" != "$want" ]; then
    echo "$0: FAIL: backup $* exited $st (want $want):" >&2
    cat "$tmpdir/bk.out" "$tmpdir/bk.err" >&2
    exit 1
  fi
}

# restore_cmp DIR NAME PREFIX: restore DIR at NAME into a fresh path;
# every disk must equal its reference PREFIX.NAME byte for byte.
restore_cmp ()
{
  local out="$tmpdir/restored" n f r
  rm -rf "$out"
  "$FLEECECTL" restore --input "$1" --at "$2" --output "$out" \
    > "$tmpdir/rs.out" ||
    { echo "$0: FAIL: restore --at $2 failed" >&2; exit 1; }
  grep -q "verified identical" "$tmpdir/rs.out" ||
    { echo "$0: FAIL: restore said:" >&2; cat "$tmpdir/rs.out" >&2; exit 1; }
  for f in "$3".*; do
    n=${f##*.}
    if [ -d "$out" ]; then r="$out/$n.raw"; else r="$out"; fi
    cmp "$f" "$r" ||
      { echo "$0: FAIL: $2: disk $n restored differs from its reference" >&2
        exit 1; }
  done
  echo "ok: $2 restores equal to its references ($(ls "$3".* | wc -l) disks)"
}

# qcow2_size DIR NAME DISK: the size of the backup's qcow2 file of DISK.
qcow2_size () { stat -c %s "$1/$2/$3.qcow2"; }

# backup_point DIR NAME PARENT REASON WANT ARGS...: a checked backup
# of a pinned snapshot: pin, read the references into
# $tmpdir/ref.DIRNAME.NAME.*, back up into DIR with the writer running
# (its writes logged in $tmpdir/log; ARGS... to fleecectl backup, which
# must exit WANT), unpin, and check NAME's manifest (PARENT and REASON
# as backup_workload.py's manifest takes them).  A full backup's bound
# (the snapshot's data clusters of $G bytes) is left in $tmpdir/dc.DISK
# ("-" for the unnamed disk); the disks in $tmpdir/disks.
backup_point ()
{
  local dir="$1" name="$2" parent="$3" reason="$4" want="$5"
  local d e s list="" kind=incremental
  shift 5
  [[ "$name" = *-full ]] && kind=full
  pin
  disks > "$tmpdir/disks"
  read_refs "$tmpdir/ref.${dir##*/}.$name" "$tmpdir/disks"
  while read -r d e s; do
    [ "$kind" = full ] && $WL data-clusters "$(uri "$e")" "$G" > "$tmpdir/dc.$d"
    list+="${list:+,}${d#-}:$s"
  done < "$tmpdir/disks"
  start_writer "$tmpdir/log"
  backup "$want" --output "$dir" "$@"
  stop_writer
  unpin
  $WL manifest "$dir" "$name" "$kind" "$parent" "$gen" "$reason" "$list"
}
