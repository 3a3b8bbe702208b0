#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The crash-recovery marker is on disk before the freeze is sent, and
# its removal is durable: written to a temporary name, fsynced,
# renamed, then its directory fsynced; after the thaw, unlinked and
# the directory fsynced.  Seen with strace on quiesce-driver (the
# quiesce library without nbdkit) against the fake agent.
source "$srcdir/functions.sh"
source "$srcdir/quiesce-functions.sh"
requires strace -V

fail () { echo "$0: FAIL: $*" >&2; exit 1; }

log="$tmpdir/qga.log"
start_fake "$log"
state="$tmpdir/state"
trace="$tmpdir/strace.out"
marker="$state/socket-${tmpdir//[^A-Za-z0-9.-]/_}_qga.sock.frozen"

echo "+ strace quiesce-driver agent-socket=... -- freeze thaw"
# LeakSanitizer cannot run under ptrace (check-sanitizers' ASan stage):
# the leak check at exit would abort the driver.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
timeout 60 strace -f -qq -o "$trace" -e trace=fsync,rename,unlink,connect \
  "$DRIVER" agent-socket="$tmpdir/qga.sock" state-dir="$state" \
  -- freeze thaw > "$tmpdir/out" 2>"$tmpdir/driver.err" ||
  { cat "$tmpdir/out" "$tmpdir/driver.err" >&2; fail "quiesce-driver failed"; }
cat "$tmpdir/out"
grep -q '^freeze -> 2 ' "$tmpdir/out" || fail "the freeze did not freeze 2"
grep -q '^thaw -> 2 ' "$tmpdir/out" || fail "the thaw did not thaw 2"
test ! -e "$marker" || fail "the marker stayed after the thaw"

# The calls in order, one word each: fsync, rename (of the marker),
# unlink (of the marker), connect (to the agent).
seq=$(awk -v m="$marker" '
  / fsync\(/ && !/= -1/ { print "fsync"; next }
  / rename\(/ && index($0, "\"" m "\"") && !/= -1/ { print "rename"; next }
  / unlink\(/ && index($0, "\"" m "\"") && !/= -1/ { print "unlink"; next }
  / connect\(/ { print "connect" }' "$trace" | tr '\n' ' ')
echo "calls: $seq"
# Written: fsync (file), rename, fsync (directory), before the
# freeze's connect; removed: unlink, then fsync (directory).
[[ $seq =~ fsync\ rename\ fsync\ (connect\ )+.*unlink\ fsync ]] ||
  fail "marker write or removal not durable in this order: $seq"
