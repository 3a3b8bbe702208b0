#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
# nbdkit-fleece benchmark helper (bench/run.sh calls it).
#
#   nbdtool.py hold URI READYFILE   connect, read the first 4 KiB, write
#                                   the milliseconds that took to
#                                   READYFILE, then keep the connection
#                                   open until killed (SIGTERM)
#   nbdtool.py firstbyte URI        the same, print the ms, disconnect
#   nbdtool.py spotcheck LIVE SNAP OFFSET
#                                   point-in-time check: read 64 KiB of
#                                   SNAP, write new data there on LIVE,
#                                   read SNAP again: must be the old data
#   nbdtool.py writes URI N PASSES  N 4 KiB writes, one per 64 KiB block
#                                   of the first N blocks, in a fixed
#                                   shuffled order, PASSES times over
#                                   (deterministic: for callgrind)
#   nbdtool.py fio JSONFILE         print "key value" lines from fio's
#                                   JSON output (fio's banner stripped)
import json
import os
import signal
import sys
import time

import nbd


def first_byte(uri):
    t0 = time.monotonic()
    h = nbd.NBD()
    h.connect_uri(uri)
    h.pread(4096, 0)
    return h, (time.monotonic() - t0) * 1000.0


def cmd_hold(uri, ready):
    h, ms = first_byte(uri)
    tmp = ready + ".tmp"
    with open(tmp, "w") as f:
        f.write("%.3f\n" % ms)
    os.rename(tmp, ready)
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    while True:
        signal.pause()


def cmd_firstbyte(uri):
    h, ms = first_byte(uri)
    h.shutdown()
    print("%.3f" % ms)


def cmd_spotcheck(live_uri, snap_uri, offset):
    n = 65536
    live, snap = nbd.NBD(), nbd.NBD()
    live.connect_uri(live_uri)
    snap.connect_uri(snap_uri)
    old = snap.pread(n, offset)
    new = os.urandom(n)
    live.pwrite(new, offset)
    live.flush()
    again = snap.pread(n, offset)
    now = live.pread(n, offset)
    live.shutdown()
    snap.shutdown()
    if now != new:
        sys.exit("spotcheck: the live export did not take the write")
    if again != old:
        sys.exit("spotcheck: NOT a point-in-time view: the snapshot "
                 "shows data written after it was taken")
    print("spotcheck: ok (snapshot kept the old data at offset %d)" % offset)


def cmd_writes(uri, n, passes):
    import random
    blocks = list(range(n))
    random.Random(1).shuffle(blocks)
    data = bytes(range(256)) * 16
    h = nbd.NBD()
    h.connect_uri(uri)
    for p in range(passes):
        for i, b in enumerate(blocks):
            h.pwrite(data, b * 65536 + (i % 16) * 4096)
    h.shutdown()


def load_fio(path):
    with open(path) as f:
        text = f.read()
    # fio's nbd engine prints "fio: connected to NBD server" first.
    return json.loads(text[text.index("{"):])


def cmd_fio(path):
    jobs = load_fio(path)["jobs"]
    out = {}
    for j in jobs:
        w, r = j["write"], j["read"]
        if w["total_ios"] > 0:
            out["iops"] = w["iops"]
            out["lat_mean_us"] = w["lat_ns"]["mean"] / 1000.0
            out["p99_us"] = w["clat_ns"]["percentile"]["99.000000"] / 1000.0
        if r["total_ios"] > 0:
            out["read_mibs"] = r["bw_bytes"] / 1048576.0
    for k, v in out.items():
        print("%s %.3f" % (k, v))


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__ or "usage: see the comment at the top")
    cmd, args = argv[1], argv[2:]
    if cmd == "hold":
        cmd_hold(*args)
    elif cmd == "firstbyte":
        cmd_firstbyte(*args)
    elif cmd == "spotcheck":
        cmd_spotcheck(args[0], args[1], int(args[2]))
    elif cmd == "writes":
        cmd_writes(args[0], int(args[1]), int(args[2]))
    elif cmd == "fio":
        cmd_fio(*args)
    else:
        sys.exit("nbdtool.py: unknown command %s" % cmd)


if __name__ == "__main__":
    main(sys.argv)
