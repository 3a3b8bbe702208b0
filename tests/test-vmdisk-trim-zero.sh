#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# vmdisk: trim really deallocates, zero really zeroes (on data, with
# and without permission to deallocate, and as a fast zero), on a file
# system with every fallocate mode (the test directory) and on tmpfs,
# which lacks FALLOC_FL_ZERO_RANGE: there a zero falls back to writing,
# a fast zero fails at once with ENOTSUP, and the plugin tries
# zero-range only once.
source "$srcdir/functions.sh"
requires nbdsh --version

# The checks, run by nbdsh against an export of a 4 MiB file full of
# 0x76 bytes; $fs is "full" (every mode works) or "tmpfs".
export checks='
import os
M = 1024 * 1024
path = os.environ["disk"]
blocks = lambda: os.stat(path).st_blocks
expect = bytearray(b"v" * 4 * M)

def zeroed(off, n):
    expect[off:off + n] = bytes(n)

b0 = blocks()
h.trim(M, M)                                  # punches a hole
zeroed(M, M)
assert blocks() <= b0 - M // 512, (b0, blocks())

h.zero(64 * 1024 + 100, 2 * M + 7, nbd.CMD_FLAG_NO_HOLE)   # unaligned
zeroed(2 * M + 7, 64 * 1024 + 100)

b1 = blocks()
h.zero(M // 2, 3 * M)                         # may deallocate
zeroed(3 * M, M // 2)
assert blocks() <= b1 - (M // 2) // 512, (b1, blocks())

fast = nbd.CMD_FLAG_FAST_ZERO | nbd.CMD_FLAG_NO_HOLE
if os.environ["fs"] == "full":
    h.zero(4096, 3 * M + M // 2 + 1, fast)
    zeroed(3 * M + M // 2 + 1, 4096)
else:
    try:
        h.zero(4096, 3 * M + M // 2 + 1, fast)
        assert False, "fast zero without zero-range should fail"
    except nbd.Error as e:
        assert e.errno == "ENOTSUP", e
    h.zero(100, 5, nbd.CMD_FLAG_NO_HOLE)      # second non-fast zero
    zeroed(5, 100)

assert h.pread(4 * M, 0) == bytes(expect)
h.flush()
assert open(path, "rb").read() == bytes(expect)
print("ok: trim, zero, fast zero on", os.environ["fs"])
'

# run DIR FS: serve a fresh file in DIR, run the checks, keep the log.
run ()
{
  export disk="$1/disk.img" fs="$2"
  head -c 4M /dev/zero | tr '\0' 'v' > "$disk"
  nbdkit -v -D vmdisk.verbose=1 -U - "$VMDISK" file="$disk" \
    --run 'nbdsh -u "$uri" -c "$checks"' 2> "$tmpdir/$fs.log" ||
    { cat "$tmpdir/$fs.log"; exit 1; }
  rm -f "$disk"
}

# A disk file system (not tmpfs) for the "full" run.
full="$tmpdir"
shm=$(mktemp -d /dev/shm/vmdisk-test.XXXXXX)
trap 's=$?; rm -rf "$shm" "$full"; _cleanup "$s"' EXIT
if [ "$(stat -f -c %T "$full")" = tmpfs ]; then
  full=$(mktemp -d /var/tmp/vmdisk-test.XXXXXX)
fi
run "$full" full

# tmpfs: /dev/shm.
[ "$(stat -f -c %T "$shm")" = tmpfs ] || {
  echo "$0: FAIL: /dev/shm is not tmpfs" >&2; exit 1; }
run "$shm" tmpfs
n=$(grep -c "zero range is not supported here" "$tmpdir/tmpfs.log" || true)
[ "$n" = 1 ] || {
  echo "$0: FAIL: zero range tried $n times after EOPNOTSUPP, not once" >&2
  exit 1; }
echo "ok: zero-range tried once on tmpfs, then remembered"
