#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test-cbt-group-commit.sh: the durable mark and its group commit, with
# each map sync held 300 ms (-D fleece.cbt_sync_delay_ms=300):
# - a write to a granule whose mark another write is still syncing is
#   not acknowledged before the mark is in the map file (read at its
#   acknowledgement);
# - 32 writes to 32 granules in flight at once share syncs (counted in
#   the -D fleece.verbose=1 log): far fewer syncs than writes, and
#   every granule is in the file when the last is acknowledged.

source "$srcdir/functions.sh"
requires nbdkit --version
requires /usr/bin/python3 -c 'import nbd'
truncate -s 8M "$tmpdir/disk.img"

cat > "$tmpdir/t.py" <<'EOF2'
import sys, time
import nbd
sys.path.insert(0, sys.argv[1])
import cbtmap
from nbdcheck import fail, ok
sock, mp = sys.argv[2:4]
G = 65536
uri = "nbd+unix:///?socket=" + sock
a = nbd.NBD(); a.connect_uri(uri)
b = nbd.NBD(); b.connect_uri(uri)

def marked(g):
    return cbtmap.read(mp)[1][g] == cbtmap.code(1)

ck = a.aio_pwrite(b"a" * 4096, 5 * G)       # its mark syncs for 300 ms
deadline = time.monotonic() + 0.1
while time.monotonic() < deadline:
    a.poll(0)
    time.sleep(0.01)
t0 = time.monotonic()
b.pwrite(b"b" * 4096, 5 * G + 8192)         # same granule, while syncing
if not marked(5):
    fail("a write was acknowledged before its granule's mark was durable")
ok("acknowledged after the mark was durable (waited %.0f ms)"
   % ((time.monotonic() - t0) * 1000))
while a.aio_in_flight() > 0:
    a.poll(-1)
a.aio_command_completed(ck)

cks = [a.aio_pwrite(b"c" * 4096, g * G) for g in range(10, 42)]
while a.aio_in_flight() > 0:
    a.poll(-1)
for ck in cks:
    a.aio_command_completed(ck)
if not all(marked(g) for g in range(10, 42)):
    fail("32 concurrent writes: not all marked when acknowledged")
print("32 writes done", flush=True)
EOF2

nbdkit -v -U - --filter="$FLEECE" "$VMDISK" file="$tmpdir/disk.img" \
  cbt-dir="$tmpdir/cbt" -D fleece.cbt_sync_delay_ms=300 -D fleece.verbose=1 \
  --run "PYTHONPATH='$srcdir' /usr/bin/python3 '$tmpdir/t.py' '$srcdir' \
         \"\$unixsocket\" '$tmpdir/cbt/disk.map' > '$tmpdir/out' 2>&1" \
  2> "$tmpdir/log" || { cat "$tmpdir/out"; exit 1; } >&2
cat "$tmpdir/out"
syncs=$(grep -c 'cbt: one sync for' "$tmpdir/log")
# 1 sync for granule 5, then the 32 writes: at most 16 syncs for them.
if [ "$syncs" -gt 17 ]; then
  echo "$0: FAIL: $syncs syncs for 33 marks: no group commit" >&2
  grep 'cbt: one sync for' "$tmpdir/log" >&2
  exit 1
fi
echo "ok: 33 marks in $syncs syncs: $(grep -o 'one sync for [0-9]* range' "$tmpdir/log" | awk '{print $4}' | tr '\n' ' ')"
