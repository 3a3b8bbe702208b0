#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# vmdisk: every bad input makes nbdkit exit non-zero with exactly one
# line that names the parameter and the fix.
source "$srcdir/functions.sh"

# bad REGEX ARGS...: nbdkit vmdisk ARGS must fail with one line matching.
bad ()
{
  local re="$1" out lines
  shift
  expect_fail_msg "$re" nbdkit -U - "$VMDISK" "$@" --run true
  out=$(nbdkit -U - "$VMDISK" "$@" --run true 2>&1 || true)
  lines=$(wc -l <<<"$out")
  if [ "$lines" != 1 ]; then
    echo "$0: FAIL: expected one line from '$*', got $lines:" >&2
    echo "$out" >&2
    exit 1
  fi
}

img="$tmpdir/disk.img"
truncate -s 1M "$img"
: > "$tmpdir/empty.img"
truncate -s 1000 "$tmpdir/odd.img"

bad 'file= is required: .*nbdkit vmdisk file=' readonly=true
bad "file=$tmpdir/nope.img: no such file: give the path of an existing" \
    file="$tmpdir/nope.img"
bad "file=$tmpdir is a directory: give a raw disk image file or a block device" \
    file="$tmpdir"
bad 'file=/dev/null is neither a regular file nor a block device' file=/dev/null
bad "file=$tmpdir/empty.img has size 0, which cannot be a disk: .*truncate -s" \
    file="$tmpdir/empty.img"
bad "unknown parameter 'colour': vmdisk takes file, disk, readonly, cache" \
    file="$img" colour=blue
bad 'cache=sometimes: expected writeback \(the default\) or none' \
    file="$img" cache=sometimes
bad 'readonly=maybe: expected true or false' file="$img" readonly=maybe
bad 'file= given twice: .*give file= once' file="$img" file="$img"
bad 'file= is empty: give the path' file=
bad "size 1000 is not a multiple of [0-9]+, the direct I/O alignment that cache=none needs: use cache=writeback" \
    file="$tmpdir/odd.img" cache=none

# No permission.  As root, run nbdkit as nobody on a root-owned 0600
# file in a directory nobody can enter (with a copy of the plugin it
# can load); otherwise a mode 000 file is enough.
pub="$tmpdir/pub"
mkdir "$pub"
cp "$img" "$pub/secret.img"
chmod 0600 "$pub/secret.img"
if [ "$(id -u)" = 0 ]; then
  requires runuser --help
  chmod 0711 "$tmpdir"
  chmod 0755 "$pub"
  cp "$VMDISK" "$pub/vmdisk.so"
  chmod 0644 "$pub/vmdisk.so"
  VMDISK="$pub/vmdisk.so"
  as_user=(runuser -u nobody --)
else
  chmod 000 "$pub/secret.img"
  as_user=()
fi
expect_fail_msg "file=$pub/secret.img: permission denied opening it for reading and writing: run nbdkit as a user that may write it, or add readonly=true" \
  "${as_user[@]}" nbdkit -U - "$VMDISK" file="$pub/secret.img" --run true
expect_fail_msg "file=$pub/secret.img: permission denied opening it for reading: run nbdkit as a user that may read it" \
  "${as_user[@]}" nbdkit -U - "$VMDISK" file="$pub/secret.img" readonly=true --run true
