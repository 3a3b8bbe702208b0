#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test-fleece-list-exports.sh: listing exports takes no snapshot.
# nbdinfo --list asks NBD_OPT_INFO of every export, which nbdkit 1.32
# serves exactly like a connection (.open, .prepare): with
# quiesce-command= recording every call,
# - nbdinfo --list lists both exports, freezes nothing, and leaves no
#   snapshot (status: none); nor does a connection that makes no data
#   request (nbdinfo --no-content): it shows the disk's size and a
#   description saying that no snapshot exists yet;
# - the first read takes generation 1 (freeze, thaw);
# - with a snapshot active (pinned), nbdinfo --list and nbdinfo
#   --no-content freeze nothing and create no generation; a new
#   connection joins at once and shows the snapshot's description.
source "$srcdir/functions.sh"
requires nbdkit --version
requires nbdinfo --version
requires /usr/bin/python3 -c 'import nbd'

ctl="$tmpdir/ctl.sock"
cat > "$tmpdir/q" <<EOF
#!/bin/sh
echo "\$1" >> $tmpdir/calls
[ "\$1" = freeze ] && echo 1
exit 0
EOF
chmod +x "$tmpdir/q"
: > "$tmpdir/calls"

cat > "$tmpdir/t.py" <<'EOF'
import json, subprocess, sys
from control_client import *
from nbdcheck import NO_SNAPSHOT_YET, open_snapshot
sock, ctl, calls = sys.argv[1:4]
uri = "nbd+unix:///?socket=" + sock
snap = "nbd+unix:///snapshot?socket=" + sock
c = wait_for(ctl)

def nbdinfo(*args):
    return subprocess.run(["nbdinfo"] + list(args), check=True,
                          stdout=subprocess.PIPE, text=True).stdout

def expect_calls(want, what):
    got = open(calls).read().split()
    if got != want:
        fail("%s: quiesce-command calls %r, expected %r" % (what, got, want))

out = json.loads(nbdinfo("--list", "--json", uri))
names = sorted(e["export-name"] for e in out["exports"])
if names != ["", "snapshot"]:
    fail("nbdinfo --list: exports %r" % names)
expect_calls([], "nbdinfo --list")
expect_status(c, "after nbdinfo --list", state="none", generation=None)
ok("nbdinfo --list: exports %r, nothing frozen, no snapshot" % names)

info = json.loads(nbdinfo("--no-content", "--json", snap))["exports"][0]
if not info.get("description", "").startswith(NO_SNAPSHOT_YET) or \
   info["export-size"] != 1 << 20:
    fail("nbdinfo --no-content of the snapshot export: %r" % info)
expect_calls([], "nbdinfo --no-content")
expect_status(c, "after nbdinfo --no-content", state="none")
ok("a connection without data requests: %s" % info["description"])

h, d = open_snapshot(snap)           # a 1-byte read takes it
expect_calls(["freeze", "thaw"], "the first read")
r = expect_status(c, "after the first read", state="active", generation=1)
ok("the first read took generation 1: %s" % d)
expect_ok(c.call("snapshot-begin"), "pin it")
h.shutdown()

nbdinfo("--list", uri)
info = json.loads(nbdinfo("--no-content", "--json", snap))["exports"][0]
if info.get("description") != r["description"]:
    fail("a connection to an active snapshot shows %r" % info)
expect_calls(["freeze", "thaw"], "listing with a snapshot active")
expect_status(c, "after listing with a snapshot active", state="active",
              generation=1, pinned=True)
ok("with generation 1 active: nothing frozen, a new connection joins it")
EOF

nbdkit -U - --filter="$FLEECE" memory 1M control="$ctl" \
  quiesce-command="$tmpdir/q" \
  --run "/usr/bin/python3 '$tmpdir/t.py' \"\$unixsocket\" '$ctl' '$tmpdir/calls'"
