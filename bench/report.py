#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
# nbdkit-fleece benchmark report: reads OUTDIR/results.tsv and
# OUTDIR/meta.txt (written by bench/run.sh) and prints the tables and
# the ratios the targets name.  Figures are the mean over the rounds;
# the per-round table shows every round, and each ratio's "rounds"
# column the range of the same ratio taken round by round.
#
#   report.py [--markdown] OUTDIR
import collections
import sys

GIB = 1 << 30
MIB = 1 << 20

NAMES = collections.OrderedDict([
    ("file", "1 nbdkit file"),
    ("vmdisk", "2 nbdkit vmdisk"),
    ("fleece-nosnap", "3 fleece, no snapshot"),
    ("fleece-16K", "4 fleece, snapshot (16K, default)"),
    ("qemu-fleece-qcow2", "5 QEMU fleecing, qcow2"),
    ("qemu-fleece-raw", "5 QEMU fleecing, raw"),
    ("qemu-plain", "6 QEMU plain"),
    ("fleece-4K", "4 fleece, snapshot (4K)"),
    ("fleece-64K", "4 fleece, snapshot (64K)"),
    ("fleece-256K", "4 fleece, snapshot (256K)"),
])


def load(outdir):
    rounds = collections.defaultdict(dict)   # (sys, key) -> {round: v}
    with open(outdir + "/results.tsv") as f:
        for line in f:
            sys_, rnd, key, val = line.rstrip("\n").split("\t")
            if val != "":
                rounds[(sys_, key)][int(rnd)] = float(val)
    meta = collections.OrderedDict()
    with open(outdir + "/meta.txt") as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition(" ")
            meta[k] = v
    return rounds, meta


class Data:
    def __init__(self, rounds, meta):
        self.rounds, self.meta = rounds, meta
        self.systems = [s for s in NAMES
                        if any(k[0] == s for k in rounds)]
        self.disk_gib = float(meta["image_mib"]) / 1024

    def get(self, sys_, key):
        v = self.rounds.get((sys_, key))
        return sum(v.values()) / len(v) if v else None

    def per_round(self, sys_, key):
        return self.rounds.get((sys_, key), {})


def fmt(v, spec="%.0f"):
    return "-" if v is None else spec % v


def table(md, header, rows):
    out = []
    if md:
        out.append("| " + " | ".join(header) + " |")
        out.append("|" + "|".join(" --- " for _ in header) + "|")
        for r in rows:
            out.append("| " + " | ".join(r) + " |")
    else:
        widths = [max(len(str(x)) for x in col)
                  for col in zip(header, *rows)]
        for r in [header] + rows:
            out.append("  ".join(str(x).ljust(w) for x, w in zip(r, widths)))
    return "\n".join(out)


def main_table(d, md):
    header = ["system", "write IOPS", "early IOPS", "mean us", "p99 us",
              "read MiB/s", "after", "conc read", "conc IOPS",
              "nbdcopy s"]
    rows = []
    for s in d.systems:
        read = d.get(s, "read_read_mibs") or d.get(s, "fresh_read_mibs")
        nc = d.get(s, "nbdcopy_ms")
        rows.append([NAMES[s], fmt(d.get(s, "write_iops")),
                     fmt(d.get(s, "write_iops_early")),
                     fmt(d.get(s, "write_lat_mean_us")),
                     fmt(d.get(s, "write_p99_us")), fmt(read),
                     fmt(d.get(s, "after_read_mibs")),
                     fmt(d.get(s, "conc_read_mibs")),
                     fmt(d.get(s, "conc_iops")),
                     fmt(nc / 1000 if nc else None, "%.2f")])
    return table(md, header, rows)


def round_table(d, md):
    header = ["system", "round", "write IOPS", "early IOPS", "p99 us",
              "read MiB/s",
              "after", "conc read", "conc IOPS"]
    rows = []
    nrounds = int(d.meta.get("rounds", "1"))
    for s in d.systems:
        for r in range(1, nrounds + 1):
            def g(k):
                return d.per_round(s, k).get(r)
            read = g("read_read_mibs") or g("fresh_read_mibs")
            rows.append([NAMES[s], str(r), fmt(g("write_iops")),
                         fmt(g("write_iops_early")),
                         fmt(g("write_p99_us")), fmt(read),
                         fmt(g("after_read_mibs")),
                         fmt(g("conc_read_mibs")), fmt(g("conc_iops"))])
    return table(md, header, rows)


def switch_mem_table(d, md):
    header = ["system", "create idle ms", "create loaded ms",
              "held idle ms", "held loaded ms", "RSS MiB", "HWM MiB",
              "RSS MiB/GiB disk", "HWM growth MiB/GiB copied",
              "store MiB", "copied MiB", "store/copied"]
    rows = []
    for s in d.systems:
        rss = d.get(s, "end_VmRSS_kib")
        hwm = d.get(s, "end_VmHWM_kib")
        rss0 = d.get(s, "start_VmRSS_kib")
        store = d.get(s, "store_alloc_bytes")
        copied = d.get(s, "copied_bytes")
        growth = None
        if hwm is not None and rss0 is not None and copied:
            growth = (hwm - rss0) / 1024 / (copied / GIB)
        rows.append([
            NAMES[s], fmt(d.get(s, "create_idle_ms"), "%.1f"),
            fmt(d.get(s, "create_loaded_ms"), "%.1f"),
            fmt(d.get(s, "held_idle_ms"), "%.3f"),
            fmt(d.get(s, "held_loaded_ms"), "%.3f"),
            fmt(rss / 1024 if rss else None, "%.1f"),
            fmt(hwm / 1024 if hwm else None, "%.1f"),
            fmt(rss / 1024 / d.disk_gib if rss else None, "%.1f"),
            fmt(growth, "%.1f"),
            fmt(store / MIB if store is not None else None),
            fmt(copied / MIB if copied is not None else None),
            fmt(store / copied if store is not None and copied else None,
                "%.3f")])
    return table(md, header, rows)


def ratio(a, b):
    return a / b if a is not None and b else None


def spread(d, a, ka, b, kb):
    """The ratio a.ka / b.kb of each round that measured both."""
    ra, rb = d.per_round(a, ka), d.per_round(b, kb)
    return [ra[n] / rb[n] for n in sorted(ra) if rb.get(n)]


def ratios(d, md):
    q = [s for s in ("qemu-fleece-qcow2", "qemu-fleece-raw")
         if d.get(s, "write_iops")]
    best = max(q, key=lambda s: d.get(s, "write_iops")) if q else None
    f = "fleece-16K"                  # the default block size
    qconc = ratio(d.get(best, "conc_read_mibs"),
                  d.get("qemu-plain", "read_read_mibs"))
    held = [x for x in (d.get(f, "held_idle_ms"), d.get(f, "held_loaded_ms"))
            if x is not None]
    rows = []

    def row(name, v, rr, target, ok):
        shown = fmt(v, "%.3f")
        if v is not None and ok and ok(float(shown)) != ok(v):
            shown = fmt(v, "%.5f")      # 0.96964, not a "0.970" NOT met
        rows.append([name, shown,
                     "%.3f-%.3f" % (min(rr), max(rr)) if rr else "-",
                     target,
                     "-" if v is None or ok is None
                     else ("met" if ok(v) else "NOT met")])

    def add(name, a, ka, b, kb, target, ok=None):
        # a.ka / b.kb: the means' ratio, and its range over the rounds
        row(name, ratio(d.get(a, ka), d.get(b, kb)), spread(d, a, ka, b, kb),
            target, ok)
    add("(a) snapshot IOPS / QEMU fleecing IOPS (%s)" % (best or "-"),
        f, "write_iops", best, "write_iops", ">= 2", lambda r: r >= 2)
    add("(a) same, first seconds only (copy-heavy phase)",
        f, "write_iops_early", best, "write_iops_early", ">= 2",
        lambda r: r >= 2)
    add("(a) snapshot p99 / QEMU fleecing p99",
        f, "write_p99_us", best, "write_p99_us", "< 1", lambda r: r < 1)
    add("(a) filter, no snapshot IOPS / file IOPS",
        "fleece-nosnap", "write_iops", "file", "write_iops", ">= 0.97",
        lambda r: r >= 0.97)
    add("(b) snapshot read fresh / file read",
        f, "fresh_read_mibs", "file", "read_read_mibs", ">= 0.95",
        lambda r: r >= 0.95)
    add("(b) snapshot read after (a) / file read",
        f, "after_read_mibs", "file", "read_read_mibs", ">= 0.9",
        lambda r: r >= 0.9)
    add("(b) snapshot read during (a) / file read",
        f, "conc_read_mibs", "file", "read_read_mibs",
        ">= QEMU's %s" % fmt(qconc, "%.3f"),
        None if qconc is None else lambda r: r >= qconc)
    add("(b) QEMU: snapshot read during (a) / QEMU plain read",
        best, "conc_read_mibs", "qemu-plain", "read_read_mibs", "(reference)")
    row("(c) live writes held, ms (worst of idle, loaded)",
        max(held) if held else None, [], "< 1", lambda r: r < 1)
    return table(md, ["ratio", "value", "rounds", "target", ""], rows)


def blocksize_table(d, md):
    header = ["fleece-block-size", "write IOPS", "early IOPS", "p99 us",
              "fresh MiB/s",
              "after", "conc read", "conc IOPS", "copied MiB", "held ms"]
    rows = []
    for bs in ("4K", "16K", "64K", "256K"):
        s = "fleece-" + bs
        if s not in d.systems:
            continue
        c = d.get(s, "copied_bytes")
        rows.append([bs, fmt(d.get(s, "write_iops")),
                     fmt(d.get(s, "write_iops_early")),
                     fmt(d.get(s, "write_p99_us")),
                     fmt(d.get(s, "fresh_read_mibs")),
                     fmt(d.get(s, "after_read_mibs")),
                     fmt(d.get(s, "conc_read_mibs")),
                     fmt(d.get(s, "conc_iops")),
                     fmt(c / MIB if c is not None else None),
                     fmt(d.get(s, "held_idle_ms"), "%.3f")])
    return table(md, header, rows)


def main(argv):
    md = "--markdown" in argv
    args = [a for a in argv[1:] if a != "--markdown"]
    d = Data(*load(args[0]))
    sections = [
        ("Machine and versions", None),
        ("(a) random 4K writes, (b) 1 MiB sequential reads, nbdcopy "
         "(mean of rounds)", main_table(d, md)),
        ("Every round", round_table(d, md)),
        ("(c) snapshot switch, (d) memory and store",
         switch_mem_table(d, md)),
        ("Ratios against the targets", ratios(d, md)),
        ("Block size (fleece with a snapshot)", blocksize_table(d, md)),
    ]
    for title, body in sections:
        print(("### " if md else "== ") + title)
        print()
        if body is None:
            for k, v in d.meta.items():
                print(("- %s: %s" if md else "%-14s %s") % (k, v))
        else:
            print(body)
        print()


if __name__ == "__main__":
    main(sys.argv)
