#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test-control-protocol.sh: every control command and every error code
# round-trips as documented in nbdkit-fleece-filter(1), PROTOCOL.
# - status, snapshot-begin (create, adopt, quiesce=off, quiesce=require
#   failing with snapshot-failed), snapshot-end, snapshot-end with
#   nothing active (not-active).
# - "id" of any JSON type is echoed; no id -> null.
# - parse-error (not JSON, trailing data, two objects, bad UTF-8, NUL),
#   bad-request (not an object, no/non-string command, unknown member,
#   misplaced or bad quiesce), unknown-command, line-too-long (65537
#   bytes; the connection goes on), a line of exactly 65536 bytes is
#   accepted, blank lines get no reply, CRLF works, pipelined requests
#   are answered in order.
# - The socket file is removed when nbdkit exits.

source "$srcdir/functions.sh"
requires nbdkit --version
requires /usr/bin/python3 --version

ctl="$tmpdir/ctl.sock"
cat > "$tmpdir/protocol.py" <<'EOF'
import json, sys
from control_client import *

c = wait_for(sys.argv[1])

# status with nothing active; every documented member is there.
expect_status(c, "status (none)", state="none", pinned=False,
              generation=None, snapshot_clients=0, store_bytes=0,
              block_size=65536, store_limit=None, progress=None)
ok("status with no snapshot")

# id echo, of every JSON type.
for i in (1, "abc", None, {"a": [1, 2]}, 3.5, True, [], -7):
    expect_ok(c.call("status", id=i), "status id=%r" % (i,), id=i)
c.send('{"command":"status"}\n')
expect_ok(c.recv(), "status without id", id=None)
ok("ids echoed")

# begin, adopt, end.
r = expect_ok(c.call("snapshot-begin", id="b1"), "begin", id="b1")
if r["generation"] != 1 or \
   not r["description"].startswith("fleece snapshot generation 1, taken "):
    fail("begin reply: %r" % r)
r2 = expect_ok(c.call("snapshot-begin", id=2), "begin again", id=2)
r3 = expect_ok(c.call("snapshot-begin", id=3, quiesce="off"),
               "begin again with quiesce", id=3)
if r2["generation"] != 1 or r3["generation"] != 1:
    fail("begin while active did not adopt generation 1: %r %r" % (r2, r3))
expect_status(c, "status (active)", state="active", pinned=True,
              generation=1, description=r["description"])
r = expect_ok(c.call("snapshot-end", id="e1"), "end", id="e1")
if r["generation"] != 1:
    fail("end reply: %r" % r)
expect_error(c.call("snapshot-end", id="e2"), "not-active",
             "end with nothing active", id="e2")
r = expect_ok(c.call("snapshot-begin", quiesce="off"), "begin quiesce=off")
if r["generation"] != 2 or \
   not r["description"].endswith("crash-consistent: quiesce=off"):
    fail("begin quiesce=off: %r" % r)
expect_ok(c.call("snapshot-end"), "end generation 2")
expect_error(c.call("snapshot-begin", id=4, quiesce="require"),
             "snapshot-failed", "begin quiesce=require (no provider)", id=4)
expect_status(c, "status after a failed begin", state="none",
              generation=None)
ok("begin / adopt / end round trips")

# Malformed requests.
bad = [
    (b'not json', "parse-error", None),
    (b'{"command":"status"} trailing', "parse-error", None),
    (b'{"command":"status"}{"command":"status"}', "parse-error", None),
    (b'{"command":"st\xffus"}', "parse-error", None),
    (b'{"command":"status",\x00"id":1}', "parse-error", None),
    (b'{"command":"status"', "parse-error", None),
    (b'[1,2]', "bad-request", None),
    (b'42', "bad-request", None),
    (b'"status"', "bad-request", None),
    (b'null', "bad-request", None),
    (b'{}', "bad-request", None),
    (b'{"command":5,"id":7}', "bad-request", 7),
    (b'{"command":"status","extra":1,"id":8}', "bad-request", 8),
    (b'{"command":"status","quiesce":"off","id":10}', "bad-request", 10),
    (b'{"command":"snapshot-begin","quiesce":"sometimes","id":11}',
     "bad-request", 11),
    (b'{"command":"snapshot-begin","quiesce":1,"id":12}', "bad-request", 12),
    (b'{"command":"reboot","id":9}', "unknown-command", 9),
    (b'{"command":"Status","id":13}', "unknown-command", 13),
]
for line, code, i in bad:
    c.send(line + b"\n")
    expect_error(c.recv(), code, repr(line[:50]), id=i)
expect_status(c, "status after malformed requests", state="none")

# Framing: blank lines, CRLF, pipelining, the length limit.
c.send(b'\n   \n\t\n{"command":"status","id":"after-blank"}\n')
expect_ok(c.recv(), "blank lines get no reply", id="after-blank")
c.send(b'{"command":"status","id":"crlf"}\r\n')
expect_ok(c.recv(), "CRLF line", id="crlf")
c.send(b''.join(b'{"command":"status","id":%d}\n' % i for i in range(5)))
for i in range(5):
    expect_ok(c.recv(), "pipelined request %d" % i, id=i)
ok("blank lines, CRLF and pipelining")
exact = b'{"command":"status","id":"max"}'
exact += b' ' * (65536 - len(exact))
c.send(exact + b"\n")
expect_ok(c.recv(), "a line of exactly 65536 bytes", id="max")
c.send(exact + b" \n")
expect_error(c.recv(), "line-too-long", "a line of 65537 bytes")
expect_ok(c.call("status", id="next"), "the connection goes on", id="next")
c.close()
EOF

nbdkit -U - --filter="$FLEECE" memory 1M fleece-block-size=64K control="$ctl" \
  --run "PYTHONPATH='$srcdir' /usr/bin/python3 '$tmpdir/protocol.py' '$ctl'"

if [ -e "$ctl" ]; then
  echo "$0: FAIL: $ctl left behind after nbdkit exited" >&2
  exit 1
fi
echo "ok: control socket removed at exit"
