# SPDX-License-Identifier: BSD-3-Clause
# nbdkit-fleece: the changes query as the tests use it: every page of
# the reply, merged into a list of (offset, length, dirty), checked for
# shape (contiguous, covering, adjacent extents of different state).

from control_client import expect_ok
from nbdcheck import fail


def changes(c, since, size, disk=None, page=None):
    """All extents of the disk since checkpoint `since`."""
    out, off = [], 0
    while True:
        req = dict(since=since)
        if disk is not None:
            req["disk"] = disk
        if off:
            req["offset"] = off
        if page:
            req["length"] = page
        r = expect_ok(c.call("changes", **req), "changes since %s" % since)
        for e in r["extents"]:
            if e["offset"] != off or e["length"] <= 0:
                fail("changes: extent %r does not follow %d" % (e, off))
            if out and out[-1][2] == e["dirty"] and not page and \
               r["next"] is None:
                fail("changes: adjacent equal extents not merged: %r" % r)
            out.append((e["offset"], e["length"], e["dirty"]))
            off += e["length"]
        if r["next"] is not None:
            if r["next"] != off:
                fail("changes: next %r, extents end at %d" % (r["next"], off))
        elif off >= size or page is None:
            break
    if off != size:
        fail("changes: extents cover %d of %d bytes" % (off, size))
    return out


def dirty_granules(extents, gran):
    """The set of granules that lie in a dirty extent."""
    s = set()
    for off, length, dirty in extents:
        if dirty:
            s.update(range(off // gran, (off + length - 1) // gran + 1))
    return s
