#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# vmdisk tells the fleece filter which disks it serves: the provider
# table's disks member (quiesce-provider.h), as a filter reads it with
# dlsym, lists the export names in the order given (file=: one name,
# ""), with or without quiesce configured, and never writes more names
# than it is asked for.
source "$srcdir/functions.sh"

filter="$abs_builddir/.libs/provider-disks-filter.so"
for f in a b c; do truncate -s 1M "$tmpdir/$f.img"; done

# disks ARGS... EXPECTED: the filter's two lines for nbdkit vmdisk ARGS.
disks ()
{
  local want="${!#}" out
  out=$(nbdkit -U - --filter="$filter" "$VMDISK" "${@:1:$#-1}" \
          --run true 2>&1 | grep '^provider disks')
  if [ "$out" != "$want" ]; then
    echo "$0: FAIL: nbdkit vmdisk ${*:1:$#-1}: expected" >&2
    echo "$want" >&2
    echo "got:" >&2
    echo "$out" >&2
    exit 1
  fi
  echo "ok: ${*:1:$#-1}: $(head -1 <<<"$out")"
}

disks file="$tmpdir/a.img" "provider disks: 1: ''
provider disks max 1: 1: ''"
disks disk=vdb:"$tmpdir/b.img" disk=vda:"$tmpdir/a.img" \
  disk=data-1:"$tmpdir/c.img" "provider disks: 3: 'vdb' 'vda' 'data-1'
provider disks max 1: 3: 'vdb'"
# Quiesce configured (the guest is only looked for at a freeze).
disks disk=vda:"$tmpdir/a.img" disk=vdb:"$tmpdir/b.img" \
  agent-socket="$tmpdir/qga.sock" state-dir="$tmpdir/state" \
  "provider disks: 2: 'vda' 'vdb'
provider disks max 1: 2: 'vda'"
