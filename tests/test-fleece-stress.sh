#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test-fleece-stress.sh: run the concurrency stress test
# (test-fleece-stress.c: several live writers, several snapshot
# readers, many generations, everything checked by content) with 4K
# fleece blocks so that concurrent requests collide on blocks:
#   1. over nbdkit's memory plugin, 16 MiB;
#   2. the same with -D fleece.cbw_delay_ms=1, which widens the window
#      between reading a block's old data and storing it;
#   3. over the vmdisk plugin on a sparse file, fewer generations;
#   4. a store capped at a quarter of the disk, under both failure
#      policies: on-cbw-error=fail-write (live requests are refused with
#      ENOSPC once it is full; a refused one must not reach the plugin,
#      and the snapshot must stay exact) and break-snapshot (every
#      generation breaks; reads then fail with EIO, and every read that
#      succeeds must still be exact).
# FLEECE_STRESS_GENERATIONS=N makes the runs longer (soak).
# Sensitivity was checked on copies of the filter with one mechanism
# broken each: no read hold, the write passed down before the copy, a
# preserved block copied again, no wait for another writer's copy, a
# block marked preserved before its store write: every one fails here
# (most within the first generations).

source "$srcdir/functions.sh"
requires nbdkit --version
stress="$abs_builddir/test-fleece-stress"
[ -x "$stress" ] || { echo "$0: FAIL: $stress not built" >&2; exit 1; }

echo "== memory, 4K blocks"
nbdkit -U - --filter="$FLEECE" memory 16M fleece-block-size=4096 \
  --run "'$stress' \"\$unixsocket\" 4096"

echo "== memory, 4K blocks, -D fleece.cbw_delay_ms=1"
nbdkit -U - -D fleece.cbw_delay_ms=1 --filter="$FLEECE" \
  memory 16M fleece-block-size=4096 \
  --run "'$stress' \"\$unixsocket\" 4096"

echo "== vmdisk on a file, 4K blocks"
truncate -s 16M "$tmpdir/disk.img"
FLEECE_STRESS_GENERATIONS=${FLEECE_STRESS_GENERATIONS:-5} \
nbdkit -U - --filter="$FLEECE" "$VMDISK" file="$tmpdir/disk.img" \
  fleece-block-size=4096 \
  --run "'$stress' \"\$unixsocket\" 4096"

for policy in fail-write:refused break-snapshot:broken; do
  echo "== memory, 4K blocks, store capped at 4M, on-cbw-error=${policy%%:*}"
  FLEECE_STRESS_EXPECT=${policy##*:} \
  nbdkit -U - -D fleece.cbw_delay_ms=1 --filter="$FLEECE" \
    memory 16M fleece-block-size=4096 fleece-max-size=4M \
    on-cbw-error="${policy%%:*}" \
    --run "'$stress' \"\$unixsocket\" 4096" 2> "$tmpdir/log" ||
    { tail -n 20 "$tmpdir/log" >&2; exit 1; }
done
