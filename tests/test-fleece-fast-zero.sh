#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test-fleece-fast-zero.sh: a live fast-zero request (NBD_CMD_FLAG_FAST_ZERO)
# succeeds with no snapshot; during a snapshot, over a clean data block
# (which would need a copy-before-write) it fails with ENOTSUP and
# changes nothing, while over an already preserved block it succeeds;
# an ordinary zero still works; the snapshot stays exact throughout.

source "$srcdir/functions.sh"
requires nbdkit --version
requires /usr/bin/python3 -c 'import nbd'

cat > "$tmpdir/fastzero.py" <<'EOF'
import errno, sys
import nbd
from nbdcheck import fail

sock = sys.argv[1]
B = 65536
FAST = nbd.CMD_FLAG_FAST_ZERO

live = nbd.NBD()
live.connect_uri("nbd+unix:///?socket=" + sock)
size = live.get_size()
if not live.can_fast_zero():
    fail("live export does not advertise fast zero")
live.pwrite(b"D" * 8 * B, 0)             # blocks 0-7 data, 8-15 holes
live.zero(B, 0, FAST)                     # no snapshot: fine
print("ok: fast zero without a snapshot")
orig = live.pread(size, 0)

snap = nbd.NBD()
snap.connect_uri("nbd+unix:///snapshot?socket=" + sock)
snap.pread(1, 0)  # its first read takes the snapshot
try:
    live.zero(B, 2 * B, FAST)
    fail("fast zero over a clean data block succeeded during a snapshot")
except nbd.Error as e:
    if e.errnum != errno.ENOTSUP:
        fail("fast zero failed with %s, expected ENOTSUP" % e)
print("ok: fast zero needing a copy -> ENOTSUP")
if live.pread(B, 2 * B) != orig[2 * B:3 * B]:
    fail("the refused fast zero changed the live image")

live.pwrite(b"P" * 10, 3 * B)             # preserves block 3
live.zero(B, 3 * B, FAST)                 # no copy needed now
print("ok: fast zero over a preserved block")
live.zero(B, 4 * B)                       # ordinary zero: copies
print("ok: ordinary zero over a clean block")

expected = bytearray(orig)
expected[3 * B:5 * B] = bytes(2 * B)
if live.pread(size, 0) != expected:
    fail("live image is not exact")
if snap.pread(size, 0) != orig:
    fail("snapshot is not exact")
print("ok: live and snapshot exact")
snap.shutdown()
live.shutdown()
EOF

nbdkit -U - --filter="$FLEECE" memory 1M fleece-block-size=64K \
  --run "/usr/bin/python3 '$tmpdir/fastzero.py' \"\$unixsocket\""
