#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test-cbt-model.sh: changed-block tracking against a model, over
# vmdisk on a 16M file with cbt-dir=.  Random writes, zeroes and trims
# (4K..8M, unaligned) between snapshots, over 12 checkpoints; at each,
# for every older checkpoint K, `changes since K` (whole disk, and in
# pages) must:
# - cover every granule whose content differs between snapshot K and
#   the current one (never under-report);
# - mark only granules that some write, zero or trim since K touched
#   (no gross over-report: within one granule of each request's ends);
# and the incremental is exact: the dirty ranges of each snapshot,
# read from the snapshot export and applied onto a copy of the
# previous backup, give the current snapshot byte for byte.  Writes
# made after a snapshot (before the query) are not in its changes.
# Then 256 more checkpoints: the code cycle wraps; K = N-254 still
# answers exactly, N-255 answers full-backup-required (too old).
# Errors: unknown checkpoint, no-snapshot, not-tracking, bad requests.

source "$srcdir/functions.sh"
requires nbdkit --version
requires /usr/bin/python3 -c 'import nbd'

disk="$tmpdir/disk.img"
ctl="$tmpdir/ctl.sock"
truncate -s 16M "$disk"

cat > "$tmpdir/model.py" <<'EOF2'
import hashlib, random, sys
import nbd
from control_client import *
from cbt_changes import changes, dirty_granules
from nbdcheck import fail, ok

sock, ctl, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
rng = random.Random(seed)
G, SIZE = 65536, 16 << 20
NG = SIZE // G
c = wait_for(ctl)
live = nbd.NBD(); live.connect_uri("nbd+unix:///?socket=" + sock)

r = c.call("changes", since="x")
expect_error(r, "no-snapshot", "changes with no snapshot")

def read_snapshot():
    h = nbd.NBD(); h.connect_uri("nbd+unix:///snapshot?socket=" + sock)
    data = b"".join(h.pread(4 << 20, o) for o in range(0, SIZE, 4 << 20))
    h.shutdown()
    return data

def hashes(data):
    return [hashlib.sha1(data[g * G:(g + 1) * G]).digest() for g in range(NG)]

def random_ops(n):
    touched = set()
    for _ in range(n):
        length = rng.choice([4096, rng.randrange(1, 1 << 16),
                             rng.randrange(1, 1 << 20), rng.randrange(1, 8 << 20)])
        off = rng.randrange(0, SIZE - length)
        op = rng.choice("wwwzt")
        if op == "w":
            live.pwrite(bytes([rng.randrange(1, 256)]) * length, off)
        elif op == "z":
            live.zero(length, off)
        else:
            live.trim(length, off)
        touched.update(range(off // G, (off + length - 1) // G + 1))
    return touched

def begin(check=True):
    r = c.call("snapshot-begin", fresh=True)
    if not check:
        return r["checkpoint"]
    expect_ok(r, "begin")
    if not isinstance(r["checkpoint"], str):
        fail("snapshot-begin: no checkpoint: %r" % r)
    st = expect_ok(c.call("status"), "status")
    if st["checkpoint"] != r["checkpoint"]:
        fail("status checkpoint %r, begin said %r" % (st["checkpoint"], r))
    return r["checkpoint"]

ids, snaps, since = [], [], []   # per checkpoint: id, hashes, touched after
backup = None
for k in range(12):
    if k:
        t = random_ops(rng.randrange(1, 12))
        for s in since:
            s |= t
    cid = begin()
    after = random_ops(rng.randrange(0, 4))     # after the snapshot
    data = read_snapshot()
    hs = hashes(data)
    for j, (old, hs_old, tch) in enumerate(zip(ids, snaps, since)):
        ext = changes(c, old, SIZE, page=rng.choice([None, 3 << 20]))
        dirty = dirty_granules(ext, G)
        differ = {g for g in range(NG) if hs[g] != hs_old[g]}
        if not differ <= dirty:
            fail("since checkpoint %d: granules %r differ but are not "
                 "dirty" % (j, sorted(differ - dirty)[:10]))
        if not dirty <= tch:
            fail("since checkpoint %d: granules %r dirty but never "
                 "written" % (j, sorted(dirty - tch)[:10]))
    if backup is not None:                  # the incremental since the last
        ext = changes(c, ids[-1], SIZE)
        h = nbd.NBD(); h.connect_uri("nbd+unix:///snapshot?socket=" + sock)
        for off, length, d in ext:
            if d:
                backup[off:off + length] = h.pread(length, off)
        h.shutdown()
        if bytes(backup) != data:
            fail("checkpoint %d: the incremental applied onto the previous "
                 "backup is not the snapshot" % k)
    backup = bytearray(data)
    for s in since:
        s |= after
    ids.append(cid); snaps.append(hs); since.append(set(after))
    r = changes(c, cid, SIZE)
    if any(d for _, _, d in r):
        fail("changes since the active checkpoint itself: %r" % r)
ok("12 checkpoints, every pair: differing granules dirty, dirty granules "
   "written; incrementals exact")

expect_error(c.call("changes", since=ids[0][:-1] + "999"),
             "full-backup-required", "a checkpoint newer than the snapshot")
uuid = ids[0].rsplit(":", 1)[0]
other = ("0" if uuid[0] != "0" else "1") + uuid[1:]
expect_error(c.call("changes", since=other + ":1"),
             "full-backup-required", "a checkpoint of another identity")
expect_error(c.call("changes", since="nonsense"), "bad-request",
             "a malformed checkpoint id")
expect_error(c.call("changes", since=ids[0], disk="vdz"), "unknown-disk",
             "an unknown disk")

# Wrap: 256 more checkpoints, one write each to granule 0..
base = int(ids[-1].rsplit(":", 1)[1])
live.pwrite(b"\x01" * G, 5 * G)             # granule 5: at base only
first = begin()
for i in range(255):
    live.pwrite(bytes([i + 1]) * 10, 7 * G)  # granule 7 every time
    last = begin(False)
n = int(last.rsplit(":", 1)[1])
if n != base + 256:
    fail("after 256 more checkpoints: %s (from %d)" % (last, base))
ext = changes(c, "%s:%d" % (uuid, n - 254), SIZE)
if dirty_granules(ext, G) != {7}:
    fail("since N-254: %r" % ext)
expect_error(c.call("changes", since="%s:%d" % (uuid, n - 255)),
             "full-backup-required", "a checkpoint 255 ago")
ok("the generation code wraps: N-254 exact, N-255 too old")
EOF2

nbdkit -U - --filter="$FLEECE" "$VMDISK" file="$disk" cbt-dir="$tmpdir/cbt" \
  control="$ctl" \
  --run "PYTHONPATH='$srcdir' /usr/bin/python3 '$tmpdir/model.py' \
         \"\$unixsocket\" '$ctl' ${FLEECE_CBT_SEED:-1}"

# Without cbt-dir=: not-tracking.
cat > "$tmpdir/off.py" <<'EOF2'
import sys
from control_client import *
c = wait_for(sys.argv[1])
expect_ok(c.call("snapshot-begin"), "begin")
expect_error(c.call("changes", since="x:1"), "not-tracking", "no cbt-dir=")
expect_error(c.call("changes"), "bad-request", "changes without since")
expect_error(c.call("status", since="x:1"), "bad-request", "status with since")
expect_error(c.call("changes", since="x:1", offset=-1), "bad-request",
             "a negative offset")
expect_error(c.call("changes", since=1), "bad-request", "since not a string")
if expect_ok(c.call("status"), "status")["checkpoint"] is not None:
    fail("status checkpoint without tracking")
EOF2
nbdkit -U - --filter="$FLEECE" memory 1M control="$ctl" \
  --run "PYTHONPATH='$srcdir' /usr/bin/python3 '$tmpdir/off.py' '$ctl'"
