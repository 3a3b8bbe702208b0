#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The systemd unit template docs/nbdkit-fleece@.service must keep
# working: systemd-analyze verify accepts it without a warning, and its
# ExecStartPre, ExecStart and ExecStartPost command lines, taken from
# the file with sed (instance name, ${DISK}, /run paths and the
# installed nbdkit/plugin/filter names substituted for this build), are
# run here: nbdkit forks once it is listening (Type=forking) and writes
# the PIDFile; the socket ends up 0660 root:libvirt-qemu; the live
# export serves the disk; the snapshot export exists, and with no such
# domain its description says crash-consistent and names the domain;
# the control socket is 0600 and answers.
source "$srcdir/functions.sh"
requires systemd-analyze --version
requires nbdkit --version
requires nbdinfo --version
requires nbdsh --version
unit="$abs_top_srcdir/docs/nbdkit-fleece@.service"
inst="fleece-unit-test-$$"

mkdir "$tmpdir/units"
cp "$unit" "$tmpdir/units/"
ln -s "nbdkit-fleece@.service" "$tmpdir/units/nbdkit-fleece@$inst.service"
out=$(systemd-analyze verify --man=no "$tmpdir/units/nbdkit-fleece@$inst.service" 2>&1)
[ -z "$out" ] || { echo "$0: FAIL: systemd-analyze verify: $out" >&2; exit 1; }

# unit_lines KEY: the KEY= command lines, made runnable here.
unit_lines ()
{
  sed -n "s/^$1=[-+@!]*//p" "$unit" |
    sed -e "s|%i|$inst|g" -e "s|\${DISK}|$tmpdir/disk.img|g" \
        -e "s|/run/nbdkit-fleece|$tmpdir/run|g" \
        -e "s|/run/nbdkit-vmdisk|$tmpdir/state|g" \
        -e "s|--filter=fleece |--filter=$FLEECE |" \
        -e "s| vmdisk | $VMDISK |"
}
for key in ExecStartPre ExecStart ExecStartPost; do
  [ -n "$(unit_lines $key)" ] || { echo "$0: FAIL: no $key in $unit" >&2; exit 1; }
done
grep -q '^Type=forking$' "$unit"
grep -q "^PIDFile=/run/nbdkit-fleece/%i.pid$" "$unit"

mkdir -m 0755 "$tmpdir/run"
truncate -s 64M "$tmpdir/disk.img"
touch "$tmpdir/run/$inst.sock"          # a stale socket: ExecStartPre removes it
while read -r line; do
  echo "ExecStartPre: $line"; $line
done < <(unit_lines ExecStartPre)
line=$(unit_lines ExecStart)
echo "ExecStart: $line"
$line                                     # returns once listening (forking)
pid=$(cat "$tmpdir/run/$inst.pid")
cleanup_pid "$pid"
sock="$tmpdir/run/$inst.sock"
[ -S "$sock" ] || { echo "$0: FAIL: no socket after ExecStart returned" >&2; exit 1; }
while read -r line; do
  echo "ExecStartPost: $line"; $line
done < <(unit_lines ExecStartPost)
perm=$(stat -c '%a %U %G' "$sock")
[ "$perm" = "660 root libvirt-qemu" ] ||
  { echo "$0: FAIL: socket is '$perm', want '660 root libvirt-qemu'" >&2; exit 1; }
echo "socket: $perm"

nbdsh -u "nbd+unix:///?socket=$sock" -c 'h.pwrite(b"unit" * 1024, 0)'
size=$(nbdinfo --size "nbd+unix:///?socket=$sock")
[ "$size" = $(( 64 << 20 )) ] || { echo "$0: FAIL: live size $size" >&2; exit 1; }
cmp -n 4096 <(printf 'unit%.0s' $(seq 1 1024)) "$tmpdir/disk.img"
desc=$($SNAPDESC "nbd+unix:///snapshot?socket=$sock")
echo "snapshot: $desc"
grep -q "crash-consistent: .*'$inst'" <<<"$desc" ||
  { echo "$0: FAIL: unexpected snapshot description" >&2; exit 1; }

# The control socket that docs/deployment.md's backup script uses.
ctl="$tmpdir/run/$inst.ctl"
perm=$(stat -c '%a %U' "$ctl")
[ "$perm" = "600 root" ] ||
  { echo "$0: FAIL: control socket is '$perm', want '600 root'" >&2; exit 1; }
"$abs_top_builddir/tools/fleecectl/fleecectl" --socket "$ctl" --json status |
  grep -q '"ok":true' ||
  { echo "$0: FAIL: no status from the control socket $ctl" >&2; exit 1; }
echo "control socket: $perm, answers status"
