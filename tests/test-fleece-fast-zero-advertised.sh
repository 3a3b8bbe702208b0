#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test-fleece-fast-zero-advertised.sh: what our exports advertise for
# fast zero (NBD_FLAG_SEND_FAST_ZERO), over vmdisk and over nbdkit's
# file plugin, and that a client honouring it works.
#
# nbdkit 1.32 aborts (backend_zero: Assertion `c->can_fast_zero == 1')
# when a client sends the fast-zero flag to an export that did not
# advertise it (docs/security.md).  So the advertisement is the table
# below, written down there too:
#
#   plugin   live export            snapshot export
#   vmdisk   yes (= vmdisk alone)   yes (every zero: EPERM)
#   file     no  (= file alone)     yes (every zero: EPERM)
#
# The live export advertises what the plugin alone does (the filter is
# transparent), the snapshot export always advertises it (so no client
# can reach the assertion through it), and neither changes with a
# snapshot active or across connections.  A client that honours the
# advertisement (libnbd in its default strict mode): where advertised,
# a live fast zero succeeds with no snapshot and fails with ENOTSUP
# over a block that a snapshot still needs to copy (the data stays);
# where not, libnbd refuses to send it and an ordinary zero works; a
# fast zero on the snapshot fails with EPERM.  nbdkit is alive after
# every case.

source "$srcdir/functions.sh"
requires nbdkit --version
requires nbdinfo --version
requires /usr/bin/python3 -c 'import nbd'

cat > "$tmpdir/adv.py" <<'EOF'
import errno, sys
import nbd
from nbdcheck import fail

sock, plugin, expect_live = sys.argv[1], sys.argv[2], sys.argv[3] == "yes"
B = 65536
FAST = nbd.CMD_FLAG_FAST_ZERO

def connect(export):
    h = nbd.NBD()
    h.connect_uri("nbd+unix:///%s?socket=%s" % (export, sock))
    return h

def check_adv(h, export, expect, when):
    if h.can_fast_zero() != expect:
        fail("%s export of fleece over %s %s: can_fast_zero %s, expected %s"
             % (export or '""', plugin, when, h.can_fast_zero(), expect))

live = connect("")
check_adv(live, "", expect_live, "with no snapshot")
live.pwrite(b"D" * 4 * B, 0)               # blocks 0-3: data
if expect_live:
    live.zero(B, 0, FAST)                  # no snapshot: done
    if live.pread(B, 0) != bytes(B):
        fail("live fast zero did not zero")
else:
    try:
        live.zero(B, 0, FAST)
        fail("libnbd sent a fast zero that %s did not advertise" % plugin)
    except nbd.Error as e:
        if e.errnum != errno.EINVAL:
            fail("unadvertised fast zero: %s, expected libnbd's EINVAL" % e)
    live.zero(B, 0)                        # ordinary zero: fine
print("ok: live export over %s, no snapshot: can_fast_zero %s"
      % (plugin, expect_live))
before = live.pread(4 * B, 0)

snap = connect("snapshot")
check_adv(snap, "snapshot", True, "(its first connection)")
snap.pread(512, 0)                         # the first read takes it
live2 = connect("")
check_adv(live2, "", expect_live, "with a snapshot active")
snap2 = connect("snapshot")
check_adv(snap2, "snapshot", True, "(a second connection)")

if expect_live:
    try:
        live.zero(B, 2 * B, FAST)          # clean data block: needs a copy
        fail("fast zero over a block the snapshot needs succeeded")
    except nbd.Error as e:
        if e.errnum != errno.ENOTSUP:
            fail("fast zero during a snapshot: %s, expected ENOTSUP" % e)
    if live.pread(B, 2 * B) != before[2 * B:3 * B]:
        fail("the refused fast zero changed the live export")
live2.zero(B, 3 * B)                       # ordinary zero: copies first
for h in (snap, snap2):
    try:
        h.zero(B, 0, FAST)
        fail("fast zero on the snapshot export succeeded")
    except nbd.Error as e:
        if e.errnum != errno.EPERM:
            fail("fast zero on the snapshot: %s, expected EPERM" % e)
if snap.pread(4 * B, 0) != before:
    fail("the snapshot is not the disk as it was")
print("ok: fleece over %s with a snapshot: live can_fast_zero %s, "
      "snapshot True, requests honoured" % (plugin, expect_live))
for h in (snap2, snap, live2, live):
    h.shutdown()
EOF

# What a user sees: nbdinfo --json's can_fast_zero for EXPORT.
adv ()                          # EXPORT NBDKIT-ARGS...: prints true/false
{
  local export=$1; shift
  nbdkit -U - "$@" \
    --run "nbdinfo --json \"nbd+unix:///$export?socket=\$unixsocket\"" |
    /usr/bin/python3 -c 'import json, sys
print(str(json.load(sys.stdin)["exports"][0]["can_fast_zero"]).lower())'
}

truncate -s 1M "$tmpdir/disk.img"
status=0
for plugin in vmdisk file; do
  case $plugin in
    vmdisk) args=("$VMDISK" file="$tmpdir/disk.img") live=yes ;;
    file)   args=(file "$tmpdir/disk.img") live=no ;;
  esac
  alone=$(adv "" "${args[@]}")
  flive=$(adv "" --filter="$FLEECE" "${args[@]}")
  fsnap=$(adv snapshot --filter="$FLEECE" "${args[@]}")
  echo "$plugin: alone $alone; under fleece: live $flive, snapshot $fsnap"
  want=$([ "$live" = yes ] && echo true || echo false)
  if [ "$alone" != "$want" ] || [ "$flive" != "$want" ] ||
     [ "$fsnap" != true ]; then
    echo "$0: FAIL: $plugin: expected alone and live $want, snapshot true"
    status=1
  fi
  nbdkit -U - --filter="$FLEECE" "${args[@]}" fleece-block-size=64K \
    --run "/usr/bin/python3 '$tmpdir/adv.py' \"\$unixsocket\" $plugin $live" ||
    status=1
done
exit $status
