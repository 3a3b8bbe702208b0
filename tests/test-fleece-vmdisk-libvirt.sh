#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The quiesce provider end to end, through a real libvirt connection:
# nbdkit --filter=fleece vmdisk ... domain=test uri=test:///default.
# libvirt's test driver implements FSFreeze/FSThaw (mountpoints / and
# /boot), so the snapshot is application-consistent with 2 (or, with
# mountpoint=/, 1) filesystems; a missing domain gives a
# crash-consistent snapshot under quiesce=auto, none under require.
# The real guest agent is exercised by the end-to-end tests.
source "$srcdir/functions.sh"
requires nbdkit --version
requires nbdinfo --version

disk="$tmpdir/disk.img"
truncate -s 16M "$disk"

# desc ARGS...: the snapshot's export description.
desc ()
{
  nbdkit -U - --filter="$FLEECE" "$VMDISK" file="$disk" uri=test:///default \
         "$@" \
         --run '$SNAPDESC "nbd+unix:///snapshot?socket=$unixsocket"' \
         2>"$tmpdir/stderr"
}

check ()
{
  local got="$1" re="$2"
  if ! grep -Eq -- "$re" <<<"$got"; then
    echo "$0: FAIL: description '$got' does not match /$re/" >&2
    cat "$tmpdir/stderr" >&2
    exit 1
  fi
  echo "ok: $got"
}

check "$(desc domain=test)" \
  'application-consistent: 2 filesystems frozen for [0-9.]+ ms$'
check "$(desc domain=test mountpoint=/)" \
  'application-consistent: 1 filesystem frozen for [0-9.]+ ms$'
check "$(desc domain=test quiesce=off)" 'crash-consistent: quiesce=off$'
check "$(desc domain=nosuch)" "crash-consistent: freeze failed: .*nosuch"
# ... and says so at warning level, not only in the debug log.
grep -Eq "error: fleece: warning: snapshot generation 1 is crash-consistent: freeze failed: .*nosuch" \
  "$tmpdir/stderr" ||
  { cat "$tmpdir/stderr" >&2; echo "$0: FAIL: no warning line" >&2; exit 1; }
echo "ok: $(grep -o 'fleece: warning: .*' "$tmpdir/stderr")"

# quiesce=require with a domain that does not exist: no snapshot, and
# the reason names the domain.
if nbdkit -U - --filter="$FLEECE" "$VMDISK" file="$disk" uri=test:///default \
       domain=nosuch quiesce=require \
       --run '$SNAPDESC "nbd+unix:///snapshot?socket=$unixsocket"' \
       >/dev/null 2>"$tmpdir/stderr"; then
  echo "$0: FAIL: quiesce=require took a snapshot of a missing domain" >&2
  exit 1
fi
grep -E "snapshot not taken: quiesce=require.*nosuch" "$tmpdir/stderr"
