#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test-fleece-plugin-read-error.sh: the plugin fails the read of a
# copy-before-write (nbdkit's error filter stacked below fleece, its
# errors switched on by a trigger file only around the live write).
# break-snapshot: the live write succeeds, the live image is exact,
# the snapshot reads (even of untouched blocks) fail with EIO after the
# errors have stopped, and the cause is logged.  fail-write: the live
# write fails with EIO, the plugin is not written, the snapshot stays
# exact, and the same write succeeds once the errors stop.

source "$srcdir/functions.sh"
requires nbdkit --version
requires /usr/bin/python3 -c 'import nbd'

cat > "$tmpdir/readerr.py" <<'EOF'
import errno, os, sys
import nbd

sock, policy, trigger = sys.argv[1:4]
B = 65536

from nbdcheck import fail, expect_err

live = nbd.NBD()
live.connect_uri("nbd+unix:///?socket=" + sock)
size = live.get_size()
orig = bytes(i % 251 for i in range(size))
live.pwrite(orig, 0)
snap = nbd.NBD()
snap.connect_uri("nbd+unix:///snapshot?socket=" + sock)
if snap.pread(size, 0) != orig:
    fail("snapshot wrong before any write")

new = b"N" * 1000
open(trigger, "w").close()              # plugin reads fail from now
if policy == "break-snapshot":
    live.pwrite(new, 5 * B + 10)
    os.unlink(trigger)
    print("ok: live write succeeded although its copy failed")
    expected = orig[:5 * B + 10] + new + orig[5 * B + 1010:]
    for (o, c) in ((0, B), (5 * B, B), (size - 1, 1)):
        expect_err("snapshot read [%d, +%d)" % (o, c), errno.EIO,
                   snap.pread, c, o)
else:
    expect_err("live write needing a copy", errno.EIO,
               live.pwrite, new, 5 * B + 10)
    os.unlink(trigger)
    if live.pread(B, 5 * B) != orig[5 * B:6 * B]:
        fail("the refused write reached the plugin")
    if snap.pread(size, 0) != orig:
        fail("snapshot not exact after the refused write")
    print("ok: write refused with EIO, plugin untouched, snapshot exact")
    live.pwrite(new, 5 * B + 10)         # now the copy works
    if snap.pread(size, 0) != orig:
        fail("snapshot not exact after the retried write")
    print("ok: retried write succeeded, snapshot still exact")
    expected = orig[:5 * B + 10] + new + orig[5 * B + 1010:]
if live.pread(size, 0) != expected:
    fail("live image is not exact")
print("ok: live image exact")
snap.shutdown()
live.shutdown()
EOF

for policy in break-snapshot fail-write; do
  echo "== on-cbw-error=$policy"
  rm -f "$tmpdir/trigger"
  nbdkit -U - --filter="$FLEECE" --filter=error memory 1M \
    error-pread=EIO error-pread-rate=100% \
    error-pread-file="$tmpdir/trigger" on-cbw-error=$policy \
    --run "/usr/bin/python3 '$tmpdir/readerr.py' \"\$unixsocket\" $policy \
           '$tmpdir/trigger'" \
    2> "$tmpdir/log" || { cat "$tmpdir/log" >&2; exit 1; }
  cat "$tmpdir/log"
  # The filter logged the failed copy (beyond the error filter's own
  # "injecting" line).
  if ! grep -v 'injecting' "$tmpdir/log" | grep -qiE 'error.*(cop|read)'; then
    echo "$0: FAIL: the failed copy-before-write was not logged" >&2
    exit 1
  fi
done
