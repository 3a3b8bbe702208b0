#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Crash recovery: a process that froze the guest is killed with
# SIGKILL; the next start finds its marker, sees the guest frozen,
# thaws it and warns.  A marker whose guest is already thawed is
# removed quietly; a guest unreachable at start is checked before the
# next freeze; a FIFO in the marker's place is reported, not waited on;
# a second instance does not replace a live instance's marker.
source "$srcdir/functions.sh"
source "$srcdir/quiesce-functions.sh"

log="$tmpdir/qga.log"
qs="agent-socket=$tmpdir/qga.sock state-dir=$tmpdir/state"
start_fake "$log"

# 1. Freeze, then die by SIGKILL while frozen.
"$DRIVER" $qs -- freeze "wait-log:$log:never-written:60000" \
  > "$tmpdir/first.out" 2>&1 &
first=$!
cleanup_pid "$first"
for i in $(seq 1 400); do
  grep -q guest-fsfreeze-freeze "$log" && break
  sleep 0.05
done
grep -q guest-fsfreeze-freeze "$log"
# A second instance for the same target does not replace the live
# one's marker, and does not freeze.
drive $qs -- freeze
expect "^freeze -> -1 .*the crash-recovery marker .* belongs to the running nbdkit pid $first: give each guest its own state-dir="
[ "$(log_count "$log" guest-fsfreeze-freeze)" = 1 ]
grep -q "^pid=$first\$" "$tmpdir"/state/socket-*.frozen
kill -9 "$first"
wait "$first" || true
marker=$(ls "$tmpdir"/state/socket-*.frozen)
grep -q "^pid=$first\$" "$marker"
cp "$marker" "$tmpdir/marker.saved"

# 2. The next start thaws the guest and warns.
drive $qs -- "wait-log:$log:guest-fsfreeze-thaw:10000" status
expect '^wait-log guest-fsfreeze-thaw -> found'
expect '^status -> 0 '
expect_err "warning: guest .*qga.sock.* was left frozen by an earlier nbdkit \(pid $first\) that died; thawed 2 filesystem"
test ! -e "$marker"
print_window "$log"

# 3. A stale marker whose guest is thawed: removed without a warning.
cp "$tmpdir/marker.saved" "$marker"
drive $qs -- freeze thaw
expect '^freeze -> 2 '
expect '^thaw -> 2 '
if grep -q warning "$tmpdir/driver.err"; then
  echo "$0: FAIL: unexpected warning" >&2; exit 1
fi
test ! -e "$marker"

# 4. No QEMU listening: no guest runs, so nothing can be frozen; the
#    marker is removed quietly.
stop_fake
cp "$tmpdir/marker.saved" "$marker"
drive $qs -- freeze
expect "^freeze -> -1 .*connect: .*is the VM running"
test ! -e "$marker"

# 5. A guest whose agent does not answer at start: no freeze until it
#    has been checked, and no freeze waits past its deadline for the
#    check (each freeze either checks itself, or meets the watchdog
#    checking and fails at its deadline); checked again at the next
#    start.
cp "$tmpdir/marker.saved" "$marker"
: > "$log"
start_fake "$log" --start-frozen --on guest-sync-delimited=hang
drive $qs freeze-timeout=300ms -- freeze \
  "wait-log:$tmpdir/driver.err:cannot be thawed now:10000" freeze
not_checked="(may still be frozen by an earlier nbdkit \(pid $first\) and cannot be checked|the watchdog was still thawing .* at the freeze's deadline)"
test "$(grep -Ec "^freeze -> -1 \([0-9]+ ms\): .*$not_checked" <<<"$out")" = 2
test "$(log_count "$log" guest-fsfreeze-freeze)" = 0
expect_err "cannot be thawed now: .*agent not answering"
test -e "$marker"
stop_fake
start_fake "$log" --start-frozen
drive $qs -- freeze thaw
expect_err "was left frozen by an earlier nbdkit \(pid $first\)"
expect '^freeze -> 2 '
expect '^thaw -> 2 '
test ! -e "$marker"
stop_fake

# 6. Something else in the marker's place (a FIFO would block a plain
#    open for ever): reported, nbdkit starts and freezes normally.
mkfifo "$marker"
start_fake "$log"
drive $qs -- freeze thaw
expect_err "$marker is not a regular file: remove it"
expect '^freeze -> 2 '
rm -f "$marker"
