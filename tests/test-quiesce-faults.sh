#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# vmdisk quiesce against a misbehaving guest agent (the fake): garbage
# and partial JSON, a hang-up read as a reset, an agent that never
# answers the freeze (bounded wait, then status and thaw; if that thaw
# fails, the watchdog retries and a caller does not wait again), a
# freeze that fails after freezing (we thaw), a thaw that fails because
# Windows VSS already thawed (reported, not hidden), and a disabled
# command.
source "$srcdir/functions.sh"
source "$srcdir/quiesce-functions.sh"

log="$tmpdir/qga.log"
qs="agent-socket=$tmpdir/qga.sock state-dir=$tmpdir/state freeze-timeout=500ms"

# Garbage, then a half reply and a hang-up, to the status query.
start_fake "$log" --on guest-fsfreeze-status=garbage@1
drive $qs -- status status
expect '^status -> -1 .*garbled reply to guest-fsfreeze-status'
expect '^status -> 0 '
stop_fake
start_fake "$log" --on guest-fsfreeze-status=partial@1
drive $qs -- status status
# (Depending on timing the hang-up is seen while waiting or while sending.)
expect '^status -> -1 .*(closed the connection while we waited for guest-fsfreeze-status|sending guest-fsfreeze-status: Broken pipe)'
expect '^status -> 0 '
stop_fake

# The agent hangs up with our command unread: a Unix socket then reads
# ECONNRESET, which is the same hang-up.
start_fake "$log" --on guest-sync-delimited=reset@1
drive $qs -- status status
expect '^status -> -1 .*closed the connection while we waited for guest-fsfreeze-status'
expect '^status -> 0 '
stop_fake

# Garbage answer to the freeze: the guest did freeze, so we thaw.
: > "$log"
start_fake "$log" --on guest-fsfreeze-freeze=garbage
drive $qs -- freeze
expect '^freeze -> -1 .*garbled reply to guest-fsfreeze-freeze.*thawed 2 filesystem'
expect_log_seq "$log" guest-fsfreeze-freeze guest-fsfreeze-status guest-fsfreeze-thaw
stop_fake

# An agent that never answers the freeze (but froze): bounded by
# freeze-timeout, then status and thaw on a new connection.
: > "$log"
start_fake "$log" --on guest-fsfreeze-freeze=hang
drive $qs -- freeze
expect '^freeze -> -1 .*agent not answering guest-fsfreeze-freeze in time.*thawed 2 filesystem'
expect_log_seq "$log" guest-fsfreeze-freeze guest-fsfreeze-status guest-fsfreeze-thaw
print_window "$log"
stop_fake

# The same, and the rollback's thaw fails too: the caller's thaw right
# after fails at once (no second bounded wait: the retry is pending),
# and the watchdog thaws 1 s later.
: > "$log"
start_fake "$log" --on guest-fsfreeze-freeze=hang \
  --on guest-fsfreeze-thaw=error:GenericError:busy@1
drive $qs -- freeze thaw \
  "wait-log:$tmpdir/driver.err:thawed 2 filesystem:10000" status
expect '^freeze -> -1 .*agent not answering.*the thaw after it failed too'
expect '^thaw -> -1 \([0-9]+ ms\): the last thaw of .* failed; the watchdog retries it in [0-9]+ ms'
expect '^wait-log thawed 2 filesystem -> found'
expect '^status -> 0 '
test "$(log_count "$log" guest-fsfreeze-thaw)" = 2
stop_fake

# A freeze never waits past its deadline for an unpaid thaw: it tries
# the debt's thaw within its own deadline and refuses when that fails,
# and while the watchdog's retry runs (holding the lock up to
# 2 x freeze-timeout) it fails at its deadline.  No second freeze
# reaches the agent.
: > "$log"
start_fake "$log" --on guest-fsfreeze-thaw=hang --on guest-fsfreeze-status=hang
drive $qs frozen-max=1h -- freeze thaw freeze:1000 \
  "wait-log:$tmpdir/driver.err:retrying the failed thaw:10000" freeze:300
expect '^freeze -> 2 '
expect '^thaw -> -1 '
expect '^freeze:1000 -> -1 \([0-9]+ ms\): .*agent not answering guest-fsfreeze-thaw.*not freezing again before the earlier freeze is thawed'
expect "^freeze:300 -> -1 \\([0-9]+ ms\\): vmdisk: the watchdog was still thawing .* at the freeze's deadline"
test "$(log_count "$log" guest-fsfreeze-freeze)" = 1
stop_fake

# A freeze that errors after freezing: the agent's error comes first,
# then the thaw that followed.
: > "$log"
start_fake "$log" --on 'guest-fsfreeze-freeze=error-frozen:GenericError:failed to freeze /data: Device or resource busy'
drive $qs -- freeze thaw
expect '^freeze -> -1 .*guest-fsfreeze-freeze failed in the guest agent: GenericError: failed to freeze /data: Device or resource busy; thawed 2 filesystem'
expect '^thaw -> 0 '
test "$(log_count "$log" guest-fsfreeze-thaw)" = 1
stop_fake

# Windows VSS: the thaw fails because the guest thawed by itself.
: > "$log"
start_fake "$log" --on "guest-fsfreeze-thaw=error-thawed:GenericError:couldn't hold writes: fsfreeze is limited up to 10 seconds: (error: 80042314)"
drive $qs -- freeze thaw thaw
expect '^freeze -> 2 '
expect "^thaw -> -1 .*fsfreeze is limited up to 10 seconds.*the guest is not frozen now.*may not have held"
expect '^thaw -> 0 '
stop_fake

# A command disabled in the guest.
: > "$log"
start_fake "$log" --on 'guest-fsfreeze-freeze=error:GenericError:The command guest-fsfreeze-freeze has been disabled for this instance'
drive $qs -- freeze
expect "^freeze -> -1 .*guest-fsfreeze-freeze is disabled in the guest agent \(allow it"
stop_fake
