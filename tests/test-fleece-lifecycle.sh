#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test-fleece-lifecycle.sh: the life of a snapshot, seen by clients.
# - A snapshot connection takes generation 1 at its first read (not
#   when it connects: writes made in between are not in it); a second
#   concurrent connection joins it (same description, multi-conn, both
#   read the same data); when all have closed the snapshot ends and the
#   next connection creates generation 2, which shows the writes made
#   in between.
# - snapshot-linger=60s keeps the snapshot across an immediate
#   reconnect (same generation, old data).
# - The export description has the documented one-line format; the
#   live export's description is the plugin's, not fleece's.
# - Writes and zeroes to the snapshot fail with EPERM, flush works;
#   trim releases the whole blocks inside it (reads there fail with
#   EIO, the partial blocks at its edges and other blocks read fine),
#   and the next generation is whole again.
# - An unknown export name is refused and nbdkit lists the valid ones.

source "$srcdir/functions.sh"
requires nbdkit --version
requires /usr/bin/python3 -c 'import nbd'

cat > "$tmpdir/lifecycle.py" <<'EOF'
import datetime, errno, re, sys
import nbd
from nbdcheck import expect_err, fail, next_generation, ok
from nbdcheck import open_snapshot, NO_SNAPSHOT_YET

sock, mode = sys.argv[1], sys.argv[2]
live_uri = "nbd+unix:///?socket=" + sock
snap_uri = "nbd+unix:///snapshot?socket=" + sock
B = 65536
DESC = re.compile(r"^fleece snapshot generation ([0-9]+), taken "
                  r"([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}"
                  r"\.[0-9]{3})Z, crash-consistent: [^\n]+$")

def fill(tag, n):
    return (tag * (n // len(tag) + 1))[:n]

def open_snap():
    h, d = open_snapshot(snap_uri)
    m = DESC.match(d)
    if not m:
        fail("snapshot description has the wrong format: %r" % d)
    taken = datetime.datetime.strptime(m.group(2), "%Y-%m-%dT%H:%M:%S.%f")
    now = datetime.datetime.utcnow()
    if abs((now - taken).total_seconds()) > 3600:
        fail("snapshot taken at %s UTC, but it is %s UTC" % (taken, now))
    return h, int(m.group(1)), d

live = nbd.NBD()
live.set_full_info(True)
live.connect_uri(live_uri)
A = fill(b"generation-0 data ", 8 * B)
live.pwrite(A, 0)
try:
    d = live.get_export_description()
    if d.startswith("fleece"):
        fail("live export has fleece's description: %r" % d)
except nbd.Error:
    pass                    # memory has none: the plugin's, as it should
ok("live description is the plugin's")

if mode == "linger":
    s1, g1, d1 = open_snap()
    s1.shutdown()
    live.pwrite(b"L" * B, 0)
    s2, g2, d2 = open_snap()
    if (g2, d2) != (g1, d1):
        fail("reconnect within the linger got %r, expected %r" % (d2, d1))
    if s2.pread(8 * B, 0) != A:
        fail("lingering snapshot does not show the old data")
    ok("linger: reconnect joined generation %d with the old data" % g1)
    s2.shutdown()
    sys.exit(0)

# Connecting takes no snapshot: the first read does.  Block 0 is
# overwritten between the connect and the first read, and the snapshot
# has the data of the first read's time.
live.pwrite(b"before the first read " * 100, 0)
s1, d = open_snapshot(snap_uri, take=False)
if not d.startswith(NO_SNAPSHOT_YET):
    fail("a connection alone took a snapshot: %r" % d)
ok("connected with no snapshot yet: %s" % d)
live.pwrite(A[:B], 0)
if s1.pread(B, 0) != A[:B]:
    fail("the snapshot is not of the first read's time")

# Generation 1, joined by a second connection.
s2, g2, d2 = open_snap()
g1, d1 = g2, d2
if g1 != 1:
    fail("expected generation 1, got %r" % d1)
ok("description: %s" % d1)
if not (s1.can_multi_conn() and s2.can_multi_conn()):
    fail("snapshot export does not advertise multi-conn")
B_data = fill(b"written after gen 1 ", 2 * B)
live.pwrite(B_data, 0)
for h, name in ((s1, "first"), (s2, "second")):
    if h.pread(8 * B, 0) != A:
        fail("%s snapshot connection does not show the old data" % name)
ok("both connections read the snapshot as it was (multi-conn readers agree)")

# The snapshot is read-only, but flush and trim work.
expect_err("snapshot pwrite", errno.EPERM, s1.pwrite, b"x" * 512, 0)
expect_err("snapshot zero", errno.EPERM, s1.zero, 512, 0)
s1.flush()
ok("snapshot flush")
s1.trim(3 * B, 4 * B + B // 2)          # releases blocks 5 and 6 only
for h in (s1, s2):
    expect_err("read of released block 5", errno.EIO, h.pread, B, 5 * B)
    expect_err("read of released block 6", errno.EIO, h.pread, 1, 6 * B + 9)
    expect_err("read across released blocks", errno.EIO, h.pread,
               3 * B, 4 * B)
    if h.pread(B, 4 * B) != A[4 * B:5 * B] or \
       h.pread(B, 7 * B) != A[7 * B:8 * B] or \
       h.pread(4 * B, 0) != A[:4 * B]:
        fail("blocks outside the released ones are wrong after trim")
ok("trim released the whole blocks only; other blocks read fine")
live.pwrite(b"R" * B, 5 * B)             # a released block: no copy
if live.pread(B, 5 * B) != b"R" * B:
    fail("live write into a released block was lost")
s1.shutdown()
s2.shutdown()

# Generation 2 shows what was written in between.
live.pwrite(b"C" * 100, 2 * B + 50)
current = live.pread(8 * B, 0)
s3, g3, d3 = next_generation(open_snap, g1)
if g3 != g1 + 1:
    fail("next snapshot is generation %d, expected %d" % (g3, g1 + 1))
if s3.pread(8 * B, 0) != current:
    fail("generation %d does not show the writes made before it" % g3)
ok("generation %d shows the writes made before it: %s" % (g3, d3))
s3.shutdown()

# An unknown export name is refused.
bad = nbd.NBD()
try:
    bad.connect_uri("nbd+unix:///bogus?socket=" + sock)
    fail("export 'bogus' was accepted")
except nbd.Error as e:
    ok("export 'bogus' refused: %s" % e)
live.shutdown()
EOF

echo "== lifecycle (snapshot-linger=0)"
nbdkit -U - --filter="$FLEECE" memory 1M fleece-block-size=64K \
  --run "/usr/bin/python3 '$tmpdir/lifecycle.py' \"\$unixsocket\" main" \
  2> "$tmpdir/log" || { cat "$tmpdir/log" >&2; exit 1; }
# nbdkit logged the refusal, with both valid names ("" and snapshot).
if ! grep 'valid exports are' "$tmpdir/log" | grep snapshot |
     grep -Eq "\"\"|''"; then
  echo "$0: FAIL: no 'valid exports are' message naming both exports:" >&2
  cat "$tmpdir/log" >&2
  exit 1
fi
grep 'valid exports are' "$tmpdir/log"

echo "== snapshot-linger=60s"
nbdkit -U - --filter="$FLEECE" memory 1M fleece-block-size=64K snapshot-linger=60s \
  --run "/usr/bin/python3 '$tmpdir/lifecycle.py' \"\$unixsocket\" linger"
