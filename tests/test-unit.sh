#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The systemd unit template systemd/nbdkit-fleece@.service must keep
# working: systemd-analyze verify accepts it without a warning, and its
# ExecStartPre, ExecStart (systemd/nbdkit-fleece-start) and
# ExecStartPost command lines, taken from the file with sed (instance
# name, /run paths substituted for this test's directories, as
# unit-functions.sh sets up), are run through the shell, twice, with
# the environment the configuration file gives:
# - DISK=PATH (a VM of one disk): nbdkit forks once it is listening
#   (Type=forking) and writes the PIDFile; the socket ends up 0660
#   root:libvirt-qemu; the live export serves the disk; the snapshot
#   export exists, and with no such domain its description says
#   crash-consistent and names the domain; the control socket is 0600
#   and answers;
# - DISKS="vda:PATH vdb:PATH" (a VM of two disks): the exports are vda,
#   vdb, snapshot/vda and snapshot/vdb, each live export its own file,
#   snapshot/vdb's description names its disk (2 of 2), and status
#   over the control socket lists both disks; then fleecectl backup
#   through the unit's sockets: full, incremental, and incremental
#   again after a restart (the changed-block maps are in the unit's
#   StateDirectory), verify, and a restore equal to the disks.
source "$srcdir/functions.sh"
source "$srcdir/unit-functions.sh"
requires systemd-analyze --version
requires nbdkit --version
requires nbdinfo --version
requires nbdsh --version
unit="$abs_top_srcdir/systemd/nbdkit-fleece@.service"
inst="fleece-unit-test-$$"

mkdir "$tmpdir/units"
# As installed: the start script where the unit runs it.
sed "s|/usr/libexec/nbdkit-fleece/|$UNITS/systemd/|" "$unit" \
  > "$tmpdir/units/nbdkit-fleece@.service"
ln -s "nbdkit-fleece@.service" "$tmpdir/units/nbdkit-fleece@$inst.service"
out=$(systemd-analyze verify --man=no "$tmpdir/units/nbdkit-fleece@$inst.service" 2>&1)
[ -z "$out" ] || { echo "$0: FAIL: systemd-analyze verify: $out" >&2; exit 1; }

# unit_lines KEY: the KEY= command lines, made runnable here.
unit_lines ()
{
  sed -n "s/^$1=[-+@!]*//p" "$unit" |
    sed -e "s|%i|$inst|g" \
        -e "s|/run/nbdkit-fleece|$RUNTIME_DIRECTORY|g" \
        -e "s|/usr/libexec/nbdkit-fleece/|$UNITS/systemd/|g" -e 's|\$\$|$|g'
}
for key in ExecStartPre ExecStart ExecStartPost; do
  [ -n "$(unit_lines $key)" ] || { echo "$0: FAIL: no $key in $unit" >&2; exit 1; }
done
grep -q '^Type=forking$' "$unit"
grep -q "^PIDFile=/run/nbdkit-fleece/%i.pid$" "$unit"
grep -q '^EnvironmentFile=/etc/nbdkit-fleece/%i.conf$' "$unit"

sock="$tmpdir/run/$inst.sock"
ctl="$tmpdir/run/$inst.ctl"

# start_unit: the unit's start, as systemd runs it, in this environment.
start_unit ()
{
  local line perm
  touch "$sock"                         # a stale socket: ExecStartPre removes it
  while read -r line; do
    echo "ExecStartPre: $line"; eval "$line"
  done < <(unit_lines ExecStartPre)
  line=$(unit_lines ExecStart)
  echo "ExecStart: $line"
  eval "$line"                          # returns once listening (forking)
  pid=$(pid_of "$RUNTIME_DIRECTORY/$inst.pid")
  cleanup_pid "$pid"
  [ -S "$sock" ] || { echo "$0: FAIL: no socket after ExecStart returned" >&2; exit 1; }
  while read -r line; do
    echo "ExecStartPost: $line"; eval "$line"
  done < <(unit_lines ExecStartPost)
  perm=$(stat -c '%a %U %G' "$sock")
  [ "$perm" = "660 root libvirt-qemu" ] ||
    { echo "$0: FAIL: socket is '$perm', want '660 root libvirt-qemu'" >&2; exit 1; }
  echo "socket: $perm"
  # The control socket that docs/deployment.md's backup script uses.
  perm=$(stat -c '%a %U' "$ctl")
  [ "$perm" = "600 root" ] ||
    { echo "$0: FAIL: control socket is '$perm', want '600 root'" >&2; exit 1; }
  "$abs_top_builddir/tools/fleecectl/fleecectl" --socket "$ctl" --json status \
    > "$tmpdir/status.json"
  grep -q '"ok":true' "$tmpdir/status.json" ||
    { echo "$0: FAIL: no status from the control socket $ctl" >&2; exit 1; }
  echo "control socket: $perm, answers status"
}

stop_unit ()
{
  kill "$pid"
  while pid_running "$pid"; do sleep 0.05; done
  forget_pid "$pid"
}

echo "== DISK= (one disk)"
truncate -s 64M "$tmpdir/disk.img"
conf "$inst" "DISK=$tmpdir/disk.img"
start_unit
nbdsh -u "nbd+unix:///?socket=$sock" -c 'h.pwrite(b"unit" * 1024, 0)'
size=$(nbdinfo --size "nbd+unix:///?socket=$sock")
[ "$size" = $(( 64 << 20 )) ] || { echo "$0: FAIL: live size $size" >&2; exit 1; }
cmp -n 4096 <(printf 'unit%.0s' $(seq 1 1024)) "$tmpdir/disk.img"
desc=$($SNAPDESC "nbd+unix:///snapshot?socket=$sock")
echo "snapshot: $desc"
grep -q "crash-consistent: .*'$inst'" <<<"$desc" ||
  { echo "$0: FAIL: unexpected snapshot description" >&2; exit 1; }
stop_unit

echo "== DISKS= (two disks, one snapshot)"
truncate -s 32M "$tmpdir/vda.img"
truncate -s 16M "$tmpdir/vdb.img"
conf "$inst" "DISKS=\"vda:$tmpdir/vda.img vdb:$tmpdir/vdb.img\""
start_unit
grep -q '"disks":\[{"name":"vda".*{"name":"vdb"' "$tmpdir/status.json" ||
  { echo "$0: FAIL: status does not list disks vda and vdb: $(cat "$tmpdir/status.json")" >&2; exit 1; }
exports=$(nbdinfo --list --json "nbd+unix:///?socket=$sock" |
  /usr/bin/python3 -c 'import json, sys
print(" ".join(sorted(e["export-name"] for e in json.load(sys.stdin)["exports"])))')
[ "$exports" = "snapshot/vda snapshot/vdb vda vdb" ] ||
  { echo "$0: FAIL: exports '$exports'" >&2; exit 1; }
echo "exports: $exports"
nbdsh -u "nbd+unix:///vdb?socket=$sock" -c 'h.pwrite(b"vdb!" * 1024, 0)'
cmp -n 4096 <(printf 'vdb!%.0s' $(seq 1 1024)) "$tmpdir/vdb.img"
[ "$(nbdinfo --size "nbd+unix:///vda?socket=$sock")" = $(( 32 << 20 )) ] ||
  { echo "$0: FAIL: vda is not its file" >&2; exit 1; }
desc=$($SNAPDESC "nbd+unix:///snapshot/vdb?socket=$sock")
echo "snapshot/vdb: $desc"
grep -q "disk vdb (2 of 2), .*crash-consistent: .*'$inst'" <<<"$desc" ||
  { echo "$0: FAIL: unexpected snapshot description" >&2; exit 1; }

echo "== fleecectl backup through the unit's sockets (docs/deployment.md, 5)"
F="$abs_top_builddir/tools/fleecectl/fleecectl"
out=$tmpdir/backups
# backup KIND: one backup, crash-consistent here (exit 3: no such
# domain), of the expected kind.
backup ()
{
  local st=0
  "$F" --socket "$ctl" backup --uri "nbd+unix:///?socket=$sock" \
    --output "$out" || st=$?
  [ "$st" = 3 ] || { echo "$0: FAIL: backup exited $st, want 3" >&2; exit 1; }
  ls "$out" | grep -q -- "-$1\$" ||
    { echo "$0: FAIL: no $1 backup in $(ls "$out")" >&2; exit 1; }
}
backup full
nbdsh -u "nbd+unix:///vdb?socket=$sock" -c 'h.pwrite(b"incr" * 1024, 65536)'
backup incr
# The maps outlive a restart of the unit (StateDirectory=).
stop_unit
start_unit
nbdsh -u "nbd+unix:///vda?socket=$sock" -c 'h.pwrite(b"vda2" * 1024, 1 << 20)'
backup incr
[ "$(ls "$out")" = "$(printf '0001-full\n0002-incr\n0003-incr')" ] ||
  { echo "$0: FAIL: backups $(ls "$out" | tr '\n' ' ')" >&2; exit 1; }
"$F" verify --input "$out"
"$F" restore --input "$out" --output "$tmpdir/restored"
cmp "$tmpdir/restored/vda.raw" "$tmpdir/vda.img"
cmp "$tmpdir/restored/vdb.raw" "$tmpdir/vdb.img"
echo "ok: full, incremental, incremental after a restart; restored equal"
stop_unit
