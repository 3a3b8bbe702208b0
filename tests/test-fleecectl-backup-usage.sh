#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test-fleecectl-backup-usage.sh: the usage errors (exit 2) of
# fleecectl backup, restore and verify, and the DIR contents they
# refuse (exit 7), each with its message; fast: no server is needed,
# since the command line and DIR are checked before the control socket
# is opened (a missing socket then exits 2, "no control socket").
# - missing --uri, --output, --socket; options of another command;
#   --connections out of range; a URI naming an export or not NBD;
# - DIR a regular file; a backup name that is not a directory; two
#   backups with one number; a damaged last manifest; DIR locked by
#   another run (its pid in the message);
# - a partial directory left by a crash is removed, and said so;
# - restore and verify: missing --input/--output, a bad --format, an
#   empty DIR (--socket and --timeout accepted and ignored), an unknown
#   --at, a damaged manifest.

source "$srcdir/functions.sh"
source "$srcdir/fleecectl-functions.sh"
F="$FLEECECTL"
ctl="$tmpdir/ctl.sock"                  # no server: never reached
uri='nbd+unix:///?socket=/nonexistent.sock'
d="$tmpdir/dir"

expect_exit 2 "backup needs --uri" "$F" -s "$ctl" backup --output "$d"
expect_exit 2 "backup needs --output DIR" "$F" -s "$ctl" backup --uri "$uri"
expect_exit 2 "--socket PATH is required" "$F" backup --uri "$uri" --output "$d"
expect_exit 2 "--uri, --full and --connections go with backup$" \
  "$F" -s "$ctl" begin --full
expect_exit 2 "--output goes with backup/restore" \
  "$F" -s "$ctl" status --output "$d"
expect_exit 2 "--connections 0: expected a number from 1 to 16" \
  "$F" -s "$ctl" backup --uri "$uri" --output "$d" --connections 0
expect_exit 2 "--connections 17: expected a number from 1 to 16" \
  "$F" -s "$ctl" backup --uri "$uri" --output "$d" --connections 17
expect_exit 2 "names the export \"snapshot\"" \
  "$F" -s "$ctl" backup --uri 'nbd+unix:///snapshot?socket=/x' --output "$d"
expect_exit 2 "expected an NBD URI" \
  "$F" -s "$ctl" backup --uri /run/vm1.sock --output "$d"
expect_exit 2 "--quiesce x: expected auto, require or off" \
  "$F" -s "$ctl" backup --uri "$uri" --output "$d" --quiesce x
[ ! -e "$d" ] || { echo "$0: FAIL: a usage error created $d" >&2; exit 1; }

# DIR contents.
touch "$tmpdir/file"
expect_exit 2 "file: not a directory" \
  "$F" -s "$ctl" backup --uri "$uri" --output "$tmpdir/file"
mkdir -p "$d"
touch "$d/0001-full"
expect_exit 7 "0001-full is not a directory, but its name is that of a backup" \
  "$F" -s "$ctl" backup --uri "$uri" --output "$d"
rm "$d/0001-full"
mkdir "$d/0002-full" "$d/0002-incr"
expect_exit 7 "holds two backups numbered 2 \(0002-full and 0002-incr\)" \
  "$F" -s "$ctl" backup --uri "$uri" --output "$d"
rmdir "$d/0002-incr"
echo '{"format":"nbdkit-fleece-backup/1","name":"0002-full"}' \
  > "$d/0002-full/manifest.json"
expect_exit 7 "0002-full: manifest.json: \"kind\" is missing or wrong: the last backup is damaged" \
  "$F" -s "$ctl" backup --uri "$uri" --output "$d"
echo '{"format":"other"' > "$d/0002-full/manifest.json"
expect_exit 7 "manifest.json: not a JSON object" \
  "$F" -s "$ctl" backup --uri "$uri" --output "$d"
rm -r "$d/0002-full"

# Locked by another run: a process holds flock on DIR/.lock.
echo 4242 > "$d/.lock"
/usr/bin/python3 -c '
import fcntl, sys, time
f = open(sys.argv[1], "a"); fcntl.flock(f, fcntl.LOCK_EX)
open(sys.argv[2], "w"); time.sleep(30)' "$d/.lock" "$tmpdir/locked" &
locker=$!
cleanup_pid "$locker"
while [ ! -e "$tmpdir/locked" ]; do sleep 0.05; done
expect_exit 7 "dir is in use by pid 4242 \(another backup, restore or prune\)" \
  "$F" -s "$ctl" backup --uri "$uri" --output "$d"
kill "$locker"; wait "$locker" 2>/dev/null || true; forget_pid "$locker"

# A crashed run's partial directory: removed before anything else.
mkdir "$d/.0003-incr.partial"
touch "$d/.0003-incr.partial/vda.qcow2"
expect_exit 2 "incomplete backup .0003-incr.partial left by an interrupted run: removed" \
  "$F" -s "$ctl" backup --uri "$uri" --output "$d"
[ ! -e "$d/.0003-incr.partial" ] ||
  { echo "$0: FAIL: the partial directory is still there" >&2; exit 1; }
[ "$(cat "$d/.lock")" != 4242 ] ||
  { echo "$0: FAIL: backup did not record its pid in .lock" >&2; exit 1; }
echo "ok: the partial directory was removed"

# restore and verify.
expect_exit 2 "verify needs --input DIR" "$F" verify
expect_exit 2 "restore needs --output PATH" "$F" restore --input "$d"
expect_exit 2 "--output goes with backup/restore" \
  "$F" verify --input "$d" --output x
expect_exit 2 "--at goes with restore" \
  "$F" verify --input "$d" --at 0001-full
expect_exit 2 "--format goes with status/restore" \
  "$F" verify --input "$d" --format raw
expect_exit 2 "--format vhd: expected raw or qcow2" \
  "$F" restore --input "$d" --output "$tmpdir/r" --format vhd
expect_exit 2 "nowhere: no such directory" \
  "$F" verify --input "$tmpdir/nowhere"
# A regular file: "not a directory", never "no such directory" (the
# message once tested a stale errno).
for cmd in "verify" "restore --output $tmpdir/r" "prune --keep-chains 1"; do
  # shellcheck disable=SC2086
  expect_exit 2 "file: not a directory: pass a backup directory" \
    "$F" $cmd --input "$tmpdir/file"
done
expect_exit 0 "holds no complete backup" "$F" verify --input "$d"
expect_exit 0 "holds no complete backup" \
  "$F" -s "$ctl" --timeout 1 verify --input "$d"  # ignored: no server
expect_exit 7 "restore failed: .* holds no complete backup" \
  "$F" restore --input "$d" --output "$tmpdir/r"
mkdir "$d/0001-full" "$d/.0002-incr.partial"
echo '{"format":"nbdkit-fleece-backup/1"}' > "$d/0001-full/manifest.json"
expect_exit 7 '^0001-full: FAILED: manifest.json: "name" is missing or wrong' \
  "$F" verify --input "$d"
expect_exit 7 "^.0002-incr.partial: incomplete backup left by an interrupted run" \
  "$F" verify --input "$d"
expect_exit 2 "--at 0009-full: no such backup in .* \(the newest is 0001-full" \
  "$F" restore --input "$d" --at 0009-full --output "$tmpdir/r"
expect_exit 7 "restore failed: 0001-full: manifest.json" \
  "$F" restore --input "$d" --output "$tmpdir/r"
[ ! -e "$tmpdir/r" ] ||
  { echo "$0: FAIL: a failed restore left $tmpdir/r" >&2; exit 1; }
