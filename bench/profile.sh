#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# nbdkit-fleece: where the time of a live write goes.
#
#   bench/profile.sh [callgrind|perf|all]      (default all)
#
# callgrind: instruction counts (user space only, repeatable on a
#   noisy machine).  nbdkit runs under valgrind; a client makes N 4 KiB
#   writes, one per 64 KiB block, in a fixed order.  Each configuration
#   runs with 0 and N writes (and 2N for the snapshot: the second pass
#   rewrites blocks already preserved), so the difference divided by N
#   is the cost of one write without start-up and connection costs.
# perf: cpu-clock samples, kernel included (this machine's perf has no
#   hardware counters), of nbdkit with a fresh snapshot on a 4 GiB
#   image during the first seconds of random 4 KiB writes, iodepth 16
#   (the copy-heavy phase, where most writes are first touches).
#
# BUILDDIR as for bench/run.sh; OUTDIR for the reports (default a new
# /var/tmp/fleece-profile.XXXXXX).
set -euo pipefail
set -f
export PATH="/usr/sbin:/usr/bin:/sbin:/bin:$PATH"
benchdir=$(cd "$(dirname "$0")" && pwd)
builddir=${BUILDDIR:-$(dirname "$benchdir")}
what=${1:-all}
N=1024

source "$benchdir/functions.sh"
bench_install valgrind linux-perf fio libnbd-bin python3-libnbd nbdkit

VMDISK="$builddir/plugins/vmdisk/.libs/nbdkit-vmdisk-plugin.so"
FLEECE="$builddir/filters/fleece/.libs/nbdkit-fleece-filter.so"
[ -f "$FLEECE" ] || { echo "profile: build first (BUILDDIR=)" >&2; exit 1; }
outdir=${OUTDIR:-$(mktemp -d /var/tmp/fleece-profile.XXXXXX)}
mkdir -p "$outdir"
work=$(mktemp -d /var/tmp/fleece-prof-work.XXXXXX)
sock="$work/s.sock"
tool="/usr/bin/python3 $benchdir/nbdtool.py"
pids=""
trap 'for p in $pids; do kill $p 2>/dev/null || true; done; rm -rf "$work"' EXIT

start ()                        # start WRAPPER... -- NBDKIT-ARGS...
{
  rm -f "$sock"
  "$@" > "$work/server.log" 2>&1 &
  server=$!
  pids="$pids $server"
  while [ ! -S "$sock" ]; do
    kill -0 "$server" || { cat "$work/server.log" >&2; exit 1; }
    sleep 0.1
  done
}

stop ()
{
  kill "$server"
  wait "$server" 2>/dev/null || true
}

config_args ()                  # config_args NAME: the nbdkit arguments
{
  case "$1" in
    file)   echo file "$img" ;;
    vmdisk) echo "$VMDISK" file="$img" ;;
    fleece*) echo --filter="$FLEECE" "$VMDISK" file="$img" fleece-dir="$work" ;;
  esac
}

# callgrind_run NAME PASSES: total Ir of nbdkit for PASSES x N writes.
callgrind_run ()
{
  local name="$1" passes="$2" out="$outdir/callgrind.$1.$2" hpid=""
  start valgrind --tool=callgrind --callgrind-out-file="$out" \
    nbdkit -f -U "$sock" $(config_args "$name")
  if [ "$name" = fleece-snap ]; then
    $tool hold "nbd+unix:///snapshot?socket=$sock" "$work/ready" & hpid=$!
    while [ ! -f "$work/ready" ]; do sleep 0.1; done
    rm -f "$work/ready"
  fi
  [ "$passes" = 0 ] || $tool writes "nbd+unix:///?socket=$sock" "$N" "$passes"
  [ -z "$hpid" ] || { kill "$hpid"; wait "$hpid" 2>/dev/null || true; }
  stop
  callgrind_annotate "$out" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}'
}

do_callgrind ()
{
  local name p ir0 ir1 ir2
  img="$work/small.img"
  head -c $((N * 65536)) /dev/urandom > "$img"
  {
    echo "callgrind: instructions per 4 KiB write (N=$N, one per 64K block)"
    for name in file vmdisk fleece-nosnap fleece-snap; do
      ir0=$(callgrind_run "$name" 0)
      ir1=$(callgrind_run "$name" 1)
      printf '%-14s first write to a block: %8d Ir\n' "$name" \
        $(( (ir1 - ir0) / N ))
      if [ "$name" = fleece-snap ]; then
        ir2=$(callgrind_run "$name" 2)
        printf '%-14s block already copied:   %8d Ir\n' "$name" \
          $(( (ir2 - ir1) / N ))
      fi
    done
    echo
    echo "fleece-snap, one pass (first touches): the filter's functions,"
    echo "inclusive (the total includes nbdkit's start-up and dlopen):"
    callgrind_annotate --inclusive=yes "$outdir/callgrind.fleece-snap.1" \
      2>/dev/null | grep -E 'TOTALS|fleece/' | head -25
  } | tee "$outdir/callgrind.txt"
}

do_perf ()
{
  local fpid hpid
  # Big enough that the 4 s sampled are all in the copy-heavy phase
  # (most writes are first touches of their 64K block).
  img="$work/big.img"
  head -c $((4096 << 20)) /dev/urandom > "$img"
  sync
  start nbdkit -f -U "$sock" $(config_args fleece-snap)
  $tool hold "nbd+unix:///snapshot?socket=$sock" "$work/ready" & hpid=$!
  while [ ! -f "$work/ready" ]; do sleep 0.1; done
  fio --name=w --ioengine=nbd --uri="nbd+unix:///?socket=$sock" \
      --rw=randwrite --bs=4k --iodepth=16 --time_based --runtime=6 \
      --size=4G > /dev/null 2>&1 & fpid=$!
  sleep 0.5
  perf record -q -e cpu-clock -F 499 --call-graph dwarf,16384 \
    -p "$server" -o "$outdir/perf.data" -- sleep 4 > /dev/null 2>&1
  wait "$fpid"
  kill "$hpid"; wait "$hpid" 2>/dev/null || true
  stop
  {
    echo "perf cpu-clock, nbdkit + fleece with a snapshot, fio randwrite 4K qd16"
    echo "-- by object (self):"
    perf report -i "$outdir/perf.data" --stdio --no-children -g none \
      --sort dso 2>/dev/null | grep -v '^#' | grep -v '^$' | head -10
    echo "-- by symbol (self):"
    perf report -i "$outdir/perf.data" --stdio --no-children -g none \
      --sort sym 2>/dev/null | grep -v '^#' | grep -v '^$' | head -25
    echo "-- by symbol, inclusive of callees (dwarf unwinding):"
    perf report -i "$outdir/perf.data" --stdio --children -g none \
      --sort sym 2>/dev/null | grep -v '^#' | grep -v '^$' | head -40
  } | tee "$outdir/perf.txt"
}

case "$what" in
  callgrind) do_callgrind ;;
  perf) do_perf ;;
  all) do_callgrind; do_perf ;;
  *) echo "usage: $0 [callgrind|perf|all]" >&2; exit 2 ;;
esac
echo "profile: reports in $outdir" >&2
