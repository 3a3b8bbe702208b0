#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# systemd/nbdkit-fleece-start, the nbdkit command line of
# nbdkit-fleece@VM.service built from VM's configuration file
# (nbdkit-fleece.conf(5)), printed by NBDKIT_FLEECE_DRY_RUN=1:
# - the defaults for DISK= (domain = the VM, control socket, changed-
#   block maps, the crash marker's state-dir, all under the unit's
#   directories, 2 worker threads per CPU) and every key's effect on
#   the line, each checked as the whole line;
# - every bad setting (none or both of DISK/DISKS, a missing image, a
#   word of DISKS that is not NAME:PATH, yes/no keys, CONTROL=no with
#   its group or mode, FLEECE_DIR not a directory, THREADS not from 1
#   to 1024, NBDKIT_ARGS words, an
#   unknown key, no file, a bad VM name): exit 2 and one line naming
#   the key, the file and the fix;
# - a real start with FLEECE_MAX_SIZE=, CONTROL=no and THREADS=2: the filter got
#   the cap (status), and no control socket exists.
source "$srcdir/functions.sh"
source "$srcdir/unit-functions.sh"
requires nbdkit --version
requires nbdsh --version

truncate -s 8M "$tmpdir/a.img" "$tmpdir/b.img"
mkdir "$tmpdir/store"
run=$RUNTIME_DIRECTORY etc=$CONFIGURATION_DIRECTORY lib=$STATE_DIRECTORY

# want VM EXPECTED-WORDS...: the dry run's line is exactly this, with
# THREADS (default 2 per CPU) worker threads.
want ()
{
  local vm="$1" got exp
  shift
  got=$(NBDKIT_FLEECE_DRY_RUN=1 "$START" "$vm" | tr '\n' ' ')
  exp="$NBDKIT --pidfile=$run/$vm.pid --unix=$run/$vm.sock"
  exp+=" --threads=${THREADS:-$(( 2 * $(nproc) ))} --filter=fleece vmdisk $* "
  [ "$got" = "$exp" ] ||
    { echo "$0: FAIL: command line:"$'\n'"  got  $got"$'\n'"  want $exp" >&2; exit 1; }
  echo "ok: $got"
}

conf vm1 "DISK=$tmpdir/a.img"
want vm1 "file=$tmpdir/a.img" domain=vm1 uri=qemu:///system \
  "state-dir=$run/vmdisk-state" "control=$run/vm1.ctl" "cbt-dir=$lib/vm1.cbt"
conf vm2 "DISKS=\"vda:$tmpdir/a.img vdb:$tmpdir/b.img\"" DOMAIN=guest2 \
  LIBVIRT_URI=qemu+unix:///system CONTROL_GROUP=backup CONTROL_MODE=0660 \
  SNAPSHOT_ALLOW_USER=backup SNAPSHOT_ALLOW_GROUP=disk \
  "FLEECE_DIR=$tmpdir/store" FLEECE_MAX_SIZE=1G CBT=no THREADS=3 \
  "NBDKIT_ARGS=fleece-block-size=64K quiesce=require" \
  BACKUP_DIR=/srv/b BACKUP_QUIESCE=auto BACKUP_KEEP_CHAINS=3 \
  BACKUP_KEEP_DAYS=7 BACKUP_METRICS=/x.prom BACKUP_ARGS=--full
want vm2 "disk=vda:$tmpdir/a.img" "disk=vdb:$tmpdir/b.img" domain=guest2 \
  uri=qemu+unix:///system "state-dir=$run/vmdisk-state" "control=$run/vm2.ctl" \
  control-group=backup control-mode=0660 snapshot-allow-user=backup \
  snapshot-allow-group=disk "fleece-dir=$tmpdir/store" fleece-max-size=1G \
  fleece-block-size=64K quiesce=require
conf vm3 "DISK=$tmpdir/a.img" DOMAIN= CONTROL=no CBT=yes
want vm3 "file=$tmpdir/a.img" "state-dir=$run/vmdisk-state" "cbt-dir=$lib/vm3.cbt"

# bad VM KEY-REGEX: exit 2, one line naming the file and the key.
bad ()
{
  local vm="$1" re="$2" st=0 out
  out=$(NBDKIT_FLEECE_DRY_RUN=1 "$START" "$vm" 2>&1) || st=$?
  [ "$st" = 2 ] || { echo "$0: FAIL: exit $st for /$re/: $out" >&2; exit 1; }
  grep -Eq -- "^nbdkit-fleece-start: $etc/$vm.conf: $re" <<<"$out" ||
    { echo "$0: FAIL: message '$out' does not match /$re/" >&2; exit 1; }
  [ "$(wc -l <<<"$out")" = 1 ] || { echo "$0: FAIL: not one line: $out" >&2; exit 1; }
  echo "ok: $out"
}
conf bad1 DOMAIN=x
bad bad1 'DISK or DISKS: neither is set'
conf bad1 "DISK=$tmpdir/a.img" "DISKS=vda:$tmpdir/a.img"
bad bad1 'DISK and DISKS: both are set'
conf bad1 "DISK=$tmpdir/none.img"
bad bad1 "DISK: $tmpdir/none.img does not exist"
conf bad1 "DISKS=$tmpdir/a.img"
bad bad1 "DISKS: '$tmpdir/a.img' is not NAME:PATH"
conf bad1 "DISKS=vda:$tmpdir/a.img vdb:"
bad bad1 "DISKS: 'vdb:' is not NAME:PATH"
conf bad1 "DISKS=vda:$tmpdir/none.img"
bad bad1 "DISKS: $tmpdir/none.img \\(disk vda\\) does not exist"
conf bad1 "DISK=$tmpdir/a.img" CONTROL=maybe
bad bad1 "CONTROL: 'maybe' is not yes or no"
conf bad1 "DISK=$tmpdir/a.img" CBT=1
bad bad1 "CBT: '1' is not yes or no"
conf bad1 "DISK=$tmpdir/a.img" CONTROL=no CONTROL_MODE=0660
bad bad1 'CONTROL: CONTROL=no, but CONTROL_GROUP or CONTROL_MODE is set'
conf bad1 "DISK=$tmpdir/a.img" "FLEECE_DIR=$tmpdir/a.img"
bad bad1 "FLEECE_DIR: $tmpdir/a.img is not a directory"
for t in 0 07 x 1025 -1; do
  conf bad1 "DISK=$tmpdir/a.img" "THREADS=$t"
  bad bad1 "THREADS: '$t' is not a whole number from 1 to 1024"
done
conf bad1 "DISK=$tmpdir/a.img" "NBDKIT_ARGS=-v"
bad bad1 "NBDKIT_ARGS: '-v' is not KEY=VALUE"
conf bad1 "DISK=$tmpdir/a.img" "FLEECE_MAX_SIZ=1G"
bad bad1 'FLEECE_MAX_SIZ: unknown key \(the keys are: DISK DISKS '
bad nosuchvm '\(file\): cannot read it'
expect_fail_msg '^usage: nbdkit-fleece-start VM' "$START" ../etc/passwd
expect_fail_msg '^usage: nbdkit-fleece-start VM' "$START"

echo "== a real start: FLEECE_MAX_SIZE=, CONTROL=no"
# Data, not a hole: the filter copies only blocks that hold data.
head -c 4M /dev/urandom > "$tmpdir/c.img"
conf vm4 "DISK=$tmpdir/c.img" DOMAIN= CONTROL=no FLEECE_MAX_SIZE=3M THREADS=2 \
  "NBDKIT_ARGS=fleece-block-size=4K"
"$START" vm4
pid=$(pid_of "$run/vm4.pid")
cleanup_pid "$pid"
[ ! -e "$run/vm4.ctl" ] || { echo "$0: FAIL: CONTROL=no made $run/vm4.ctl" >&2; exit 1; }
# The cap is the filter's: 3 MiB of a 4 MiB write cannot be preserved.
PATH=/usr/bin:$PATH nbdsh -u "nbd+unix:///snapshot?socket=$run/vm4.sock" -c '
h.pread(512, 0)
w = nbd.NBD(); w.connect_uri("nbd+unix:///?socket='"$run"'/vm4.sock")
w.pwrite(b"x" * (4 << 20), 0)
try:
    h.pread(4 << 20, 0)
    raise SystemExit("the snapshot read past a full store")
except nbd.Error as e:
    print("snapshot broken as the cap says:", e.string)'
echo "ok: the filter runs with the configuration's cap, no control socket"

echo "== systemd/vm.conf.example: every key known, each line a valid setting"
# Uncommented, with this test's disks and store, it must start.
sed -e 's/^#\([A-Z_]*=\)/\1/' \
    -e "s|^DISKS=.*|DISKS=\"vda:$tmpdir/a.img vdb:$tmpdir/b.img\"|" \
    -e "s|^FLEECE_DIR=.*|FLEECE_DIR=$tmpdir/store|" \
    "$abs_top_srcdir/systemd/vm.conf.example" > "$etc/ex.conf"
keys=$(sed -n 's/^\([A-Z_]*\)=.*/\1/p' "$etc/ex.conf" | sort | tr '\n' ' ')
want_keys=$(tr ' \n' '\n\n' <<<"$conf_keys" | grep . | sort | tr '\n' ' ')
[ "$keys" = "$want_keys" ] ||
  { echo "$0: FAIL: the example's keys: $keys, want $want_keys" >&2; exit 1; }
# DISK and DISKS exclude each other: the example sets DISKS.
mapfile -t lines < <(grep '^[A-Z]' "$etc/ex.conf" | grep -v '^DISK=')
conf ex "${lines[@]}"
NBDKIT_FLEECE_DRY_RUN=1 "$START" ex | grep -qx "control-group=backup"
echo "ok: the example's $(wc -w <<<"$keys") keys"

echo "== docs/deployment.md, section 4: its vm1.conf"
sed -n "/^cat > \/etc\/nbdkit-fleece\/vm1.conf <<'EOF'$/,/^EOF$/p" \
  "$abs_top_srcdir/docs/deployment.md" | sed '1d;$d' |
  sed -e "s|/var/lib/libvirt/images/vm1-\(vd.\).img|$tmpdir/\1.img|g" \
  > "$tmpdir/doc.conf"
grep -q '^DISKS=' "$tmpdir/doc.conf" ||
  { echo "$0: FAIL: no vm1.conf in docs/deployment.md" >&2; exit 1; }
cp "$tmpdir/a.img" "$tmpdir/vda.img"; cp "$tmpdir/b.img" "$tmpdir/vdb.img"
mapfile -t lines < "$tmpdir/doc.conf"
conf vm1 "${lines[@]}"
NBDKIT_FLEECE_DRY_RUN=1 "$START" vm1 | grep -qx "fleece-max-size=20G"
# Its BACKUP_* keys pass the backup script's checks: it gets as far as
# fleecectl, which finds no server.
out=$(BACKUP_DIR=$tmpdir/doc-backups "$BACKUP" vm1 2>&1) && exit 1
grep -q "^nbdkit-fleece-backup: vm1: FAILED: fleecectl backup exited 2" <<<"$out" ||
  { echo "$0: FAIL: backup with the documented keys: $out" >&2; exit 1; }
echo "ok: the documented vm1.conf is valid"
