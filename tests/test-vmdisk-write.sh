#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# vmdisk: data written through NBD lands byte-identical in the file,
# whichever client writes it (nbdcopy over multi-conn, qemu-img,
# nbdsh with unaligned FUA writes), and reads return it.
source "$srcdir/functions.sh"
requires nbdcopy --version
requires qemu-img --version
requires nbdsh --version

disk="$tmpdir/disk.img"
truncate -s 8M "$disk"
# Deterministic sources from nbdkit's random plugin.
nbdkit -U - random size=8M seed=1 --run 'nbdcopy "$uri" '"$tmpdir/src1.img"
nbdkit -U - random size=8M seed=2 --run 'nbdcopy "$uri" '"$tmpdir/src2.img"

# nbdcopy uses several connections when the server offers multi-conn.
nbdkit -U - "$VMDISK" file="$disk" --run 'nbdcopy --connections=4 '"$tmpdir/src1.img"' "$uri"'
cmp "$tmpdir/src1.img" "$disk"
echo "ok: nbdcopy (4 connections) wrote the file byte-identical"

nbdkit -U - "$VMDISK" file="$disk" \
  --run 'qemu-img convert -n -f raw -O raw '"$tmpdir/src2.img"' "$uri"'
cmp "$tmpdir/src2.img" "$disk"
echo "ok: qemu-img convert wrote the file byte-identical"

# Unaligned writes with and without FUA, a flush and a prefetch; the
# same edits applied to a copy must give the same bytes, and reads
# through NBD must return them.
cp "$tmpdir/src2.img" "$tmpdir/expect.img"
nbdkit -U - "$VMDISK" file="$disk" --run '
  nbdsh -u "$uri" -c "
import random
rng = random.Random(7)
expect = open(\"'"$tmpdir/expect.img"'\", \"r+b\")
for i in range(200):
    off = rng.randrange(0, 8 * 1024 * 1024 - 70000)
    data = rng.randbytes(rng.randrange(1, 70000))
    h.pwrite(data, off, nbd.CMD_FLAG_FUA if i % 3 == 0 else 0)
    expect.seek(off)
    expect.write(data)
    assert h.pread(len(data), off) == data
h.flush()
h.cache(1024 * 1024, 0)
expect.close()
"'
cmp "$tmpdir/expect.img" "$disk"
echo "ok: 200 unaligned writes (some FUA) are byte-identical in the file"
