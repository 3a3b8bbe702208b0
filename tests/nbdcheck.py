# SPDX-License-Identifier: BSD-3-Clause
# nbdkit-fleece: small checks shared by the Python parts of the tests
# (functions.sh puts this directory on PYTHONPATH).
import errno
import sys
import time

import nbd


def fail(msg):
    """Fail the test with msg."""
    print("FAIL:", msg, file=sys.stderr)
    sys.exit(1)


def ok(msg):
    """Report a check that passed."""
    print("ok:", msg)


def expect_err(what, err, fn, *args):
    """fn(*args) must fail with errno err (an errno constant)."""
    try:
        fn(*args)
    except nbd.Error as e:
        if e.errnum != err:
            fail("%s: %s, expected %s" % (what, e, errno.errorcode[err]))
        ok("%s -> %s" % (what, errno.errorcode[err]))
        return
    fail("%s succeeded, expected %s" % (what, errno.errorcode[err]))


def next_generation(open_snap, gen):
    """Reopen the snapshot until it is a generation other than gen (the
    old one ends asynchronously after its last connection closed):
    open_snap() returns a tuple (handle, generation, ...), which is
    returned as it is.  Bounded (10 s)."""
    for _ in range(1000):
        r = open_snap()
        if r[1] != gen:
            return r
        r[0].shutdown()
        time.sleep(0.01)
    fail("generation %s never ended after its last connection closed" % gen)


# What a snapshot connection shows before it has joined a snapshot
# (nbdkit-fleece-filter(1): the first data request takes the snapshot).
NO_SNAPSHOT_YET = "fleece snapshot export: no snapshot is active yet"


def open_snapshot(uri, take=True):
    """Connect to the snapshot export.  With take, make sure the
    connection has joined a snapshot (its first data request, a 1-byte
    read, takes one if none is active) and return (handle, description),
    the description being the snapshot's: a connection that took the
    snapshot itself shows NO_SNAPSHOT_YET, so it is then read from a
    second connection, which joins at once.  Without take, return
    (handle, description) as connected."""
    h = nbd.NBD()
    h.set_full_info(True)
    h.connect_uri(uri)
    d = h.get_export_description()
    if take and d.startswith(NO_SNAPSHOT_YET):
        h.pread(1, 0)
        h2 = nbd.NBD()
        h2.set_full_info(True)
        h2.connect_uri(uri)
        d = h2.get_export_description()
        h2.shutdown()
    return h, d
