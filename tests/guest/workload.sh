#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# The test guest's workload (busybox sh, runs inside the guest).
#
# Usage (through guest-exec):
#   /workload.sh start DIR [DIR2]   start the writers in the background,
#                            return (with DIR2: also the commit writer)
#   /workload.sh status      print "files=N records=N" (from /run
#                            counters), and " commits=N" once the commit
#                            writer has committed
#   /workload.sh stop        stop the writers and wait for them
#
# DIR is a mounted ext4 filesystem.  The writers:
#   files: DIR/files/fNN (64 slots, rewritten in turn).  Each file is one
#     header line "FLEECE-FILE SEQ SIZE SHA256" and SIZE bytes of random
#     payload whose sha256 is SHA256.  Written to DIR/files/.tmp-fNN,
#     fsynced, then renamed over fNN: a file under its final name is
#     always complete; a .tmp- file may be partial and is ignored.
#   log: DIR/log, append-only records "SEQ|T_NS|PAYLOAD|MD5" where T_NS is
#     CLOCK_MONOTONIC in ns (from /proc/timer_list: busybox date has no
#     %N), PAYLOAD is 32 random hex digits and MD5 is md5("SEQ|T_NS|PAYLOAD").
#     Each record is one write(2) followed by fsync(2), and T_NS is read
#     before the write, so while the filesystem is frozen the writer
#     blocks and the next record's timestamp shows the stall: the largest
#     gap between consecutive records is the freeze window as the guest
#     saw it.
#   commits (only with DIR2, a second disk's ext4): DIR2/data/cSEQ-SHA256
#     is SEQ % 16 + 1 half-KiB of random payload whose sha256 is SHA256
#     (SEQ: six digits); it is fsynced (and its directory), and only then
#     is the commit record "SEQ|NAME|SIZE|MD5" appended to DIR/commits
#     (NAME: cSEQ-SHA256, MD5: md5("SEQ|NAME|SIZE")) and fsynced.  So at
#     any one instant of both disks, every record names a complete file
#     and the only file without a record is the next one (SEQ = last
#     record + 1): a backup whose two disks come from two instants shows
#     a record without its file or files beyond the next one.  Files are
#     never removed: 1-8 KiB a record, the disk lasts hours of TCG.
#   A failed fsync (the disk returned an error) is handled as a careful
#   application must: a file is not renamed into place, and the log is
#   written again whole and renamed into place (save_log).
# verify-backup.sh checks them.  The writers never stop on their own;
# errors go to /run/workload.out.
set -u
run=/run/workload

now_ns ()
{
  # Third line of /proc/timer_list: "now at N nsecs".
  { read -r _l; read -r _l; read -r _l; } < /proc/timer_list
  _l=${_l#now at }
  echo "${_l% nsecs}"
}

files_loop ()
{
  dir=$1/files seq=0
  mkdir -p "$dir"
  while :; do
    seq=$((seq + 1))
    slot=$(printf 'f%02d' $((seq % 64)))
    size=$((4096 * (1 + seq % 16) + seq % 4093))
    head -c "$size" /dev/urandom > "$run.payload"
    sum=$(sha256sum < "$run.payload")
    { echo "FLEECE-FILE $seq $size ${sum%% *}"; cat "$run.payload"; } \
      > "$dir/.tmp-$slot"
    # A failed fsync means the data may not be on the disk: never
    # rename such a file into place.
    sync "$dir/.tmp-$slot" || { echo "workload: file $seq not saved"; continue; }
    mv -f "$dir/.tmp-$slot" "$dir/$slot"
    echo "$seq" > "$run.files"
  done
}

# save_log LOG: after a failed fsync of LOG (a disk error: its pages
# may never reach the disk, though the page cache holds them), write
# the whole log again to a new file and rename it into place, until
# that succeeds.
save_log ()
{
  echo "workload: fsync of $1 failed; saving the whole log again"
  until cp "$1" "$1.tmp" && sync "$1.tmp" && mv -f "$1.tmp" "$1"; do
    sleep 0.2
  done
}

log_loop ()
{
  log=$1/log seq=0
  [ -s "$log" ] && seq=$(tail -n 1 "$log" | cut -d'|' -f1)
  while :; do
    seq=$((seq + 1))
    t=$(now_ns)
    p=$(head -c 16 /dev/urandom | md5sum)
    rec="$seq|$t|${p%% *}"
    m=$(printf '%s' "$rec" | md5sum)
    echo "$rec|${m%% *}" >> "$log"
    sync "$log" || save_log "$log"
    echo "$seq" > "$run.records"
  done
}

# commit_loop DIR DIR2: the data file on DIR2, then its record on DIR.
# A data file whose fsync failed is removed and written again (same SEQ).
commit_loop ()
{
  log=$1/commits dir=$2/data seq=0
  mkdir -p "$dir"
  [ -s "$log" ] && seq=$(tail -n 1 "$log" | cut -d'|' -f1)
  while :; do
    seq=$((seq + 1))
    size=$((512 * (1 + seq % 16)))
    head -c "$size" /dev/urandom > "$run.commit"
    sum=$(sha256sum < "$run.commit")
    name=$(printf 'c%06d-%s' "$seq" "${sum%% *}")
    if ! { cat "$run.commit" > "$dir/$name" && sync "$dir/$name" && sync "$dir"; }; then
      echo "workload: data file $seq not saved; again"
      rm -f "$dir/$name"
      seq=$((seq - 1))
      continue
    fi
    rec="$seq|$name|$size"
    m=$(printf '%s' "$rec" | md5sum)
    echo "$rec|${m%% *}" >> "$log"
    sync "$log" || save_log "$log"
    echo "$seq" > "$run.commits"
  done
}

case "${1:-}" in
  start)
    [ -d "${2:-}" ] || { echo "workload: usage: $0 start DIR [DIR2]" >&2; exit 2; }
    [ -s "$run.pids" ] && { echo "workload: already running" >&2; exit 1; }
    : > "$run.pids"
    setsid "$0" files-loop "$2" < /dev/null >> "$run.out" 2>&1 &
    echo $! >> "$run.pids"
    setsid "$0" log-loop "$2" < /dev/null >> "$run.out" 2>&1 &
    echo $! >> "$run.pids"
    if [ -n "${3:-}" ]; then
      [ -d "$3" ] || { echo "workload: no directory $3" >&2; exit 2; }
      setsid "$0" commit-loop "$2" "$3" < /dev/null >> "$run.out" 2>&1 &
      echo $! >> "$run.pids"
    fi
    echo "workload: started in $2${3:+ (data files in $3)}"
    ;;
  files-loop) files_loop "$2" ;;
  log-loop) log_loop "$2" ;;
  commit-loop) commit_loop "$2" "$3" ;;
  status)
    c=
    [ -s "$run.commits" ] && c=" commits=$(cat "$run.commits")"
    echo "files=$(cat "$run.files" 2>/dev/null || echo 0)" \
         "records=$(cat "$run.records" 2>/dev/null || echo 0)$c"
    ;;
  stop)
    [ -s "$run.pids" ] || { echo "workload: not running" >&2; exit 1; }
    pids=$(cat "$run.pids")
    kill $pids
    for pid in $pids; do
      i=0
      while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do
        sleep 0.1
        i=$((i + 1))
      done
    done
    rm -f "$run.pids"
    echo "workload: stopped"
    ;;
  *) echo "workload: usage: $0 start DIR [DIR2] | status | stop" >&2; exit 2 ;;
esac
