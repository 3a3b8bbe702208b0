#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test-fleecectl-prune-restore.sh: prune on real backups of a server
# (the file plugin under the filter with cbt-dir=, a 4 MiB disk):
# - two chains (full, incr; --full, incr), a .pruning directory as an
#   interrupted prune leaves it: the next backup removes it;
# - prune --keep-chains 1: the first chain removed, verify exits 0, and
#   the kept incremental restores byte for byte to the disk as it was.

source "$srcdir/functions.sh"
source "$srcdir/fleecectl-functions.sh"
requires nbdkit --version
requires qemu-img --version
requires qemu-nbd --version
requires /usr/bin/python3 -c 'import nbd'
F="$FLEECECTL"
cd "$tmpdir"
backup_server 4M

# write OFFSET LENGTH BYTE: the guest writes.
write () {
  /usr/bin/python3 -c '
import nbd, sys
h = nbd.NBD(); h.connect_uri(sys.argv[1])
h.pwrite(bytes([int(sys.argv[4])]) * int(sys.argv[3]), int(sys.argv[2]))
h.flush()' "$uri" "$@"
}
# backup WANT-NAME ARGS...: a backup (crash-consistent: exit 3).
backup () {
  local want="$1" st=0
  shift
  "$F" -s ctl.sock backup --uri "$uri" --output dir "$@" > bk.out 2> bk.err ||
    st=$?
  [ "$st" = 3 ] && grep -q "^backup $want: " bk.out ||
    { echo "$0: FAIL: backup exited $st, want $want" >&2; cat bk.out bk.err >&2
      exit 1; }
}

write 0 65536 1; backup 0001-full
write 65536 4096 2; backup 0002-incr
write 0 4096 3; backup 0003-full --full
mkdir dir/.0001-full.pruning; echo x > dir/.0001-full.pruning/disk.qcow2
write 1048576 8192 4; cp disk.img at4; backup 0004-incr
grep -q "backup .0001-full.pruning was being pruned by an interrupted run: removed" bk.err ||
  { cat bk.err; exit 1; }
[ ! -e dir/.0001-full.pruning ] || { echo "$0: FAIL: .pruning left" >&2; exit 1; }
echo "ok: backup removed an interrupted prune's leftover"
"$F" prune --input dir --keep-chains 1 > prune.out
[ "$(sed -n 's/^removed \([^ ]*\) .*/\1/p' prune.out | tr '\n' ' ')" = "0001-full 0002-incr " ] ||
  { cat prune.out; exit 1; }
[ "$(ls dir | tr '\n' ' ')" = "0003-full 0004-incr " ] || { ls -A dir; exit 1; }
"$F" verify --input dir
"$F" restore --input dir --at 0004-incr --output r.raw > r.out
grep -q "verified identical" r.out || { cat r.out; exit 1; }
cmp r.raw at4
echo "ok: after prune --keep-chains 1, 0004-incr restores identical to the disk then"
