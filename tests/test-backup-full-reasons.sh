#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test-backup-full-reasons.sh: when fleecectl backup makes a full
# backup, the manifest's full-reason and a line on standard error say
# why; over the file plugin (one disk, 16M):
# - without cbt-dir=: the first "first backup in DIR", every next one
#   full too: "no change tracking (start nbdkit with cbt-dir=)";
# - with cbt-dir=: the first full, then incremental; --full forces a
#   full ("--full"), and the next is incremental since it (and
#   restores equal to its reference);
# - nbdkit restarted with a bigger disk: "the disks changed since
#   0004-incr (...)", and that full backup restores equal to its
#   reference;
# - the tracking directory lost (a new tracking identity): "the filter
#   answered full-backup-required: ...";
# - verify exits 0 on each DIR.

source "$srcdir/functions.sh"
source "$srcdir/fleecectl-functions.sh"
source "$srcdir/backup-functions.sh"
requires nbdkit --version

G=65536
sock="$tmpdir/nbd.sock"
ctl="$tmpdir/ctl.sock"
pid="$tmpdir/nbdkit.pid"
truncate -s 16M "$tmpdir/disk.img"

start ()                                # [cbt-dir=...]
{
  rm -f "$pid" "$sock" "$ctl"
  start_nbdkit "$pid" "$sock" --filter="$FLEECE" \
    file "$tmpdir/disk.img" control="$ctl" "$@"
  for _ in $(seq 300); do [ -S "$ctl" ] && break; sleep 0.05; done
  live=$(live_uris)
}

# point DIR NAME PARENT REASON [ARGS...]: the guest writes, then a
# checked backup (crash-consistent: exit 3); a full one's REASON (an
# extended regex) is on standard error too.
n=0
point ()
{
  local dir="$1" name="$2" parent="$3" reason="$4"
  shift 4
  $WL mutate "$seed.$((++n))" "$tmpdir/log" 6 "$(uri)"
  backup_point "$dir" "$name" "$parent" "$reason" 3 "$@"
  if [ "$reason" != - ]; then
    reason=${reason#^}
    reason=${reason%\$}
    grep -Eq -- "$reason" "$tmpdir/bk.err" ||
      { echo "$0: FAIL: $name: no /$reason/ on stderr:" >&2
        cat "$tmpdir/bk.err" >&2; exit 1; }
    echo "ok: $name: stderr: $(grep -E -m1 -- "$reason" "$tmpdir/bk.err")"
  fi
}

start
point "$tmpdir/plain" 0001-full - "^first backup in "
point "$tmpdir/plain" 0002-full - \
  "^no change tracking \(start nbdkit with cbt-dir=\)$"
expect_exit 0 "0002-full: ok" "$FLEECECTL" verify --input "$tmpdir/plain"
stop_nbdkit "$pid" TERM

start cbt-dir="$tmpdir/cbt"
d="$tmpdir/cbt.bk"
point "$d" 0001-full - "^first backup in "
point "$d" 0002-incr 0001-full -
point "$d" 0003-full - "^--full$" --full
point "$d" 0004-incr 0003-full -
restore_cmp "$d" 0004-incr "$tmpdir/ref.cbt.bk.0004-incr"
stop_nbdkit "$pid" TERM

truncate -s 24M "$tmpdir/disk.img"
start cbt-dir="$tmpdir/cbt"
point "$d" 0005-full - "^the disks changed since 0004-incr \(.+\)$"
restore_cmp "$d" 0005-full "$tmpdir/ref.cbt.bk.0005-full"
stop_nbdkit "$pid" TERM

rm -rf "$tmpdir/cbt"
start cbt-dir="$tmpdir/cbt"
point "$d" 0006-full - "^the filter answered full-backup-required: .+"
expect_exit 0 "0006-full: ok" "$FLEECECTL" verify --input "$d"
