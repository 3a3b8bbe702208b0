#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# bench/cbt.sh: the cost of changed-block tracking (cbt-dir=) on live
# writes.  One vmdisk image (SIZE, default 512M, preallocated) behind
# the fleece filter, tracking off then on, fio random 4K writes
# (iodepth 16, nbd engine):
#   steady:  after a sequential pass over the image (every granule
#            then marked in the current generation: a mark costs an
#            in-memory check);
#   after a checkpoint: the first SHORT seconds after a snapshot-begin
#            (every granule needs a durable mark again; the snapshot's
#            copy-before-write runs in both rows).
# Prints Markdown rows.  A measurement, not a test.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILDDIR:-$PWD}
size=${SIZE:-512M} secs=${SECS:-10} short=${SHORT:-3}
work=$(mktemp -d "${WORKDIR:-/var/tmp}/fleece-cbt-bench.XXXXXX")
trap 'kill $(cat "$work/pid" 2>/dev/null) 2>/dev/null || true; rm -rf "$work"' EXIT
export PATH=/usr/bin:$PATH
fallocate -l "$size" "$work/disk.img"
ctl="$work/ctl" sock="$work/sock"
fleecectl="$build/tools/fleecectl/fleecectl"

iops ()                                 # SECONDS: fio's write IOPS
{
  fio --output-format=json --time_based --runtime="$1" --size="$size" \
      --ioengine=nbd --uri="nbd+unix:///?socket=$sock" --name=w \
      --rw=randwrite --bs=4k --iodepth=16 |
    /usr/bin/python3 -c 'import json,sys; t=sys.stdin.read(); print("%.0f" % json.loads(t[t.index("{"):])["jobs"][0]["write"]["iops"])'
}

for mode in ${MODES:-off on}; do
  args=()
  [ "$mode" = on ] && args=(cbt-dir="$work/cbt")
  rm -f "$work/pid" "$sock" "$ctl"
  nbdkit -P "$work/pid" -U "$sock" \
    --filter="$build/filters/fleece/.libs/nbdkit-fleece-filter.so" \
    "$build/plugins/vmdisk/.libs/nbdkit-vmdisk-plugin.so" \
    file="$work/disk.img" fleece-dir="$work" control="$ctl" "${args[@]}"
  while [ ! -S "$ctl" ]; do sleep 0.1; done
  fio --size="$size" --ioengine=nbd --uri="nbd+unix:///?socket=$sock" \
      --name=warm --rw=write --bs=1M --iodepth=4 > /dev/null  # all marked
  steady=$(iops "$secs")
  "$fleecectl" -s "$ctl" begin > /dev/null 2>&1 || [ $? = 3 ]
  after=$(iops "$short")
  "$fleecectl" -s "$ctl" end > /dev/null
  echo "| tracking $mode | $steady | $after |"
  kill "$(cat "$work/pid")"
  while kill -0 "$(cat "$work/pid")" 2>/dev/null; do sleep 0.1; done
done
