#!/usr/bin/env bash
# README command 1: install what is missing, build, and run the main job:
# serve a sample disk with the vmdisk plugin, write to it and read it
# back with NBD clients, show its sparse allocation, trim part of it.
# Leaves nothing behind.
#
# VMDISK_PLUGIN=/path/to/nbdkit-vmdisk-plugin.so skips the install and
# build steps and uses that plugin (for trying the demo on a build
# made elsewhere).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${VMDISK_PLUGIN:-}" ]; then
  scripts/deps.sh
  scripts/build.sh >/dev/null
  VMDISK_PLUGIN="$PWD/plugins/vmdisk/.libs/nbdkit-vmdisk-plugin.so"
fi

export PATH="/usr/sbin:/usr/bin:/sbin:/bin:$PATH"
work=$(mktemp -d "${TMPDIR:-/tmp}/fleece-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT
export disk="$work/disk.img" chunk="$work/chunk"
truncate -s 64M "$disk"
# 1 MiB of deterministic data to write.
nbdkit -U - random size=1M seed=2024 --run 'nbdcopy "$uri" "$chunk"'

echo "== nbdkit vmdisk file=$disk   (a sparse 64 MiB raw image)"
nbdkit -U - "$VMDISK_PLUGIN" file="$disk" --run '
  set -e
  echo "== nbdinfo: what the server offers"
  nbdinfo "$uri" | grep -E "export-size|can_(multi_conn|trim|zero|fua)|block_size_min" |
    sed "s/^\t*/   /"
  echo "== nbdsh: write 1 MiB at offset 8 MiB"
  nbdsh -u "$uri" -c "h.pwrite(open(\"$chunk\", \"rb\").read(), 8 << 20)"
  echo "== nbdsh: read it back through NBD"
  nbdsh -u "$uri" -c "
assert h.pread(1 << 20, 8 << 20) == open(\"$chunk\", \"rb\").read()
print(\"   identical to what was written\")"
  echo "== nbdinfo --map: only the written MiB is allocated"
  nbdinfo --map "$uri" | sed "s/^/   /"
  echo "== trim the first half of it, then the map again"
  nbdsh -u "$uri" -c "h.trim(512 << 10, 8 << 20)"
  nbdinfo --map "$uri" | sed "s/^/   /"
'
echo "== the file on disk holds the same bytes:"
cmp <(dd if="$disk" bs=512K skip=17 count=1 status=none) \
    <(dd if="$chunk" bs=512K skip=1 count=1 status=none)
echo "   identical (and $(du -k "$disk" | cut -f1) KiB allocated of 65536)"
