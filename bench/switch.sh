#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# nbdkit-fleece benchmark: the cost of taking a snapshot of a VM with
# 1, 4 and 16 disks (issue 14: the switch must stay O(disks), not
# O(disk size)).  One nbdkit serves N sparse disks of SIZE each
# (vmdisk disk=dI:PATH); a writer keeps writing 4K blocks to every
# disk through the live exports while the control socket takes
# snapshots one after another (snapshot-begin fresh).  For each N it
# reports, over the snapshots, the time live writes were held (the
# status member barrier-ms: the barrier's switch, which is what the
# guest sees) and the whole snapshot-begin (which also prepares every
# disk's block map before the freeze, O(disk size), while writes flow).
#
#   bench/switch.sh [SNAPSHOTS]      (default 30)
#
# BUILDDIR=/path  a built tree (default: the source tree)
# SIZE=1G         each disk's size; WORKDIR=/var/tmp for the files
# CBT=1           with changed-block tracking (cbt-dir= in WORKDIR): each
#                 checkpoint syncs every disk's map header in the hold
# This is a measurement: it passes or fails nothing on timing.
set -euo pipefail
benchdir=$(cd "$(dirname "$0")" && pwd)
builddir=${BUILDDIR:-$(dirname "$benchdir")}
filter=$builddir/filters/fleece/.libs/nbdkit-fleece-filter.so
plugin=$builddir/plugins/vmdisk/.libs/nbdkit-vmdisk-plugin.so
n_snap=${1:-30}
size=${SIZE:-1G}
work=$(mktemp -d "${WORKDIR:-/var/tmp}/fleece-switch.XXXXXX")
trap 'rm -rf "$work"' EXIT

printf '| disks | disk size | snapshots | held mean ms | held max ms | begin mean ms | begin max ms | writes during |\n'
printf '| --- | --- | --- | --- | --- | --- | --- | --- |\n'
for n in 1 4 16; do
  args=()
  for ((i = 0; i < n; i++)); do
    truncate -s "$size" "$work/d$i.img"
    args+=("disk=d$i:$work/d$i.img")
  done
  [ -n "${CBT:-}" ] && args+=("cbt-dir=$work/cbt-$n")
  nbdkit -U "$work/nbd.sock" -P "$work/pid" --filter="$filter" "$plugin" \
    "${args[@]}" control="$work/ctl" fleece-dir="$work"
  for _ in $(seq 50); do [ -S "$work/ctl" ] && break; sleep 0.1; done
  /usr/bin/python3 "$benchdir/switch.py" "$work/nbd.sock" "$work/ctl" \
    "$n" "$n_snap" "$size"
  pid=$(cat "$work/pid")
  kill "$pid"
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  rm -f "$work"/d*.img "$work/nbd.sock" "$work/ctl" "$work/pid"
done
