#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test-fleece-params.sh: every fleece parameter accepts its documented
# forms and refuses bad values at start with a message that names the
# parameter; `--help` lists every parameter; snapshot-export=NAME
# really renames the snapshot export.

source "$srcdir/functions.sh"
requires nbdkit --version
requires nbdinfo --version

# good KEY=VALUE...: nbdkit starts and serves with these parameters.
good ()
{
  if ! out=$(nbdkit -U - --filter="$FLEECE" null 1M "$@" \
               --run 'nbdinfo --size "$uri"' 2>&1); then
    echo "$0: FAIL: refused valid parameters: $*" >&2
    echo "$out" >&2
    exit 1
  fi
  echo "ok: accepted $*"
}

# bad KEY=VALUE: nbdkit refuses to start, naming the parameter (and
# not because the key is unknown to the filter).
bad ()
{
  local key="${1%%=*}"
  expect_fail_msg "$key" \
    nbdkit -U - --filter="$FLEECE" null 1M "$@" --run true
  if nbdkit -U - --filter="$FLEECE" null 1M "$@" --run true 2>&1 |
       grep -q 'unknown parameter'; then
    echo "$0: FAIL: the filter does not know $key" >&2
    exit 1
  fi
}

good snapshot-export=backup
good snapshot-export=snap-2
bad snapshot-export=

good snapshot-linger=0
good snapshot-linger=100us
good snapshot-linger=500ms
good snapshot-linger=30s
good snapshot-linger=2m
good snapshot-linger=24h
bad snapshot-linger=25h
bad snapshot-linger=-1s
bad snapshot-linger=1.5s
bad snapshot-linger=5x
bad snapshot-linger=soon

good fleece-block-size=4096
good fleece-block-size=8k
good fleece-block-size=64K
good fleece-block-size=1M
good fleece-block-size=64M
bad fleece-block-size=3000
bad fleece-block-size=2048
bad fleece-block-size=0
bad fleece-block-size=128M
bad fleece-block-size=96K
bad fleece-block-size=big

good fleece-dir="$tmpdir"
good fleece-dir=/var/tmp
bad fleece-dir="$tmpdir/does-not-exist"
touch "$tmpdir/a-file"
bad fleece-dir="$tmpdir/a-file"

good fleece-max-size=0
good fleece-max-size=64K
good fleece-max-size=10G
bad fleece-max-size=lots
bad fleece-max-size=-1

good on-cbw-error=break-snapshot
good on-cbw-error=fail-write
bad on-cbw-error=ignore

good cbw-timeout=0
good cbw-timeout=100ms
good cbw-timeout=30s
bad cbw-timeout=-5s
bad cbw-timeout=forever

good quiesce=auto
good quiesce=off
bad quiesce=maybe
good quiesce-timeout=10s
bad quiesce-timeout=later
printf '#!/bin/sh\nexit 0\n' > "$tmpdir/quiesce"
chmod +x "$tmpdir/quiesce"
good quiesce-command="$tmpdir/quiesce"
# quiesce=require needs something that can freeze (the null plugin has
# no quiesce provider): test-fleece-quiesce-require.sh.
good quiesce=require quiesce-command="$tmpdir/quiesce"

good cbt-dir="$tmpdir/cbt"
good cbt-dir="$tmpdir/cbt" cbt-granularity=4K fleece-block-size=4K
good cbt-dir="$tmpdir/cbt" cbt-granularity=1M
bad cbt-dir=
bad cbt-dir="$tmpdir/a-file/x"
bad cbt-granularity=3000
bad cbt-granularity=128M
bad cbt-granularity=8K
bad cbt-granularity=32K fleece-block-size=64K

good pin-max-age=0
good pin-max-age=90s
good pin-max-age=24h
bad pin-max-age=25h
bad pin-max-age=1d
bad pin-max-age=-1s

# Several at once.
good snapshot-export=backup snapshot-linger=1s fleece-block-size=4096 \
     fleece-dir="$tmpdir" fleece-max-size=1M on-cbw-error=fail-write \
     cbw-timeout=1s quiesce=off

# A refused value is reported on one error line, before serving.
out=$(nbdkit -U - --filter="$FLEECE" null 1M fleece-block-size=3000 \
        --run 'echo SERVED' 2>&1 || true)
if [ "$(grep -c 'fleece-block-size' <<<"$out")" != 1 ] ||
   grep -q SERVED <<<"$out"; then
  echo "$0: FAIL: fleece-block-size=3000 not refused on one line:" >&2
  echo "$out" >&2
  exit 1
fi

# --help lists every parameter.
help=$(nbdkit --filter="$FLEECE" null --help 2>&1)
for key in snapshot-export snapshot-linger fleece-block-size fleece-dir \
           fleece-max-size on-cbw-error cbw-timeout quiesce \
           quiesce-command quiesce-timeout pin-max-age cbt-dir \
           cbt-granularity; do
  if ! grep -q -- "$key=" <<<"$help"; then
    echo "$0: FAIL: --help does not list $key=:" >&2
    echo "$help" >&2
    exit 1
  fi
done
echo "ok: --help lists every parameter"

# snapshot-export=backup: "backup" is the snapshot, "snapshot" is not.
nbdkit -U - --filter="$FLEECE" memory 1M snapshot-export=backup \
  --run 'nbdinfo --size "nbd+unix:///backup?socket=$unixsocket" &&
         ! nbdinfo --size "nbd+unix:///snapshot?socket=$unixsocket"' \
  2> "$tmpdir/log" || { cat "$tmpdir/log" >&2; exit 1; }
grep -q 'valid exports are.*backup' "$tmpdir/log" || {
  echo "$0: FAIL: refusal of 'snapshot' does not name 'backup':" >&2
  cat "$tmpdir/log" >&2
  exit 1
}
echo "ok: snapshot-export=backup renames the snapshot export"
