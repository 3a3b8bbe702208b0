#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test-control-totals.sh: status's "totals" (counters since nbdkit
# started) and "last-snapshot" (the last ended snapshot's result), with
# exact values after each step (4 MiB disk, 64 KiB blocks, the first
# 32 blocks data).
# Run "main" (fleece-max-size=128K: 2 blocks; a quiesce-command that
# freezes 2 filesystems, or fails while $tmpdir/fail exists):
# - Before any snapshot: every total 0, last-snapshot null.
# - Snapshot 1 made by an NBD read, 1 live write preserving a block,
#   its connection closed: ended-by last-close, application-consistent,
#   bytes-read, copy-count, blocks-preserved exact.
# - Snapshot 2 by begin (quiesce off), broken by a third preserved
#   block, two more writes after the break, snapshot-end: ended-by
#   snapshot-end, broken with a cause naming fleece-max-size; counted
#   broken once.
# - Snapshot 3 by begin with a failing freeze (crash-consistent), ended
#   by begin --fresh (ended-by fresh), which creates snapshot 4; a
#   begin with quiesce require then fails (snapshots-failed).
# Run "timers" (snapshot-linger=100ms, pin-max-age=1s,
# on-cbw-error=fail-write, fleece-max-size=64K):
# - Nothing configured to freeze: both snapshots crash-consistent.
# - A refused live write (writes-refused 1, nothing broken), the
#   snapshot ended by snapshot-linger (ended-by linger); a pinned one
#   ended by pin-max-age (ended-by pin-max-age).

source "$srcdir/functions.sh"
requires nbdkit --version
requires /usr/bin/python3 -c 'import nbd'

ctl="$tmpdir/ctl.sock"
cat > "$tmpdir/totals.py" <<'EOF'
import errno, os, sys, time
import nbd
from control_client import *
from nbdcheck import expect_err

sock, ctl, mode, flag = sys.argv[1:5]
B = 65536
ENDS = ("snapshot-end", "fresh", "last-close", "linger", "pin-max-age")
c = wait_for(ctl)
live = nbd.NBD()
live.connect_uri("nbd+unix:///?socket=" + sock)
live.pwrite(b"\x5a" * (32 * B), 0)         # no snapshot: counts nothing


def totals(what, ended={}, **want):
    """The totals are exactly want (keys with _ for -), 0 otherwise."""
    r = expect_status(c, what)
    t = r["totals"]
    keys = ("snapshots-created snapshots-failed snapshots-crash-consistent "
            "freeze-failures snapshots-ended snapshots-broken "
            "writes-refused copy-count bytes-copied blocks-preserved "
            "bytes-read live-writes").split()
    if sorted(t) != sorted(keys + ["snapshots-ended-by"]):
        fail("%s: totals has members %s" % (what, sorted(t)))
    want = {k.replace("_", "-"): v for k, v in want.items()}
    want["snapshots-ended"] = sum(ended.values())
    for k in keys:
        if t[k] != want.get(k, 0):
            fail("%s: totals %s is %r, expected %r (%r)" %
                 (what, k, t[k], want.get(k, 0), t))
    by = {k: ended.get(k.replace("-", "_"), 0) for k in ENDS}
    if t["snapshots-ended-by"] != by:
        fail("%s: snapshots-ended-by %r, expected %r" %
             (what, t["snapshots-ended-by"], by))
    ok("%s: totals as expected" % what)
    return r


def last(r, what, **want):
    """last-snapshot has every member, and want's values."""
    l = r["last-snapshot"]
    keys = ("generation description consistency consistency-reason "
            "frozen-filesystems taken-at ended-at ended-by broken "
            "broken-cause blocks-preserved blocks-zero blocks-released "
            "copy-count bytes-copied live-writes bytes-read disks").split()
    if l is None or sorted(l) != sorted(keys):
        fail("%s: last-snapshot %r" % (what, l))
    for k, v in want.items():
        k = k.replace("_", "-")
        if l[k] != v:
            fail("%s: last-snapshot %s is %r, expected %r (%r)" %
                 (what, k, l[k], v, l))
    if not l["taken-at"] <= l["ended-at"] or \
       l["taken-at"] not in l["description"]:
        fail("%s: taken-at / ended-at / description: %r" % (what, l))
    d = l["disks"]
    if len(d) != 1 or d[0]["name"] != "" or \
       d[0]["bytes-read"] != l["bytes-read"] or \
       d[0]["blocks-preserved"] != l["blocks-preserved"]:
        fail("%s: last-snapshot disks %r" % (what, d))
    ok("%s: last-snapshot generation %d ended by %s" %
       (what, l["generation"], l["ended-by"]))
    return l


def status_until(what, pred, seconds=20):
    deadline = time.monotonic() + seconds
    while True:
        r = expect_ok(c.call("status"), what)
        if pred(r):
            return r
        if time.monotonic() > deadline:
            fail("%s: never happened: %r" % (what, r))
        time.sleep(0.02)


def snapshot_by_read(n):
    s = nbd.NBD()
    s.connect_uri("nbd+unix:///snapshot?socket=" + sock)
    s.pread(n, 0)
    return s


def main():
    r = totals("before any snapshot")
    if r["last-snapshot"] is not None:
        fail("last-snapshot before any snapshot: %r" % r["last-snapshot"])

    s = snapshot_by_read(B)                 # 1: application-consistent
    live.pwrite(b"w", 0)
    s.shutdown()
    r = status_until("snapshot 1 ended", lambda r: r["state"] == "none")
    last(r, "last-close", generation=1, ended_by="last-close",
         consistency="application-consistent", consistency_reason=None,
         frozen_filesystems=2, broken=False, broken_cause=None,
         bytes_read=B, copy_count=1, bytes_copied=B, blocks_preserved=1,
         live_writes=1)
    totals("after snapshot 1", ended=dict(last_close=1), snapshots_created=1,
           copy_count=1, bytes_copied=B, blocks_preserved=1, bytes_read=B,
           live_writes=1)

    expect_ok(c.call("snapshot-begin", quiesce="off"), "begin 2")
    for b in (2, 4, 6, 8, 10):              # 6 fills the store: broken
        live.pwrite(b"w", b * B)
    expect_status(c, "snapshot 2 broken", state="broken")
    expect_ok(c.call("snapshot-end"), "end 2")
    r = totals("after snapshot 2", ended=dict(last_close=1, snapshot_end=1),
               snapshots_created=2, snapshots_crash_consistent=1,
               snapshots_broken=1, copy_count=3, bytes_copied=3 * B,
               blocks_preserved=3, bytes_read=B, live_writes=6)
    l = last(r, "broken", generation=2, ended_by="snapshot-end",
             consistency="crash-consistent", consistency_reason="quiesce=off",
             broken=True, copy_count=2, bytes_copied=2 * B,
             blocks_preserved=2, live_writes=5, bytes_read=0)
    if "fleece-max-size" not in l["broken-cause"] or \
       l["broken-cause"] != l["disks"][0]["broken-cause"]:
        fail("broken-cause: %r" % l)

    open(flag, "w").close()                 # the freeze fails from now
    expect_ok(c.call("snapshot-begin"), "begin 3")
    expect_ok(c.call("snapshot-begin", quiesce="off", fresh=True),
              "begin 4 --fresh")
    expect_error(c.call("snapshot-begin", quiesce="require", fresh=True),
                 "snapshot-failed", "begin 5 require")
    r = totals("after snapshots 3-5",
               ended=dict(last_close=1, snapshot_end=1, fresh=2),
               snapshots_created=4, snapshots_crash_consistent=3,
               snapshots_failed=1, freeze_failures=2, snapshots_broken=1,
               copy_count=3, bytes_copied=3 * B, blocks_preserved=3,
               bytes_read=B, live_writes=6)
    l = last(r, "fresh", generation=4, ended_by="fresh", broken=False,
             consistency="crash-consistent", frozen_filesystems=0,
             copy_count=0, bytes_read=0)
    if r["state"] != "none" or r["last-snapshot"]["consistency-reason"] \
       != "quiesce=off":
        fail("after a failed fresh begin: %r" % r)


def timers():
    s = snapshot_by_read(B)
    live.pwrite(b"w", 0)                    # preserved: the store is full
    expect_err("write refused", errno.ENOSPC, live.pwrite, b"w", 2 * B)
    s.shutdown()
    r = status_until("snapshot-linger", lambda r: r["state"] == "none")
    last(r, "linger", generation=1, ended_by="linger", broken=False,
         copy_count=1, live_writes=2, bytes_read=B)
    expect_ok(c.call("snapshot-begin"), "begin 2")
    r = status_until("pin-max-age", lambda r: r["state"] == "none")
    last(r, "pin-max-age", generation=2, ended_by="pin-max-age")
    totals("after the timers", ended=dict(linger=1, pin_max_age=1),
           snapshots_created=2, snapshots_crash_consistent=2,
           writes_refused=1, copy_count=1,
           bytes_copied=B, blocks_preserved=1, bytes_read=B, live_writes=2)


main() if mode == "main" else timers()
live.shutdown()
EOF

printf '#!/bin/sh\n[ "$1" = freeze ] || exit 0\n[ -e "%s" ] && exit 1\necho 2\n' \
  "$tmpdir/fail" > "$tmpdir/q"
chmod +x "$tmpdir/q"

run ()
{
  local mode=$1
  shift
  nbdkit -U - --filter="$FLEECE" memory 4M fleece-block-size=64K \
    control="$ctl" "$@" \
    --run "/usr/bin/python3 '$tmpdir/totals.py' \"\$unixsocket\" '$ctl' \
           '$mode' '$tmpdir/fail'" \
    2> "$tmpdir/log.$mode" || { cat "$tmpdir/log.$mode" >&2; exit 1; }
}
run main fleece-max-size=128K quiesce-command="$tmpdir/q"
run timers fleece-max-size=64K snapshot-linger=100ms pin-max-age=1s \
  on-cbw-error=fail-write
