# SPDX-License-Identifier: BSD-3-Clause
# nbdkit-fleece: sourced by every shell test.
#
# Provides $VMDISK and $FLEECE (the built .so files, checked to exist,
# so tests never touch installed copies), $tmpdir (removed on exit,
# with any process registered by cleanup_pid; kept after a failure when
# FLEECE_TEST_KEEP is set), and `requires`, which
# FAILS the test when a tool is missing: the set-up command installs
# every tool, so a missing one is a broken set-up, never a reason to
# skip quietly.

set -euo pipefail

: "${abs_top_builddir:?run the tests through make check}"
VMDISK="$abs_top_builddir/plugins/vmdisk/.libs/nbdkit-vmdisk-plugin.so"
FLEECE="$abs_top_builddir/filters/fleece/.libs/nbdkit-fleece-filter.so"
for _so in "$VMDISK" "$FLEECE"; do
  [ -f "$_so" ] || { echo "$0: FAIL: $_so not built" >&2; exit 1; }
done
# Debian's python3 has the nbd module; a python3 earlier on PATH may not.
export PATH="/usr/sbin:/usr/bin:/sbin:/bin:$PATH"
# Shared Python checks (nbdcheck.py).
export PYTHONPATH="$abs_top_srcdir/tests${PYTHONPATH:+:$PYTHONPATH}"
# $SNAPDESC URI: take a snapshot (its first read) and print its
# description (exported: usable inside nbdkit --run).
export SNAPDESC="/usr/bin/python3 $abs_top_srcdir/tests/snapshot-description.py"
# scripts/check-sanitizers.sh sets FLEECE_WRAP (asan, tsan, valgrind):
# nbdkit then runs through tests/sanitizers/bin/nbdkit.
if [ -n "${FLEECE_WRAP:-}" ]; then
  PATH="$abs_top_srcdir/tests/sanitizers/bin:$PATH"
fi

tmpdir=$(mktemp -d "${TMPDIR:-/tmp}/fleece-test.XXXXXX")
_cleanup_pids=()
_cleanup ()         # [STATUS]: the test's exit status (default $?)
{
  local status=${1:-$?} pid
  for pid in "${_cleanup_pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${_cleanup_pids[@]}"; do
    # Wait for it to die so nothing outlives the test.
    while pid_running "$pid"; do sleep 0.05; done
  done
  if [ "$status" != 0 ] && [ -n "${FLEECE_TEST_KEEP:-}" ]; then
    echo "$0: FLEECE_TEST_KEEP: kept $tmpdir" >&2
  else
    rm -rf "$tmpdir"
  fi
}
trap _cleanup EXIT

# pid_running PID: PID exists and has not exited.  A daemonized nbdkit's
# parent is init, which may take a second or more to reap it: a zombie
# whose threads have all exited has closed its files and sockets, so it
# counts as gone (kill -0 would still succeed on it).
pid_running ()
{
  local stat tasks
  [[ $1 =~ ^[0-9]+$ ]] || return 1
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [ "${stat%% *}" != Z ] && return 0
  tasks=(/proc/"$1"/task/*)
  [ "${#tasks[@]}" -gt 1 ]
}

# cleanup_pid PID: kill PID when the test exits.
cleanup_pid ()
{
  [[ $1 =~ ^[0-9]+$ ]] || { echo "$0: FAIL: cleanup_pid: '$1' is not a pid" >&2; exit 1; }
  _cleanup_pids+=("$1")
}

# pid_of PIDFILE: the pid in PIDFILE, once nbdkit has written it (it
# may bind its socket first, and writes the file in more than one
# step): waits up to 10 s, fails the test if it never holds a pid.
pid_of ()
{
  local i p=""
  for i in $(seq 1 200); do
    p=$(cat "$1" 2>/dev/null) || p=""
    [[ $p =~ ^[0-9]+$ ]] && { echo "$p"; return 0; }
    sleep 0.05
  done
  echo "$0: FAIL: $1 holds no pid after 10 s: '$p'" >&2
  exit 1
}

# forget_pid PID: PID is gone (dead and waited for, or a zombie that
# init reaps): drop it from the cleanup list, so that the exit trap
# never signals a reused pid.
forget_pid ()
{
  local i
  for i in "${!_cleanup_pids[@]}"; do
    [ "${_cleanup_pids[$i]}" = "$1" ] && unset "_cleanup_pids[$i]"
  done
  return 0
}

# requires CMD [ARGS...]: fail unless the command runs.
requires ()
{
  if ! "$@" >/dev/null 2>&1; then
    echo "$0: FAIL: required tool missing: '$*' (run scripts/check.sh to install it)" >&2
    exit 1
  fi
}

# expect_fail_msg REGEX CMD...: CMD must exit non-zero and print REGEX.
expect_fail_msg ()
{
  local re="$1" out
  shift
  if out=$("$@" 2>&1); then
    echo "$0: FAIL: expected failure from: $*" >&2
    echo "$out" >&2
    exit 1
  fi
  if ! grep -Eq -- "$re" <<<"$out"; then
    echo "$0: FAIL: message from '$*' does not match /$re/:" >&2
    echo "$out" >&2
    exit 1
  fi
  echo "ok: $* -> $(grep -E -m1 -- "$re" <<<"$out")"
}

# start_nbdkit PIDFILE SOCKET ARGS...: run nbdkit in the background on
# a Unix socket, wait until it is serving, register it for cleanup.
start_nbdkit ()
{
  local pidfile="$1" sock="$2" i
  shift 2
  nbdkit -P "$pidfile" -U "$sock" "$@"
  for i in $(seq 1 200); do
    [ -s "$pidfile" ] && [ -S "$sock" ] && break
    sleep 0.05
  done
  [ -s "$pidfile" ] || { echo "$0: nbdkit did not start" >&2; return 1; }
  cleanup_pid "$(pid_of "$pidfile")"
}

# stop_nbdkit PIDFILE SIGNAL: send SIGNAL (TERM, KILL, ...) to the
# nbdkit start_nbdkit started, wait until it is gone, unregister it.
stop_nbdkit ()
{
  local p
  p=$(pid_of "$1")
  kill -"$2" "$p"
  while pid_running "$p"; do sleep 0.05; done
  forget_pid "$p"
}
