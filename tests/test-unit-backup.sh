#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# nbdkit-fleece-backup@VM.service: its ExecStart line, taken from the
# unit (the script systemd/nbdkit-fleece-backup), run as systemd would
# with the configuration's keys as the environment, against nbdkit
# started by systemd/nbdkit-fleece-start (DOMAIN= empty: every snapshot
# is crash-consistent):
# - BACKUP_QUIESCE=require (the default): the service fails (exit
#   status not 0, "FAILED" naming the cause) and nothing is recorded;
# - auto: exit 0, a full backup then an incremental, the last line
#   says crash-consistent; BACKUP_METRICS written (result 0);
# - retention: BACKUP_KEEP_CHAINS=1 with BACKUP_ARGS=--full, three
#   runs: only the newest full is left, and it verifies;
# - the VM's nbdkit stopped: the service fails and says so;
# - bad BACKUP_* values: exit 2 naming the key.
source "$srcdir/functions.sh"
source "$srcdir/unit-functions.sh"
requires nbdkit --version
requires qemu-img --version
requires qemu-nbd --version
unit="$abs_top_srcdir/systemd/nbdkit-fleece-backup@.service"
vm=bk1
out=$tmpdir/backups
head -c 4M /dev/urandom > "$tmpdir/disk.img"
base=("DISK=$tmpdir/disk.img" DOMAIN= "NBDKIT_ARGS=fleece-block-size=4K"
      "BACKUP_DIR=$out")
conf "$vm" "${base[@]}"
"$START" "$vm"
cleanup_pid "$(pid_of "$RUNTIME_DIRECTORY/$vm.pid")"

# The unit's ExecStart, made runnable here.
line=$(sed -n 's/^ExecStart=//p' "$unit" |
  sed -e "s|%i|$vm|g" -e "s|/usr/libexec/nbdkit-fleece/|$UNITS/systemd/|")
[ -n "$line" ] || { echo "$0: FAIL: no ExecStart in $unit" >&2; exit 1; }
grep -q '^Type=oneshot$' "$unit"
grep -q "^EnvironmentFile=/etc/nbdkit-fleece/%i.conf$" "$unit"
grep -q "^Requisite=nbdkit-fleece@%i.service$" "$unit"
export FLEECECTL

# service WANT-STATUS: run it; its status must be WANT-STATUS (0, or
# "fail": anything else).
service ()
{
  local st=0
  eval "$line" > "$tmpdir/service.out" 2>&1 || st=$?
  cat "$tmpdir/service.out"
  if [ "$1" = fail ]; then
    [ "$st" != 0 ] || { echo "$0: FAIL: the service succeeded" >&2; exit 1; }
  else
    [ "$st" = "$1" ] || { echo "$0: FAIL: the service exited $st, want $1" >&2; exit 1; }
  fi
}
backups () { ls "$out" | tr '\n' ' '; }

echo "== BACKUP_QUIESCE=require (default): a crash-consistent backup fails"
service fail
grep -q "^nbdkit-fleece-backup: $vm: FAILED: " "$tmpdir/service.out"
[ -z "$(backups)" ] || { echo "$0: FAIL: recorded $(backups)" >&2; exit 1; }

echo "== BACKUP_QUIESCE=auto: kept, crash-consistent; metrics"
conf "$vm" "${base[@]}" BACKUP_QUIESCE=auto "BACKUP_METRICS=$tmpdir/bk.prom"
service 0
tail -n 1 "$tmpdir/service.out" |
  grep -q "^nbdkit-fleece-backup: $vm: backup done, crash-consistent"
grep -q "^nbdkit_fleece_backup_result{vm=\"$vm\"} 0$" "$tmpdir/bk.prom" ||
  { echo "$0: FAIL: metrics: $(cat "$tmpdir/bk.prom")" >&2; exit 1; }
service 0
[ "$(backups)" = "0001-full 0002-incr " ] || { echo "$0: FAIL: $(backups)" >&2; exit 1; }

echo "== retention: BACKUP_KEEP_CHAINS=1, BACKUP_ARGS=--full"
conf "$vm" "${base[@]}" BACKUP_QUIESCE=auto BACKUP_KEEP_CHAINS=1 \
  BACKUP_ARGS=--full
service 0
[ "$(backups)" = "0003-full " ] || { echo "$0: FAIL: $(backups)" >&2; exit 1; }
service 0
[ "$(backups)" = "0004-full " ] || { echo "$0: FAIL: $(backups)" >&2; exit 1; }
"$FLEECECTL" verify --input "$out"

echo "== bad settings"
for kv in BACKUP_QUIESCE=maybe BACKUP_KEEP_CHAINS=0 BACKUP_KEEP_CHAINS=x \
          BACKUP_KEEP_DAYS=-1 BACKUP_DIR=relative; do
  conf "$vm" "${base[@]}" "$kv"
  service 2
  grep -q "^nbdkit-fleece-backup: $vm: .*/$vm.conf: ${kv%%=*}: " "$tmpdir/service.out"
done

echo "== the VM's nbdkit stopped"
conf "$vm" "${base[@]}" BACKUP_QUIESCE=auto
stop_nbdkit "$RUNTIME_DIRECTORY/$vm.pid" TERM
service fail
grep -q "^nbdkit-fleece-backup: $vm: FAILED: fleecectl backup exited" "$tmpdir/service.out"
[ "$(backups)" = "0004-full " ] || { echo "$0: FAIL: $(backups)" >&2; exit 1; }
echo "ok"
