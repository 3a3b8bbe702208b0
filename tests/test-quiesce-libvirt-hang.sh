#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Every libvirt call is bounded: with a "libvirtd" that accepts the
# connection and never answers, freeze and status give up at their
# deadline (freeze-timeout) with a clear reason instead of hanging, and
# the settings that abandoned calls read stay allocated at unload, and
# in nbdkit the plugin stays mapped for them.
source "$srcdir/functions.sh"
source "$srcdir/quiesce-functions.sh"

/usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1] + ".tmp"); s.listen(8)
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
held = []
while True:
    held.append(s.accept()[0])
' "$tmpdir/silent.sock" &
cleanup_pid $!
for i in $(seq 1 200); do [ -S "$tmpdir/silent.sock" ] && break; sleep 0.05; done

drive domain=vm1 "uri=qemu+unix:///system?socket=$tmpdir/silent.sock" \
  state-dir="$tmpdir/state" freeze-timeout=500ms -- freeze thaw status
expect "^freeze -> -1 .*libvirt domain 'vm1': no answer to look up within [0-9]+ ms"
expect '^thaw -> 0 '
expect "^status -> -1 .*no answer to guest-fsfreeze-status within"
# The abandoned calls still run at unload (nobody answers them): the
# settings they read (uri, domain) must stay allocated.
expect_err 'vmdisk: 2 libvirt call\(s\) still running at unload'
expect_err 'not freeing the quiesce settings: 2 call\(s\) still use them'

# The same in nbdkit, which dlcloses the plugin after .cleanup: the
# plugin pins itself in memory for the calls still running (they would
# return into unmapped code), and nbdkit exits cleanly.
truncate -s 1M "$tmpdir/disk.img"
nbdkit -U - -v --filter="$FLEECE" "$VMDISK" file="$tmpdir/disk.img" \
  domain=vm1 "uri=qemu+unix:///system?socket=$tmpdir/silent.sock" \
  state-dir="$tmpdir/state" freeze-timeout=500ms \
  --run '$SNAPDESC "nbd+unix:///snapshot?socket=$unixsocket"' \
  > "$tmpdir/nbdkit.out" 2> "$tmpdir/nbdkit.err" ||
  { cat "$tmpdir/nbdkit.err" >&2; echo "$0: FAIL: nbdkit failed" >&2; exit 1; }
grep -E 'crash-consistent: freeze failed: .*no answer to look up' "$tmpdir/nbdkit.out"
grep 'plugin pinned in memory for the calls still running' "$tmpdir/nbdkit.err" ||
  { tail -n 20 "$tmpdir/nbdkit.err" >&2; echo "$0: FAIL: not pinned" >&2; exit 1; }
