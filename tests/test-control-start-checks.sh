#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test-control-start-checks.sh: what the filter makes only after nbdkit
# forks into the background is checked before it forks (issue 12,
# defect 10).  nbdkit started in the background (no -f, no --run) must
# exit non-zero in the foreground with a message naming the parameter
# and the fix, leaving no PID file and no NBD socket, for:
# - control= in a missing directory, under a regular file, in a
#   directory nbdkit's user cannot write (as nobody), on an existing
#   regular file or directory;
# - control-group= of a group nbdkit's user is not in (as nobody);
# - quiesce-state-dir= whose parent is missing.
# Before the fix, the first ones forked, the parent exited 0, and the
# background nbdkit died at once, leaving its PID file and socket.
# A good control= still starts (and the socket appears).

source "$srcdir/functions.sh"
requires nbdkit --version
requires runuser --version

chmod 0755 "$tmpdir"            # nobody must reach the plugin and run/
run="$tmpdir/run"
mkdir -m 0777 "$run"
touch "$tmpdir/file"
mkdir "$tmpdir/ro"              # root's, mode 0755: nobody cannot write

# start_fails REGEX [runuser -u USER --] ++ ARGS...: nbdkit in the
# background must fail in the foreground with REGEX, leaving nothing.
start_fails ()
{
  local re="$1" pre=() out status=0
  shift
  while [ "$1" != ++ ]; do pre+=("$1"); shift; done
  shift
  rm -f "$run/pid" "$run/nbd.sock"
  out=$("${pre[@]}" nbdkit -P "$run/pid" -U "$run/nbd.sock" \
          --filter="$FLEECE" memory 1M "$@" 2>&1) || status=$?
  if [ -s "$run/pid" ]; then
    cleanup_pid "$(pid_of "$run/pid")"
  fi
  if [ "$status" = 0 ]; then
    echo "$0: FAIL: nbdkit $* exited 0 (in the background: pid file" \
         "$(test -s "$run/pid" && echo written || echo missing))" >&2
    echo "$out" >&2
    exit 1
  fi
  if ! grep -Eq -- "$re" <<<"$out"; then
    echo "$0: FAIL: message from nbdkit $* does not match /$re/:" >&2
    echo "$out" >&2
    exit 1
  fi
  if [ -e "$run/pid" ] || [ -e "$run/nbd.sock" ]; then
    echo "$0: FAIL: nbdkit $* left its pid file or socket" >&2
    exit 1
  fi
  echo "ok: $* -> $(grep -E -m1 -- "$re" <<<"$out")"
}

start_fails 'control=/nonexistent/x\.ctl: the directory /nonexistent does not exist: create it' \
  ++ control=/nonexistent/x.ctl
start_fails "control=$tmpdir/missing/x\.ctl: the directory .* does not exist.*RuntimeDirectory=" \
  ++ control="$tmpdir/missing/x.ctl"
start_fails "control=$tmpdir/file/x\.ctl: $tmpdir/file is not a directory" \
  ++ control="$tmpdir/file/x.ctl"
start_fails "control=$tmpdir/file: exists and is not a socket" \
  ++ control="$tmpdir/file"
start_fails "control=$tmpdir/ro: exists and is not a socket" \
  ++ control="$tmpdir/ro"
start_fails "quiesce-state-dir=$tmpdir/missing/state: missing, and its parent $tmpdir/missing is not an existing directory" \
  ++ quiesce-command=/bin/true quiesce-state-dir="$tmpdir/missing/state"

if [ "$(id -u)" = 0 ]; then
  start_fails "control=$tmpdir/ro/x\.ctl: cannot create the socket in $tmpdir/ro: Permission denied" \
    runuser -u nobody -- ++ control="$tmpdir/ro/x.ctl"
  start_fails "control-group=root: nbdkit runs as uid [0-9]+, which is not in group 0" \
    runuser -u nobody -- ++ control="$run/x.ctl" control-mode=0660 \
    control-group=root
else
  echo "$0: not root: the cases run as nobody are skipped"
fi

# A good path still works: nbdkit starts, and the socket appears.
start_nbdkit "$run/pid" "$run/nbd.sock" --filter="$FLEECE" memory 1M \
  control="$run/good.ctl"
for i in $(seq 1 200); do
  [ -S "$run/good.ctl" ] && break
  sleep 0.05
done
[ -S "$run/good.ctl" ] || { echo "$0: FAIL: no control socket" >&2; exit 1; }
echo "ok: control=$run/good.ctl starts"
