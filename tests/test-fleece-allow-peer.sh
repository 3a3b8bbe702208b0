#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test-fleece-allow-peer.sh: snapshot-allow-user= and
# snapshot-allow-group= decide, by the peer credentials of a Unix
# socket client, who may open the snapshot export.
# - No restriction: `nobody` reads the snapshot.
# - allow-user=root: `nobody` is refused (the client fails at connect,
#   nbdkit logs one line naming uid, gid, pid and the export), and the
#   refused open creates no snapshot generation (the log shows none,
#   and root's first snapshot is generation 1); `nobody` still reads
#   the live export; root reads the snapshot, byte-exact.
# - allow-user=nobody: `nobody` allowed, root refused (root is not
#   implicitly allowed).  allow-group=nogroup: primary gid nogroup
#   allowed; nogroup as a supplementary group only is refused.
#   Numeric ids, and lists that accumulate over repeated parameters.
# - A TCP client is refused when a restriction is set (it has no peer
#   credentials), while the live export serves it.
# - Unknown names, empty items and out-of-range ids stop nbdkit at
#   start with one line naming the parameter and the item.
#
# nbdkit 1.32 creates its socket 0755, and connecting needs write
# permission: each captive nbdkit chmods its socket 0777 (inside
# $tmpdir, made 0755 so that `nobody` can reach it), so that the file
# mode lets everyone in and only the allow lists decide.

source "$srcdir/functions.sh"
requires nbdkit --version
requires nbdinfo --version
requires nbdcopy --version
requires setpriv --version
requires /usr/bin/python3 --version
requires getent passwd nobody
requires getent group nogroup

chmod 0755 "$tmpdir"
export tmpdir sock="$tmpdir/nbd.sock" disk="$tmpdir/disk.img"
export snap="nbd+unix:///snapshot?socket=$sock" live="nbd+unix:///?socket=$sock"
/usr/bin/python3 -c '
import sys
sys.stdout.buffer.write(bytes((i * 7 + (i >> 12)) & 255 for i in range(1 << 20)))
' > "$disk"
cp "$disk" "$tmpdir/disk.orig"

# Client helpers, run inside the captive nbdkit's --run (bash -c; its
# /bin/sh does not pass exported functions on, so they go in a file).
# as UID GID [SUPP]: run the rest as that uid and primary gid.
as ()
{
  local uid=$1 gid=$2 supp=$3
  shift 3
  setpriv --reuid="$uid" --regid="$gid" \
    $([ -n "$supp" ] && echo --groups="$supp" || echo --clear-groups) "$@"
}
# reads UID GID [SUPP]: that client reads the snapshot, byte-exact.
reads ()
{
  as "$1" "$2" "${3:-}" nbdcopy "$snap" - | cmp - "$tmpdir/disk.orig" ||
    { echo "FAIL: uid $1 gid $2 could not read the snapshot exactly" >&2
      exit 1; }
  echo "ok: uid $1 gid $2${3:+ groups $3} reads the snapshot"
}
# refused UID GID [SUPP]: that client cannot open the snapshot.
refused ()
{
  if as "$1" "$2" "${3:-}" nbdinfo --size "$snap" > "$tmpdir/client" 2>&1
  then
    echo "FAIL: uid $1 gid $2 opened the snapshot" >&2; exit 1
  fi
  grep -q "server has no export named 'snapshot'" "$tmpdir/client" ||
    { echo "FAIL: unexpected client error:" >&2; cat "$tmpdir/client" >&2
      exit 1; }
  echo "ok: uid $1 gid $2${3:+ groups $3} refused: $(cat "$tmpdir/client")"
}
declare -f as reads refused > "$tmpdir/helpers.sh"

# serve LOG ARGS... -- CMDS: captive nbdkit (-v) over the disk, its
# socket open to all, running CMDS in bash; stderr in LOG.
serve ()
{
  local log=$1 args=()
  shift
  while [ "$1" != -- ]; do args+=("$1"); shift; done
  shift
  export log
  rm -f "$sock"                 # nbdkit leaves a -U PATH socket behind
  nbdkit -v -U "$sock" --filter="$FLEECE" "$VMDISK" file="$disk" \
    "${args[@]}" --run "chmod 0777 \"\$unixsocket\" &&
                        bash -euo pipefail -c '. \"\$tmpdir/helpers.sh\"; $*'" \
    2> "$log" ||
    { echo "$0: FAIL: nbdkit ${args[*]}; log $log:" >&2
      grep -v 'debug: \(recv\|send\)' "$log" | tail -20 >&2; exit 1; }
}

# refusals LOG N: LOG has exactly N error lines, each a refusal of the
# snapshot export naming uid, gid and pid.
refusals ()
{
  local n
  n=$(grep -c 'error:' "$1" || true)
  if [ "$n" != "$2" ] ||
     [ "$(grep -Ec "error: fleece: refused export 'snapshot' to uid [0-9]+ gid [0-9]+ pid [0-9]+: " "$1")" != "$2" ]; then
    echo "$0: FAIL: expected $2 refusal lines and no other error in $1:" >&2
    grep 'error:' "$1" >&2; exit 1
  fi
  echo "ok: $2 refusal(s) logged${3:+: $(grep -m1 'refused' "$1" | sed 's/.*error: //')}"
}

echo "== no restriction"
serve "$tmpdir/log0" -- 'reads 65534 65534'
refusals "$tmpdir/log0" 0

echo "== snapshot-allow-user=root"
serve "$tmpdir/log1" snapshot-allow-user=root -- '
  refused 65534 65534
  if grep "snapshot generation [0-9]* created" "$log"; then
    echo "FAIL: a refused open created a snapshot generation" >&2; exit 1
  fi
  echo "ok: no generation created by the refused open"
  as 65534 65534 "" nbdcopy "$live" - | cmp - "$tmpdir/disk.orig" ||
    { echo "FAIL: uid 65534 could not read the live export" >&2; exit 1; }
  echo "ok: uid 65534 reads the live export"
  $SNAPDESC "$snap" | grep "^fleece snapshot generation 1," ||
    { echo "FAIL: the first allowed open is not generation 1" >&2; exit 1; }
  reads 0 0'
refusals "$tmpdir/log1" 1 show
grep -q "refused export 'snapshot' to uid 65534 gid 65534 pid [1-9]" \
  "$tmpdir/log1" || { echo "$0: FAIL: uid/gid/pid not logged" >&2; exit 1; }

echo "== snapshot-allow-user=nobody: root is not implicit"
serve "$tmpdir/log2" snapshot-allow-user=nobody -- '
  reads 65534 65534
  refused 0 0'
refusals "$tmpdir/log2" 1

echo "== snapshot-allow-group=nogroup: the primary group counts"
serve "$tmpdir/log3" snapshot-allow-group=nogroup -- '
  reads 65534 65534
  refused 65534 100 65534
  refused 0 0'
refusals "$tmpdir/log3" 2

echo "== numeric ids, repeated parameters accumulate"
serve "$tmpdir/log4" snapshot-allow-user=12345 snapshot-allow-user=0,54321 \
      snapshot-allow-group=65534 -- '
  reads 12345 100
  reads 54321 100
  reads 0 0
  reads 23456 65534
  refused 23456 100'
refusals "$tmpdir/log4" 1

echo "== TCP clients have no peer credentials"
port=$(/usr/bin/python3 -c '
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
nbdkit -v -i 127.0.0.1 -p "$port" --filter="$FLEECE" "$VMDISK" \
  file="$disk" snapshot-allow-user=root \
  --run "nbdcopy nbd://127.0.0.1:$port/ - | cmp - '$tmpdir/disk.orig' &&
         ! nbdinfo --size nbd://127.0.0.1:$port/snapshot" \
  2> "$tmpdir/log5" ||
  { echo "$0: FAIL: TCP:" >&2; grep -v 'debug: \(recv\|send\)' \
      "$tmpdir/log5" | tail -20 >&2; exit 1; }
grep -q "error: fleece: refused export 'snapshot' to a client with no peer credentials (not on a Unix socket).*TLS" \
  "$tmpdir/log5" ||
  { echo "$0: FAIL: TCP refusal not logged:" >&2
    grep 'error:' "$tmpdir/log5" >&2; exit 1; }
[ "$(grep -c 'error:' "$tmpdir/log5")" = 1 ] ||
  { echo "$0: FAIL: more than one error line for one TCP refusal:" >&2
    grep 'error:' "$tmpdir/log5" >&2; exit 1; }
echo "ok: TCP: live export served, snapshot refused: $(grep 'refused' "$tmpdir/log5" | sed 's/.*error: //')"

echo "== bad values stop nbdkit at start, on one line"
# bad REGEX KEY=VALUE...
bad ()
{
  local re=$1 out
  shift
  expect_fail_msg "$re" \
    nbdkit -U - --filter="$FLEECE" memory 1M "$@" --run 'echo SERVED'
  out=$(nbdkit -U - --filter="$FLEECE" memory 1M "$@" --run 'echo SERVED' \
          2>&1 || true)
  if [ "$(grep -c 'snapshot-allow' <<<"$out")" != 1 ] ||
     grep -q -e SERVED -e 'unknown parameter' <<<"$out"; then
    echo "$0: FAIL: $* not refused on one line:" >&2; echo "$out" >&2
    exit 1
  fi
}
bad "snapshot-allow-user=root,no-such-user: no such user 'no-such-user'" \
  snapshot-allow-user=root,no-such-user
bad "snapshot-allow-group=no-such-group: no such group 'no-such-group'" \
  snapshot-allow-group=no-such-group
bad "snapshot-allow-user=root,,nobody: empty item" \
  snapshot-allow-user=root,,nobody
bad "snapshot-allow-group=: empty item" snapshot-allow-group=
bad "snapshot-allow-user=4294967295: user id 4294967295 out of range" \
  snapshot-allow-user=4294967295
bad "snapshot-allow-user=.*more than 64 users" \
  snapshot-allow-user="$(seq -s, 1000 1064)"

help=$(nbdkit --filter="$FLEECE" null --help 2>&1)
grep -q 'snapshot-allow-user=' <<<"$help" &&
  grep -q 'snapshot-allow-group=' <<<"$help" ||
  { echo "$0: FAIL: --help does not list snapshot-allow-*" >&2; exit 1; }
echo "ok: --help lists snapshot-allow-user= and snapshot-allow-group="
