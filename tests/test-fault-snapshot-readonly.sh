#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test-fault-snapshot-readonly.sh: the snapshot export can never write
# to the disk.  At the protocol level (libnbd with strict mode off, so
# every request really reaches nbdkit whatever the export advertises),
# every write-like command is sent to the snapshot export: write,
# write with FUA, write-zeroes plain, with FAST_ZERO, with NO_HOLE and
# with both, and with FUA; trim (allowed: it releases blocks of the
# snapshot, not the disk), trim with FUA, cache and flush.  Writes and
# zeroes must fail (EPERM from the filter; EINVAL from nbdkit itself
# for FUA, which the snapshot does not advertise); afterwards the disk file is
# byte-identical to its copy taken before (cmp), the live export
# reads exactly the same, and a write through the live export still
# works (so the comparison could see a change).  Over vmdisk and
# nbdkit's file plugin.

source "$srcdir/functions.sh"
requires nbdkit --version
requires cmp --version
requires /usr/bin/python3 -c 'import nbd'

cat > "$tmpdir/ro.py" <<'EOF2'
import errno, sys
import nbd
from nbdcheck import fail

sock = sys.argv[1]
B = 65536

snap = nbd.NBD()
snap.set_strict_mode(0)            # send everything; let the server judge
snap.connect_uri("nbd+unix:///snapshot?socket=" + sock)
size = snap.get_size()
F = nbd.CMD_FLAG_FUA
FZ = nbd.CMD_FLAG_FAST_ZERO
NH = nbd.CMD_FLAG_NO_HOLE

refused = [
    ("write", lambda: snap.pwrite(b"W" * B, 0)),
    ("write FUA", lambda: snap.pwrite(b"W" * 100, B + 3, F)),
    ("write at the end", lambda: snap.pwrite(b"W", size - 1)),
]
for flags, name in ((0, ""), (FZ, " FAST_ZERO"), (NH, " NO_HOLE"),
                    (FZ | NH, " FAST_ZERO|NO_HOLE"), (F, " FUA"),
                    (F | FZ | NH, " FUA|FAST_ZERO|NO_HOLE")):
    refused.append(("zero" + name,
                    lambda flags=flags: snap.zero(2 * B, 2 * B, flags)))
for name, fn in refused:
    try:
        fn()
    except nbd.Error as e:
        if e.errnum not in (errno.EPERM, errno.EROFS, errno.EINVAL,
                            errno.ENOTSUP):
            fail("%s: unexpected error %s" % (name, e))
        print("ok: snapshot %s refused: %s" % (name, errno.errorcode[e.errnum]))
        continue
    fail("snapshot %s succeeded" % name)

# Allowed, and must not touch the disk.
snap.trim(4 * B, 4 * B)
print("ok: snapshot trim (releases snapshot blocks)")
for name, fn in (("trim FUA", lambda: snap.trim(B, 9 * B, F)),
                 ("cache", lambda: snap.cache(2 * B, 0)),
                 ("flush", lambda: snap.flush())):
    try:
        fn()
        print("ok: snapshot %s" % name)
    except nbd.Error as e:
        print("ok: snapshot %s refused: %s" % (name, e))
snap.shutdown()
EOF2

cat > "$tmpdir/live.py" <<'EOF2'
import sys
import nbd
sock, expected_file = sys.argv[1:3]
live = nbd.NBD()
live.connect_uri("nbd+unix:///?socket=" + sock)
with open(expected_file, "rb") as f:
    expected = f.read()
if live.pread(len(expected), 0) != expected:
    print("FAIL: live export differs from the disk as it was", file=sys.stderr)
    sys.exit(1)
print("ok: live export reads the unchanged disk")
live.pwrite(b"L" * 10, 0)           # the comparison can see a change
live.shutdown()
EOF2

size=$((1024 * 1024 + 4096))
for plugin in vmdisk file; do
  echo "== $plugin"
  disk="$tmpdir/disk.img"
  /usr/bin/python3 -c '
import sys
n = int(sys.argv[2])
open(sys.argv[1], "wb").write(bytes((i * 7 + i // 4096) % 256 for i in range(n)))
' "$disk" $size
  cp "$disk" "$tmpdir/before.img"
  case $plugin in
    vmdisk) args=("$VMDISK" file="$disk") ;;
    file) args=(file "$disk") ;;
  esac
  nbdkit -U - --filter="$FLEECE" "${args[@]}" \
    --run "/usr/bin/python3 '$tmpdir/ro.py' \"\$unixsocket\" &&
           /usr/bin/python3 '$tmpdir/live.py' \"\$unixsocket\" '$tmpdir/before.img'"
  # The live write above changed byte 0..9 only: all else identical.
  if ! cmp -s <(tail -c +11 "$disk") <(tail -c +11 "$tmpdir/before.img"); then
    echo "$0: FAIL: $plugin: the disk changed beyond the live write" >&2
    cmp "$disk" "$tmpdir/before.img" | head >&2
    exit 1
  fi
  if [ "$(head -c 10 "$disk")" != LLLLLLLLLL ]; then
    echo "$0: FAIL: $plugin: the live write did not reach the disk" >&2
    exit 1
  fi
  echo "ok: $plugin: disk byte-identical after every snapshot write-like command"
done
