# SPDX-License-Identifier: BSD-3-Clause
# nbdkit-fleece: read a changed-block map (cbt-dir=) as the tests see
# it: the header (the newest valid slot) and the granule codes.  The
# format is in nbdkit-fleece-filter(1), "Changed-block tracking".

import struct

SLOT, DATA = 512, 4096


def fnv1a(b):
    h = 0xcbf29ce484222325
    for x in b:
        h = ((h ^ x) * 0x100000001b3) & 0xffffffffffffffff
    return h


def _slot(b):
    if b[:8] != b"FLEECBT\0" or struct.unpack_from("<Q", b, 504)[0] != fnv1a(b[:504]):
        return None
    ver, clean, seq = struct.unpack_from("<IIQ", b, 8)
    size, gran, _, gen, first = struct.unpack_from("<QIIQQ", b, 56)
    s = lambda o, n: b[o:o + n].split(b"\0")[0].decode()
    return dict(version=ver, clean=bool(clean), seq=seq, disk_size=size,
                granularity=gran, gen=gen, first=first, name=s(88, 64),
                identity=s(152, 128), reset_reason=s(280, 192),
                vm_uuid=b[24:40].hex(), map_uuid=b[40:56].hex())


def read(path):
    """(header dict or None, bytes of granule codes)."""
    d = open(path, "rb").read()
    slots = [x for x in (_slot(d[0:SLOT]), _slot(d[SLOT:2 * SLOT])) if x]
    h = max(slots, key=lambda x: x["seq"]) if slots else None
    return h, d[DATA:]


def code(gen):
    return (gen - 1) % 255 + 1
