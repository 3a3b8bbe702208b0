#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test-control-progress.sh: status "progress" counts over what a backup
# must read, the snapshot's data bytes (issue 12, defect 11).  A 64 MiB
# sparse file with 4.5 MiB of data, under nbdkit's file plugin and
# under vmdisk:
# - "data-bytes" is null while no NBD client has opened the pinned
#   snapshot, then exactly the bytes that the snapshot export's own
#   extents (base:allocation) do not report as zero;
# - reading half of those bytes makes progress half of 1 (to four
#   decimals: bytes-read / data-bytes);
# - a complete nbdcopy of a new generation ends at progress 1.0 with
#   bytes-read equal to data-bytes, and the copy equals the disk.
# Before the fix progress was bytes-read / disk-size: 0.07 at the end.

source "$srcdir/functions.sh"
requires nbdkit --version
requires nbdcopy --version
requires /usr/bin/python3 --version

disk="$tmpdir/disk"
truncate -s 64M "$disk"
for at in 0:1024 10240:2048 40960:512 64512:1024; do   # KiB offset:count
  dd if=/dev/urandom of="$disk" bs=1K seek="${at%%:*}" count="${at##*:}" \
     conv=notrunc status=none
done
ctl="$tmpdir/ctl.sock"
export PYTHONPATH="$srcdir"

cat > "$tmpdir/progress.py" <<'EOF'
import os, subprocess, sys
import nbd
from control_client import *

ctl, sock, disk, out = sys.argv[1:5]
c = wait_for(ctl)
uri = "nbd+unix:///snapshot?socket=" + sock


def data_extents(h):
    """The snapshot's extents that are not zero: [(offset, length)]."""
    size, off, ext = h.get_size(), 0, []
    while off < size:
        got = []
        def cb(meta, offset, entries, err):
            if meta == "base:allocation":
                got.append((offset, entries))
            return 0
        h.block_status(min(size - off, 1 << 30), off, cb)
        for offset, entries in got:
            pos = offset
            for i in range(0, len(entries), 2):
                length, flags = entries[i], entries[i + 1]
                if not flags & nbd.STATE_ZERO:
                    ext.append((pos, length))
                pos += length
        off = pos
    return ext


def connect():
    h = nbd.NBD()
    h.add_meta_context("base:allocation")
    h.connect_uri(uri)
    return h


# Generation 1, pinned: not measured before a client opens it.
expect_ok(c.call("snapshot-begin", quiesce="off"), "begin 1")
expect_status(c, "pinned, no client yet", generation=1, data_bytes=None,
              progress=0.0)
h = connect()
ext = data_extents(h)
total = sum(n for _, n in ext)
r = expect_status(c, "one client", generation=1)
if r["data-bytes"] != total:
    fail("data-bytes %r, the snapshot's extents say %d" %
         (r["data-bytes"], total))
if not 4 * 2**20 <= total < 5 * 2**20:
    fail("data bytes %d: the test disk is not as built" % total)
ok("data-bytes %d = the snapshot's data extents (disk %d)" %
   (total, h.get_size()))

# Read half of them.
want, done = total // 2, 0
for off, n in ext:
    while n > 0 and done < want:
        k = min(n, want - done, 1 << 20)
        h.pread(k, off)
        off, n, done = off + k, n - k, done + k
r = expect_status(c, "half read", generation=1, bytes_read=want)
if r["progress"] != round(want / total, 4) or \
   not 0.49 <= r["progress"] <= 0.51:
    fail("progress after reading half: %r (bytes-read %d of %d)" %
         (r["progress"], want, total))
ok("half of the data read: progress %s" % r["progress"])
h.shutdown()
expect_ok(c.call("snapshot-end"), "end 1")

# Generation 2: a complete nbdcopy.
expect_ok(c.call("snapshot-begin", quiesce="off"), "begin 2")
subprocess.run(["nbdcopy", uri, out], check=True)
r = expect_status(c, "after nbdcopy", generation=2)
if r["progress"] != 1.0 or r["bytes-read"] != r["data-bytes"]:
    fail("after a complete nbdcopy: progress %r, bytes-read %r, "
         "data-bytes %r" % (r["progress"], r["bytes-read"], r["data-bytes"]))
ok("complete nbdcopy: progress 1.0, bytes-read = data-bytes = %d" %
   r["bytes-read"])
expect_ok(c.call("snapshot-end"), "end 2")
c.close()
EOF

for plugin in file "$VMDISK"; do
  echo "== $(basename "$plugin")"
  rm -f "$tmpdir/copy"
  nbdkit -U - --filter="$FLEECE" "$plugin" file="$disk" control="$ctl" \
    --run "/usr/bin/python3 '$tmpdir/progress.py' '$ctl' \"\$unixsocket\" '$disk' '$tmpdir/copy'"
  cmp "$disk" "$tmpdir/copy"
  echo "ok: the copy equals the disk"
done
