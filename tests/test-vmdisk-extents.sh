#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# vmdisk: a sparse file's holes and data are reported exactly
# (literal nbdinfo --map output), including the last extent at an
# end of file that is not block-aligned, and a hole at the end.
source "$srcdir/functions.sh"
requires nbdinfo --version

# fill FILE OFFSET LENGTH: write non-zero bytes, leaving the rest alone.
fill ()
{
  head -c "$3" /dev/zero | tr '\0' 'v' |
    dd of="$1" bs=64K iflag=fullblock oflag=seek_bytes seek="$2" \
       conv=notrunc status=none
}

# Ends in data, 1000 bytes into its last 4 KiB block.
a="$tmpdir/a.img"
truncate -s $((3 * 1024 * 1024 + 1000)) "$a"
fill "$a" $((1024 * 1024)) 65536
fill "$a" $((2 * 1024 * 1024 + 8192)) 4096
fill "$a" $((3 * 1024 * 1024 + 500)) 500
nbdkit -U - "$VMDISK" file="$a" --run 'nbdinfo --map "$uri"' > "$tmpdir/a.map"
cat > "$tmpdir/a.expect" <<'MAP'
         0     1048576    3  hole,zero
   1048576       65536    0  data
   1114112      991232    3  hole,zero
   2105344        4096    0  data
   2109440     1036288    3  hole,zero
   3145728        1000    0  data
MAP
diff -u "$tmpdir/a.expect" "$tmpdir/a.map"
echo "ok: sparse file ending in a partial data block"

# Ends in a hole; starts with data.
b="$tmpdir/b.img"
truncate -s 1M "$b"
fill "$b" 0 8192
nbdkit -U - "$VMDISK" file="$b" cache=none --run 'nbdinfo --map "$uri"' > "$tmpdir/b.map"
cat > "$tmpdir/b.expect" <<'MAP'
         0        8192    0  data
      8192     1040384    3  hole,zero
MAP
diff -u "$tmpdir/b.expect" "$tmpdir/b.map"
echo "ok: sparse file ending in a hole (cache=none)"

# Entirely a hole, and entirely data.
c="$tmpdir/c.img"
truncate -s 5M "$c"
nbdkit -U - "$VMDISK" file="$c" --run 'nbdinfo --map "$uri"' > "$tmpdir/c.map"
echo "         0     5242880    3  hole,zero" | diff -u - "$tmpdir/c.map"
fill "$c" 0 $((5 * 1024 * 1024))
nbdkit -U - "$VMDISK" file="$c" --run 'nbdinfo --map "$uri"' > "$tmpdir/c.map"
echo "         0     5242880    0  data" | diff -u - "$tmpdir/c.map"
echo "ok: all-hole and all-data files"

# A request that starts inside data and ends inside a hole is
# answered with extents clipped to it.
nbdkit -U - "$VMDISK" file="$a" --run '
  nbdsh --base-allocation -u "$uri" -c "
got = []
h.block_status(100000, 1050000,
               lambda ctx, off, ents, err: got.extend(ents) or 0)
assert got == [64112, 0, 35888, 3], got
"'
echo "ok: a block status request in the middle is clipped to the request"
