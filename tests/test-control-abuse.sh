#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test-control-abuse.sh: bad control clients never disturb serving.
# After each abuse below, the live export and the snapshot export read
# back exactly the expected data on new NBD connections, and a new
# control client gets a good status (generation 1 still active):
# - 1 MiB of random bytes: exactly one error reply per non-blank
#   complete line, none ok, then the connection closes cleanly after
#   a half-close.
# - A 10 MiB line: one line-too-long, then the next request on the
#   same connection is answered.
# - 50 concurrent control clients x 20 status requests each, while an
#   NBD client reads the snapshot: every reply carries its own id.
# - Clients that vanish: at once, mid-line, mid-10-MiB-line, and after
#   a request without reading the reply (the server gets EPIPE).
# - A client that pipelines requests and does not read: the others are
#   served while it is held, and it gets every reply once it reads.
# - 64 clients at once fill every slot: the 65th is answered "busy";
#   once they leave, new clients are served.

source "$srcdir/functions.sh"
requires nbdkit --version
requires /usr/bin/python3 -c 'import nbd'

ctl="$tmpdir/ctl.sock"
cat > "$tmpdir/abuse.py" <<'EOF'
import random, socket, sys, threading
import nbd
from control_client import *

sock, ctl = sys.argv[1], sys.argv[2]
SIZE = 4 * 1024 * 1024
rng = random.Random(1)
ORIG = rng.randbytes(SIZE)
live = nbd.NBD()
live.connect_uri("nbd+unix:///?socket=" + sock)
live.pwrite(ORIG, 0)
expect_ok(wait_for(ctl).call("snapshot-begin"), "begin")
live.pwrite(b"\x11" * 300000, 100000)
LIVE = live.pread(SIZE, 0)

def read_all(uri):
    h = nbd.NBD()
    h.connect_uri(uri)
    data = h.pread(SIZE, 0)
    h.shutdown()
    return data

def check(after):
    if read_all("nbd+unix:///?socket=" + sock) != LIVE:
        fail("live export wrong after %s" % after)
    if read_all("nbd+unix:///snapshot?socket=" + sock) != ORIG:
        fail("snapshot export wrong after %s" % after)
    c = Control(ctl)
    expect_status(c, "status after " + after, state="active", generation=1)
    c.close()
    ok("exports and status fine after " + after)

def drain(c, out):
    try:
        while True:
            out.append(c.recv())
    except EOFError:
        pass

# 1. Random garbage, replies drained by a thread.
junk = rng.randbytes(1024 * 1024)
lines = junk.split(b"\n")[:-1]              # the unterminated tail is dropped
want = sum(1 for l in lines if l.rstrip(b"\r").strip(b" \t"))
c = Control(ctl)
replies = []
t = threading.Thread(target=drain, args=(c, replies))
t.start()
c.send(junk)
c.sock.shutdown(socket.SHUT_WR)
t.join()
c.close()
if len(replies) != want or any(r["ok"] is not False for r in replies):
    fail("garbage: %d replies, expected %d errors" % (len(replies), want))
ok("garbage: %d lines, %d error replies" % (len(lines), want))
check("garbage")

# 2. A 10 MiB line, then a good request on the same connection.
c = Control(ctl)
c.send(b"x" * (10 * 1024 * 1024) + b'\n{"command":"status","id":"after"}\n')
expect_error(c.recv(), "line-too-long", "10 MiB line")
expect_ok(c.recv(), "request after the 10 MiB line", id="after")
c.close()
check("a 10 MiB line")

# 3. 50 concurrent clients while an NBD client reads the snapshot.
errors = []
def hammer(n):
    try:
        cc = Control(ctl)
        for i in range(20):
            r = cc.call("status", id=[n, i])
            if r.get("id") != [n, i] or r.get("ok") is not True:
                errors.append(r)
        cc.close()
    except Exception as e:
        errors.append(repr(e))
threads = [threading.Thread(target=hammer, args=(n,)) for n in range(50)]
for th in threads:
    th.start()
snap_reads = [read_all("nbd+unix:///snapshot?socket=" + sock) == ORIG
              for _ in range(3)]
for th in threads:
    th.join()
if errors or not all(snap_reads):
    fail("concurrent clients: %r, snapshot reads %r" % (errors[:3], snap_reads))
ok("50 concurrent clients x 20 requests, NBD reads meanwhile")
check("50 concurrent clients")

# 4. Clients that vanish.
for i in range(20):
    Control(ctl).close()
    c = Control(ctl); c.send(b'{"command":"sta'); c.close()
    c = Control(ctl); c.send(b'{"command":"status"}\n' * 50); c.close()
c = Control(ctl)
c.send(b"y" * (5 * 1024 * 1024))
c.close()
ok("vanishing clients")
check("vanishing clients")

# 5. A client that pipelines requests and does not read its replies:
# the others are served meanwhile; its requests wait, and every one is
# answered, in order, once it reads.  1000 replies (over 800 KiB) are
# more than the socket buffers and the server's 64 KiB hold.
hog = Control(ctl)
N = 1000
def flood():
    hog.send(b"".join(b'{"command":"status","id":%d}\n' % i for i in range(N)))
th = threading.Thread(target=flood)
th.start()
c = Control(ctl)
for i in range(5):
    expect_ok(c.call("status", id=i), "status beside a stuck client", id=i)
c.close()
for i in range(N):
    expect_ok(hog.recv(), "the held client's reply %d" % i, id=i)
th.join()
hog.close()
ok("a client that never reads does not block the others")
check("a stuck client")

# 6. Every slot taken: the next client is told "busy".
held = []
for i in range(64):
    cc = Control(ctl)
    expect_ok(cc.call("status", id=i), "client %d" % i, id=i)
    held.append(cc)
extra = Control(ctl)
expect_error(extra.recv(), "busy", "the 65th client")
extra.close()
for cc in held:
    cc.close()
check("64 clients at once")
live.shutdown()
EOF

nbdkit -U - --filter="$FLEECE" memory 4M control="$ctl" \
  --run "PYTHONPATH='$srcdir' /usr/bin/python3 '$tmpdir/abuse.py' \
         \"\$unixsocket\" '$ctl'"
