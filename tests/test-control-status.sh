#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test-control-status.sh: the figures in a status reply match what the
# test did (4 MiB disk, 64 blocks of 64 KiB, fleece-max-size=2M).
# - After begin: zero everywhere, disk-size, blocks-total, block-size,
#   store-limit, taken-at inside the description, crash-consistent
#   with reason "quiesce=off".
# - 5 small live writes to 5 distinct non-adjacent data blocks:
#   blocks-preserved 5, copy-count 5, store-bytes = bytes-copied =
#   5 blocks, live-writes 5; a second write to one of them copies
#   nothing more; writes to 2 hole blocks: blocks-zero 2.
# - A snapshot client reading K bytes: bytes-read K, data-bytes the 32
#   data blocks (null before the first snapshot client), progress
#   K/data-bytes; reading the whole disk twice more caps progress at
#   1.0.
# - Trimming 4 blocks (2 of them preserved) on the snapshot:
#   blocks-released 4, released-bytes 4 blocks, store-bytes 3 blocks.
# - A broken snapshot (fleece-max-size=64K, 2 data blocks written):
#   state broken, broken-cause names fleece-max-size.
# - quiesce-command that freezes 2 filesystems: application-consistent,
#   frozen-filesystems 2, consistency-reason null.

source "$srcdir/functions.sh"
requires nbdkit --version
requires /usr/bin/python3 -c 'import nbd'

ctl="$tmpdir/ctl.sock"
cat > "$tmpdir/status.py" <<'EOF'
import re, sys
import nbd
from control_client import *

sock, ctl, mode = sys.argv[1], sys.argv[2], sys.argv[3]
B, SIZE = 65536, 4 * 1024 * 1024
c = wait_for(ctl)
live = nbd.NBD()
live.connect_uri("nbd+unix:///?socket=" + sock)
live.pwrite(b"\x5a" * (32 * B), 0)         # blocks 0-31 data, 32-63 holes

if mode == "broken":
    expect_ok(c.call("snapshot-begin"), "begin")
    live.pwrite(b"x", 0)
    live.pwrite(b"x", 2 * B)                 # the store is full: breaks
    r = expect_status(c, "broken", state="broken", blocks_preserved=1)
    if "fleece-max-size" not in (r["broken-cause"] or ""):
        fail("broken-cause does not name fleece-max-size: %r" % r)
    ok("broken: %s" % r["broken-cause"])
    sys.exit(0)
if mode == "frozen":
    expect_ok(c.call("snapshot-begin"), "begin")
    expect_status(c, "frozen", consistency="application-consistent",
                  frozen_filesystems=2, consistency_reason=None)
    ok("application-consistent with 2 filesystems frozen")
    sys.exit(0)

r = expect_ok(c.call("snapshot-begin", quiesce="off"), "begin")
r = expect_status(c, "after begin", state="active", generation=1,
                  disk_size=SIZE, blocks_total=64, block_size=B,
                  store_limit=2 * 1024 * 1024, store_bytes=0,
                  blocks_preserved=0, blocks_zero=0, blocks_released=0,
                  copy_count=0, bytes_copied=0, live_writes=0, bytes_read=0,
                  progress=0.0, data_bytes=None,
                  consistency="crash-consistent",
                  consistency_reason="quiesce=off", frozen_filesystems=0,
                  broken_cause=None)
if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", r["taken-at"]) \
   or r["taken-at"] not in r["description"]:
    fail("taken-at %r / description %r" % (r["taken-at"], r["description"]))
ok("figures after begin")

for b in (0, 2, 4, 6, 8):
    live.pwrite(b"w" * 512, b * B + 100)
expect_status(c, "5 blocks written", blocks_preserved=5, copy_count=5,
              store_bytes=5 * B, bytes_copied=5 * B, live_writes=5,
              blocks_zero=0)
live.pwrite(b"again", 0)
live.pwrite(b"h" * 4096, 40 * B)
live.pwrite(b"h" * 4096, 42 * B)
r = expect_status(c, "rewrite + 2 holes", blocks_preserved=5, copy_count=5,
                  store_bytes=5 * B, live_writes=8, blocks_zero=2)
if not r["copy-mean-ms"] > 0 or r["copy-p99-ms"] < r["copy-mean-ms"] / 2:
    fail("copy latency figures: %r" % r)
ok("preserved / zero / store / copies match the writes")

s = nbd.NBD()
s.connect_uri("nbd+unix:///snapshot?socket=" + sock)
K = 3 * B + 1000
s.pread(K, 10 * B)
expect_status(c, "read K bytes", bytes_read=K, snapshot_clients=1,
              data_bytes=32 * B, progress=round(K / (32 * B), 4))
s.pread(SIZE, 0)
s.pread(SIZE, 0)
expect_status(c, "read everything twice", bytes_read=K + 2 * SIZE,
              progress=1.0)
ok("bytes-read and progress match the reads")

s.trim(4 * B, 0)                           # blocks 0-3; 0 and 2 preserved
expect_status(c, "trimmed", blocks_released=4, released_bytes=4 * B,
              blocks_preserved=3, store_bytes=3 * B)
ok("released blocks free the store")
s.shutdown()
live.shutdown()
EOF

run ()
{
  nbdkit -U - --filter="$FLEECE" memory 4M fleece-block-size=64K control="$ctl" "$@" \
    --run "PYTHONPATH='$srcdir' /usr/bin/python3 '$tmpdir/status.py' \
           \"\$unixsocket\" '$ctl' '$mode'"
}
mode=figures run fleece-max-size=2M
mode=broken run fleece-max-size=64K 2>"$tmpdir/log" ||
  { cat "$tmpdir/log" >&2; exit 1; }

printf '#!/bin/sh\n[ "$1" = freeze ] && echo 2\nexit 0\n' > "$tmpdir/q"
chmod +x "$tmpdir/q"
mode=frozen run quiesce-command="$tmpdir/q"
