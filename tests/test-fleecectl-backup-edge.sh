#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test-fleecectl-backup-edge.sh: cases found by review.
# 1. fleecectl restore interrupted while its qemu-img runs.  A qemu-img wrapper first in PATH records its pid
# and sleeps before running the real convert; SIGTERM to fleecectl
# then must end that child too: no qemu-img left running, no PATH.tmp
# left behind (the child would create it after fleecectl removed it).
# 2. A backup moved out of the middle of a chain: the next backup is
# full, with the reason; restore of the new chain is the disk.

source "$srcdir/functions.sh"
source "$srcdir/fleecectl-functions.sh"
requires nbdkit --version
requires qemu-img --version
requires qemu-nbd --version
F="$FLEECECTL"
cd "$tmpdir"
truncate -s 1M disk.img
start_nbdkit pid nbd.sock --filter="$FLEECE" file disk.img control=ctl.sock
for _ in $(seq 100); do [ -S ctl.sock ] && break; sleep 0.05; done
"$F" -s ctl.sock backup --uri "nbd+unix:///?socket=$tmpdir/nbd.sock" \
  --output dir > out 2>&1 || [ $? = 3 ] || { cat out; exit 1; }

real="$(command -v qemu-img)"
mkdir bin
cat > bin/qemu-img <<SH
#!/bin/sh
if [ "\$1" = convert ]; then echo \$\$ > "$tmpdir/child.pid"; sleep 2; fi
exec "$real" "\$@"
SH
chmod +x bin/qemu-img
PATH="$tmpdir/bin:$PATH" "$F" restore --input dir --output r.raw &
fc=$!
for _ in $(seq 100); do [ -s child.pid ] && break; sleep 0.05; done
[ -s child.pid ] || { echo "$0: FAIL: convert never started" >&2; exit 1; }
kill -TERM $fc
wait $fc && { echo "$0: FAIL: restore exited 0 after SIGTERM" >&2; exit 1; }
sleep 3                         # the wrapper's sleep is over by now
if kill -0 "$(cat child.pid)" 2>/dev/null; then
  echo "$0: FAIL: qemu-img convert still runs after restore was killed" >&2
  kill "$(cat child.pid)"; exit 1
fi
[ ! -e r.raw.tmp ] && [ ! -e r.raw ] ||
  { echo "$0: FAIL: restore left $(ls r.raw*)" >&2; exit 1; }
echo "ok: SIGTERM during restore ends its qemu-img, leaves no file"

# A backup removed from the middle of the chain: the next backup is a
# full one saying why, not a failure of qemu-img create ("Could not
# open backing image") on every run after.
start_nbdkit pid2 nbd2.sock --filter="$FLEECE" file disk.img \
  cbt-dir=cbt cbt-granularity=4K fleece-block-size=4K control=ctl2.sock
for _ in $(seq 100); do [ -S ctl2.sock ] && break; sleep 0.05; done
uri2="nbd+unix:///?socket=$tmpdir/nbd2.sock"
b2 () { "$F" -s ctl2.sock backup --uri "$uri2" --output dir2 || [ $? = 3 ]; }
b2 > o1 2>&1 && b2 > o2 2>&1 && b2 > o3 2>&1 ||
  { cat o1 o2 o3; exit 1; }
grep -q "^backup 0003-incr: incremental since 0002-incr" o3 || { cat o3; exit 1; }
mv dir2/0002-incr moved
b2 > o4 2>&1 || { cat o4; echo "$0: FAIL: backup on a broken chain" >&2; exit 1; }
grep -q "full backup: the chain of 0003-incr is broken (0002-incr is not in the directory)" o4 ||
  { cat o4; exit 1; }
grep -q "^backup 0004-full: full" o4 || { cat o4; exit 1; }
rm dir2/0001-full/disk.qcow2
mv moved dir2/0002-incr
b2 > o5 2>&1 && grep -q "the chain of 0004-full" o5 && { cat o5; exit 1; }
"$F" restore --input dir2 --output r4.raw > o6 2>&1 || { cat o6; exit 1; }
cmp r4.raw disk.img || { echo "$0: FAIL: restore of 0005" >&2; exit 1; }
echo "ok: a broken chain makes the next backup full, with the reason"
