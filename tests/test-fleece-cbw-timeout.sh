#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test-fleece-cbw-timeout.sh: a plugin too slow for cbw-timeout=100ms
# (nbdkit's delay filter below fleece makes every read take 500ms).
# break-snapshot: the live write succeeds, the live image is exact,
# snapshot reads fail with EIO, and cbw-timeout is named in the log.
# fail-write: the live write fails with EIO, the plugin is not written,
# the snapshot stays exact.

source "$srcdir/functions.sh"
requires nbdkit --version
requires /usr/bin/python3 -c 'import nbd'

cat > "$tmpdir/timeout.py" <<'EOF'
import errno, sys
import nbd

sock, policy = sys.argv[1:3]
B = 65536

from nbdcheck import fail, expect_err

# Each read below costs 500ms: read little, and in one request.
live = nbd.NBD()
live.connect_uri("nbd+unix:///?socket=" + sock)
size = live.get_size()
orig = bytes(i % 253 for i in range(size))
live.pwrite(orig, 0)                     # writes are not delayed
snap = nbd.NBD()
snap.connect_uri("nbd+unix:///snapshot?socket=" + sock)
snap.pread(1, 0)  # its first read takes the snapshot

new = b"S" * 100
if policy == "break-snapshot":
    live.pwrite(new, 2 * B + 7)
    print("ok: live write succeeded although its copy was too slow")
    expect_err("snapshot read", errno.EIO, snap.pread, B, 0)
    expected = orig[:2 * B + 7] + new + orig[2 * B + 107:]
else:
    expect_err("live write needing a slow copy", errno.EIO,
               live.pwrite, new, 2 * B + 7)
    if snap.pread(size, 0) != orig:
        fail("snapshot not exact after the refused write")
    print("ok: write refused with EIO, snapshot exact")
    expected = orig
if live.pread(size, 0) != expected:
    fail("live image is not exact (or the refused write reached it)")
print("ok: live image exact")
snap.shutdown()
live.shutdown()
EOF

for policy in break-snapshot fail-write; do
  echo "== on-cbw-error=$policy"
  nbdkit -U - --filter="$FLEECE" --filter=delay memory 1M delay-read=500ms \
    cbw-timeout=100ms on-cbw-error=$policy \
    --run "/usr/bin/python3 '$tmpdir/timeout.py' \"\$unixsocket\" $policy" \
    2> "$tmpdir/log" || { cat "$tmpdir/log" >&2; exit 1; }
  cat "$tmpdir/log"
  if ! grep -q 'cbw-timeout' "$tmpdir/log"; then
    echo "$0: FAIL: the timeout was not logged naming cbw-timeout" >&2
    exit 1
  fi
done
