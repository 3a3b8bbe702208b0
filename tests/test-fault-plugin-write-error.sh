#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test-fault-plugin-write-error.sh: the plugin fails live writes
# (nbdkit's error filter below fleece, error-pwrite=EIO, switched on
# by a trigger file).  While a snapshot is active, a live write that
# needs a copy-before-write first preserves the old block, then fails
# at the plugin: the client sees EIO, the snapshot stays exact (the
# old data), the live image equals the model of the acknowledged
# writes only; once the errors stop, the same write succeeds and the
# snapshot is still exact.  Zeroes and trims failing below fleece
# (error-zero, error-trim) behave the same.

source "$srcdir/functions.sh"
requires nbdkit --version
requires /usr/bin/python3 -c 'import nbd'

cat > "$tmpdir/werr.py" <<'EOF2'
import errno, os, sys
import nbd
from nbdcheck import fail

sock, trigger = sys.argv[1:3]
B = 65536

live = nbd.NBD()
live.connect_uri("nbd+unix:///?socket=" + sock)
size = live.get_size()
orig = bytes((i * 13) % 251 for i in range(size))
live.pwrite(orig, 0)
model = bytearray(orig)
snap = nbd.NBD()
snap.connect_uri("nbd+unix:///snapshot?socket=" + sock)

def refused(what, fn, off, n):
    open(trigger, "w").close()
    try:
        fn()
        fail("%s succeeded although the plugin fails" % what)
    except nbd.Error as e:
        if e.errnum != errno.EIO:
            fail("%s: %s, expected EIO" % (what, e))
    finally:
        os.unlink(trigger)
    print("ok: %s -> EIO" % what)
    if snap.pread(size, 0) != orig:
        fail("snapshot not exact after the failed %s" % what)
    if live.pread(size, 0) != model:
        fail("live image differs from the acknowledged writes after %s" % what)
    print("ok: snapshot exact, live image = acknowledged writes")

refused("live write", lambda: live.pwrite(b"W" * 3000, 3 * B + 5), 3 * B + 5, 3000)
refused("live zero", lambda: live.zero(2 * B, 6 * B), 6 * B, 2 * B)
refused("live trim", lambda: live.trim(2 * B, 9 * B), 9 * B, 2 * B)
# The errors have stopped: the same requests now work.
live.pwrite(b"W" * 3000, 3 * B + 5)
model[3 * B + 5:3 * B + 3005] = b"W" * 3000
live.zero(2 * B, 6 * B)
model[6 * B:8 * B] = bytes(2 * B)
if live.pread(size, 0) != model:
    fail("live image differs from the model after the retries")
if snap.pread(size, 0) != orig:
    fail("snapshot not exact after the retries")
print("ok: retried writes landed; snapshot still exact")
snap.shutdown()
live.shutdown()
EOF2

rm -f "$tmpdir/trigger"
nbdkit -U - --filter="$FLEECE" --filter=error memory 1M \
  error-pwrite=EIO error-zero=EIO error-trim=EIO \
  error-pwrite-rate=100% error-zero-rate=100% error-trim-rate=100% \
  error-file="$tmpdir/trigger" \
  --run "/usr/bin/python3 '$tmpdir/werr.py' \"\$unixsocket\" '$tmpdir/trigger'"
