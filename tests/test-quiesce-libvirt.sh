#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# vmdisk quiesce through libvirt's test:///default driver (in-process:
# domain "test" runs and has mountpoints / and /boot; no agent
# command): freeze and thaw counts, mountpoint selection, a missing
# mountpoint, a missing domain, status without the agent command.
source "$srcdir/functions.sh"
source "$srcdir/quiesce-functions.sh"

lv="domain=test uri=test:///default state-dir=$tmpdir/state"

drive $lv -- available freeze thaw thaw status
expect "^available -> 1 .*libvirt domain 'test' on test:///default"
expect '^freeze -> 2 '
expect '^thaw -> 2 '
expect '^thaw -> 0 '              # nothing owed any more
expect "^status -> -1 .*libvirt domain 'test': not supported by this libvirt driver.*virDomainQemuAgentCommand"
test ! -e "$tmpdir/state/domain-test.frozen"   # marker gone after the thaw

drive $lv mountpoint=/ -- freeze thaw
expect '^freeze -> 1 '
expect '^thaw -> 1 '

drive $lv mountpoint=/ mountpoint=/boot -- freeze thaw
expect '^freeze -> 2 '
expect '^thaw -> 2 '

drive $lv mountpoint=/nonexistent -- freeze thaw
expect "^freeze -> -1 .*libvirt domain 'test': mountpoint not found .*mount point not found: /nonexistent"
expect '^thaw -> 0 '

# The domain's UUID works as well as its name.
drive domain=6695eb01-f6a4-8304-79aa-97f2502e193f uri=test:///default \
      state-dir="$tmpdir/state" -- freeze thaw
expect '^freeze -> 2 '
expect '^thaw -> 2 '

drive domain=nosuch uri=test:///default state-dir="$tmpdir/state" -- freeze thaw
expect "^freeze -> -1 .*libvirt domain 'nosuch': domain not found \(define it, or fix domain= or uri=\)"
expect '^thaw -> 0 '

# Cross-checks of the parameters.
expect_fail_msg 'cannot be used together' \
  "$DRIVER" domain=test agent-socket=/x --
expect_fail_msg 'frozen-max= must be at least freeze-timeout=' \
  "$DRIVER" domain=test freeze-timeout=10s frozen-max=5s --
expect_fail_msg 'freeze-timeout=soon: expected a duration above 0' \
  "$DRIVER" domain=test freeze-timeout=soon --
expect_fail_msg 'mountpoint: .* not an absolute guest path' \
  "$DRIVER" domain=test mountpoint=var --
