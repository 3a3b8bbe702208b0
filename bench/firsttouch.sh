#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# nbdkit-fleece: where the time of the copy-heavy phase goes.
#
#   bench/firsttouch.sh [SECS]        (default 20)
#
# The full benchmark's copy-heavy regime alone: a SIZE (default 4096)
# MiB random-filled image, page-cached, served by vmdisk under the
# filter with a snapshot held open (fleece-block-size=BLOCK, default
# 16K), and fio's random 4K writes at iodepth 16 for SECS seconds, so
# most writes are first touches of their block.  NOSNAP=1 runs the same
# without a snapshot; AGE=SECS writes to the image for SECS seconds
# before the snapshot is taken; SWITCH=1 takes and drops a snapshot
# during 4 s of writes first, as bench/run.sh does; NBDKIT_ARGS adds server options (--threads N),
# FLEECE_ARGS arguments after the plugin's (another fleece-dir=); READS=N
# ends with N pairs of 5 s reads (1 MiB, iodepth 8, as bench/run.sh's),
# the live export then the snapshot, once the writes are written back.
# It prints, each measured while fio runs:
#   - fio's IOPS, mean and p99, and the filter's phase split (-v);
#   - nbdkit's threads from 2 s to SECS-2 s (/proc/PID/task/*/schedstat):
#     time on a CPU, time runnable but waiting for one, and the rest
#     (asleep: waiting for requests, locks, I/O);
#   - the machine's CPU by command, and nbdkit's by function, inclusive
#     (perf cpu-clock; call graphs by DWARF unwinding);
#   - whether the guest gives freed memory back to its host
#     (virtio-balloon free page reporting, when the kernel shows it;
#     PAGE_REPORTING=off turns it off for the run, see functions.sh).
#
# BUILDDIR as for bench/run.sh; WORKDIR for the image and the store
# (default /var/tmp); OUTDIR for the logs (default a new
# /var/tmp/fleece-firsttouch.XXXXXX).  A measurement, not a test.
set -euo pipefail
export PATH="/usr/sbin:/usr/bin:/sbin:/bin:$PATH"
benchdir=$(cd "$(dirname "$0")" && pwd)
builddir=${BUILDDIR:-$(dirname "$benchdir")}
secs=${1:-20}
size_mib=${SIZE:-4096}
block=${BLOCK:-16K}
[ "$secs" -ge 10 ] || { echo "firsttouch: SECS must be at least 10" >&2; exit 2; }

source "$benchdir/functions.sh"
bench_install linux-perf fio libnbd-bin python3-libnbd nbdkit

VMDISK="$builddir/plugins/vmdisk/.libs/nbdkit-vmdisk-plugin.so"
FLEECE="$builddir/filters/fleece/.libs/nbdkit-fleece-filter.so"
[ -f "$FLEECE" ] || { echo "firsttouch: build first (BUILDDIR=)" >&2; exit 1; }
outdir=${OUTDIR:-$(mktemp -d /var/tmp/fleece-firsttouch.XXXXXX)}
mkdir -p "$outdir"
work=$(mktemp -d "${WORKDIR:-/var/tmp}/fleece-ft-work.XXXXXX")
sock="$work/s.sock"
pids=""
trap 'for p in $pids; do kill $p 2>/dev/null || true; done; rm -rf "$work"
      bench_reporting_restore' EXIT

threads ()                      # TID ON-CPU RUNQUEUE for nbdkit's threads
{
  local t
  for t in /proc/"$server"/task/*; do
    echo "${t##*/} $(cut -d' ' -f1,2 "$t/schedstat" 2>/dev/null)"
  done | sort
}

randwrite ()                    # randwrite NAME SECS [FIO-ARGS...]
{
  local name="$1" secs="$2"
  shift 2
  fio --name="$name" --ioengine=nbd --uri="nbd+unix:///?socket=$sock" \
    --rw=randwrite --bs=4k --iodepth=16 --time_based --runtime="$secs" \
    --size="${size_mib}M" "$@"
}

bench_reporting_off > "$outdir/reporting"  # PAGE_REPORTING=off (functions.sh)
head -c $((size_mib << 20)) /dev/urandom > "$work/disk.img"
sync                            # no writeback left over
cat "$work/disk.img" > /dev/null  # page-cached, as in bench/run.sh

# shellcheck disable=SC2086
nbdkit -f -v -D nbdkit.backend.datapath=0 ${NBDKIT_ARGS:-} -U "$sock" \
  --filter="$FLEECE" \
  "$VMDISK" file="$work/disk.img" fleece-dir="$work" \
  fleece-block-size="$block" ${FLEECE_ARGS:-} 2> "$outdir/server.log" &
server=$!
pids="$server"
while [ ! -S "$sock" ]; do
  kill -0 "$server" || { cat "$outdir/server.log" >&2; exit 1; }
  sleep 0.1
done
# AGE=SECS: random writes to the image first, without a snapshot, as
# bench/run.sh's image has taken them from its earlier phases.
if [ -n "${AGE:-}" ]; then
  randwrite age "$AGE" > /dev/null 2>&1
fi
# SWITCH=1: a snapshot taken and dropped during 4 s of writes first, as
# bench/run.sh does before its write phase (the switch under load).
if [ -n "${SWITCH:-}" ]; then
  randwrite switch 4 > /dev/null 2>&1 &
  pids="$pids $!"
  sleep 1
  /usr/bin/python3 "$benchdir/nbdtool.py" firstbyte \
    "nbd+unix:///snapshot?socket=$sock" > /dev/null
  wait "${pids##* }"
fi
if [ -z "${NOSNAP:-}" ]; then
  /usr/bin/python3 "$benchdir/nbdtool.py" hold \
    "nbd+unix:///snapshot?socket=$sock" "$work/ready" &
  pids="$pids $!"
  while [ ! -f "$work/ready" ]; do sleep 0.1; done
fi

randwrite w "$secs" --output-format=json > "$outdir/fio.json" \
  2> "$outdir/fio.err" &
fio=$!
# The threads' counters at 2 s and SECS-2 s, whatever perf takes.
( sleep 2; threads > "$outdir/threads.0"; sleep $(( secs - 4 ))
  threads > "$outdir/threads.1" ) &
sampler=$!
sleep $(( secs / 2 - 2 ))
perf record -q -a -g -F 499 -e cpu-clock -o "$outdir/perf.all" -- sleep 3 \
  > /dev/null 2>&1
perf record -q -F 299 -e cpu-clock --call-graph dwarf,8192 -p "$server" \
  -o "$outdir/perf.nbdkit" -- sleep 3 > /dev/null 2>&1
wait "$sampler"
wait "$fio"
# READS=N: the snapshot, now mostly in the store, against the live disk.
reads=""
if [ -n "${READS:-}" ] && [ -z "${NOSNAP:-}" ]; then
  sync
  for _ in $(seq 1 "$READS"); do
    reads="$reads$(for e in "" snapshot; do
      fio --name=r --ioengine=nbd --uri="nbd+unix:///$e?socket=$sock" \
        --rw=read --bs=1M --iodepth=8 --time_based --runtime=5 \
        --size="${size_mib}M" --output-format=json |
        /usr/bin/python3 "$benchdir/nbdtool.py" fio /dev/stdin |
        awk '$1 == "read_mibs" { printf " %.0f", $2 }'
    done)
"
  done
fi
kill $pids 2>/dev/null || true
wait 2>/dev/null || true
pids=""

perf_top ()                     # perf_top FILE ARGS...: the first lines
{
  local f="$1"; shift
  perf report -i "$f" --stdio "$@" 2>/dev/null | grep -v '^#' | grep -v '^$'
}

{
  echo "firsttouch: ${size_mib} MiB, fleece-block-size=$block," \
    "$([ -n "${NOSNAP:-}" ] && echo "no snapshot" || echo "snapshot held")," \
    "$secs s of fio randwrite 4K iodepth 16${AGE:+, AGE=$AGE}${SWITCH:+, SWITCH=$SWITCH}${NBDKIT_ARGS:+, $NBDKIT_ARGS}${FLEECE_ARGS:+, $FLEECE_ARGS}"
  /usr/bin/python3 "$benchdir/nbdtool.py" fio "$outdir/fio.json" |
    awk '{ v[$1] = $2 }
         END { printf "fio: %.0f IOPS, mean %.0f us, p99 %.0f us\n",
               v["iops"], v["lat_mean_us"], v["p99_us"] }'
  sed -n 's/.*debug: fleece: generation [0-9]*: \([0-9]* live requests.*\)/phases: \1/p' \
    "$outdir/server.log" | tail -1
  join "$outdir/threads.0" "$outdir/threads.1" | awk -v s="$((secs - 4))" '
    { n++; run += $4 - $2; q += $5 - $3 }
    END { printf "nbdkit threads (%d, over %d s): on a CPU %.2f s, waiting for a CPU %.2f s, asleep %.2f s\n",
          n, s, run / 1e9, q / 1e9, n * s - (run + q) / 1e9 }'
  echo "$(cat "$outdir/reporting") (at the start); now: $(bench_reporting_state)"
  [ -z "$reads" ] || echo "$reads" | awk 'NF == 2 {
    printf "read after the writes: live %d MiB/s, snapshot %d MiB/s, ratio %.3f\n",
           $1, $2, $2 / $1 }'
  echo "-- the machine's CPU by command (3 s, all CPUs):"
  perf_top "$outdir/perf.all" --no-children -g none --sort comm | head -6
  echo "-- nbdkit's CPU by function, inclusive (3 s):"
  perf_top "$outdir/perf.nbdkit" --children -g none --sort sym |
    grep -E '\] (fleece_pwrite|cbw_preserve|copy_data|store_write|disk_pread|disk_pwrite|copy_folio_from_iter_atomic|ext4_da_write_begin|_copy_to_iter|__libc_send|__GI___libc_read|__GI___lll_lock_wait)( |$)'
} | tee "$outdir/firsttouch.txt"
echo "firsttouch: logs in $outdir" >&2
