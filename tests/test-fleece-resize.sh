#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# A disk resized under an active snapshot (nbdkit's file plugin reads
# the size per connection) never crashes nbdkit and never serves a
# snapshot it cannot keep exact: a copy the live connection cannot make
# breaks the snapshot (the guest write succeeds), a snapshot connection
# to a disk that shrank is refused, and a live write to it still copies
# (its extents query stays inside the shrunk disk).
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
    L = live.get_size()                 # 1M + 512
    subprocess.run(["truncate", "-s", "2M", disk], check=True)
    snap = conn("snapshot")
    assert snap.get_size() == 2 << 20
    snap.pread(1, 0)                    # the first read takes it
    live.pwrite(b"x" * 512, L - 512)    # its copy would pass L
    try:
        snap.pread(512, L - 512)
        sys.exit("FAIL: the snapshot was not broken")
    except nbd.Error as e:
        assert "(EIO)" in str(e), e
    print("ok: grown disk: guest write succeeded, snapshot broken")
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
  rm -f "$disk" "$sock"
  truncate -s "$size" "$disk"
  nbdkit -f -U "$sock" --filter="$FLEECE" file "$disk" \
    fleece-block-size=64K 2>"$tmpdir/log.$case" &
  pid=$!
  cleanup_pid "$pid"
  for i in $(seq 1 200); do [ -S "$sock" ] && break; sleep 0.05; done
  /usr/bin/python3 "$tmpdir/resize.py" "$sock" "$disk" "$case"
  # nbdkit is still serving.
  nbdinfo --size "nbd+unix:///?socket=$sock" >/dev/null
  kill "$pid"
  wait "$pid" || true
}

run $(( (1 << 20) + 512 )) grow
grep -q "is broken.*disk is smaller than when snapshot generation 1 was taken" \
  "$tmpdir/log.grow"
run 2M shrink
grep -q "the disk shrank since snapshot generation 1 was taken" \
  "$tmpdir/log.shrink"
echo "ok: causes logged"
