#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test-cbt-restart.sh: checkpoints across restarts, over vmdisk with
# two disks (vda, vdb) and cbt-dir=:
# - SIGKILL right after acknowledged writes (one flushed, one not):
#   after restart, `changes` since the checkpoint before them answers
#   and covers exactly those writes, on each disk;
# - a clean stop and start keeps every checkpoint valid;
# - while nbdkit is down, vda written by another process and vdb
#   truncated: each answers full-backup-required with its reason; a
#   checkpoint taken after that answers again.

source "$srcdir/functions.sh"
requires nbdkit --version
requires /usr/bin/python3 -c 'import nbd'

sock="$tmpdir/nbd.sock"
ctl="$tmpdir/ctl.sock"
pid="$tmpdir/nbdkit.pid"
truncate -s 4M "$tmpdir/vda.img" "$tmpdir/vdb.img"

start ()
{
  rm -f "$pid" "$sock" "$ctl"
  start_nbdkit "$pid" "$sock" --filter="$FLEECE" "$VMDISK" \
    disk=vda:"$tmpdir/vda.img" disk=vdb:"$tmpdir/vdb.img" \
    cbt-dir="$tmpdir/cbt" control="$ctl"
}
stop ()                                 # SIGNAL
{
  stop_nbdkit "$pid" "$1"
}

cat > "$tmpdir/t.py" <<'EOF2'
import json, sys
import nbd
from control_client import *
from cbt_changes import changes, dirty_granules
sock, ctl, state, step = sys.argv[1:5]
G, SIZE = 65536, 4 << 20
c = wait_for(ctl)
st = json.load(open(state)) if step != "first" else {}
h = {}
for d in ("vda", "vdb"):
    h[d] = nbd.NBD(); h[d].connect_uri("nbd+unix:///%s?socket=%s" % (d, sock))

def begin():
    return expect_ok(c.call("snapshot-begin", fresh=True), "begin")["checkpoint"]

def expect_dirty(since, disk, want, what):
    got = dirty_granules(changes(c, since, SIZE, disk=disk), G)
    if got != want:
        fail("%s: %s dirty granules %r, expected %r" % (what, disk, got, want))

if step == "first":
    h["vda"].pwrite(b"a" * G, 1 * G)
    st["ck1"] = begin()
    h["vda"].pwrite(b"b" * 100, 3 * G + 7)
    h["vdb"].pwrite(b"c" * G, 4 * G)
    h["vda"].flush()
    h["vda"].pwrite(b"d" * 10, 5 * G)          # acknowledged, not flushed
    print("acked", flush=True)
elif step == "after-kill":
    st["ck2"] = begin()
    expect_dirty(st["ck1"], "vda", {3, 5}, "after SIGKILL")
    expect_dirty(st["ck1"], "vdb", {4}, "after SIGKILL")
    ok("SIGKILL after acknowledged writes: changes covers each of them")
    h["vda"].pwrite(b"e" * G, 6 * G)
elif step == "after-clean":
    st["ck3"] = begin()
    expect_dirty(st["ck1"], "vda", {3, 5, 6}, "after a clean restart")
    expect_dirty(st["ck2"], "vda", {6}, "after a clean restart")
    expect_dirty(st["ck2"], "vdb", set(), "after a clean restart")
    ok("clean stop and start: every checkpoint still answers")
elif step == "after-modified":
    st["ck4"] = begin()
    for d, why in (("vda", "modified while not served"),
                   ("vdb", "changed size while not served")):
        r = c.call("changes", since=st["ck3"], disk=d)
        expect_error(r, "full-backup-required", "%s changed while down" % d)
        if why not in r["error"]["message"]:
            fail("%s: reason %r" % (d, r["error"]["message"]))
    h["vda"].pwrite(b"f" * G, 8 * G)
    begin()
    expect_dirty(st["ck4"], "vda", {8}, "tracking again")
    ok("a checkpoint taken after the change answers again")
json.dump(st, open(state, "w"))
EOF2
t () { PYTHONPATH="$srcdir" /usr/bin/python3 "$tmpdir/t.py" "$sock" "$ctl" \
         "$tmpdir/state.json" "$1"; }

start
t first
stop KILL
start
t after-kill
stop TERM
start
t after-clean
stop TERM
printf x | dd of="$tmpdir/vda.img" bs=1 seek=100 conv=notrunc status=none
truncate -s 8M "$tmpdir/vdb.img"
start
t after-modified
