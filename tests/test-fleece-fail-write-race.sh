#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test-fleece-fail-write-race.sh: under on-cbw-error=fail-write, a
# refused live write gives its blocks back exactly once, and only the
# blocks it still owns.
#
# The store holds one block (fleece-block-size=16K, fleece-max-size=16K)
# and nbdkit's delay filter below fleece makes every plugin read take
# 100 ms.  Writer 1 writes blocks 0-1: its copy needs 32K, is refused
# (ENOSPC) and so is its write.  30 ms later writer 2 writes block 1:
# it waits for writer 1's copy, then claims the block, copies it (16K
# fits) and its write succeeds.  The snapshot's block 1 must still be
# the old data, and the store must hold exactly the one preserved
# block.  A failed copy that gave its range back a second time (issue
# 12, defect 1) reset writer 2's claim: the block stayed clean, the
# snapshot served writer 2's new data, and the reservation leaked.
# 20 generations (the bug showed in 7-9 of 20).

source "$srcdir/functions.sh"
requires nbdkit --version
requires /usr/bin/python3 -c 'import nbd'

cat > "$tmpdir/race.py" <<'EOF'
import errno, sys, time
import nbd
from nbdcheck import fail, ok, next_generation, open_snapshot
from control_client import wait_for, expect_ok

sock, ctl = sys.argv[1:3]
B = 16384
live_uri = "nbd+unix:///?socket=" + sock
snap_uri = "nbd+unix:///snapshot?socket=" + sock

def connect(uri):
    h = nbd.NBD()
    h.set_full_info(True)
    h.connect_uri(uri)
    return h

def open_snap():
    h, desc = open_snapshot(snap_uri)
    return h, desc.split(",")[0]

def wait(h, cookie):
    while True:
        h.poll(-1)
        if h.aio_command_completed(cookie):
            return

w1, w2 = connect(live_uri), connect(live_uri)
w1.pwrite(b"0" * (2 * B), 0)        # data: a hole would need no copy
control = wait_for(ctl)
gen = None
for i in range(20):
    if gen is None:
        snap, gen = open_snap()
    else:
        snap, gen = next_generation(open_snap, gen)
    old = snap.pread(2 * B, 0)
    c1 = w1.aio_pwrite((b"w1 round %02d " % i * (2 * B // 12)).ljust(2 * B, b"."), 0)
    time.sleep(0.03)
    c2 = w2.aio_pwrite(b"w2 round %02d " % i * (B // 12) + b"....", B)
    try:
        wait(w1, c1)
        fail("round %d: writer 1 (two blocks, store of one) succeeded" % i)
    except nbd.Error as e:
        if e.errnum != errno.ENOSPC:
            fail("round %d: writer 1 failed with %s, expected ENOSPC" % (i, e))
    wait(w2, c2)
    if w1.pread(B, 0) != old[:B]:
        fail("round %d: the refused write reached block 0" % i)
    if snap.pread(2 * B, 0) != old:
        fail("round %d (%s): the snapshot serves data written after it "
             "was taken (block 1 is writer 2's)" % (i, gen))
    st = expect_ok(control.call("status"), "status")
    if st["store-bytes"] != st["blocks-preserved"] * B or \
       st["blocks-preserved"] != 1:
        fail("round %d: store holds %d bytes for %d preserved blocks "
             "(expected one block, %d bytes)" %
             (i, st["store-bytes"], st["blocks-preserved"], B))
    snap.shutdown()
ok("20 rounds: writer 1 refused, writer 2 preserved its block, "
   "snapshot exact, store exact")
EOF

nbdkit -U - --filter="$FLEECE" --filter=delay memory 1M delay-read=100ms \
  fleece-block-size=16K fleece-max-size=16K on-cbw-error=fail-write \
  control="$tmpdir/ctl" \
  --run "/usr/bin/python3 '$tmpdir/race.py' \"\$unixsocket\" '$tmpdir/ctl'" \
  2> "$tmpdir/log" || { cat "$tmpdir/log" >&2; exit 1; }
