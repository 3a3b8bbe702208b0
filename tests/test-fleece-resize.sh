#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# A disk resized under an active snapshot (nbdkit's file plugin reads
# the size per connection) never crashes nbdkit and never serves a
# snapshot it cannot keep exact.  Growth is no failure: a snapshot taken
# after the disk grew is of the grown disk, and a live connection made
# before the growth (smaller view) can still write into its last,
# partial block: the copy reads the whole block through a fresh plugin
# context (64K blocks, and 64M blocks where every write is in block 0).
# A snapshot connection to a disk that shrank is refused, and a live
# write to it still copies (its extents query stays inside the shrunk
# disk).
source "$srcdir/functions.sh"
requires nbdkit --version
requires /usr/bin/python3 -c 'import nbd'

disk="$tmpdir/disk.img"
sock="$tmpdir/sock"
cat > "$tmpdir/resize.py" <<'EOF2'
import sys, subprocess, nbd
sock, disk, case = sys.argv[1:4]
def conn(name):
    h = nbd.NBD()
    h.set_export_name(name)
    h.connect_unix(sock)
    return h
if case == "grow":
    live = conn("")
    L = live.get_size()                 # 1M + 100: a partial last block
    live.pwrite(b"o" * 4096, L - 4096)
    subprocess.run(["truncate", "-s", "2M", disk], check=True)
    new = conn("")                      # sees 2M: fills the grown part
    new.pwrite(b"g" * 8192, L)
    snap = conn("snapshot")
    assert snap.get_size() == 2 << 20
    old = snap.pread(2 << 20, 0)
    assert old[L - 4096:L + 8192] == b"o" * 4096 + b"g" * 8192
    # The old connection's write into its last block: the copy must
    # preserve the whole block as the snapshot has it, grown part too.
    live.pwrite(b"x" * 512, L - 512)
    new.pwrite(b"y" * 8192, L)          # the block is preserved already
    live.pwrite(b"z" * 512, 0)          # any block at all
    if snap.pread(2 << 20, 0) != old:
        sys.exit("FAIL: the snapshot of a grown disk changed")
    snap2 = conn("snapshot")            # joins the same generation
    snap.shutdown()
    if snap2.pread(2 << 20, 0) != old:
        sys.exit("FAIL: a new snapshot connection reads other data")
    print("ok: grown disk: a connection from before the growth writes, "
          "the snapshot stays exact and readable")
else:
    a = conn("snapshot")
    a.pread(1, 0)                       # taken at 2M, by its first read
    subprocess.run(["truncate", "-s", "1M", disk], check=True)
    try:
        conn("snapshot")
        sys.exit("FAIL: a snapshot connection to a shrunk disk was served")
    except nbd.Error:
        pass
    print("ok: shrunk disk: new snapshot connection refused")
    live = conn("")                     # sees 1M: its first copy asks
    live.pwrite(b"y" * 512, 0)          # extents within 1M, not to 2M
    assert a.pread(512, 0) == bytes(512), "snapshot block 0 changed"
    print("ok: shrunk disk: a live write copies, the snapshot is exact")
EOF2

run ()
{
  local size="$1" case="$2" pid i
  shift 2
  rm -f "$disk" "$sock"
  truncate -s "$size" "$disk"
  nbdkit -f -U "$sock" --filter="$FLEECE" file "$disk" "$@" \
    2>"$tmpdir/log.$case" &
  pid=$!
  cleanup_pid "$pid"
  for i in $(seq 1 200); do [ -S "$sock" ] && break; sleep 0.05; done
  /usr/bin/python3 "$tmpdir/resize.py" "$sock" "$disk" "$case"
  # nbdkit is still serving.
  nbdinfo --size "nbd+unix:///?socket=$sock" >/dev/null
  kill "$pid"
  wait "$pid" || true
}

for bs in 64K 64M; do
  run $(( (1 << 20) + 100 )) grow fleece-block-size=$bs
  if grep "is broken" "$tmpdir/log.grow"; then
    echo "$0: FAIL: growing the disk broke the snapshot" >&2
    exit 1
  fi
done
run 2M shrink fleece-block-size=64K
grep -q "the disk shrank since snapshot generation 1 was taken" \
  "$tmpdir/log.shrink"
echo "ok: causes logged"
