#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The watchdog thaws a guest left frozen longer than frozen-max even
# though nobody asks for a thaw, and retries a thaw that failed, its
# own or the caller's, without waiting for frozen-max.
source "$srcdir/functions.sh"
source "$srcdir/quiesce-functions.sh"

log="$tmpdir/qga.log"
qs="agent-socket=$tmpdir/qga.sock state-dir=$tmpdir/state"
qs="$qs freeze-timeout=100ms frozen-max=200ms"

start_fake "$log"
drive $qs -- freeze "wait-log:$log:guest-fsfreeze-thaw:10000" status
expect '^freeze -> 2 '
expect '^wait-log guest-fsfreeze-thaw -> found'
expect '^status -> 0 '
expect_err 'frozen for [0-9]+ ms, more than frozen-max; the watchdog thaws it'
print_window "$log"
# Never before frozen-max: the watchdog reports how long it was frozen
# on its own clock, which the code guarantees is >= 200 ms.
expect_err 'frozen for ([2-9][0-9][0-9]|[0-9]{4,}) ms, more than frozen-max'
test -z "$(ls -A "$tmpdir/state")"
stop_fake

# The first thaw fails and leaves the guest frozen: the debt stays and
# the watchdog thaws on its retry (1 s later).
: > "$log"
start_fake "$log" --on guest-fsfreeze-thaw=error:GenericError:busy@1
drive $qs -- freeze "wait-log:$log:guest-fsfreeze-thaw {}:10000" \
  "wait-log:$log:guest-fsfreeze-status {}:10000" \
  "wait-log:$tmpdir/driver.err:thawed 2 filesystem:10000" status
expect '^freeze -> 2 '
expect '^status -> 0 '
expect_err 'watchdog thaw failed \(attempt 1\): .*busy; the guest may still be frozen'
test "$(log_count "$log" guest-fsfreeze-thaw)" = 2
stop_fake

# The caller's thaw fails, long before frozen-max: the watchdog retries
# it 1 s later (a guest frozen late, by a freeze that reached a hung
# agent, must not wait for frozen-max).
: > "$log"
start_fake "$log" --on guest-fsfreeze-thaw=error:GenericError:busy@1
drive ${qs/frozen-max=200ms/frozen-max=1h} -- freeze thaw \
  "wait-log:$tmpdir/driver.err:thawed 2 filesystem:10000" status
expect '^freeze -> 2 '
expect '^thaw -> -1 '
expect '^wait-log thawed 2 filesystem -> found'
expect '^status -> 0 '
expect_err 'retrying the failed thaw of .* \(attempt 1\)'
test "$(log_count "$log" guest-fsfreeze-thaw)" = 2
