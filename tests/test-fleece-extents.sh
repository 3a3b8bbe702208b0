#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test-fleece-extents.sh: the snapshot's extents (base:allocation)
# describe the disk as it was when the snapshot was taken, so sparse
# backups stay sparse: after the live export writes into holes, trims
# and zeroes data, `nbdinfo --map` of the snapshot is literally the
# map taken before the writes, while the live map has changed.  Over
# nbdkit's memory plugin and over the file plugin (a sparse file), with
# the default 64K blocks and with 4K blocks.  The layout is aligned to
# 64K so that every fleece block is wholly data or wholly hole.

source "$srcdir/functions.sh"
requires nbdkit --version
requires nbdinfo --version
requires /usr/bin/python3 -c 'import nbd'

size=$((2 * 1024 * 1024))
# The known sparse image, and its map as nbdinfo prints it.
cat > "$tmpdir/expected.map" <<'EOF'
         0       65536    0  data
     65536      196608    3  hole,zero
    262144      196608    0  data
    458752      589824    3  hole,zero
   1048576      131072    0  data
   1179648      917504    3  hole,zero
EOF

cat > "$tmpdir/extents.py" <<'EOF'
import subprocess, sys
import nbd

sock, outdir = sys.argv[1], sys.argv[2]
live_uri = "nbd+unix:///?socket=" + sock
snap_uri = "nbd+unix:///snapshot?socket=" + sock
K = 1024

def nbdinfo_map(uri, name):
    out = subprocess.run(["nbdinfo", "--map", uri], check=True,
                         capture_output=True, text=True).stdout
    with open(outdir + "/" + name, "w") as f:
        f.write(out)

live = nbd.NBD()
live.connect_uri(live_uri)
for (off, n) in ((0, 64 * K), (256 * K, 192 * K), (1024 * K, 128 * K)):
    live.pwrite(bytes([0x5a]) * n, off)
nbdinfo_map(live_uri, "before.map")

snap = nbd.NBD()                      # holds the snapshot open
snap.connect_uri(snap_uri)
snap.pread(1, 0)                      # its first read takes it
nbdinfo_map(snap_uri, "snap-start.map")

live.pwrite(b"w" * 64 * K, 128 * K)   # data into a hole
live.pwrite(b"x", 600 * K + 7)        # one byte into a hole
live.pwrite(b"y" * 8 * K, 2040 * K)   # into the last hole, at the end
live.trim(64 * K, 256 * K)            # trim data
live.zero(64 * K, 1024 * K)           # zero data
live.zero(4 * K, 48 * K)              # zero part of a data block
nbdinfo_map(live_uri, "live-after.map")
nbdinfo_map(snap_uri, "snap-after.map")
snap.shutdown()
live.shutdown()
EOF

# check NAME NBDKIT-ARGS...: one captive nbdkit, maps compared.
check ()
{
  local name="$1" m
  shift
  echo "== $name"
  nbdkit -U - --filter="$FLEECE" "$@" \
    --run "/usr/bin/python3 '$tmpdir/extents.py' \"\$unixsocket\" '$tmpdir'"
  for m in before snap-start snap-after; do
    if ! diff -u "$tmpdir/expected.map" "$tmpdir/$m.map"; then
      echo "$0: FAIL: $name: $m map differs from the image's map" >&2
      exit 1
    fi
  done
  # The live export did change: otherwise this test proves nothing.
  if cmp -s "$tmpdir/expected.map" "$tmpdir/live-after.map"; then
    echo "$0: FAIL: $name: live map unchanged by the writes" >&2
    exit 1
  fi
  echo "ok: $name: snapshot map equals the map before the writes"
  cat "$tmpdir/snap-after.map"
}

check memory memory $size fleece-block-size=64K   # memory allocates 32K pages
# Not memory with 4K fleece blocks: its 32K allocation pages are larger
# than a block, so a live write makes the plugin report data for the
# untouched (still zero) clean blocks sharing its page, and the
# snapshot passes that on.  Harmless (data is always a safe answer),
# but not literally the old map.

# A sparse file, made fresh for each run (the live writes change it).
truncate -s $size "$tmpdir/disk.img"
check file file "$tmpdir/disk.img"
rm "$tmpdir/disk.img"
truncate -s $size "$tmpdir/disk.img"
check file-4k file "$tmpdir/disk.img" fleece-block-size=4096
