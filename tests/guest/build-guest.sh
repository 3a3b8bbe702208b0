#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Build the test guest: Debian's kernel and a small initramfs assembled
# from host binaries (busybox-static, qemu-ga, mke2fs, e2fsck and their
# shared libraries), with tests/guest/init as /init and
# tests/guest/workload.sh as /workload.sh and tests/guest/qga-fault.sh
# as /qga-fault.sh.
#
# Usage: build-guest.sh [-q]
# Prints the cache directory holding `kernel` (the ELF
# vmlinux when it can be extracted) and `initrd.img` on stdout
# (progress goes to stderr; -q silences it).
#
# Cache: ${FLEECE_GUEST_CACHE:-/var/cache/nbdkit-fleece/guest}/KEY where
# KEY hashes the versions of every package the guest is built from and
# the contents of this script, init, workload.sh and qga-fault.sh: a
# rerun with the same inputs only prints the directory; any change
# builds a new entry
# (older entries are removed).  The build happens in a temporary
# directory and is renamed into place, so an interrupted build leaves no
# half-made entry and two concurrent builds cannot see each other's
# partial files.  Files are world-readable: QEMU runs as libvirt-qemu.
set -euo pipefail
export PATH="/usr/sbin:/usr/bin:/sbin:/bin:$PATH"

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
quiet=false
[ "${1:-}" = -q ] && quiet=true
say () { $quiet || echo "build-guest: $*" >&2; }
die () { echo "build-guest: error: $*" >&2; exit 1; }

# The kernel is whatever linux-image-amd64 depends on.
kpkg=$(dpkg-query -W -f='${Depends}' linux-image-amd64 2>/dev/null |
         grep -o 'linux-image-[0-9][^ ,]*' | head -n1) ||
  die "linux-image-amd64 is not installed (run scripts/deps.sh)"
kver=${kpkg#linux-image-}
[ -r "/boot/vmlinuz-$kver" ] || die "/boot/vmlinuz-$kver missing"
[ -d "/lib/modules/$kver" ] || die "/lib/modules/$kver missing"

# The binaries that go into the guest, and the packages behind them.
bins=(/bin/busybox /usr/sbin/qemu-ga /sbin/mke2fs /sbin/e2fsck)
pkgs=(linux-image-amd64 "$kpkg" busybox-static qemu-guest-agent
      e2fsprogs libc6 libglib2.0-0)
for b in "${bins[@]}"; do [ -x "$b" ] || die "$b missing (run scripts/deps.sh)"; done
versions=$(dpkg-query -W -f='${Package}=${Version}\n' "${pkgs[@]}") ||
  die "a package is missing: ${pkgs[*]}"

key=$( { echo "$versions"
         cat "$here/build-guest.sh" "$here/init" "$here/workload.sh" \
             "$here/qga-fault.sh"
       } | sha256sum | cut -c1-16)
cache=${FLEECE_GUEST_CACHE:-/var/cache/nbdkit-fleece/guest}
out="$cache/$key"
if [ -s "$out/kernel" ] && [ -s "$out/initrd.img" ]; then
  echo "$out"
  exit 0
fi

say "building guest $key (kernel $kver) in $cache"
mkdir -p "$cache"
chmod 0755 "$cache"
work=$(mktemp -d "$cache/.build.XXXXXX")
trap 'rm -rf "$work"' EXIT
root="$work/root"
mkdir -p "$root"/{bin,sbin,dev,proc,sys,tmp,run,var,mnt/data,etc,lib/modules}
ln -s ../run "$root/var/run"
ln -s /proc/self/mounts "$root/etc/mtab"

# copy_with_libs FILE...: copy binaries and every library ldd names, at
# the same paths, so the dynamic loader finds them without ld.so.cache.
copy_with_libs ()
{
  local f lib
  for f in "$@"; do
    cp -L --parents "$f" "$root"
    for lib in $(ldd "$f" 2>/dev/null | grep -o '/[^ ]*'); do
      [ -e "$root$lib" ] || cp -L --parents "$lib" "$root"
    done
  done
}

cp /bin/busybox "$root/bin/busybox"
for app in $(/bin/busybox --list); do
  [ -e "$root/bin/$app" ] || ln -s busybox "$root/bin/$app"
done
copy_with_libs /usr/sbin/qemu-ga /sbin/mke2fs /sbin/e2fsck
ln -s mke2fs "$root/sbin/mkfs.ext4"
cp /etc/mke2fs.conf "$root/etc/"
echo 'root:x:0:0:root:/:/bin/sh' > "$root/etc/passwd"
echo 'root:x:0:' > "$root/etc/group"

# Modules with their dependencies, in load order (modprobe resolves
# modules.dep and softdeps such as crc32c for ext4).
mods=(virtio_pci virtio_blk virtio_console virtio_rng ext4)
: > "$root/etc/modules.order"
for m in "${mods[@]}"; do
  modprobe -S "$kver" --show-depends "$m" |
    awk '$1 == "insmod" { print $2 }'
done | awk '!seen[$0]++' | while read -r ko; do
  dest="/lib/modules/$(basename "${ko%%.ko*}").ko"
  case "$ko" in
    *.ko.xz) xz -dc "$ko" > "$root$dest" ;;
    *.ko.zst) zstd -qdc "$ko" > "$root$dest" ;;
    *) cp "$ko" "$root$dest" ;;
  esac
  echo "$dest" >> "$root/etc/modules.order"
done
[ -s "$root/etc/modules.order" ] || die "no kernel modules found for $kver"

install -m 0755 "$here/init" "$root/init"
install -m 0755 "$here/workload.sh" "$root/workload.sh"
install -m 0755 "$here/qga-fault.sh" "$root/qga-fault.sh"

# Boot speed under TCG (measured on a loaded 2-core host: first guest
# output 27 s -> 13 s): the initramfs is not compressed, and the kernel
# is the ELF vmlinux taken out of Debian's xz-compressed bzImage, which
# QEMU boots directly through its PVH entry point (CONFIG_PVH=y), so the
# guest never runs the xz or gzip decompressors in emulation.
(cd "$root" && find . -print0 | LC_ALL=C sort -z |
   cpio --null -o -H newc --quiet --owner=0:0) > "$work/initrd.img"
/usr/bin/python3 - "/boot/vmlinuz-$kver" "$work/kernel" <<'PY'
import lzma, shutil, sys
data = open(sys.argv[1], "rb").read()
at = data.find(b"\xfd7zXZ\x00")
elf = b""
if at >= 0:
    try:
        elf = lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(data[at:])
    except lzma.LZMAError:
        pass
if elf[:4] == b"\x7fELF":
    open(sys.argv[2], "wb").write(elf)
else:   # not an xz bzImage: boot it as it is
    shutil.copyfile(sys.argv[1], sys.argv[2])
PY
echo "$versions" > "$work/versions"
chmod 0644 "$work/initrd.img" "$work/kernel" "$work/versions"
chmod 0755 "$work"
rm -rf "$root"

# Publish atomically; a concurrent build of the same key may win.
if ! mv -T "$work" "$out" 2>/dev/null; then
  [ -s "$out/initrd.img" ] || die "cannot create $out"
  rm -rf "$work"
fi
trap - EXIT
# Drop entries for other keys (older packages or scripts).
for d in "$cache"/*; do
  [ "$d" = "$out" ] || [ ! -d "$d" ] || rm -rf "$d"
done
say "built $out ($(du -sh "$out/initrd.img" | cut -f1) initramfs)"
echo "$out"
