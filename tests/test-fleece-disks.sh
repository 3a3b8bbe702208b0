#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test-fleece-disks.sh: one nbdkit serves a VM of two disks of
# different sizes (vmdisk disk=a:... disk=b:...), and a snapshot is of
# both, at one instant:
# - nbdinfo --list shows a, b, snapshot/a and snapshot/b, each with a
#   description; an unknown export is refused with the valid names;
#   "" is not an export of a multi-disk server;
# - a read of snapshot/a takes the snapshot: one freeze (quiesce-command=
#   counts the calls), and snapshot/b, opened after live writes to both
#   disks, joins it: same generation and instant, old data on both
#   (disk b was never touched by a snapshot client before the writes);
# - snapshot-begin on the control socket (a thread with no NBD
#   connection: the filter's own plugin contexts must reach the right
#   disk) takes one of both: status shows each disk's own size, the
#   top-level disk-size is their sum, one freeze; fleecectl status
#   has a line for each disk;
# - the live exports keep every write (read back through a new
#   connection); each snapshot export has its own disk's size.
source "$srcdir/functions.sh"
source "$srcdir/fleecectl-functions.sh"
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
/usr/bin/python3 -c '
import sys
open(sys.argv[1], "wb").write(b"A" * (1 << 20))
open(sys.argv[2], "wb").write(b"B" * (3 << 20))' "$tmpdir/a.img" "$tmpdir/b.img"

cat > "$tmpdir/t.py" <<'EOF'
import json, subprocess, sys, time
import nbd
from control_client import *
sock, ctl, calls, fleecectl = sys.argv[1:5]
URI = "nbd+unix:///%s?socket=" + sock
c = wait_for(ctl)

def freezes():
    return open(calls).read().split().count("freeze")

def connect(name):
    h = nbd.NBD()
    h.set_full_info(True)
    h.connect_uri(URI % name)
    return h

def desc_of(h):
    """The first read joins (or takes) the snapshot; the description
    is then asked again on a new connection, which shows it."""
    h.pread(1, 0)
    h2 = connect(h.get_export_name())
    d = h2.get_export_description()
    h2.shutdown()
    return d

# Listing.
out = json.loads(subprocess.run(["nbdinfo", "--list", "--json", URI % ""],
                                check=True, stdout=subprocess.PIPE).stdout)
exports = {e["export-name"]: e.get("description", "")
           for e in out["exports"]}
if sorted(exports) != ["a", "b", "snapshot/a", "snapshot/b"] or \
   not all(exports.values()):
    fail("nbdinfo --list: %r" % exports)
ok("nbdinfo --list: %r" % exports)
for bad in ("", "snapshot", "snapshot/c", "c"):
    try:
        connect(bad).pread(1, 0)
        fail("export %r was accepted" % bad)
    except nbd.Error as e:
        ok("export %r refused: %s" % (bad, e))
if freezes():
    fail("listing or refused exports froze the guest")

# A snapshot taken by snapshot/a covers b too.
a, b = connect("a"), connect("b")
sa = connect("snapshot/a")
da = desc_of(sa)
if freezes() != 1:
    fail("the snapshot froze %d times" % freezes())
a.pwrite(b"a" * 65536, 0)
b.pwrite(b"b" * 65536, (3 << 20) - 65536)
sb = connect("snapshot/b")
db = desc_of(sb)
if freezes() != 1:
    fail("joining snapshot/b froze again (%d freezes)" % freezes())
if not da.startswith("fleece snapshot generation 1, disk a (1 of 2)") or \
   not db.startswith("fleece snapshot generation 1, disk b (2 of 2)") or \
   da.split("taken ")[1] != db.split("taken ")[1]:
    fail("descriptions differ in generation or instant:\n %s\n %s" % (da, db))
ok("one snapshot: %s / %s" % (da, db))
if sa.get_size() != 1 << 20 or sb.get_size() != 3 << 20:
    fail("snapshot sizes %d, %d" % (sa.get_size(), sb.get_size()))
if sa.pread(65536, 0) != b"A" * 65536:
    fail("snapshot/a shows a write made after it was taken")
if sb.pread(65536, (3 << 20) - 65536) != b"B" * 65536:
    fail("snapshot/b shows a write made after the snapshot "
         "(its disk was not switched with disk a)")
ok("both snapshot exports show the disks as they were")
wait_status(c, "snapshot-clients", 2)      # desc_of's second connections
r = expect_status(c, "two disks, active", state="active", generation=1,
                  snapshot_clients=2)
sizes = [(d["name"], d["export"], d["disk-size"], d["state"])
         for d in r["disks"]]
if sizes != [("a", "snapshot/a", 1 << 20, "active"),
             ("b", "snapshot/b", 3 << 20, "active")] or \
   r["disk-size"] != 4 << 20:
    fail("status disks %r, disk-size %r" % (sizes, r["disk-size"]))
ok("status: %r" % sizes)
sa.shutdown(); sb.shutdown()
wait_status(c, "state", "none")
expect_status(c, "both snapshot connections closed", state="none")

# snapshot-begin from the control thread: the filter's own contexts.
expect_ok(c.call("snapshot-begin"), "snapshot-begin")
if freezes() != 2:
    fail("snapshot-begin froze %d times in all" % freezes())
r = expect_status(c, "begun", state="active", generation=2, pinned=True)
sizes = [d["disk-size"] for d in r["disks"]]
if sizes != [1 << 20, 3 << 20]:
    fail("snapshot-begin saw disk sizes %r (the wrong disk?)" % sizes)
out = subprocess.run([fleecectl, "--socket", ctl, "status"], check=True,
                     stdout=subprocess.PIPE, text=True).stdout
for want in ("disk a:           active, 1 MiB,", "disk b:           active, 3 MiB,",
             "disk:             4 MiB,"):
    if want not in out:
        fail("fleecectl status lacks %r:\n%s" % (want, out))
ok("fleecectl status shows both disks")
a.pwrite(b"x" * 4096, 4096)
b.pwrite(b"y" * 4096, 2 << 20)
s2 = connect("snapshot/b")
if s2.pread(4096, 2 << 20) != b"B" * 4096 or \
   s2.pread(65536, (3 << 20) - 65536) != b"b" * 65536:
    fail("generation 2 of disk b is not the disk at snapshot-begin")
s2.shutdown()
expect_ok(c.call("snapshot-end"), "snapshot-end")
ok("snapshot-begin took generation 2 of both disks, sizes %r" % sizes)

# The live exports kept every write.
a2, b2 = connect("a"), connect("b")
if a2.pread(4096, 4096) != b"x" * 4096 or a2.pread(4096, 0) != b"a" * 4096 \
   or b2.pread(4096, 2 << 20) != b"y" * 4096:
    fail("a live write was lost")
ok("live exports intact")
EOF

nbdkit -U - --filter="$FLEECE" "$VMDISK" disk=a:"$tmpdir/a.img" \
  disk=b:"$tmpdir/b.img" control="$ctl" quiesce-command="$tmpdir/q" \
  fleece-block-size=64K \
  --run "/usr/bin/python3 '$tmpdir/t.py' \"\$unixsocket\" '$ctl' '$tmpdir/calls' '$FLEECECTL'"
