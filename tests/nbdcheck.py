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
