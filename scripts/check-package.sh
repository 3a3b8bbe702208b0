#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Test the Debian package as a user gets it: build it from a clean copy
# of the tree (git ls-files: committed, staged and new unignored files;
# no build products), run lintian (errors fail), install it with apt
# (which resolves Depends:), then use the INSTALLED files only (PATH
# without the build tree, nbdkit finds the plugin and filter by name):
# a full and an incremental backup of a live disk, verify, restore and
# compare; man finds every page; dpkg -L lists the units.  Finally
# purge it: nothing it installed may remain.  Needs root (apt, dpkg).
# Leaves the machine as it found it (trap): refuses to run if the
# package, its hook or /etc/nbdkit-fleece is already there, and purges
# the package and any package apt pulled in for it.  About 2 minutes,
# most of it the package build.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
name=nbdkit-fleece
hook=/etc/libvirt/hooks/qemu.d/nbdkit-fleece
confdir=/etc/nbdkit-fleece

die () { echo "check-package: $*" >&2; exit 1; }
installed () { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed"; }

[ "$(id -u)" = 0 ] || die "needs root (apt-get install, dpkg --purge): run it as root"
for t in dpkg-buildpackage lintian apt-get git; do
  command -v "$t" > /dev/null || die "$t not found: run scripts/deps.sh"
done
! installed "$name" ||
  die "$name is already installed and this test purges it: apt-get purge $name first"
for f in "$hook" "$confdir"; do
  [ ! -e "$f" ] || die "$f exists (a make install?) and would hide a bad purge: remove it first"
done

# check-package-use.sh's instance: its files in the unit's directories
# (removed, and the directories too, if empty, when this run made them:
# vmdisk's state-dir first).
vm=check-package-vm
made=()
for dir in /run/nbdkit-fleece/vmdisk-state /run/nbdkit-fleece /var/lib/nbdkit-fleece; do
  [ -e "$dir" ] || made+=("$dir")
done

# /var/tmp: a package build is large; $TMPDIR overrides it.
work=$(mktemp -d "${TMPDIR:-/var/tmp}/check-package.XXXXXX")
before="$work/packages.before"
dpkg-query -W -f='${Package}\n' | sort > "$before"
cleanup ()
{
  local st=$? extra
  if [ -s "/run/nbdkit-fleece/$vm.pid" ]; then
    kill "$(cat "/run/nbdkit-fleece/$vm.pid")" 2>/dev/null && sleep 0.5
  fi
  rm -rf "/run/nbdkit-fleece/$vm".* "/var/lib/nbdkit-fleece/$vm".*
  for dir in "${made[@]}"; do rmdir "$dir" 2>/dev/null || true; done
  if installed "$name"; then
    DEBIAN_FRONTEND=noninteractive apt-get purge -y -q "$name" > /dev/null || st=1
  fi
  extra=$(dpkg-query -W -f='${Package}\n' | sort | comm -13 "$before" -)
  if [ -n "$extra" ]; then
    echo "check-package: purging what apt installed for the package: $extra"
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get purge -y -q $extra > /dev/null || st=1
  fi
  rm -rf "$work"
  exit "$st"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
start=$SECONDS
step () { echo "==== check-package: $* ($((SECONDS - start))s)"; }

step "copying the tree (git ls-files) into $work/src"
mkdir "$work/src"
git ls-files -z -co --exclude-standard | tar -cf - --null -T - | tar -xf - -C "$work/src"

step "dpkg-buildpackage -b (nocheck)"
(cd "$work/src" &&
 DEB_BUILD_OPTIONS="nocheck noddebs parallel=$(nproc)" \
   dpkg-buildpackage -us -uc -b > "$work/build.log" 2>&1) ||
  { tail -n 40 "$work/build.log" >&2; die "the package build failed (log above)"; }
deb=$(echo "$work"/"$name"_*.deb)
[ -f "$deb" ] || die "no ${name}_*.deb built"

step "lintian"
lst=0
lintian --fail-on error --tag-display-limit 0 "$work"/*.changes \
  > "$work/lintian.log" 2>&1 || lst=$?
grep -v "^running with root privileges" "$work/lintian.log" ||
  echo "lintian: no tags"
[ "$lst" = 0 ] || die "lintian found errors (above)"

step "apt-get install $deb"
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
  "$deb" > "$work/apt.log" 2>&1 || { cat "$work/apt.log" >&2; die "apt-get install failed"; }
dpkg -L "$name" > "$work/files"

step "the installed files, and nothing from the build tree"
cd "$work"
env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$work" LC_ALL=C.UTF-8 \
  bash "$top/scripts/check-package-use.sh" "$work" "$work/files" ||
  die "the installed package failed (above)"
cd "$top"

step "apt-get purge $name"
DEBIAN_FRONTEND=noninteractive apt-get purge -y -q "$name" > "$work/purge.log" 2>&1 ||
  { cat "$work/purge.log" >&2; die "apt-get purge failed"; }
left=()
while read -r f; do
  [ -d "$f" ] && continue                      # directories may be shared
  { [ -e "$f" ] || [ -L "$f" ]; } && left+=("$f")
done < "$work/files"
for f in "$hook" "$confdir" /usr/libexec/nbdkit-fleece /usr/share/doc/"$name"; do
  [ -e "$f" ] && left+=("$f")
done
[ ${#left[@]} = 0 ] || die "left after purge: ${left[*]}"
! dpkg -S /usr/bin/fleecectl > /dev/null 2>&1 || die "dpkg -S still knows /usr/bin/fleecectl"
step "ok: built, lintian-clean, installed, used, purged"
