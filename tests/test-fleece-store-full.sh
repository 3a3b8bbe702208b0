#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test-fleece-store-full.sh: the copy-before-write store runs out of
# space, (a) at fleece-max-size=64K with 4K blocks: 16 copies fit, the
# 17th does not; (b) in a 256K tmpfs fleece-dir, on a 1M live write.
# With on-cbw-error=break-snapshot the live write succeeds, the live
# image stays exact, every later snapshot read (and extents query, and
# a new connection's read) fails with EIO, the cause is logged once
# naming the limit; the next generation is good again.  With
# on-cbw-error=fail-write the live write fails with ENOSPC, the plugin
# is not written, and the snapshot stays exact and readable.

source "$srcdir/functions.sh"
requires nbdkit --version
requires /usr/bin/python3 -c 'import nbd'
requires mount --version

cat > "$tmpdir/full.py" <<'EOF'
import errno, sys
import nbd

sock, policy, case = sys.argv[1:4]
live_uri = "nbd+unix:///?socket=" + sock
snap_uri = "nbd+unix:///snapshot?socket=" + sock

from nbdcheck import fail, expect_err, next_generation
from nbdcheck import open_snapshot, NO_SNAPSHOT_YET

def fill(tag, n):
    return (tag * (n // len(tag) + 1))[:n]

def open_snap():
    h = nbd.NBD()
    h.set_full_info(True)
    h.add_meta_context("base:allocation")
    h.connect_uri(snap_uri)
    d = h.get_export_description()
    if d.startswith(NO_SNAPSHOT_YET):     # its first read takes one
        h.pread(1, 0)
        h2, d = open_snapshot(snap_uri)   # joins at once: its label
        h2.shutdown()
    return h, d.split(",")[0]

live = nbd.NBD()
live.connect_uri(live_uri)
size = live.get_size()
live.pwrite(fill(b"original ", size), 0)
orig = live.pread(size, 0)
model = bytearray(orig)

def write(off, n, tag):
    data = fill(tag, n)
    live.pwrite(data, off)
    model[off:off + n] = data

snap, gen = open_snap()
if case == "max-size":                    # 4K blocks, 64K cap
    B = 4096
    for i in range(16):
        write(i * B + 100, 10, b"fits %d " % i)
    if snap.pread(size, 0) != orig:
        fail("snapshot wrong after 16 copies that fit the cap")
    print("ok: 16 copies fit fleece-max-size=64K, snapshot exact")
    off, n = 16 * B + 100, 10             # the 17th copy
else:                                     # 64K blocks, 256K tmpfs
    off, n = 0, 1024 * 1024

if policy == "break-snapshot":
    write(off, n, b"overflow ")
    print("ok: live write that overflowed the store succeeded")
    for (o, c) in ((0, 4096), (size - 4096, 4096), (off, n)):
        expect_err("snapshot read [%d, +%d)" % (o, c), errno.EIO,
                   snap.pread, c, o)
    expect_err("snapshot extents", errno.EIO, snap.block_status,
               size, 0, lambda *args: 0)
    snap2, gen2 = open_snap()
    if gen2 != gen:
        fail("second connection got %s, expected %s" % (gen2, gen))
    expect_err("new connection's read", errno.EIO, snap2.pread, 4096, 0)
    snap2.shutdown()
else:
    expect_err("live write needing a copy", errno.ENOSPC,
               live.pwrite, fill(b"refused ", n), off)
    if live.pread(n, off) != orig[off:off + n]:
        fail("the refused write reached the plugin")
    if case == "max-size":
        write(100, 10, b"preserved block again ")  # needs no new copy
    if snap.pread(size, 0) != orig:
        fail("snapshot not exact after a refused write")
    print("ok: write refused with ENOSPC, plugin untouched, snapshot exact")

if live.pread(size, 0) != model:
    fail("live image differs from the model of the writes")
print("ok: live image exact")
snap.shutdown()

# The next generation is fresh and good.
snap, gen3 = next_generation(open_snap, gen)
if snap.pread(size, 0) != model:
    fail("%s does not equal the live image" % gen3)
print("ok: %s is readable and exact" % gen3)
snap.shutdown()
live.shutdown()
EOF

# run NAME POLICY CASE NBDKIT-ARGS...
run ()
{
  local name="$1" policy="$2" case="$3"
  shift 3
  echo "== $name, on-cbw-error=$policy"
  nbdkit -U - --filter="$FLEECE" "$@" on-cbw-error="$policy" \
    --run "/usr/bin/python3 '$tmpdir/full.py' \"\$unixsocket\" $policy $case" \
    2> "$tmpdir/log" || { cat "$tmpdir/log" >&2; exit 1; }
  cat "$tmpdir/log"
}

# check_log REGEX: nbdkit logged the cause (once, when the snapshot broke).
check_log ()
{
  local n
  n=$(grep -cE -- "$1" "$tmpdir/log" || true)
  if [ "$n" -lt 1 ] || { [ "$policy" = break-snapshot ] && [ "$n" != 1 ]; }
  then
    echo "$0: FAIL: expected the cause /$1/ logged (once if broken)," \
         "found $n times" >&2
    exit 1
  fi
}

for policy in break-snapshot fail-write; do
  run max-size $policy max-size memory 1M \
    fleece-block-size=4096 fleece-max-size=64K
  check_log 'fleece-max-size'
done

mkdir "$tmpdir/small"
mount -t tmpfs -o size=256k tmpfs "$tmpdir/small"
trap 's=$?; umount "$tmpdir/small" 2>/dev/null || true; _cleanup "$s"' EXIT
for policy in break-snapshot fail-write; do
  run tmpfs $policy tmpfs memory 4M fleece-dir="$tmpdir/small"
  check_log "$tmpdir/small"
done
