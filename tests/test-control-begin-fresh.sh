#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test-control-begin-fresh.sh: snapshot-begin says what it did, and
# quiesce "require" is never satisfied by a crash-consistent snapshot.
# - begin creates generation 1 (quiesce off): "created": true,
#   "consistency": "crash-consistent", "consistency-reason": "quiesce=off".
# - begin again adopts it: "created": false, same generation and label.
# - begin with quiesce "require" while it is active: error
#   "not-consistent", naming generation 1, the reason and the fix
#   (fleecectl begin --fresh); nothing changes.
# - begin "fresh": true with "require" and an NBD client still open to
#   generation 1: generation 1 ends (the client gets EIO), generation 2
#   is created application-consistent, "consistency-reason": null.
# - begin with "require" while generation 2 is active adopts it.
# - "fresh" with nothing active creates; "fresh" must be a boolean and
#   belongs to snapshot-begin only.
source "$srcdir/functions.sh"
requires nbdkit --version
requires /usr/bin/python3 -c 'import nbd'

ctl="$tmpdir/ctl.sock"
printf '#!/bin/sh\n[ "$1" = freeze ] && echo 2\nexit 0\n' > "$tmpdir/q"
chmod +x "$tmpdir/q"

cat > "$tmpdir/t.py" <<'EOF'
import errno, sys
import nbd
from control_client import *
from nbdcheck import expect_err, open_snapshot
sock, ctl = sys.argv[1:3]
c = wait_for(ctl)

def begin(want, **req):
    r = expect_ok(c.call("snapshot-begin", **req), "begin %r" % req)
    for k, v in want.items():
        if r.get(k.replace("_", "-"), "missing") != v:
            fail("begin %r: %s is %r, expected %r (reply %r)" %
                 (req, k, r.get(k.replace("_", "-")), v, r))
    return r

r1 = begin(dict(created=True, generation=1, consistency="crash-consistent",
                consistency_reason="quiesce=off"), quiesce="off")
ok("begin created: %s" % r1["description"])
r = begin(dict(created=False, generation=1, consistency="crash-consistent",
               consistency_reason="quiesce=off",
               description=r1["description"]))
ok("begin again adopted generation 1")

r = expect_error(c.call("snapshot-begin", quiesce="require"),
                 "not-consistent", "begin require on a crash-consistent one")
m = r["error"]["message"]
for part in ("generation 1", "quiesce=off",
             "end it first (fleecectl begin --fresh)"):
    if part not in m:
        fail("not-consistent message %r lacks %r" % (m, part))
expect_status(c, "after the refusal", state="active", generation=1,
              pinned=True, description=r1["description"])
ok("nothing changed")

h, d = open_snapshot("nbd+unix:///snapshot?socket=" + sock)
if d != r1["description"]:
    fail("the NBD client is not on generation 1: %r" % d)
r2 = begin(dict(created=True, generation=2,
                consistency="application-consistent",
                consistency_reason=None), quiesce="require", fresh=True)
ok("begin fresh: %s" % r2["description"])
expect_err("read from generation 1 after begin fresh", errno.EIO,
           h.pread, 512, 0)
h.shutdown()
begin(dict(created=False, generation=2,
           consistency="application-consistent"), quiesce="require")
ok("require adopts an application-consistent snapshot")

expect_ok(c.call("snapshot-end"), "end")
begin(dict(created=True, generation=3), fresh=True)
expect_error(c.call("snapshot-begin", fresh="yes"), "bad-request",
             "fresh not a boolean")
expect_error(c.call("status", fresh=True), "bad-request", "fresh on status")
expect_status(c, "after the bad requests", state="active", generation=3)
EOF

nbdkit -U - --filter="$FLEECE" memory 1M control="$ctl" \
  quiesce-command="$tmpdir/q" \
  --run "/usr/bin/python3 '$tmpdir/t.py' \"\$unixsocket\" '$ctl'"
