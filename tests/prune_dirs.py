# SPDX-License-Identifier: BSD-3-Clause
# nbdkit-fleece: hand-made backup directories for the prune tests, and
# an independent model of prune's rule (fleecectl(1), PRUNE) to check
# fleecectl against.
#
#   make DIR SPEC [--files]   DIR/0001-full... from SPEC, words KIND AGE
#                             ("F7.5": a full that finished 7.5 days ago,
#                             "I1": an incremental, parent the one before;
#                             "X2": an incremental whose manifest is
#                             damaged).  --files: real qcow2 files (each
#                             backed by its parent's), so that verify
#                             passes; else manifests only.
#   exhaustive FLEECECTL TMP  every SPEC of 1 to 4 backups (F or I, one
#                             day apart, the middle one damaged or not) x
#                             --keep-chains 1..3 x --keep-days 0, 1.2, 2.7,
#                             and every SPEC of 5 (none damaged) with
#                             --keep-chains 2 and --keep-days 1.2, 2.7:
#                             prune --dry-run --json must decide as the
#                             model does, and the safety properties hold.

import hashlib
import itertools
import json
import os
import subprocess
import sys
import time


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + \
        ".%03dZ" % int((t % 1) * 1000)


def make(d, spec, files=False):
    os.makedirs(d, exist_ok=True)
    now = time.time()
    prev = None
    for i, word in enumerate(spec.split(), 1):
        kind, age = word[0], float(word[1:])
        name = "%04d-%s" % (i, "full" if kind == "F" else "incr")
        p = os.path.join(d, name)
        os.mkdir(p)
        backing = "../%s/disk.qcow2" % prev if kind != "F" else None
        if files:
            cmd = ["qemu-img", "create", "-q", "-f", "qcow2"]
            if backing:
                cmd += ["-b", backing, "-F", "qcow2"]
            subprocess.run(cmd + [os.path.join(p, "disk.qcow2"), "1M"],
                           check=True)
            data = open(os.path.join(p, "disk.qcow2"), "rb").read()
        else:
            data = b""
        t = now - age * 86400
        m = {"format": "nbdkit-fleece-backup/1", "name": name,
             "kind": "full" if kind == "F" else "incremental",
             "parent": prev if kind != "F" else None,
             "full-reason": "--full" if kind == "F" else None,
             "checkpoint": None, "generation": i, "taken-at": iso(t - 60),
             "started-at": iso(t - 60), "finished-at": iso(t),
             "consistency": "crash-consistent", "consistency-reason": None,
             "description": None,
             "disks": [{"name": "", "export": "snapshot", "file": "disk.qcow2",
                        "backing": backing, "size": 1 << 20,
                        "bytes-examined": 0, "bytes-copied": 0,
                        "bytes-zeroed": 0, "file-size": len(data),
                        "sha256": hashlib.sha256(data).hexdigest()}]}
        with open(os.path.join(p, "manifest.json"), "w") as f:
            f.write("{ damaged" if kind == "X" else json.dumps(m))
        prev = name


def model(spec, keep_chains, keep_days):
    """The rule in the contract's words: {name: kept}."""
    words = spec.split()
    names, chain, c = [], [], -1
    for i, w in enumerate(words):
        names.append("%04d-%s" % (i + 1, "full" if w[0] == "F" else "incr"))
        if w[0] == "F" or c < 0:
            c += 1
        chain.append(c)
    nchains = c + 1
    kept = {x for x in range(nchains) if x >= nchains - keep_chains}
    for i, w in enumerate(words):
        # A damaged manifest has no date: with an age rule, it is young.
        if keep_days > 0 and (w[0] == "X" or float(w[1:]) < keep_days):
            kept.add(chain[i])
    while True:                 # an incremental's parent: the one before
        more = {chain[i - 1] for i, w in enumerate(words)
                if w[0] == "I" and i > 0 and chain[i] in kept} - kept
        if not more:
            break
        kept |= more
    return {n: chain[i] in kept for i, n in enumerate(names)}


def check(spec, keep_chains, keep_days, out):
    lines = [json.loads(x) for x in out.splitlines()]
    got = {x["name"]: x["kept"] for x in lines[:-1]}
    want = model(spec, keep_chains, keep_days)
    where = "%s --keep-chains %d --keep-days %g" % (spec, keep_chains,
                                                      keep_days)
    assert got == want, "%s: got %s, want %s" % (where, got, want)
    names = sorted(got)
    # Safety, independently of the model: the newest backup is kept; an
    # incremental kept keeps the backup before it (its parent); a chain
    # is kept or removed whole.
    assert got[names[-1]], where
    chains = {}
    for x in lines[:-1]:
        chains.setdefault(x["chain"], set()).add(x["kept"])
    assert all(len(v) == 1 for v in chains.values()), where
    for i, n in enumerate(names):
        if i > 0 and n.endswith("incr") and got[n]:
            assert got[names[i - 1]], where
    s = lines[-1]
    assert s["dry-run"] is True and s["removed"] == \
        sum(not v for v in got.values()), where
    return sum(not v for v in got.values())


def cases():
    for n in range(1, 6):
        for kinds in itertools.product("FI", repeat=n):
            for damaged in (False, True) if n < 5 else (False,):
                opts = [(kc, kd) for kc in (1, 2, 3) for kd in (0, 1.2, 2.7)]
                yield n, kinds, damaged, opts if n < 5 else opts[4:6]


def exhaustive(fleecectl, tmp):
    runs = removed = 0
    for n, kinds, damaged, opts in cases():
        words = ["%s%g" % (k, n - i - 0.5) for i, k in enumerate(kinds)]
        if damaged:
            words[n // 2] = "X" + words[n // 2][1:]
        spec = " ".join(words)
        d = os.path.join(tmp, "ex%d" % runs)
        make(d, spec)
        open(os.path.join(d, ".lock"), "w").close()
        before = sorted(os.listdir(d))
        for kc, kd in opts:
            r = subprocess.run(
                [fleecectl, "prune", "--input", d, "--dry-run", "--json",
                 "--keep-chains", str(kc), "--keep-days", str(kd)],
                capture_output=True, text=True)
            assert r.returncode == 0, (spec, r.stderr)
            removed += check(spec, kc, kd, r.stdout)
            runs += 1
        assert sorted(os.listdir(d)) == before, spec
    print("ok: %d dry runs decided as the model does (%d removals), "
          "nothing removed" % (runs, removed))


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2], sys.argv[3], "--files" in sys.argv[4:])
    elif sys.argv[1] == "exhaustive":
        exhaustive(sys.argv[2], sys.argv[3])
    else:
        sys.exit("usage: prune_dirs.py make DIR SPEC [--files] | "
                 "exhaustive FLEECECTL TMP")
