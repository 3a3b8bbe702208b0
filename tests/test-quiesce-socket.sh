#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# vmdisk quiesce over the direct guest agent protocol (agent-socket=),
# against the fake agent: freeze/status/thaw, mountpoints through
# guest-fsfreeze-freeze-list, a freeze of 0 filesystems (returns 0 and
# is still thawed), resync past stale replies, the full exchange under
# the agent debug flag, and a VM that is not running.
source "$srcdir/functions.sh"
source "$srcdir/quiesce-functions.sh"

log="$tmpdir/qga.log"
start_fake "$log"
qs="agent-socket=$tmpdir/qga.sock state-dir=$tmpdir/state"

drive $qs -- available freeze status thaw status
expect "^available -> 1 .*guest agent socket $tmpdir/qga.sock"
expect '^freeze -> 2 '
expect '^status -> 1 '
expect '^thaw -> 2 '
expect '^status -> 0 '
expect_log_seq "$log" guest-fsfreeze-freeze guest-fsfreeze-status \
  guest-fsfreeze-thaw guest-fsfreeze-status
print_window "$log"
test -z "$(ls -A "$tmpdir/state")"      # no marker left

: > "$log"
drive $qs mountpoint=/boot -- freeze thaw
expect '^freeze -> 1 '
expect '^thaw -> 1 '
grep -q 'guest-fsfreeze-freeze-list {"mountpoints": \["/boot"\]}' "$log"

# The guest ignores mountpoints it does not have (like qemu-ga): we
# notice the short count, fail the freeze and thaw what was frozen.
: > "$log"
drive $qs mountpoint=/ mountpoint=/nonexistent -- freeze thaw
expect "^freeze -> -1 .*guest agent socket .*: mountpoint not found: the guest froze 1 of the 2 mountpoints.*thawed 1 filesystem\(s\) after the failed freeze"
expect_log_seq "$log" guest-fsfreeze-freeze-list guest-fsfreeze-status \
  guest-fsfreeze-thaw
stop_fake

# A freeze that froze nothing is 0, never success with N > 0, and the
# agent (which entered its frozen state anyway) is still thawed.
: > "$log"
start_fake "$log" --on guest-fsfreeze-freeze=count:0
drive $qs -- freeze thaw
expect '^freeze -> 0 '
expect '^thaw -> '
test "$(log_count "$log" guest-fsfreeze-thaw)" = 1
stop_fake

# Stale replies and garbage before the delimiter are skipped; the
# debug flag shows the exchange.
: > "$log"
start_fake "$log" --sync-stale
VMDISK_DEBUG_AGENT=1 drive $qs -- freeze thaw
expect '^freeze -> 2 '
expect '^thaw -> 2 '
expect_err 'skipping a stale reply'
expect_err 'agent .* > .*"execute":"guest-fsfreeze-freeze"'
expect_err 'agent .* < \{"return": 2\}'
stop_fake

# No VM: a clear reason, nothing sent, nothing owed.
drive $qs -- freeze thaw
expect "^freeze -> -1 .*guest agent socket $tmpdir/qga.sock: connect: .*is the VM running"
expect '^thaw -> 0 '
test -z "$(ls -A "$tmpdir/state")"
