#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""nbdkit-fleece: does the way a file was written change how fast its
page-cached data reads back?

    bench/pageorder.py [DIR] [MIB]     (default /var/tmp, 1024)

Writes three MIB MiB files in DIR: 16K blocks in random order (as a
store fills, one copied block at a time), 16K blocks in order, and
1 MiB blocks in order.  For each it prints how its page cache lies in
memory (folios and their mean size in pages; the share of pages whose
next page in the file is the next page in memory: from
/proc/self/pagemap and /proc/kpageflags, root only), then reads each
back three times with 1 MiB preads, all from the page cache, and
prints GB/s.  The files are unlinked as they are made.  A
measurement, not a test.
"""
import ctypes
import mmap
import os
import random
import struct
import sys
import time

BLOCK, CHUNK, PAGE = 16 << 10, 1 << 20, 4096
KPF_COMPOUND_TAIL = 1 << 16


def write(path, offsets, buf):
    fd = os.open(path, os.O_CREAT | os.O_RDWR | os.O_TRUNC, 0o600)
    os.unlink(path)
    for off in offsets:
        os.pwrite(fd, buf, off)
    return fd


def layout(fd, size):
    """(folios, share of next pages adjacent) of fd's cached pages."""
    n = size // PAGE
    m = mmap.mmap(fd, size)
    buf = ctypes.c_char.from_buffer(m)
    addr = ctypes.addressof(buf)
    for i in range(n):
        m[i * PAGE]                     # map each page (already cached)
    with open("/proc/self/pagemap", "rb") as pm, \
         open("/proc/kpageflags", "rb") as kf:
        pm.seek(addr // PAGE * 8)
        pfns = [e & ((1 << 55) - 1)
                for e in struct.unpack("%dQ" % n, pm.read(8 * n))]
        folios = 0
        for p in pfns:
            kf.seek(p * 8)
            if not struct.unpack("Q", kf.read(8))[0] & KPF_COMPOUND_TAIL:
                folios += 1
    adjacent = sum(1 for a, b in zip(pfns, pfns[1:]) if b == a + 1)
    del buf
    m.close()
    return folios, adjacent / (n - 1)


def read_gbs(fd, size):
    t, off = time.monotonic(), 0
    while off < size:
        off += len(os.pread(fd, CHUNK, off))
    return size / (time.monotonic() - t) / 1e9


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else "/var/tmp"
    size = (int(sys.argv[2]) if len(sys.argv) > 2 else 1024) << 20
    blocks = list(range(0, size, BLOCK))
    shuffled = random.sample(blocks, len(blocks))
    small, big = os.urandom(BLOCK), os.urandom(CHUNK)
    files = [("16K, random order", write(f"{d}/po-a", shuffled, small)),
             ("16K, in order", write(f"{d}/po-b", blocks, small)),
             ("1M, in order", write(f"{d}/po-c", range(0, size, CHUNK), big))]
    for name, fd in files:
        try:
            folios, adj = layout(fd, size)
            print(f"{name}: {folios} folios of {size // PAGE / folios:.1f} "
                  f"pages on average, {100 * adj:.1f}% of next pages "
                  f"adjacent in memory")
        except PermissionError:
            print(f"{name}: layout needs root (/proc/kpageflags)")
    for _ in range(3):
        print("  ".join(f"{name}: {read_gbs(fd, size):.2f} GB/s"
                        for name, fd in files))


if __name__ == "__main__":
    main()
