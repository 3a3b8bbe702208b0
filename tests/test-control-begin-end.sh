#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test-control-begin-end.sh: snapshots driven by the control socket,
# seen by NBD clients.
# - snapshot-begin with no NBD client creates generation 1; live writes
#   made afterwards are not in it; an NBD client then joins generation
#   1 and reads the data as it was at begin.
# - A pinned snapshot outlives its NBD clients: after the last one
#   closes it is still active, and the next connection joins it.
# - snapshot-end ends it at once: the snapshot connection still open
#   gets EIO on reads, status says none, and the next NBD connection
#   creates a new generation showing the later writes.
# - snapshot-begin while an NBD client's snapshot is active adopts and
#   pins it (same generation, pinned), so it survives that client.
# - Without a pin, the snapshot ends with its last client (status
#   goes back to none).

source "$srcdir/functions.sh"
requires nbdkit --version
requires /usr/bin/python3 -c 'import nbd'

ctl="$tmpdir/ctl.sock"
cat > "$tmpdir/begin-end.py" <<'EOF'
import errno, re, sys, time
import nbd
from control_client import *
from nbdcheck import open_snapshot

sock, ctl = sys.argv[1], sys.argv[2]
B = 65536
c = wait_for(ctl)
live = nbd.NBD()
live.connect_uri("nbd+unix:///?socket=" + sock)

def snap():
    h, d = open_snapshot("nbd+unix:///snapshot?socket=" + sock)
    gen = int(re.match(r"fleece snapshot generation (\d+),", d).group(1))
    return h, gen

A = bytes(range(256)) * (16 * B // 256)
live.pwrite(A, 0)
r = expect_ok(c.call("snapshot-begin"), "begin with no NBD client")
if r["generation"] != 1:
    fail("first begin: %r" % r)
live.pwrite(b"\xee" * (3 * B), B)          # after the snapshot
h, gen = snap()
if gen != 1 or h.pread(16 * B, 0) != A:
    fail("NBD client did not join generation 1 with the data at begin")
expect_status(c, "one snapshot client", state="active", pinned=True,
              generation=1, snapshot_clients=1)
ok("begin with no client; an NBD client joins generation 1, old data")

h.shutdown()
wait_status(c, "snapshot-clients", 0)
expect_status(c, "after the last client closed", state="active",
              pinned=True, generation=1, snapshot_clients=0)
h, gen = snap()
if gen != 1 or h.pread(16 * B, 0) != A:
    fail("reconnect did not join pinned generation 1")
ok("pinned snapshot outlives its clients")

r = expect_ok(c.call("snapshot-end", id=1), "end with a client open", id=1)
if r["generation"] != 1:
    fail("end reply: %r" % r)
try:
    h.pread(B, 0)
    fail("read from an ended snapshot succeeded")
except nbd.Error as e:
    if e.errnum != errno.EIO:
        fail("read from an ended snapshot: %s, expected EIO" % e)
ok("snapshot-end: the open snapshot connection gets EIO")
expect_status(c, "after end", state="none", pinned=False, generation=None)
h.shutdown()

now = live.pread(16 * B, 0)
h, gen = snap()                            # creates generation 2
if gen != 2 or h.pread(16 * B, 0) != now:
    fail("next NBD connection: generation %d, expected 2 with new data" %
         gen)
r = expect_ok(c.call("snapshot-begin"), "begin while a client's is active")
if r["generation"] != 2:
    fail("begin did not adopt generation 2: %r" % r)
expect_status(c, "adopted", state="active", pinned=True, generation=2)
h.shutdown()
wait_status(c, "snapshot-clients", 0)
expect_status(c, "adopted snapshot after its client closed",
              state="active", pinned=True, generation=2)
ok("begin adopts and pins an active snapshot")
expect_ok(c.call("snapshot-end"), "end generation 2")

h, gen = snap()
wait_status(c, "snapshot-clients", 1)          # snap()'s second connection
expect_status(c, "unpinned", state="active", pinned=False, generation=3,
              snapshot_clients=1)
h.shutdown()
wait_status(c, "state", "none")
ok("an unpinned snapshot ends with its last client")
live.shutdown()
EOF

nbdkit -U - --filter="$FLEECE" memory 1M control="$ctl" \
  --run "PYTHONPATH='$srcdir' /usr/bin/python3 '$tmpdir/begin-end.py' \
         \"\$unixsocket\" '$ctl'"
