#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test-fleece-disk-break.sh: a break on one disk leaves the other
# disk's snapshot exact.  vmdisk serves disks a and b (1M each) under
# fleece-max-size=64K with 4K blocks (the cap is each disk's own):
# after snapshot-begin, 256K of live writes to a (64 blocks) break a's
# snapshot, 4 unaligned 4K writes to b (8 blocks) fit in b's store.
# Then reads of snapshot/a fail with EIO; snapshot/b reads exactly b as
# it was at begin; status says state broken, broken-cause "disk a:
# ...", disks[a].state broken with a cause, disks[b].state active with
# none; the live images are exact.  Under on-cbw-error=fail-write
# instead, the writes that would overfill a's store are refused with
# ENOSPC (48 of 64), and both snapshots stay exact.

source "$srcdir/functions.sh"
requires nbdkit --version
requires /usr/bin/python3 -c 'import nbd'

cat > "$tmpdir/break.py" <<'EOF_PY'
import errno, sys
import nbd
from control_client import wait_for, expect_ok, expect_status
from nbdcheck import fail, ok, expect_err

sock, ctl, policy = sys.argv[1:4]
B = 4096

def connect(export):
    h = nbd.NBD()
    h.set_full_info(True)
    h.connect_uri("nbd+unix:///%s?socket=%s" % (export, sock))
    return h

def fill(tag, n):
    return (tag * (n // len(tag) + 1))[:n]

c = wait_for(ctl)
live = {d: connect(d) for d in "ab"}
size = live["a"].get_size()
orig = {d: fill(b"disk %s original " % d.encode(), size) for d in "ab"}
for d in "ab":
    live[d].pwrite(orig[d], 0)
model = {d: bytearray(orig[d]) for d in "ab"}
r = expect_ok(c.call("snapshot-begin"), "begin")

refused = 0
for i in range(64):                       # a: 64 blocks, cap 16
    data = fill(b"a new %d " % i, B)
    try:
        live["a"].pwrite(data, i * B)
        model["a"][i * B:(i + 1) * B] = data
    except nbd.Error as e:
        if policy != "fail-write" or e.errnum != errno.ENOSPC:
            fail("live write to a, block %d: %s" % (i, e))
        refused += 1
for i in range(4):                        # b: 8 blocks, fits
    data = fill(b"b new %d " % i, B)
    live["b"].pwrite(data, 8 * i * B + 100)
    model["b"][8 * i * B + 100:8 * i * B + 100 + B] = data

for d in "ab":
    if live[d].pread(size, 0) != model[d]:
        fail("live image of %s differs from what was written" % d)
snap = {d: connect("snapshot/" + d) for d in "ab"}
if snap["b"].pread(size, 0) != orig["b"]:
    fail("snapshot/b is not b as it was at begin")
ok("snapshot/b is exact")
if policy == "break-snapshot":
    if refused:
        fail("%d live writes refused under break-snapshot" % refused)
    expect_err("read of the broken snapshot/a", errno.EIO,
               snap["a"].pread, B, 0)
    s = expect_status(c, "one disk broken", state="broken")
    want = {"a": "broken", "b": "active"}
    if not (s["broken-cause"] or "").startswith("disk a: "):
        fail("broken-cause %r does not name disk a" % s["broken-cause"])
else:
    if refused != 64 - 16:
        fail("%d live writes to a refused, expected 48" % refused)
    if snap["a"].pread(size, 0) != orig["a"]:
        fail("snapshot/a is not a as it was at begin")
    ok("fail-write: 48 writes refused, snapshot/a exact")
    s = expect_status(c, "no disk broken", state="active")
    want = {"a": "active", "b": "active"}
disks = {x["name"]: x for x in s["disks"]}
for d in "ab":
    x = disks.get(d) or fail("status disks[] lacks %s: %r" % (d, s))
    if x["state"] != want[d] or x["export"] != "snapshot/" + d or \
       (x["broken-cause"] is None) != (want[d] != "broken"):
        fail("status disks[%s]: %r, expected state %s" % (d, x, want[d]))
ok("status: %s; disks: %s" % (s["state"], ", ".join(
    "%s %s" % (d, disks[d]["state"]) for d in "ab")))
expect_ok(c.call("snapshot-end"), "end")
for h in list(snap.values()) + list(live.values()):
    h.shutdown()
EOF_PY

truncate -s 1M "$tmpdir/a.img" "$tmpdir/b.img"
for policy in break-snapshot fail-write; do
  echo "== on-cbw-error=$policy"
  ctl="$tmpdir/ctl-$policy.sock"
  nbdkit -U - --filter="$FLEECE" "$VMDISK" \
    disk=a:"$tmpdir/a.img" disk=b:"$tmpdir/b.img" \
    fleece-block-size=4096 fleece-max-size=64K on-cbw-error=$policy \
    control="$ctl" \
    --run "PYTHONPATH='$srcdir' /usr/bin/python3 '$tmpdir/break.py' \
           \"\$unixsocket\" '$ctl' $policy" 2> "$tmpdir/log" ||
    { tail -n 20 "$tmpdir/log" >&2; exit 1; }
  grep -m1 'disk a' "$tmpdir/log"
  # fail-write logs the refusals at powers of 2: 48 refusals, 6 lines.
  if [ $policy = fail-write ]; then
    counts=$(sed -n 's/.*live write refused.* of disk a exact .*refusal \([0-9]*\) of this snapshot.*/\1/p' \
             "$tmpdir/log" | tr '\n' ' ')
    [ "$counts" = "1 2 4 8 16 32 " ] || {
      echo "$0: FAIL: refusals logged at counts '$counts', expected 1 2 4 8 16 32" >&2
      exit 1; }
    echo "ok: refusals logged at counts $counts"
  fi
done
