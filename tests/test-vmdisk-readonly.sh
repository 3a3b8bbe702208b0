#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# vmdisk: readonly=true serves a file it may only read, advertises a
# read-only export, refuses writes, zeroes and trims, and leaves the
# file untouched.
source "$srcdir/functions.sh"
requires nbdsh --version
requires nbdinfo --version

img="$tmpdir/disk.img"
nbdkit -U - random size=1M seed=3 --run 'nbdcopy "$uri" '"$img"
cp "$img" "$tmpdir/orig.img"
chmod 0444 "$img"

nbdkit -U - "$VMDISK" file="$img" readonly=true --run '
  nbdinfo "$uri" | grep -x "	is_read_only: true"
  nbdsh -u "$uri" -c "
import os
assert h.is_read_only()
assert h.pread(4096, 8192) == open(\"'"$img"'\", \"rb\").read()[8192:12288]
# Ask the server, not libnbd, to judge: turn off client-side checks.
h.set_strict_mode(0)
for name, op in [(\"pwrite\", lambda: h.pwrite(b\"x\" * 512, 0)),
                 (\"zero\", lambda: h.zero(512, 0)),
                 (\"trim\", lambda: h.trim(512, 0))]:
    try:
        op()
        raise AssertionError(name + \" succeeded on a read-only export\")
    except nbd.Error as e:
        assert e.errno in (\"EPERM\", \"EROFS\"), (name, e)
        print(\"ok: \" + name + \" refused with \" + e.errno)
"'
cmp "$tmpdir/orig.img" "$img"
echo "ok: the file is unchanged"
