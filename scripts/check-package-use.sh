#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# check-package-use.sh WORK FILES: scripts/check-package.sh runs this
# with the package installed and PATH=/usr/sbin:/usr/bin:/sbin:/bin
# only, so every program, plugin and filter is the installed one
# (FILES is dpkg -L's list).  In WORK: nbdkit-fleece-start serves a 32M
# image as the unit would (nbdkit --filter=fleece vmdisk, by name), a
# full and an incremental backup with /usr/bin/fleecectl, verify,
# restore and compare with the image; man finds every page; the units,
# the scripts and the hook are where the layout says.
set -euo pipefail
work="$1" files="$2"
VM=check-package-vm     # check-package.sh removes its files and kills it
HOOK=/etc/libvirt/hooks/qemu.d/nbdkit-fleece
fail () { echo "check-package-use: FAIL: $*" >&2; exit 1; }
ok () { echo "ok: $*"; }
has () { grep -qx -- "$1" "$files" || fail "dpkg -L does not list $1"; }

# By name, from the package.
[ "$(command -v fleecectl)" = /usr/bin/fleecectl ] ||
  fail "fleecectl is $(command -v fleecectl), not /usr/bin/fleecectl"
path=$(nbdkit --dump-plugin vmdisk | sed -n 's/^path=//p')
has "$path"
nbdkit --filter=fleece null --version | grep -q '^fleece ' ||
  fail "nbdkit --filter=fleece does not load the installed filter"
ok "fleecectl, nbdkit vmdisk ($path) and --filter=fleece are the package's"

# A live disk: a full backup, the guest writes, an incremental one.
d="$work/use"
mkdir "$d"
cd "$d"
truncate -s 32M disk.img
qemu-io -f raw -c 'write -P 0x11 0 4M' -c 'write -P 0x22 20M 1M' disk.img > /dev/null
# As the unit starts it (RuntimeDirectory= and StateDirectory= made
# as systemd makes them; the config as the environment systemd passes).
# Its config is here, not in /etc/nbdkit-fleece (CONFIGURATION_DIRECTORY=
# is how systemd tells the script).
mkdir -p /run/nbdkit-fleece /var/lib/nbdkit-fleece etc
echo "DISK=$d/disk.img" > "etc/$VM.conf"
run=/run/nbdkit-fleece/$VM
CONFIGURATION_DIRECTORY="$d/etc" DISK="$d/disk.img" \
  /usr/libexec/nbdkit-fleece/nbdkit-fleece-start "$VM" \
  > start.out 2>&1 || fail "nbdkit-fleece-start $VM: $(cat start.out)"
for _ in $(seq 200); do [ -S "$run.ctl" ] && [ -S "$run.sock" ] && break; sleep 0.05; done
[ -s "$run.pid" ] || fail "nbdkit-fleece-start $VM: no $run.pid: $(cat start.out)"
ln -s "$run.ctl" ctl.sock
uri="nbd+unix:///?socket=$run.sock"
backup ()       # N: backup N, crash-consistent (no guest): exit 3
{
  local st=0
  fleecectl -s ctl.sock backup --uri "$uri" --output bk --quiesce off \
    > "bk$1.out" 2>&1 || st=$?
  [ "$st" = 3 ] || fail "backup $1 exited $st (want 3): $(cat "bk$1.out")"
}
backup 1
qemu-io -f raw -c 'write -P 0x33 8M 1M' -c 'write -z 20M 64k' "$uri" > /dev/null
backup 2
[ "$(ls bk)" = "0001-full"$'\n'"0002-incr" ] || fail "backups: $(ls bk)"
pid=$(cat "$run.pid")
kill "$pid"
for _ in $(seq 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
fleecectl verify --input bk > verify.out || fail "verify: $(cat verify.out)"
fleecectl restore --input bk --output restored.raw > restore.out ||
  fail "restore: $(cat restore.out)"
cmp restored.raw disk.img || fail "the restored disk differs from the disk"
ok "nbdkit-fleece-start; full + incremental backup, verify, restore: equal to the disk"

# Man pages: every one the package has, and the four named ones.
n=0
while read -r f; do
  page=${f##*/} page=${page%.gz} sec=${page##*.} page=${page%.*}
  [ "$(man -w "$sec" "$page")" = "$f" ] || fail "man -w $sec $page: not $f"
  n=$((n + 1))
done < <(grep -E '^/usr/share/man/man[0-9]/.+\.[0-9]\.gz$' "$files")
for page in fleecectl nbdkit-fleece nbdkit-fleece-filter nbdkit-vmdisk-plugin; do
  man -w "$page" > /dev/null || fail "man -w $page finds nothing"
done
man -w 5 nbdkit-fleece.conf > /dev/null || fail "man -w 5 nbdkit-fleece.conf finds nothing"
ok "man -w finds the $n pages"

# The layout.
for f in /lib/systemd/system/nbdkit-fleece@.service \
         /lib/systemd/system/nbdkit-fleece-backup@.service \
         /lib/systemd/system/nbdkit-fleece-backup@.timer \
         /usr/libexec/nbdkit-fleece/nbdkit-fleece-backup \
         /usr/share/doc/nbdkit-fleece/examples/vm.conf \
         "$HOOK"; do
  has "$f"
done
[ -x "$HOOK" ] || fail "$HOOK is not executable (libvirt skips it)"
dpkg-query -W -f='${Conffiles}\n' nbdkit-fleece | grep -q "^ $HOOK " ||
  fail "$HOOK is not a conffile"
[ -d /etc/nbdkit-fleece ] || fail "no /etc/nbdkit-fleece"
ok "units, the backup script, the hook (a conffile), the example, /etc/nbdkit-fleece"
