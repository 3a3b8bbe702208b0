#!/usr/bin/env bash
# test-fleece-extents-hints.sh: copy-before-write asks the plugin for
# extents once per 4 MiB window that is all data, and per copied run in
# a window with holes, where holes are still settled zero, not copied.
# A 12 MiB image through vmdisk, 16K blocks:
#   window 0 [0, 4M)   all data          8 first writes: 1 query (whole)
#   window 1 [4M, 8M)  data, hole 5M-6M  4 data + 2 hole first writes:
#                                        1 whole-window query + 5 runs
#   window 2 [8M, 12M) all hole          2 first writes: 1 + 1
# so 9 plugin extents calls for 16 first writes (16 without hints),
# 12 blocks preserved and 4 zero, and the snapshot equals the image as
# it was.
source "$srcdir/functions.sh"
requires nbdkit --version
requires /usr/bin/python3 -c 'import nbd'

img="$tmpdir/disk.img"
M=$((1024 * 1024))
truncate -s $((12 * M)) "$img"
head -c $((5 * M)) /dev/urandom | dd of="$img" conv=notrunc status=none
head -c $((2 * M)) /dev/urandom |
  dd of="$img" bs=1M seek=6 conv=notrunc status=none
cp --sparse=always "$img" "$tmpdir/before.img"

cat > "$tmpdir/hints.py" <<'EOF'
import sys
import nbd
from nbdcheck import fail, ok

sock, before = sys.argv[1], sys.argv[2]
M = 1024 * 1024
snap = nbd.NBD()
snap.connect_uri("nbd+unix:///snapshot?socket=" + sock)
live = nbd.NBD()
live.connect_uri("nbd+unix:///?socket=" + sock)
offsets = ([i * M // 2 + 100 for i in range(8)] +             # window 0
           [4 * M + 100, 4 * M + 300 * 1024, 6 * M + 100, 7 * M + 100,
            5 * M + 100, 5 * M + 600 * 1024] +                # window 1
           [8 * M + 100, 10 * M + 100])                       # window 2
for off in offsets:
    live.pwrite(b"w" * 512, off)
want = open(before, "rb").read()
if snap.pread(len(want), 0) != want:
    fail("the snapshot is not the image as it was")
ok("the snapshot equals the image before %d first writes" % len(offsets))
live.shutdown()
snap.shutdown()
EOF

nbdkit -v -U - --filter="$FLEECE" "$VMDISK" file="$img" \
  --run "/usr/bin/python3 '$tmpdir/hints.py' \"\$unixsocket\" '$tmpdir/before.img'" \
  2> "$tmpdir/nbdkit.log" || { tail -n 30 "$tmpdir/nbdkit.log" >&2; exit 1; }

calls=$(grep -Eo 'vmdisk: extents count=[0-9]+ offset=[0-9]+' "$tmpdir/nbdkit.log" |
          sed 's/.*count=\([0-9]*\) offset=\([0-9]*\)/\2+\1/')
echo "plugin extents calls (offset+count):" $calls
n=$(wc -w <<<"$calls")
[ "$n" = 9 ] || { echo "$0: FAIL: $n plugin extents calls, expected 9" >&2; exit 1; }
for w in 0 4194304 8388608; do
  grep -qx "$w+4194304" <<<"$calls" ||
    { echo "$0: FAIL: no whole-window query at $w" >&2; exit 1; }
done
grep -q "generation 1 ended: 12 blocks preserved, 4 zero" "$tmpdir/nbdkit.log" ||
  { grep "generation 1 ended" "$tmpdir/nbdkit.log" >&2
    echo "$0: FAIL: expected 12 blocks preserved, 4 zero" >&2; exit 1; }
echo "ok: 9 extents calls for 16 first writes; 12 preserved, 4 zero"
