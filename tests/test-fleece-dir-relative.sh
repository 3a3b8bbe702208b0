#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test-fleece-dir-relative.sh: a relative fleece-dir= is made absolute
# when it is parsed, as the other path parameters are.  nbdkit changes
# directory to / when it forks into the background, so a relative path
# kept as given would name another directory for every store file the
# filter opens later (a replacement store after an I/O error).  nbdkit
# is started in the background from a directory holding "rel/", with
# fleece-dir=rel and a store of one block; a second copy fills it, and
# the cause (status's broken-cause: nbdkit in the background logs to
# syslog) must name the absolute store directory.

source "$srcdir/functions.sh"
requires nbdkit --version
requires /usr/bin/python3 -c 'import nbd'

mkdir "$tmpdir/rel"
sock="$tmpdir/sock"
(cd "$tmpdir" &&
  nbdkit -U "$sock" -P "$tmpdir/pid" --filter="$FLEECE" \
    memory 1M fleece-dir=rel fleece-block-size=4K fleece-max-size=4K \
    control="$tmpdir/ctl")
cleanup_pid "$(pid_of "$tmpdir/pid")"

/usr/bin/python3 - "$sock" "$tmpdir" <<'EOF'
import sys, nbd
from nbdcheck import fail, ok
from control_client import wait_for, expect_ok
sock, tmpdir = sys.argv[1:3]
control = wait_for(tmpdir + "/ctl")
live = nbd.NBD(); live.connect_unix(sock)
live.pwrite(b"d" * 8192, 0)             # data: holes need no copy
snap = nbd.NBD(); snap.set_export_name("snapshot"); snap.connect_unix(sock)
snap.pread(1, 0)                        # the first read takes it
live.pwrite(b"x", 0)                    # fills the store
live.pwrite(b"x", 4096)                 # does not fit: breaks it
cause = expect_ok(control.call("status"), "status")["broken-cause"] or ""
if "(store in %s/rel)" % tmpdir not in cause:
    fail("the store-full cause does not name %s/rel: %r" % (tmpdir, cause))
ok("fleece-dir=rel is %s/rel: %s" % (tmpdir, cause))
EOF
