#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test-fleece-param-hint.sh: a mistyped fleece parameter is passed down
# to the plugin, which refuses it as its own unknown parameter; the
# filter then adds "did you mean fleece-max-size=?" (issue 12, defect
# 13, filter side), with nbdkit's file plugin and with vmdisk:
# - one or two typos, a swapped pair, a letter more or less: the
#   nearest fleece parameter is named;
# - a key with a prefix several fleece parameters share
#   (fleece-maximum-size=): those parameters are listed;
# - a key that looks like no fleece parameter (foo=, state-dir= with
#   the file plugin), and a plugin parameter with a bad value, get no
#   hint: the plugin's own message stands.

source "$srcdir/functions.sh"
requires nbdkit --version

disk="$tmpdir/disk"
truncate -s 1M "$disk"

# hint PLUGIN-ARGS -- KEY=VALUE REGEX: nbdkit fails and prints REGEX.
for plugin in file "$VMDISK"; do
  p=(--filter="$FLEECE" "$plugin" file="$disk")
  name=$(basename "$plugin")
  while read -r kv want; do
    expect_fail_msg "fleece: ${kv%%=*}= is not a fleece filter parameter either: did you mean $want=\\? \\(see nbdkit-fleece-filter\\(1\\)" \
      nbdkit -U - "${p[@]}" "$kv" --run true
  done <<'EOF'
fleece-max-sise=1M fleece-max-size
fleece-max-szie=1M fleece-max-size
fleece-maxsize=1M fleece-max-size
snapshot-lingr=5s snapshot-linger
quiesce-timout=1s quiesce-timeout
Quiesce=off quiesce
contorl=/tmp/x control
cbw-timeuot=1s cbw-timeout
on-cbw-eror=fail-write on-cbw-error
snapshot-allow-users=root snapshot-allow-user
EOF
  expect_fail_msg "the fleece parameters starting with fleece- are fleece-block-size=, fleece-dir=, fleece-max-size=" \
    nbdkit -U - "${p[@]}" fleece-maximum-size=1M --run true
  expect_fail_msg "the fleece parameters starting with snapshot- are snapshot-export=, snapshot-linger=," \
    nbdkit -U - "${p[@]}" snapshot-name=x --run true

  # No hint where no fleece parameter was meant.
  for kv in foo=1 blocksize=4096 file=/nonexistent/disk; do
    if out=$(nbdkit -U - "${p[@]}" "$kv" --run true 2>&1); then
      echo "$0: FAIL: $name $kv was accepted" >&2
      exit 1
    fi
    if grep -q "fleece filter parameter" <<<"$out"; then
      echo "$0: FAIL: $name $kv: unexpected fleece hint:" >&2
      echo "$out" >&2
      exit 1
    fi
    echo "ok: $name $kv: no fleece hint"
  done
done
if out=$(nbdkit -U - --filter="$FLEECE" file file="$disk" state-dir=/x \
           --run true 2>&1) || grep -q "fleece filter" <<<"$out"; then
  echo "$0: FAIL: file state-dir=: unexpected hint or success: $out" >&2
  exit 1
fi
echo "ok: file state-dir= (a vmdisk parameter): no fleece hint"

# A good command line prints nothing of the kind.
out=$(nbdkit -U - --filter="$FLEECE" file file="$disk" \
        fleece-max-size=1M --run true 2>&1)
if grep -q "fleece filter parameter" <<<"$out"; then
  echo "$0: FAIL: hint on a good command line: $out" >&2
  exit 1
fi
echo "ok: no hint on a good command line"
