#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test-control-status-creating.sh: status never shows a half-built
# snapshot.  quiesce-command's thaw blocks on a FIFO that the test
# holds: while the guest is still "frozen" (the switch is done, the
# thaw and the description are not), status says "creating" with
# every snapshot figure null; once the thaw is released it says
# "active" with the description, frozen-filesystems 2 and a frozen
# time that covers the held thaw.
source "$srcdir/functions.sh"
requires nbdkit --version
requires /usr/bin/python3 -c 'import nbd'

ctl="$tmpdir/ctl.sock"
mkfifo "$tmpdir/thawing" "$tmpdir/release"
cat > "$tmpdir/q" <<EOF
#!/bin/sh
case "\$1" in
  freeze) echo 2 ;;
  thaw) echo thawing > $tmpdir/thawing    # until the test reads it
        cat $tmpdir/release > /dev/null ;; # until the test writes it
esac
exit 0
EOF
chmod +x "$tmpdir/q"

cat > "$tmpdir/t.py" <<'EOF'
import sys, threading
import nbd
from control_client import *

sock, ctl, tmp = sys.argv[1:4]
c = wait_for(ctl)
expect_status(c, "before", state="none", generation=None)

def reader():                   # its first read takes the snapshot
    h = nbd.NBD()
    h.connect_uri("nbd+unix:///snapshot?socket=" + sock)
    h.pread(4096, 0)
    h.shutdown()
t = threading.Thread(target=reader, daemon=True)
t.start()

with open(tmp + "/thawing") as f:   # the thaw has started, and waits
    f.read()
try:
    r = expect_status(c, "while thawing", state="creating",
                      generation=None, description=None,
                      frozen_filesystems=None, frozen_ms=None,
                      consistency=None, taken_at=None)
finally:
    with open(tmp + "/release", "w") as f:  # let the thaw finish
        f.write("go\n")
ok("while the thaw runs: state creating, no half-built figures")
t.join()
r = expect_status(c, "after", state="active", generation=1,
                  frozen_filesystems=2,
                  consistency="application-consistent")
if not r["description"].startswith("fleece snapshot generation 1, taken ") \
   or not r["frozen-ms"] > 0 or not r["thaw-ms"] > 0:
    fail("after the thaw: %r" % r)
ok("after the thaw: %s (frozen %.3f ms)" % (r["description"],
                                             r["frozen-ms"]))
EOF

nbdkit -U - --filter="$FLEECE" memory 1M control="$ctl" snapshot-linger=60s \
  quiesce-command="$tmpdir/q" quiesce-timeout=60s \
  --run "/usr/bin/python3 '$tmpdir/t.py' \"\$unixsocket\" '$ctl' '$tmpdir'"
