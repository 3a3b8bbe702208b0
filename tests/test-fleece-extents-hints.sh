#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test-fleece-extents-hints.sh: copy-before-write asks the plugin for
# extents once per 4 MiB window that is all data, and per copied run in
# a window with holes, where holes are still settled zero, not copied.
# An 11 MiB image through vmdisk, 16K blocks (the last window partial):
#   window 0 [0, 4M)   all data
#   window 1 [4M, 8M)  data, a hole at [5M, 6M)
#   window 2 [8M, 11M) all hole
# First writes, in order: one across the 4M boundary (2 blocks; asks
# about windows 0 and 1 at once: 1 call), 8 in window 0 (DATA: no
# call), 3 to data and 2 to the hole of window 1 (MIXED: 5 calls), 2 in
# window 2 (1 whole-window call, then 1 run): 8 plugin extents calls
# for 16 first writes (16 without the hints), 13 blocks preserved and
# 4 zero, and the snapshot equals the image as it was.
source "$srcdir/functions.sh"
requires nbdkit --version
requires /usr/bin/python3 -c 'import nbd'

img="$tmpdir/disk.img"
truncate -s 11M "$img"
/usr/bin/python3 -c '
import sys
M = 1 << 20
data = bytes((i * 7) % 253 for i in range(M))
with open(sys.argv[1], "r+b") as f:
    for mib in (0, 1, 2, 3, 4, 6, 7):     # [5M, 6M) and [8M, 11M) holes
        f.seek(mib * M)
        f.write(data[mib:] + data[:mib])
' "$img"
cp --sparse=always "$img" "$tmpdir/before.img"

cat > "$tmpdir/hints.py" <<'EOF'
import sys
import nbd
from nbdcheck import fail, ok

sock, before = sys.argv[1], sys.argv[2]
M = 1024 * 1024
snap = nbd.NBD()
snap.connect_uri("nbd+unix:///snapshot?socket=" + sock)
snap.pread(1, 0)  # its first read takes the snapshot
live = nbd.NBD()
live.connect_uri("nbd+unix:///?socket=" + sock)
live.pwrite(b"x" * 200, 4 * M - 100)                         # across 4M
offsets = ([i * M // 2 + 100 for i in range(8)] +             # window 0
           [4 * M + 300 * 1024, 6 * M + 100, 7 * M + 100,
            5 * M + 100, 5 * M + 600 * 1024] +                # window 1
           [8 * M + 100, 10 * M + 100])                       # window 2
for off in offsets:
    live.pwrite(b"w" * 512, off)
want = open(before, "rb").read()
if snap.pread(len(want), 0) != want:
    fail("the snapshot is not the image as it was")
ok("the snapshot equals the image before %d first writes" % (len(offsets) + 1))
live.shutdown()
snap.shutdown()
EOF

nbdkit -v -U - --filter="$FLEECE" "$VMDISK" file="$img" \
  --run "/usr/bin/python3 '$tmpdir/hints.py' \"\$unixsocket\" '$tmpdir/before.img'" \
  2> "$tmpdir/nbdkit.log" || { tail -n 30 "$tmpdir/nbdkit.log" >&2; exit 1; }

# The snapshot connection's open first measures what a backup must read
# (progress.c: extents over the whole disk); count the calls after it.
grep -q "bytes of data to back up" "$tmpdir/nbdkit.log" ||
  { echo "$0: FAIL: the snapshot's data bytes were not measured" >&2; exit 1; }
calls=$(sed '1,/bytes of data to back up/d' "$tmpdir/nbdkit.log" |
          grep -Eo 'vmdisk: extents count=[0-9]+ offset=[0-9]+' |
          sed 's/.*count=\([0-9]*\) offset=\([0-9]*\)/\2+\1/')
echo "plugin extents calls (offset+count):" $calls
n=$(wc -w <<<"$calls")
[ "$n" = 8 ] || { echo "$0: FAIL: $n plugin extents calls, expected 8" >&2; exit 1; }
for q in 0+8388608 8388608+3145728; do
  grep -qx "$q" <<<"$calls" ||
    { echo "$0: FAIL: no whole-window query $q" >&2; exit 1; }
done
grep -q "generation 1 ended: 13 blocks preserved, 4 zero" "$tmpdir/nbdkit.log" ||
  { grep "generation 1 ended" "$tmpdir/nbdkit.log" >&2
    echo "$0: FAIL: expected 13 blocks preserved, 4 zero" >&2; exit 1; }
echo "ok: 8 extents calls for 16 first writes; 13 preserved, 4 zero"
