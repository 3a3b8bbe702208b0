#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# vmdisk cache=none: the file really is open with O_DIRECT, the direct
# I/O alignment is advertised as the minimum block size, and unaligned
# reads, writes and zeroes (bounced, read-modify-write) are
# byte-identical to the same edits made to a copy.
source "$srcdir/functions.sh"
requires nbdsh --version
requires nbdinfo --version

img="$tmpdir/disk.img"
nbdkit -U - random size=4M seed=5 --run 'nbdcopy "$uri" '"$img"
cp "$img" "$tmpdir/expect.img"

start_nbdkit "$tmpdir/pid" "$tmpdir/sock" "$VMDISK" file="$img" cache=none
pid=$(cat "$tmpdir/pid")
uri="nbd+unix:///?socket=$tmpdir/sock"

# O_DIRECT is 040000 (octal) in the flags of the descriptor on $img.
direct=
for fd in /proc/"$pid"/fd/*; do
  [ "$(readlink "$fd")" = "$img" ] || continue
  flags=$(awk '/^flags:/ { print $2 }' /proc/"$pid"/fdinfo/"${fd##*/}")
  direct=$(( 8#$flags & 8#040000 ))
done
[ -n "$direct" ] && [ "$direct" != 0 ] || {
  echo "$0: FAIL: $img is not open with O_DIRECT (flags ${flags:-none})" >&2
  exit 1; }
echo "ok: the file is open with O_DIRECT"

min=$(nbdinfo "$uri" | sed -n 's/^\tblock_size_minimum: //p')
case "$min" in
  512|1024|2048|4096) echo "ok: minimum block size $min" ;;
  *) echo "$0: FAIL: minimum block size '$min', expected the alignment" >&2
     exit 1 ;;
esac
nbdinfo "$uri" | grep -qx '	can_cache: false'

nbdsh -u "$uri" -c '
import random
h.set_strict_mode(0)             # send unaligned requests anyway
rng = random.Random(11)
expect = open("'"$tmpdir/expect.img"'", "r+b")
size = 4 * 1024 * 1024
for i in range(300):
    n = rng.choice([1, 3, 511, 513, 4095, 4097, 70001, 1100000])
    off = rng.randrange(0, size - n)
    if i % 10 == 9:
        h.zero(n, off, nbd.CMD_FLAG_NO_HOLE if i % 20 == 9 else 0)
        data = bytes(n)
    else:
        data = rng.randbytes(n)
        h.pwrite(data, off, nbd.CMD_FLAG_FUA if i % 7 == 0 else 0)
    expect.seek(off)
    expect.write(data)
    roff = rng.randrange(0, size - n)
    expect.seek(roff)
    assert h.pread(n, roff) == expect.read(n), (i, n, roff)
h.flush()
expect.close()
'
cmp "$tmpdir/expect.img" "$img"
echo "ok: 300 unaligned writes, zeroes and reads are byte-identical"
