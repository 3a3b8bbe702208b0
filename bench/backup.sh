#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# nbdkit-fleece benchmark: fleecectl backup's throughput with 1 and 4
# connections (issue 16).  One nbdkit (the file plugin under the fleece
# filter) serves a SIZE disk that is DATA% random data (the rest zero);
# a full backup of it is taken ROUNDS times with --connections 1 and 4,
# alternately, each into a new directory, and the copy rate of each is
# reported (the "rate" of --json: bytes copied per second of copy,
# without begin/end).  The page cache holds the source after the first
# round: this measures the copy engine and qemu-nbd, not the disk.
# The anchor, in the same rounds: QEMU's own tools doing the same job
# for one disk: `qemu-img convert -O qcow2` of the same pinned snapshot
# export (sparse qcow2 out, 8 coroutines), then `sync -f` and
# `sha256sum` of the file, as fleecectl makes its file durable and
# checksums it; printed with and without the sync and checksum.
#
#   bench/backup.sh [ROUNDS]     (default 3)
#
# BUILDDIR=/path  a built tree (default: the source tree)
# SIZE=1G  DATA=90  WORKDIR=/var/tmp
# This is a measurement: it passes or fails nothing on timing.
set -euo pipefail
benchdir=$(cd "$(dirname "$0")" && pwd)
builddir=${BUILDDIR:-$(dirname "$benchdir")}
filter=$builddir/filters/fleece/.libs/nbdkit-fleece-filter.so
fleecectl=$builddir/tools/fleecectl/fleecectl
rounds=${1:-3}
size=${SIZE:-1G}
data=${DATA:-90}
work=$(mktemp -d "${WORKDIR:-/var/tmp}/fleece-backup.XXXXXX")
trap 'kill "$(cat "$work/pid" 2>/dev/null)" 2>/dev/null; rm -rf "$work"' EXIT

truncate -s "$size" "$work/disk.img"
bytes=$(stat -c %s "$work/disk.img")
mib=$(( bytes / 1048576 * data / 100 ))
dd if=/dev/urandom of="$work/disk.img" bs=1M count="$mib" conv=notrunc \
   status=none
nbdkit -P "$work/pid" -U "$work/nbd.sock" --filter="$filter" \
  file "$work/disk.img" control="$work/ctl.sock"
for _ in $(seq 100); do [ -S "$work/ctl.sock" ] && break; sleep 0.1; done

echo "disk $size, $mib MiB of data; $rounds rounds; $(nproc) CPUs"
for r in $(seq "$rounds"); do
  for n in 1 4; do
    out=$("$fleecectl" -s "$work/ctl.sock" backup --json --connections "$n" \
          --uri "nbd+unix:///?socket=$work/nbd.sock" \
          --output "$work/b$r-$n" 2>/dev/null) || [ $? = 3 ]
    /usr/bin/python3 -c '
import json, sys
m = json.loads(sys.argv[1])
print("round %s connections %s: %.0f MiB copied in %.2f s: %.1f MiB/s" % (
    sys.argv[2], sys.argv[3], m["disks"][0]["bytes-copied"] / 2**20,
    m["seconds"], m["rate"] / 2**20))' "$out" "$r" "$n"
    rm -rf "$work/b$r-$n"
  done
  "$fleecectl" -s "$work/ctl.sock" begin --fresh > /dev/null || [ $? = 3 ]
  t0=$(date +%s.%N)
  qemu-img convert -f raw -O qcow2 \
    "nbd+unix:///snapshot?socket=$work/nbd.sock" "$work/anchor.qcow2"
  t1=$(date +%s.%N)
  sync -f "$work/anchor.qcow2"
  sha256sum "$work/anchor.qcow2" > /dev/null
  t2=$(date +%s.%N)
  "$fleecectl" -s "$work/ctl.sock" end > /dev/null
  rm -f "$work/anchor.qcow2"
  echo "$t0 $t1 $t2 $mib" | awk '{ printf "round %s anchor: qemu-img convert %.2f s (%.1f MiB/s); + sync + sha256sum %.2f s: %.1f MiB/s\n", r, $2 - $1, $4 / ($2 - $1), $3 - $1, $4 / ($3 - $1) }' r="$r"
done
