# SPDX-License-Identifier: BSD-3-Clause
# nbdkit-fleece: sourced by the test-quiesce-*.sh tests, after
# functions.sh.  Runs quiesce-driver (vmdisk's quiesce sources without
# nbdkit) and the fake guest agent fake-qga.py.

DRIVER="$abs_builddir/quiesce-driver"
FAKE_QGA="$abs_top_srcdir/tests/fake-qga.py"
requires test -x "$DRIVER"
requires /usr/bin/python3 --version
requires timeout --version

# start_fake LOG ARGS...: start the fake agent on $sock, wait until it
# listens (bounded), register it for cleanup; sets $fake_pid.
start_fake ()
{
  local log="$1" i
  shift
  sock="$tmpdir/qga.sock"
  rm -f "$sock"
  /usr/bin/python3 "$FAKE_QGA" --socket "$sock" --log "$log" "$@" &
  fake_pid=$!
  cleanup_pid "$fake_pid"
  for i in $(seq 1 200); do
    [ -S "$sock" ] && return 0
    sleep 0.05
  done
  echo "$0: FAIL: the fake agent did not start" >&2
  exit 1
}

# stop_fake: stop the fake agent now.
stop_fake ()
{
  kill "$fake_pid"
  wait "$fake_pid" 2>/dev/null || true
}

# drive ARGS...: run quiesce-driver (at most 60 s); its stdout is in
# $out and printed, its stderr in $tmpdir/driver.err.
drive ()
{
  echo "+ quiesce-driver $*"
  if ! out=$(timeout 60 "$DRIVER" "$@" 2>"$tmpdir/driver.err"); then
    echo "$0: FAIL: quiesce-driver failed or hung:" >&2
    echo "$out" >&2
    cat "$tmpdir/driver.err" >&2
    exit 1
  fi
  echo "$out"
}

# expect REGEX: some line of the last drive's output matches.
expect ()
{
  if ! grep -Eq -- "$1" <<<"$out"; then
    echo "$0: FAIL: no output line matches /$1/" >&2
    cat "$tmpdir/driver.err" >&2
    exit 1
  fi
}

# expect_err REGEX: the last drive's stderr matches.
expect_err ()
{
  if ! grep -Eq -- "$1" "$tmpdir/driver.err"; then
    echo "$0: FAIL: stderr does not match /$1/:" >&2
    cat "$tmpdir/driver.err" >&2
    exit 1
  fi
}

# log_count LOG CMD: how many times the fake received CMD.
log_count ()
{
  awk -v c="$2" '$2 == c' "$1" | wc -l
}

# expect_log_seq LOG CMD...: the fake received these commands in this
# order (others may come between); syncs are ignored.
expect_log_seq ()
{
  local log="$1" got
  shift
  got=$(awk '$2 != "guest-sync-delimited" && $2 != "ready" { print $2 }' "$log" |
        tr '\n' ' ')
  if ! awk -v want="$*" -v got="$got" 'BEGIN {
         n = split(want, w, " "); m = split(got, g, " "); j = 1
         for (i = 1; i <= m && j <= n; i++) if (g[i] == w[j]) j++
         exit !(j > n) }'; then
    echo "$0: FAIL: the fake agent received '$got', expected in order: $*" >&2
    exit 1
  fi
}

# print_window LOG: the freeze-to-thaw window the fake saw.
print_window ()
{
  awk '$2 ~ /^guest-fsfreeze-freeze/ && !f { f = $1 }
       $2 == "guest-fsfreeze-thaw" && f && !t { t = $1 }
       END { if (f && t) printf "freeze-to-thaw window seen by the agent: %.1f ms\n", (t - f) * 1000 }' "$1"
}
