# SPDX-License-Identifier: BSD-3-Clause
# nbdkit-fleece: the backup tests' guest workload and their checks of
# what `fleecectl backup` wrote (test-backup-*.sh, backup-functions.sh).
#
#   mutate SEED LOG N URI...     N random writes, zeroes and trims on
#                                each disk (a live export URI)
#   fill SEED LOG MIB URI        MIB MiB of random data, 1 MiB at a
#                                time, at distinct random offsets
#   writer SEED LOG STOP URI...  random small writes, round-robin over
#                                the disks, within the MiB in the middle
#                                of each (a guest's journal: a bounded
#                                number of granules, however long it
#                                runs), until the file STOP exists
#                                (STOP.ready once it has written);
#                                any error fails: a guest write is
#                                never refused (prints the count)
#   granules LOG G URI...        how many G-byte granules of each URI
#                                the writes in LOG touched, one a line
#   data-clusters URI G          G-byte clusters of URI (a snapshot
#                                export) that hold data by block
#                                status: a full backup's bound
#   manifest DIR NAME KIND PARENT GEN REASON DISKS
#                                DIR/NAME/manifest.json has KIND
#                                ("full"/"incremental"), PARENT ("-":
#                                null), generation GEN ("-": any), a full-reason
#                                matching the regex REASON ("-": null),
#                                DISKS "name:size,..." and consistent
#                                files and backing, no other file in
#                                DIR/NAME; prints it
# LOG gets one line per guest write: "URI OFFSET LENGTH".  SEED makes
# the run repeatable: each command prints it.
import json
import os
import random
import re
import sys
import time

import nbd
from nbdcheck import fail, ok


def connect(uri):
    h = nbd.NBD()
    h.connect_uri(uri)
    return h


def log_op(log, uri, off, n):
    log.write("%s %d %d\n" % (uri, off, n))
    log.flush()


def one_op(rnd, h, uri, log, kinds, maxlen, area=None):
    """One random op of at most maxlen bytes, within the byte range
    area (start, length), by default the whole disk."""
    start, size = area or (0, h.get_size())
    n = rnd.randrange(1, maxlen // 512 + 1) * 512
    off = start + rnd.randrange(0, (size - n) // 512 + 1) * 512
    kind = rnd.choice(kinds)
    if kind == "write":
        h.pwrite(rnd.randbytes(n), off)
    elif kind == "zero":
        h.zero(n, off, nbd.CMD_FLAG_NO_HOLE if rnd.random() < 0.5 else 0)
    else:
        h.trim(n, off)
    log_op(log, uri, off, n)


def mutate(seed, logname, count, uris):
    print("mutate: seed %s" % seed)
    rnd = random.Random(seed)
    with open(logname, "a") as log:
        for uri in uris:
            h = connect(uri)
            for _ in range(int(count)):
                one_op(rnd, h, uri, log, ("write",) * 3 + ("zero", "trim"),
                       256 << 10)
            h.flush()
            h.shutdown()


def fill(seed, logname, mib, uri):
    print("fill: seed %s" % seed)
    rnd = random.Random(seed)
    h = connect(uri)
    with open(logname, "a") as log:
        for off in rnd.sample(range(h.get_size() >> 20), int(mib)):
            h.pwrite(rnd.randbytes(1 << 20), off << 20)
            log_op(log, uri, off << 20, 1 << 20)
    h.flush()
    h.shutdown()


def writer(seed, logname, stop, uris):
    rnd = random.Random(seed)
    hs = [(connect(u), u) for u in uris]
    done = 0
    with open(logname, "a") as log:
        try:
            while not os.path.exists(stop):
                h, uri = hs[done % len(hs)]
                one_op(rnd, h, uri, log, ("write",), 16 << 10,
                       (h.get_size() // 2, 1 << 20))
                done += 1
                if done == 1:
                    open(stop + ".ready", "w").close()
                time.sleep(0.02)
            for h, _ in hs:
                h.flush()
        except nbd.Error as e:
            fail("writer (seed %s): a guest write failed after %d: %s"
                 % (seed, done, e))
    print("writer (seed %s): %d writes, none refused" % (seed, done))


def granules(logname, g, uris):
    g = int(g)
    touched = {u: set() for u in uris}
    for line in open(logname):
        u, off, n = line.split()
        if u in touched:
            off, n = int(off), int(n)
            touched[u].update(range(off // g, (off + n - 1) // g + 1))
    for u in uris:
        print(len(touched[u]))


def data_clusters(uri, g):
    g = int(g)
    h = nbd.NBD()
    h.add_meta_context(nbd.CONTEXT_BASE_ALLOCATION)
    h.connect_uri(uri)
    size = h.get_size()
    found = set()

    def cb(meta, off, entries, err):
        for i in range(0, len(entries), 2):
            n, flags = entries[i], entries[i + 1]
            if not flags & nbd.STATE_HOLE:
                found.update(range(cb.at // g, (cb.at + n - 1) // g + 1))
            cb.at += n
        return 0

    off = 0
    while off < size:
        cb.at = off
        h.block_status(min(size - off, 1 << 30), off, cb)
        off = cb.at
    h.shutdown()
    print(len(found))


def manifest(d, name, kind, parent, gen, reason, disks):
    m = json.load(open(os.path.join(d, name, "manifest.json")))
    parent = None if parent == "-" else parent
    want = [(n, int(s)) for n, s in (x.rsplit(":", 1)
                                     for x in disks.split(","))]
    checks = [
        ("format", m.get("format") == "nbdkit-fleece-backup/1"),
        ("name", m.get("name") == name),
        ("kind", m.get("kind") == kind),
        ("parent", m.get("parent") == parent),
        ("generation", gen == "-" or m.get("generation") == int(gen)),
        ("disks", [(x["name"], x["size"]) for x in m["disks"]] == want),
    ]
    if reason == "-":
        checks.append(("full-reason", m.get("full-reason") is None))
    else:
        checks.append(("full-reason", re.search(reason,
                                                m.get("full-reason") or "")))
    for x in m["disks"]:
        f = (x["name"] or "disk") + ".qcow2"
        back = None if parent is None else "../%s/%s" % (parent, f)
        st = os.stat(os.path.join(d, name, f))
        checks += [
            ("%s file" % f, x["file"] == f),
            ("%s backing" % f, x["backing"] == back),
            ("%s file-size" % f, x["file-size"] == st.st_size),
            ("%s sha256" % f, re.fullmatch("[0-9a-f]{64}", x["sha256"])),
        ]
    files = sorted(os.listdir(os.path.join(d, name)))
    want_files = sorted(["manifest.json"] + [(x["name"] or "disk") + ".qcow2"
                                             for x in m["disks"]])
    checks.append(("files %r" % files, files == want_files))
    bad = [what for what, good in checks if not good]
    if bad:
        fail("%s/manifest.json: wrong %s:\n%s"
             % (name, ", ".join(bad), json.dumps(m, indent=1)))
    ok("%s: manifest: %s since %s, generation %s, reason %r" %
       (name, kind, parent, gen, m.get("full-reason")))


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "mutate":
        mutate(args[0], args[1], args[2], args[3:])
    elif cmd == "fill":
        fill(*args)
    elif cmd == "writer":
        writer(args[0], args[1], args[2], args[3:])
    elif cmd == "granules":
        granules(args[0], args[1], args[2:])
    elif cmd == "data-clusters":
        data_clusters(*args)
    elif cmd == "manifest":
        manifest(*args)
    else:
        fail("unknown command %r" % cmd)


main()
