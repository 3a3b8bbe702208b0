#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test-fleecectl-backup-edge.sh: fleecectl restore interrupted while
# its qemu-img runs.  A qemu-img wrapper first in PATH records its pid
# and sleeps before running the real convert; SIGTERM to fleecectl
# then must end that child too: no qemu-img left running, no PATH.tmp
# left behind (the child would create it after fleecectl removed it).

source "$srcdir/functions.sh"
source "$srcdir/fleecectl-functions.sh"
requires nbdkit --version
requires qemu-img --version
requires qemu-nbd --version
F="$FLEECECTL"
cd "$tmpdir"
truncate -s 1M disk.img
start_nbdkit pid nbd.sock --filter="$FLEECE" file disk.img control=ctl.sock
for _ in $(seq 100); do [ -S ctl.sock ] && break; sleep 0.05; done
"$F" -s ctl.sock backup --uri "nbd+unix:///?socket=$tmpdir/nbd.sock" \
  --output dir > out 2>&1 || [ $? = 3 ] || { cat out; exit 1; }

real="$(command -v qemu-img)"
mkdir bin
cat > bin/qemu-img <<SH
#!/bin/sh
if [ "\$1" = convert ]; then echo \$\$ > "$tmpdir/child.pid"; sleep 2; fi
exec "$real" "\$@"
SH
chmod +x bin/qemu-img
PATH="$tmpdir/bin:$PATH" "$F" restore --input dir --output r.raw &
fc=$!
for _ in $(seq 100); do [ -s child.pid ] && break; sleep 0.05; done
[ -s child.pid ] || { echo "$0: FAIL: convert never started" >&2; exit 1; }
kill -TERM $fc
wait $fc && { echo "$0: FAIL: restore exited 0 after SIGTERM" >&2; exit 1; }
sleep 3                         # the wrapper's sleep is over by now
if kill -0 "$(cat child.pid)" 2>/dev/null; then
  echo "$0: FAIL: qemu-img convert still runs after restore was killed" >&2
  kill "$(cat child.pid)"; exit 1
fi
[ ! -e r.raw.tmp ] && [ ! -e r.raw ] ||
  { echo "$0: FAIL: restore left $(ls r.raw*)" >&2; exit 1; }
echo "ok: SIGTERM during restore ends its qemu-img, leaves no file"
