#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# vmdisk on a block device (a loop device over a sparse file): size
# from the device, sector sizes as block sizes, extents all data,
# writes land in the device, zero zeroes (BLKZEROOUT, punch, and
# nbdkit's write fallback for an unaligned range), fast zero either
# works or fails at once without changing data, trim discards (the
# loop device punches the backing file), and cache=none works.
source "$srcdir/functions.sh"
requires losetup --version
requires nbdsh --version
requires nbdinfo --version

[ "$(id -u)" = 0 ] || {
  echo "$0: FAIL: needs root for a loop device (run scripts/check.sh as root)" >&2
  exit 1; }

back="$tmpdir/back.img"
truncate -s 8M "$back"
dev=$(losetup -f --show "$back")
trap 's=$?; losetup -d "$dev" || true; _cleanup "$s"' EXIT
nbdkit -U - random size=8M seed=9 --run 'nbdcopy "$uri" '"$tmpdir/src.img"

nbdkit -U - "$VMDISK" file="$dev" --run 'nbdinfo "$uri"; nbdinfo --map "$uri"' \
  > "$tmpdir/info"
for want in '	export-size: 8388608 (8M)' \
            "	block_size_minimum: $(blockdev --getss "$dev")" \
            '	block_size_preferred: 4096' \
            '         0     8388608    0  data'; do
  grep -qxF "$want" "$tmpdir/info" || {
    echo "$0: FAIL: no line '$want' in:" >&2; cat "$tmpdir/info" >&2; exit 1; }
done
echo "ok: size, block sizes and extents (all data) of $dev"

export back src="$tmpdir/src.img"
nbdkit -U - "$VMDISK" file="$dev" --run 'nbdsh -u "$uri" -c "
import os
h.set_strict_mode(0)             # let an unaligned zero through
M = 1024 * 1024
expect = bytearray(open(os.environ[\"src\"], \"rb\").read())
h.pwrite(bytes(expect), 0)
h.flush()
blocks = lambda: os.stat(os.environ[\"back\"]).st_blocks
b0 = blocks()

def zeroed(off, n):
    expect[off:off + n] = bytes(n)

h.zero(M, M, nbd.CMD_FLAG_NO_HOLE)            # BLKZEROOUT
zeroed(M, M)
h.zero(M, 2 * M)                              # may punch
zeroed(2 * M, M)
h.zero(1000, 3 * M + 7)                       # unaligned: nbdkit writes
zeroed(3 * M + 7, 1000)
try:
    h.zero(M, 5 * M, nbd.CMD_FLAG_FAST_ZERO)
    zeroed(5 * M, M)
    print(\"ok: fast zero done by the device\")
except nbd.Error as e:
    assert e.errno == \"ENOTSUP\", e
    print(\"ok: fast zero refused at once with ENOTSUP\")
h.trim(M, 6 * M)                              # BLKDISCARD
h.flush()
assert blocks() <= b0 - M // 512, (b0, blocks())
got = h.pread(8 * M, 0)
assert got[:6 * M] == bytes(expect[:6 * M])
assert got[7 * M:] == bytes(expect[7 * M:])
back = open(os.environ[\"back\"], \"rb\").read()
assert back[:6 * M] == bytes(expect[:6 * M])
assert back[6 * M:7 * M] == bytes(M)             # punched by the discard
print(\"ok: writes, zeroes and trim on the block device\")
"'

cp "$back" "$tmpdir/now.img"
nbdkit -U - "$VMDISK" file="$dev" cache=none readonly=true \
  --run 'nbdcopy "$uri" '"$tmpdir/copy.img"
cmp "$tmpdir/now.img" "$tmpdir/copy.img"
echo "ok: cache=none read-only copy of the block device is identical"
