#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test-fleece-cross-disk.sh: one snapshot of a two-disk VM is one
# instant, by content (test-fleece-cross-disk.c: a writer keeps
# counter(a) - counter(b) at 0 or 1 while snapshots are taken through
# snapshot/a then snapshot/b, the reverse, and the control socket),
# over vmdisk disk=a:... disk=b:..., with 4K and with 64K fleece
# blocks.  FLEECE_CROSS_ROUNDS=N takes N snapshots of each kind.
# Sensitivity was checked on copies of the filter where each disk's
# snapshot starts at that disk's first snapshot connection (each kind
# of snapshot fails at its first one, by the counters' range and, with
# that check removed, by a - b), and where each disk's description
# shows its own generation.

source "$srcdir/functions.sh"
requires nbdkit --version
prog="$abs_builddir/test-fleece-cross-disk"
[ -x "$prog" ] || { echo "$0: FAIL: $prog not built" >&2; exit 1; }

truncate -s 1M "$tmpdir/a.img" "$tmpdir/b.img"
for bs in 4096 65536; do
  echo "== vmdisk, two disks, fleece-block-size=$bs"
  ctl="$tmpdir/ctl-$bs.sock"
  nbdkit -U - --filter="$FLEECE" "$VMDISK" \
    disk=a:"$tmpdir/a.img" disk=b:"$tmpdir/b.img" \
    fleece-block-size=$bs control="$ctl" \
    --run "'$prog' \"\$unixsocket\" '$ctl'"
done
