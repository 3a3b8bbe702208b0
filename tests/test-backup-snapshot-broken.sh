#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test-backup-snapshot-broken.sh: the snapshot breaks under a backup
# (the copy-before-write store is full: fleece-max-size=2M,
# on-cbw-error=break-snapshot; reads slowed by the delay filter, 200 ms)
# while the guest writes 24 MiB (the backup stopped meanwhile):
# - the guest's writes all succeed;
# - fleecectl status exits 4 with the cause; fleecectl backup exits 7
#   naming the disk, the offset and the I/O error, records nothing (no
#   new backup, no partial dir) and ends the snapshot it created;
# - verify exits 0; the next backup (an incremental since the last
#   good one) restores equal to its reference.

source "$srcdir/functions.sh"
source "$srcdir/fleecectl-functions.sh"
source "$srcdir/backup-functions.sh"
requires nbdkit --version
requires nbdkit --filter=delay null --version

G=65536
sock="$tmpdir/nbd.sock"
ctl="$tmpdir/ctl.sock"
pid="$tmpdir/nbdkit.pid"
dir="$tmpdir/bk"
truncate -s 32M "$tmpdir/disk.img"
start_nbdkit "$pid" "$sock" --filter="$FLEECE" --filter=delay \
  file "$tmpdir/disk.img" control="$ctl" cbt-dir="$tmpdir/cbt" \
  fleece-max-size=2M on-cbw-error=break-snapshot rdelay=200ms
for _ in $(seq 300); do [ -S "$ctl" ] && break; sleep 0.05; done
live=$(live_uris)

$WL mutate "$seed.1" "$tmpdir/log" 16 "$(uri)"
backup_point "$dir" 0001-full - "first backup" 3
$WL fill "$seed.2" "$tmpdir/log" 12 "$(uri)"

# An unpinned backup, one connection, stopped (SIGSTOP) once it has
# made its partial dir; meanwhile the guest overwrites the last 24 MiB:
# more to preserve than the store holds.  Then it goes on.
"$FLEECECTL" -s "$ctl" backup --uri "$(uri)" --output "$dir" \
  --connections 1 > "$tmpdir/bk.out" 2> "$tmpdir/bk.err" &
bk_pid=$!
cleanup_pid "$bk_pid"
for _ in $(seq 400); do
  compgen -G "$dir/.*.partial" > /dev/null && break
  sleep 0.01
done
kill -STOP "$bk_pid"
/usr/bin/python3 -c '
import nbd, os, sys
h = nbd.NBD(); h.connect_uri(sys.argv[1])
for off in range(8 << 20, 32 << 20, 1 << 20):   # fails on any error
    h.pwrite(os.urandom(1 << 20), off)
h.flush()' "$(uri)" || { kill -CONT "$bk_pid"; exit 1; }
kill -CONT "$bk_pid"
expect_exit 4 "is broken: store full" "$FLEECECTL" -s "$ctl" status
st=0
wait "$bk_pid" || st=$?
forget_pid "$bk_pid"
if [ "$st" != 7 ] ||
   ! grep -Eq 'disk "" at offset [0-9]+: .*Input/output error' "$tmpdir/bk.err"; then
  echo "$0: FAIL: backup of a broken snapshot exited $st (want 7, EIO):" >&2
  cat "$tmpdir/bk.out" "$tmpdir/bk.err" >&2; exit 1
fi
echo "ok: the snapshot broke: exit 7: $(tail -n1 "$tmpdir/bk.err")"
got=$(cd "$dir" && echo *-* .*.partial)
[ "$got" = "0001-full .*.partial" ] ||
  { echo "$0: FAIL: $dir holds: $got" >&2; exit 1; }
state=$("$FLEECECTL" -s "$ctl" status --json 2>/dev/null | jq -r .state) || true
if [ "$state" != none ]; then
  echo "$0: FAIL: the broken snapshot the backup created was not ended" >&2
  exit 1
fi
expect_exit 0 "^0001-full: ok" "$FLEECECTL" verify --input "$dir"

backup_point "$dir" 0002-incr 0001-full - 3
restore_cmp "$dir" 0002-incr "$tmpdir/ref.bk.0002-incr"
restore_cmp "$dir" 0001-full "$tmpdir/ref.bk.0001-full"
