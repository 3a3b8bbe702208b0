#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test-control-pin-max-age.sh: a forgotten pin does not last forever.
# - pin-max-age=3s: status shows "pin-max-age-ms": 3000 and, once
#   pinned, "pin-expires-in-ms" counting down; a second begin (adopt)
#   starts the count again; when it runs out the snapshot ends, with
#   one error line naming the generation and pin-max-age, and an NBD
#   client still on it gets EIO.
# - The default is 24h; pin-max-age=0 never ends a pin (both null).
source "$srcdir/functions.sh"
requires nbdkit --version
requires /usr/bin/python3 -c 'import nbd'

ctl="$tmpdir/ctl.sock"
cat > "$tmpdir/t.py" <<'EOF'
import errno, sys, time
import nbd
from control_client import *
from nbdcheck import expect_err, open_snapshot
sock, ctl, mode = sys.argv[1:4]
c = wait_for(ctl)

def status_until(what, pred, seconds=20):
    deadline = time.monotonic() + seconds
    while True:
        r = expect_ok(c.call("status"), what)
        if pred(r):
            return r
        if time.monotonic() > deadline:
            fail("%s: never happened: %r" % (what, r))
        time.sleep(0.02)

if mode == "default":
    expect_status(c, "default", pin_max_age_ms=86400000.0,
                  pin_expires_in_ms=None)
    expect_ok(c.call("snapshot-begin"), "begin")
    r = expect_status(c, "default, pinned", pin_max_age_ms=86400000.0)
    if not 86390000 < r["pin-expires-in-ms"] <= 86400000:
        fail("pin-expires-in-ms %r" % r["pin-expires-in-ms"])
    ok("default pin-max-age 24h: expires in %.0f ms" % r["pin-expires-in-ms"])
    sys.exit(0)
if mode == "never":
    expect_ok(c.call("snapshot-begin"), "begin")
    expect_status(c, "pin-max-age=0", pinned=True, pin_max_age_ms=None,
                  pin_expires_in_ms=None)
    ok("pin-max-age=0: no expiry")
    sys.exit(0)

expect_status(c, "before begin", pin_max_age_ms=3000.0,
              pin_expires_in_ms=None)
expect_ok(c.call("snapshot-begin"), "begin")
r = expect_status(c, "pinned", pinned=True, generation=1)
if not 0 < r["pin-expires-in-ms"] <= 3000:
    fail("pin-expires-in-ms %r" % r["pin-expires-in-ms"])
status_until("a second has passed", lambda r: r["pin-expires-in-ms"] < 2000)
expect_ok(c.call("snapshot-begin"), "begin again (adopt)")
r = expect_status(c, "pinned again", pinned=True, generation=1)
if not 2000 < r["pin-expires-in-ms"] <= 3000:
    fail("a second begin did not restart the count: %r" %
         r["pin-expires-in-ms"])
ok("a second begin restarts the count: %.0f ms left" %
   r["pin-expires-in-ms"])
h, d = open_snapshot("nbd+unix:///snapshot?socket=" + sock)
status_until("the pin runs out", lambda r: r["state"] == "none")
expect_err("read after the pin ran out", errno.EIO, h.pread, 512, 0)
h.shutdown()
ok("the pin ran out: snapshot ended, its client gets EIO")
EOF

run ()
{
  local mode=$1
  shift
  nbdkit -U - --filter="$FLEECE" memory 1M control="$ctl" "$@" \
    --run "/usr/bin/python3 '$tmpdir/t.py' \"\$unixsocket\" '$ctl' '$mode'" \
    2> "$tmpdir/log.$mode" || { cat "$tmpdir/log.$mode" >&2; exit 1; }
}
run expire pin-max-age=3s
grep -q "error: fleece: snapshot generation 1 was pinned by snapshot-begin and not ended within pin-max-age (3.000 s since the last begin): ending it; 1 snapshot connection will get EIO" \
  "$tmpdir/log.expire" ||
  { cat "$tmpdir/log.expire" >&2; echo "$0: FAIL: no error line" >&2; exit 1; }
echo "ok: $(grep -o 'fleece: snapshot generation 1 was pinned.*' "$tmpdir/log.expire")"
run default
run never pin-max-age=0
