#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# nbdkit-fleece benchmark: the fleece filter beside nbdkit's file
# plugin, the vmdisk plugin and qemu-storage-daemon's own fleecing, on
# one random-filled raw image over Unix-socket NBD, interleaved
# (round-robin over the systems, every other round in reverse order).
# See bench/README.md.
#
#   bench/run.sh [--quick] [--rounds N] [--only SYSTEM,...] [--threads N]
#
# --threads N: every nbdkit server runs with --threads N (worker threads
# per connection; default nbdkit's own, 16).  The service passes
# 2 per CPU (nbdkit-fleece.conf(5), THREADS).
#
# BUILDDIR=/path  a configured and built tree (default: the source tree)
# OUTDIR=/path    where results.tsv, the logs and report.md go
#                 (default: a new /var/tmp/fleece-bench-results.XXXXXX)
# WORKDIR=/path   where the image and the stores live (default /var/tmp;
#                 needs about 2.5x the image size free)
# STOREDIR=/path  where the stores live instead (every system's: the
#                 filter's fleece-dir and QEMU's scratch file), the
#                 image staying in WORKDIR; for example a tmpfs
# PAGE_REPORTING=off  the guest's free page reporting off for the run,
#                 its free memory touched first (bench/functions.sh)
set -euo pipefail
set -f                          # URIs with '?' are passed unquoted
export PATH="/usr/sbin:/usr/bin:/sbin:/bin:$PATH"
benchdir=$(cd "$(dirname "$0")" && pwd)
srcdir=$(dirname "$benchdir")
builddir=${BUILDDIR:-$srcdir}

quick=0 rounds="" only="" threads=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --rounds) rounds="$2"; shift ;;
    --only) only="$2"; shift ;;
    --threads) threads="$2"; shift ;;
    *) echo "usage: $0 [--quick] [--rounds N] [--only SYSTEM,...] [--threads N]" >&2; exit 2 ;;
  esac
  shift
done

if [ "$quick" = 1 ]; then
  size_mib=512 wsecs=5 rsecs=3 loadsecs=3 earlysecs=1 rounds=${rounds:-1}
else
  size_mib=4096 wsecs=20 rsecs=10 loadsecs=4 earlysecs=5 rounds=${rounds:-2}
fi
size=$((size_mib << 20))

# The systems, in round-robin order (odd rounds; even rounds run them
# in reverse, so that no system always follows the same one: a system's
# run is slowed by what the one before it left behind, measured up to
# 15%, docs/performance.md).  fleece-BS is the filter with a
# snapshot active and fleece-block-size=BS; fleece-16K (the default) is
# system 4.
all_systems="file vmdisk fleece-nosnap fleece-16K qemu-fleece-qcow2 \
qemu-fleece-raw qemu-plain fleece-4K fleece-64K fleece-256K"
systems=${only//,/ }
systems=${systems:-$all_systems}

# ---------------------------------------------------------------- set-up
source "$benchdir/functions.sh"
# qemu-storage-daemon is in qemu-system-common on Debian 12.
bench_install fio qemu-system-common qemu-utils libnbd-bin python3-libnbd nbdkit

VMDISK="$builddir/plugins/vmdisk/.libs/nbdkit-vmdisk-plugin.so"
FLEECE="$builddir/filters/fleece/.libs/nbdkit-fleece-filter.so"
for f in "$VMDISK" "$FLEECE"; do
  if [ ! -f "$f" ]; then
    echo "bench: $f not found: build first, and give BUILDDIR=/path/to/build" >&2
    exit 1
  fi
done

outdir=${OUTDIR:-$(mktemp -d /var/tmp/fleece-bench-results.XXXXXX)}
mkdir -p "$outdir"
work=$(mktemp -d "${WORKDIR:-/var/tmp}/fleece-bench.XXXXXX")
store="$work/store"            # every system's store; emptied each run
[ -n "${STOREDIR:-}" ] && store=$(mktemp -d "$STOREDIR/fleece-bench-store.XXXXXX")
results="$outdir/results.tsv"
: > "$results"
tool="/usr/bin/python3 $benchdir/nbdtool.py"
server_pid="" holder_pid=""

cleanup ()
{
  local p
  for p in $holder_pid $server_pid; do
    kill "$p" 2>/dev/null || true
  done
  for p in $holder_pid $server_pid; do
    while kill -0 "$p" 2>/dev/null; do sleep 0.05; done
  done
  rm -rf "$work" "$store"
  bench_reporting_restore
}
trap cleanup EXIT

img="$work/disk.img"
sock="$work/nbd.sock"

log () { echo "bench: $*" >&2; }

# rec SYSTEM ROUND KEY VALUE
rec () { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >> "$results"; }

now_ms () { echo $(( $(date +%s%N) / 1000000 )); }

{
  echo "date $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "mode $([ "$quick" = 1 ] && echo quick || echo full)"
  echo "image_mib $size_mib"
  echo "write_secs $wsecs"
  echo "read_secs $rsecs"
  echo "early_secs $earlysecs (write_iops_early: mean IOPS of the first seconds, while first touches copy)"
  echo "rounds $rounds"
  echo "nproc $(nproc)"
  echo "mem $(free -m | awk '/^Mem:/ {print $2 " MiB"}')"
  echo "kernel $(uname -r)"
  echo "cpu $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
  echo "nbdkit $(nbdkit --version | head -1)"
  echo "nbdkit_threads ${threads:-16, the nbdkit default}"
  echo "qemu $(qemu-storage-daemon --version | head -1)"
  echo "fio $(fio --version)"
  echo "libnbd $(nbdcopy --version | tail -1)"
  echo "fs $(df -T "$work" | awk 'NR==2 {print $2}')"
  echo "store_fs $(df -T "$(dirname "$store")" | awk 'NR==2 {print $2}')"
  echo "uptime_before $(uptime)"
  bench_reporting_off           # PAGE_REPORTING=off (bench/functions.sh)
} > "$outdir/meta.txt"

log "making a ${size_mib} MiB random image in $work"
head -c "$size" /dev/urandom > "$img"
sync                            # no writeback left for the first system
cat "$img" > /dev/null          # in the page cache for every system

# ---------------------------------------------------------------- servers
wait_socket ()
{
  local i
  for i in $(seq 1 200); do
    [ -S "$sock" ] && return 0
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.05
  done
  echo "bench: the server did not start; its log:" >&2
  cat "$1" >&2
  exit 1
}

# start_server SYSTEM LOG: sets server_pid, live_uri, snap_uri.
start_server ()
{
  local sys="$1" slog="$2" bs
  local nbdkit=(nbdkit -f -v -D nbdkit.backend.datapath=0 -U "$sock"
                ${threads:+--threads "$threads"})
  rm -f "$sock"
  live_uri="nbd+unix:///?socket=$sock" snap_uri=""
  case "$sys" in
    file)          "${nbdkit[@]}" file "$img" 2> "$slog" & ;;
    vmdisk)        "${nbdkit[@]}" "$VMDISK" file="$img" 2> "$slog" & ;;
    fleece-nosnap) "${nbdkit[@]}" --filter="$FLEECE" "$VMDISK" file="$img" \
                     fleece-dir="$store" 2> "$slog" & ;;
    fleece-*)
      bs=${sys#fleece-}
      snap_uri="nbd+unix:///snapshot?socket=$sock"
      "${nbdkit[@]}" --filter="$FLEECE" "$VMDISK" file="$img" \
        fleece-dir="$store" fleece-block-size="$bs" 2> "$slog" & ;;
    qemu-*)
      live_uri="nbd+unix:///live?socket=$sock"
      start_qsd "$sys" "$slog" ;;
  esac
  server_pid=$!
  wait_socket "$slog"
}

start_qsd ()
{
  local sys="$1" slog="$2" scratch="$store/scratch"
  local qsd=(qemu-storage-daemon
             --blockdev "driver=file,node-name=src,filename=$img")
  local nbd=(--nbd-server "addr.type=unix,addr.path=$sock")
  case "$sys" in
    qemu-plain)
      "${qsd[@]}" "${nbd[@]}" \
        --export type=nbd,id=live,node-name=src,name=live,writable=on \
        > "$slog" 2>&1 &
      return ;;
    qemu-fleece-qcow2)
      qemu-img create -q -f qcow2 "$scratch" "$size"
      qsd+=(--blockdev "driver=qcow2,node-name=fleece,file.driver=file,file.filename=$scratch,backing=src") ;;
    qemu-fleece-raw)
      truncate -s "$size" "$scratch"
      qsd+=(--blockdev "driver=file,node-name=fleece,filename=$scratch") ;;
  esac
  snap_uri="nbd+unix:///snapshot?socket=$sock"
  "${qsd[@]}" \
    --blockdev driver=copy-before-write,node-name=cbw,file=src,target=fleece \
    --blockdev driver=snapshot-access,node-name=snap,file=cbw \
    "${nbd[@]}" \
    --export type=nbd,id=live,node-name=cbw,name=live,writable=on \
    --export type=nbd,id=snap,node-name=snap,name=snapshot,writable=off \
    > "$slog" 2>&1 &
}

stop_server ()
{
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}

# ---------------------------------------------------------------- measures
# fio_run SYS ROUND PREFIX FIO-JOB-ARGS...: run fio, record its metrics.
fio_run ()
{
  local sys="$1" round="$2" prefix="$3" json="$outdir/fio-$1-$2-$3.json" k v
  shift 3
  fio --output-format=json --time_based --size="$size" --ioengine=nbd \
      "$@" > "$json" 2> "$json.err" || {
    log "fio failed ($sys $prefix):"; cat "$json.err" >&2; return 1; }
  while read -r k v; do
    rec "$sys" "$round" "${prefix}_$k" "$v"
  done < <($tool fio "$json")
}

randwrite () {   # randwrite URI SECONDS [NAME]
  echo --name="${3:-w}" --uri="$1" --rw=randwrite --bs=4k --iodepth=16 \
       --runtime="$2"
}
seqread () {     # seqread URI SECONDS [NAME]
  echo --name="${3:-r}" --uri="$1" --rw=read --bs=1M --iodepth=8 \
       --runtime="$2"
}

# memory SYS ROUND PREFIX: VmRSS and VmHWM of the server, in KiB.
memory ()
{
  local k
  for k in VmRSS VmHWM; do
    rec "$1" "$2" "$3_${k}_kib" \
      "$(awk -v k="$k:" '$1 == k {print $2}' "/proc/$server_pid/status")"
  done
}

# store_bytes: allocated bytes of the store (nbdkit: the unlinked file
# the server holds open in fleece-dir; QEMU: the scratch file).
store_bytes ()
{
  local fd target total=0
  for fd in $(ls "/proc/$server_pid/fd"); do
    fd="/proc/$server_pid/fd/$fd"
    target=$(readlink "$fd" 2>/dev/null) || continue
    case "$target" in
      "$store/"*)
        total=$((total + $(stat -L -c '%b * %B' "$fd"))) ;;
    esac
  done
  echo "$total"
}

nbdcopy_time ()  # nbdcopy_time SYS ROUND KEY URI
{
  local t0
  t0=$(now_ms)
  nbdcopy "$4" null:
  rec "$1" "$2" "$3" "$(( $(now_ms) - t0 ))"
}

# The switch under load (nbdkit only): a snapshot taken and dropped
# while random writes run; then its log line gives the hold.
switch_under_load ()
{
  local sys="$1" round="$2" fpid ms
  fio --time_based --size="$size" --ioengine=nbd \
      $(randwrite "$live_uri" "$loadsecs") > /dev/null 2>&1 & fpid=$!
  sleep 1
  ms=$($tool firstbyte "$snap_uri")
  wait "$fpid"
  rec "$sys" "$round" create_loaded_ms "$ms"
}

held_ms ()       # held_ms LOG N: the hold of the Nth snapshot created
{
  grep -o 'live writes held [0-9.]* ms' "$1" | sed -n "$2p" |
    awk '{print $4}'
}

# write_phase SYS ROUND: (a), plus the IOPS of its first seconds.
write_phase ()
{
  fio_run "$1" "$2" write $(randwrite "$live_uri" "$wsecs") \
    --log_avg_msec=1000 --write_iops_log="$outdir/iops-$1-$2"
  rec "$1" "$2" write_iops_early \
    "$(awk -F, -v n="$earlysecs" 'NR <= n {s += $2; c++} END {print s / c}' \
       "$outdir/iops-$1-$2"_iops.1.log)"
}

# run_plain SYS ROUND: a system without a snapshot.
run_plain ()
{
  local sys="$1" round="$2" slog="$outdir/server-$1-$2.log"
  start_server "$sys" "$slog"
  memory "$sys" "$round" start
  fio_run "$sys" "$round" read $(seqread "$live_uri" "$rsecs")
  write_phase "$sys" "$round"
  nbdcopy_time "$sys" "$round" nbdcopy_ms "$live_uri"
  memory "$sys" "$round" end
  stop_server
}

# run_snapshot SYS ROUND: a system with a fresh snapshot.
run_snapshot ()
{
  local sys="$1" round="$2" slog="$outdir/server-$1-$2.log" ready
  local nth=1 preserved
  ready="$work/holder.ready"
  start_server "$sys" "$slog"
  memory "$sys" "$round" start
  case "$sys" in
    fleece-*) switch_under_load "$sys" "$round"; nth=2 ;;
  esac
  # The snapshot the workloads use, held open until the end.
  rm -f "$ready"
  $tool hold "$snap_uri" "$ready" & holder_pid=$!
  while [ ! -f "$ready" ]; do
    kill -0 "$holder_pid" || { log "holder failed"; exit 1; }
    sleep 0.05
  done
  rec "$sys" "$round" create_idle_ms "$(cat "$ready")"
  $tool spotcheck "$live_uri" "$snap_uri" $(( size / 2 )) >&2
  fio_run "$sys" "$round" fresh $(seqread "$snap_uri" "$rsecs")
  write_phase "$sys" "$round"
  fio_run "$sys" "$round" after $(seqread "$snap_uri" "$rsecs")
  fio_run "$sys" "$round" conc $(randwrite "$live_uri" "$rsecs") \
    $(seqread "$snap_uri" "$rsecs")
  nbdcopy_time "$sys" "$round" nbdcopy_ms "$snap_uri"
  memory "$sys" "$round" end
  rec "$sys" "$round" store_alloc_bytes "$(store_bytes)"
  kill "$holder_pid"; wait "$holder_pid" 2>/dev/null || true; holder_pid=""
  case "$sys" in
    fleece-*)
      local t
      for t in $(seq 1 100); do
        grep -q "generation $nth ended" "$slog" && break
        sleep 0.05
      done
      preserved=$(grep -o "generation $nth ended: [0-9]* blocks preserved" \
                    "$slog" | awk '{print $4}')
      rec "$sys" "$round" copied_bytes \
        "$(( preserved * $(numfmt --from=iec "${sys#fleece-}") ))"
      [ "$nth" = 2 ] &&
        rec "$sys" "$round" held_loaded_ms "$(held_ms "$slog" 1)"
      rec "$sys" "$round" held_idle_ms "$(held_ms "$slog" "$nth")" ;;
  esac
  stop_server
  case "$sys" in
    qemu-*)
      # Data the copy-before-write put in the scratch (its own layer;
      # read once the daemon has flushed the qcow2 metadata).
      rec "$sys" "$round" copied_bytes "$(qemu-img map --output=json \
        "$store/scratch" | /usr/bin/python3 -c '
import json, sys
print(sum(e["length"] for e in json.load(sys.stdin)
          if e["data"] and e.get("depth", 0) == 0))')" ;;
  esac
}

# ---------------------------------------------------------------- main
reversed=$(printf '%s\n' $systems | tac | tr '\n' ' ')
for round in $(seq 1 "$rounds"); do
  order=$systems
  [ $((round % 2)) = 0 ] && order=$reversed
  for sys in $order; do
    log "round $round: $sys"
    rm -rf "$store"; mkdir "$store"
    case "$sys" in
      file|vmdisk|fleece-nosnap|qemu-plain) run_plain "$sys" "$round" ;;
      *) run_snapshot "$sys" "$round" ;;
    esac
    sync                        # the next system starts with no dirty data
  done
done
{ echo "uptime_after $(uptime)"; bench_reporting_state | sed 's/^/after_/'; } >> "$outdir/meta.txt"

/usr/bin/python3 "$benchdir/report.py" "$outdir" | tee "$outdir/report.txt"
/usr/bin/python3 "$benchdir/report.py" --markdown "$outdir" > "$outdir/report.md"
log "results in $outdir (results.tsv, report.md, server and fio logs)"
