#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# vmdisk's quiesce parameters, as nbdkit sees them: one rule for every
# duration of the project (a unit is required, only 0 may lack one),
# the same advice for uri= whether agent-socket= is given or not, and
# an unknown parameter pointing to the fleece filter's list too.
source "$srcdir/functions.sh"

img="$tmpdir/disk.img"
truncate -s 1M "$img"

# run ARGS...: nbdkit vmdisk file=IMG ARGS, started and stopped.
run ()
{
  nbdkit -U - "$VMDISK" file="$img" "$@" --run true
}

echo "== durations"
expect_fail_msg "^nbdkit: error: freeze-timeout=10: expected a duration above 0: a whole number and a unit, .*only 0 may go without a unit" \
  run domain=vm1 state-dir="$tmpdir/state" freeze-timeout=10
expect_fail_msg "^nbdkit: error: frozen-max=30: expected a duration above 0" \
  run domain=vm1 state-dir="$tmpdir/state" frozen-max=30
expect_fail_msg "^nbdkit: error: freeze-timeout=0: expected a duration above 0" \
  run domain=vm1 state-dir="$tmpdir/state" freeze-timeout=0
run domain=vm1 state-dir="$tmpdir/state" freeze-timeout=10s frozen-max=1m
echo "ok: freeze-timeout=10s frozen-max=1m accepted"
# The filter's durations follow the same rule (common/utils).
expect_fail_msg "snapshot-linger=10: expected a duration: a whole number and a unit" \
  nbdkit -U - --filter="$FLEECE" "$VMDISK" file="$img" \
  snapshot-linger=10 --run true
expect_fail_msg "cbw-timeout=30: expected a duration" \
  nbdkit -U - --filter="$FLEECE" "$VMDISK" file="$img" \
  cbw-timeout=30 --run true
nbdkit -U - --filter="$FLEECE" "$VMDISK" file="$img" snapshot-linger=0 \
  cbw-timeout=0 --run true
echo "ok: snapshot-linger=0 cbw-timeout=0 accepted"

echo "== uri="
# The same advice with and without agent-socket=: uri= needs domain=.
uri_advice="uri= needs domain=: uri= names the libvirt connection on which the domain is looked up \(agent-socket= does not use libvirt: drop uri= with agent-socket=\)"
expect_fail_msg "^nbdkit: error: $uri_advice\$" \
  run uri=test:///default
expect_fail_msg "^nbdkit: error: $uri_advice\$" \
  run uri=test:///default agent-socket="$tmpdir/qga.sock"
expect_fail_msg "^nbdkit: error: mountpoint= needs domain= or agent-socket=\$" \
  run mountpoint=/
for args in "uri=test:///default" "uri=test:///default agent-socket=$tmpdir/qga.sock"; do
  # shellcheck disable=SC2086
  out=$(run $args 2>&1 || true)
  if grep -q "agent-socket=\$\|needs domain= or agent-socket=" <<<"$out"; then
    echo "$0: FAIL: '$args' suggests agent-socket= for uri=: $out" >&2
    exit 1
  fi
done
echo "ok: uri= advice is the same with and without agent-socket="

echo "== unknown parameter"
expect_fail_msg "^nbdkit: error: unknown parameter 'fleece-max-sise': vmdisk takes file, .*state-dir \(see: nbdkit vmdisk --help\); the fleece filter's parameters are listed by nbdkit --filter=fleece vmdisk --help and in nbdkit-fleece-filter\(1\)\$" \
  run fleece-max-sise=16K
