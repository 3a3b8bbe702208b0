#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test-backup-faults.sh: a backup that fails leaves DIR as it was, and
# the next one is correct.  Over the file plugin (32M, cbt-dir=); for
# (a), (b), (d) the delay filter under fleece slows reads (100 ms):
# (a) nbdkit killed mid-backup (the next backup after a restart);
# (b) fleecectl backup interrupted (SIGINT) mid-backup: it also ends
#     the snapshot it created;
# (d) fleecectl backup killed (SIGKILL): its partial dir stays (its
#     qemu-nbd exits with its last client), verify reports it and exits
#     0, the next backup (unpinned) removes it and ends the snapshot the
#     killed run left pinned, saying so (never backs up that instant);
# (c) DIR on a small tmpfs, full during an incremental (the next
#     backup after the tmpfs is enlarged).
# (a)-(c): exit status 7 naming the cause (and for (a), (c) the disk and
# offset), no new backup, no partial dir, no qemu-nbd left; verify
# exits 0 and every earlier point restores equal to its reference.
# Each next backup is an incremental since the last good one that
# restores equal to its reference.  During (b), (c), (d) and every
# good backup a guest writer runs and is never refused.

source "$srcdir/functions.sh"
source "$srcdir/fleecectl-functions.sh"
source "$srcdir/backup-functions.sh"
requires nbdkit --version
requires nbdkit --filter=delay null --version

G=65536
sock="$tmpdir/nbd.sock"
ctl="$tmpdir/ctl.sock"
pid="$tmpdir/nbdkit.pid"
dir="$tmpdir/bk"
small="$tmpdir/small"
mkdir "$small"
mount -t tmpfs -o size=64M tmpfs "$small" ||
  { echo "$0: FAIL: (c) mounts a tmpfs: run the tests as root" >&2; exit 1; }
trap 'st=$?; umount -l "$small" || true; _cleanup "$st"' EXIT
truncate -s 32M "$tmpdir/disk.img"

start ()                                # [DELAY-FILTER-ARGS...]
{
  local delay=()
  [ $# = 0 ] || delay=(--filter=delay)
  rm -f "$pid" "$sock" "$ctl"
  start_nbdkit "$pid" "$sock" --filter="$FLEECE" "${delay[@]}" \
    file "$tmpdir/disk.img" control="$ctl" \
    cbt-dir="$tmpdir/cbt" cbt-granularity=64K "$@"
  for _ in $(seq 300); do [ -S "$ctl" ] && break; sleep 0.05; done
  live=$(live_uris)
}

# mutate N: the guest's random writes, zeroes and trims.
_m=0
mutate () { _m=$((_m + 1)); $WL mutate "$seed.m$_m" "$tmpdir/log" "$1" "$(uri)"; }

# slow_backup DIR: fleecectl backup into DIR in the background
# ($bk_pid; SIGINT not ignored), one connection; returns when it is
# copying: its partial dir exists and the snapshot has been read.
slow_backup ()
{
  env --default-signal=INT "$FLEECECTL" -s "$ctl" backup --uri "$(uri)" \
    --output "$1" --connections 1 > "$tmpdir/bk.out" 2> "$tmpdir/bk.err" &
  bk_pid=$!
  cleanup_pid "$bk_pid"
  for _ in $(seq 400); do
    if compgen -G "$1/.*.partial" > /dev/null &&
       "$FLEECECTL" -s "$ctl" status --json 2>/dev/null |
         jq -e '."bytes-read" > 0' > /dev/null; then
      return 0
    fi
    kill -0 "$bk_pid" || break
    sleep 0.05
  done
  echo "$0: FAIL: the backup did not start copying:" >&2
  cat "$tmpdir/bk.out" "$tmpdir/bk.err" >&2
  exit 1
}

# failed WHAT DIR REGEX: the background backup exits 7 with a message
# matching REGEX, and leaves DIR's backups as they were, no partial
# dir, no qemu-nbd.
failed ()
{
  local st=0
  wait "$bk_pid" || st=$?
  forget_pid "$bk_pid"
  if [ "$st" != 7 ] || ! grep -Eq -- "$3" "$tmpdir/bk.err"; then
    echo "$0: FAIL: $1: backup exited $st (want 7, /$3/):" >&2
    cat "$tmpdir/bk.out" "$tmpdir/bk.err" >&2
    exit 1
  fi
  echo "ok: $1: exit 7: $(grep -E -m1 -- "$3" "$tmpdir/bk.err")"
  no_leftovers "$1" "$2"
}

# no_leftovers WHAT DIR: the backups in DIR are $good, nothing else.
no_leftovers ()
{
  local got
  got=$(cd "$2" && ls -A | grep -v '^\.lock$' | tr '\n' ' ')
  if [ "$got" != "$good " ]; then
    echo "$0: FAIL: $1: $2 holds '$got', want '$good '" >&2; exit 1
  fi
  if pgrep -f "qemu-nbd.*$2/" > /dev/null; then
    echo "$0: FAIL: $1: qemu-nbd left running:" >&2
    pgrep -af "qemu-nbd.*$2/" >&2; exit 1
  fi
}

# all_good DIR: verify exits 0; every backup in $good restores equal
# to its references.
all_good ()
{
  local b
  "$FLEECECTL" verify --input "$1" > "$tmpdir/verify.out" ||
    { echo "$0: FAIL: verify:" >&2; cat "$tmpdir/verify.out" >&2; exit 1; }
  for b in $good; do
    grep -q "^$b: ok" "$tmpdir/verify.out" ||
      { echo "$0: FAIL: verify:" >&2; cat "$tmpdir/verify.out" >&2; exit 1; }
    restore_cmp "$1" "$b" "$tmpdir/ref.${1##*/}.$b"
  done
}

# good_point DIR NAME PARENT: a correct backup of a pinned snapshot;
# verify exits 0 and it restores equal to its references.
good_point ()
{
  backup_point "$1" "$2" "$3" "$([ "$3" = - ] && echo first || echo -)" 3
  good="${good:+$good }$2"
  expect_exit 0 "^$2: ok" "$FLEECECTL" verify --input "$1"
  restore_cmp "$1" "$2" "$tmpdir/ref.${1##*/}.$2"
}

# The chain in $dir: a full and an incremental.
start
good=""
mutate 24
good_point "$dir" 0001-full -
mutate 8
good_point "$dir" 0002-incr 0001-full

# (a) nbdkit killed mid-backup.
mutate 16
stop_nbdkit "$pid" TERM
start rdelay=100ms
slow_backup "$dir"
stop_nbdkit "$pid" KILL
failed "nbdkit killed" "$dir" \
  'disk "" at offset [0-9]+: .*(not connected|disconnect|reset|closed|EOF|Broken pipe)'
start rdelay=100ms                      # (b) and (d) slow too
all_good "$dir"
good_point "$dir" 0003-incr 0002-incr

# (b) SIGINT.
mutate 16
start_writer "$tmpdir/log"
slow_backup "$dir"
kill -INT "$bk_pid"
failed "SIGINT" "$dir" "interrupted"
stop_writer
state=$("$FLEECECTL" -s "$ctl" status --json 2>/dev/null | jq -r .state) || true
if [ "$state" != none ]; then
  echo "$0: FAIL: SIGINT: the snapshot the backup created was not ended" >&2
  exit 1
fi
all_good "$dir"
good_point "$dir" 0004-incr 0003-incr

# (d) SIGKILL: the partial dir stays until the next backup.
mutate 16
start_writer "$tmpdir/log"
slow_backup "$dir"
dead=$("$FLEECECTL" -s "$ctl" status --json | jq -r '."taken-at"')
kill -KILL "$bk_pid"
wait "$bk_pid" || true
forget_pid "$bk_pid"
stop_writer
partial=$(cd "$dir" && echo .*.partial)
[ "$partial" = .0005-incr.partial ] ||
  { echo "$0: FAIL: SIGKILL: partial dir '$partial'" >&2; exit 1; }
# qemu-nbd (without --persistent) exits when its last client is gone.
for _ in $(seq 100); do
  pgrep -f "qemu-nbd.*$dir/$partial" > /dev/null || break
  sleep 0.05
done
orphan=$(pgrep -af "qemu-nbd.*$dir/$partial" || true)
[ -z "$orphan" ] || { echo "$0: FAIL: SIGKILL: qemu-nbd left: $orphan" >&2; exit 1; }
expect_exit 0 "$partial" "$FLEECECTL" verify --input "$dir"
# The next backup, as a scheduled one runs (no pin, no --fresh): it
# removes the partial dir and ends the snapshot the killed run left
# pinned, rather than back up that old instant (and every later
# backup the same one, until the pin expires).
$WL fill "$seed.d" "$tmpdir/log" 1 "$(uri)"
backup 3 --output "$dir"
for m in "incomplete backup $partial left by an interrupted run: removed" \
         "created by the interrupted run $partial"; do
  grep -q "$m" "$tmpdir/bk.err" ||
    { echo "$0: FAIL: SIGKILL: the next backup did not say '$m':" >&2
      cat "$tmpdir/bk.err" >&2; exit 1; }
done
if [ "$(jq -r '."taken-at"' "$dir/0005-incr/manifest.json")" = "$dead" ] ||
   [ "$("$FLEECECTL" -s "$ctl" status --json | jq -r .state)" != none ]; then
  echo "$0: FAIL: SIGKILL: the next backup adopted the killed run's" \
       "snapshot ($dead)" >&2
  exit 1
fi
echo "ok: SIGKILL: the next backup removed $partial, ended its snapshot"
$WL manifest "$dir" 0005-incr incremental 0004-incr - - ":$((32 << 20))"
good="$good 0005-incr"
good_point "$dir" 0006-incr 0005-incr
no_leftovers "after SIGKILL" "$dir"

# (c) DIR on a full tmpfs: room for 4 MiB more after the full.
stop_nbdkit "$pid" TERM
start
good=""
mutate 8
good_point "$small" 0001-full -
used=$(df --output=used -k "$small" | tail -n1)
mount -o remount,size=$((used + 4096))k "$small"
$WL fill "$seed.f" "$tmpdir/log" 10 "$(uri)"
start_writer "$tmpdir/log"
st=0
"$FLEECECTL" -s "$ctl" backup --uri "$(uri)" --output "$small" \
  > "$tmpdir/bk.out" 2> "$tmpdir/bk.err" || st=$?
stop_writer
if [ "$st" != 7 ] ||
   ! grep -Eq 'disk "" at offset [0-9]+: .*No space left on device' "$tmpdir/bk.err"; then
  echo "$0: FAIL: tmpfs full: backup exited $st (want 7, ENOSPC):" >&2
  cat "$tmpdir/bk.out" "$tmpdir/bk.err" >&2; exit 1
fi
echo "ok: tmpfs full: exit 7: $(grep -E -m1 "space" "$tmpdir/bk.err")"
no_leftovers "tmpfs full" "$small"
all_good "$small"
mount -o remount,size=64M "$small"
good_point "$small" 0002-incr 0001-full
