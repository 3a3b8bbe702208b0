#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test-cbt-map.sh: changed-block tracking's map (cbt-dir=), read from
# the file as a crash would leave it (cbtmap.py), over vmdisk on a file:
# - every acknowledged write, zero and trim has marked its granules
#   (and only those) with the current generation's code, snapshot or
#   not, also with 344 writes in flight at once (group commit); a snapshot is a checkpoint: the generation goes up by one and
#   the header records it;
# - SIGKILL right after acknowledged writes (no flush): the marks are
#   in the file, and the restarted server keeps them (the header says
#   not clean and is trusted);
# - a clean stop marks the header clean with the file's identity; a
#   write by another process while nbdkit is down makes the next start
#   begin the map afresh (at its first use: a snapshot here), with the
#   reason in the header;
# - the directory is created 0700.

source "$srcdir/functions.sh"
requires nbdkit --version
requires /usr/bin/python3 -c 'import nbd'

disk="$tmpdir/disk.img"
cbt="$tmpdir/cbt"
sock="$tmpdir/nbd.sock"
ctl="$tmpdir/ctl.sock"
pid="$tmpdir/nbdkit.pid"
truncate -s 8M "$disk"

start ()
{
  rm -f "$pid" "$sock" "$ctl"
  start_nbdkit "$pid" "$sock" --filter="$FLEECE" "$VMDISK" file="$disk" \
    cbt-dir="$cbt" control="$ctl"
}
stop ()                                 # SIGNAL
{
  stop_nbdkit "$pid" "$1"
}

cat > "$tmpdir/t.py" <<'EOF2'
import sys, nbd
sys.path.insert(0, sys.argv[1])
import cbtmap
from control_client import wait_for, expect_ok
from nbdcheck import fail, ok
sock, ctl, mp, step = sys.argv[2:6]
G = 65536
WRITTEN = {3: 2, 9: 1, 10: 1, 11: 1, 20: 2, 30: 2, 31: 2, 40: 2}
WRITTEN.update((g, 2) for g in range(42, 128))

def expect(marks, gen, what):
    hdr, m = cbtmap.read(mp)
    if hdr is None or hdr["gen"] != gen:
        fail("%s: header %r, expected generation %d" % (what, hdr, gen))
    got = {g: c for g, c in enumerate(m) if c}
    want = {g: cbtmap.code(x) for g, x in marks.items()}
    if got != want:
        fail("%s: map marks %r, expected %r" % (what, got, want))
    return hdr

if step == "first":
    h = nbd.NBD(); h.connect_uri("nbd+unix:///?socket=" + sock)
    h.pwrite(b"a" * 100, 3 * G + 5)             # granule 3, generation 1
    h.pwrite(b"b" * (G + 2), 10 * G - 1)        # granules 9..11
    hdr = expect({3: 1, 9: 1, 10: 1, 11: 1}, 1, "writes before a snapshot")
    if hdr["clean"] or hdr["granularity"] != G or hdr["disk_size"] != 8 << 20:
        fail("header while served: %r" % hdr)
    c = wait_for(ctl)
    expect_ok(c.call("snapshot-begin"), "begin")
    h.zero(G, 20 * G)                           # generation 2
    h.trim(2 * G, 30 * G)
    h.pwrite(b"c", 3 * G)                       # granule 3 again
    expect({3: 2, 9: 1, 10: 1, 11: 1, 20: 2, 30: 2, 31: 2}, 2,
           "a snapshot is a checkpoint")
    expect_ok(c.call("snapshot-end"), "end")
    h.pwrite(b"d", 40 * G)                      # no snapshot: still tracked
    ok("writes, zeroes and trims marked durably with their generation")
    # 344 writes in flight at once on granules 42..127 (more than the 64
    # ranges one sync batch holds): every one marked when acknowledged.
    cookies = [h.aio_pwrite(b"e" * 512, g * G + i * 4096)
               for i in range(4) for g in range(42, 128)]
    while h.aio_in_flight() > 0:
        h.poll(-1)
    for ck in cookies:
        h.aio_command_completed(ck)         # raises if the write failed
    expect(dict(WRITTEN), 2, "344 concurrent writes")
    ok("344 concurrent writes: each marked before it was acknowledged")
    print("acked", flush=True)
elif step == "after-kill":
    hdr = expect(dict(WRITTEN), 2, "after SIGKILL and restart")
    if hdr["clean"] or hdr["first"] != 2:
        fail("after SIGKILL: %r" % hdr)
    ok("SIGKILL after acknowledged writes: every mark kept, map trusted")
elif step == "after-clean":
    hdr, m = cbtmap.read(mp)
    if not hdr["clean"] or not hdr["identity"]:
        fail("clean stop: header %r" % hdr)
    ok("clean stop: header clean, identity %s" % hdr["identity"])
elif step == "after-modified":
    c = wait_for(ctl)                   # the map is checked at first use
    expect_ok(c.call("snapshot-begin"), "begin")
    hdr, m = cbtmap.read(mp)
    if "modified while not served" not in hdr["reset_reason"] or \
       hdr["first"] != 3 or any(m):
        fail("disk modified while down: header %r" % hdr)
    ok("modified while down: map begun afresh: %s" % hdr["reset_reason"])
EOF2
t () { PYTHONPATH="$srcdir" /usr/bin/python3 "$tmpdir/t.py" "$srcdir" \
         "$sock" "$ctl" "$cbt/disk.map" "$1"; }

start
[ "$(stat -c %a "$cbt")" = 700 ] || { echo "FAIL: cbt-dir mode" >&2; exit 1; }
t first
stop KILL
start
t after-kill
stop TERM
t after-clean
printf x | dd of="$disk" bs=1 seek=12345 conv=notrunc status=none
start
t after-modified
