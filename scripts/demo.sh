#!/usr/bin/env bash
# README command 1: install what is missing, build, and run the main job:
# serve a sample disk with the vmdisk plugin, write to it and read it
# back with NBD clients.  Leaves nothing behind.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
scripts/build.sh >/dev/null

export PATH="/usr/sbin:/usr/bin:/sbin:/bin:$PATH"
work=$(mktemp -d "${TMPDIR:-/tmp}/fleece-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT
disk="$work/disk.img"
truncate -s 64M "$disk"
plugin="$PWD/plugins/vmdisk/.libs/nbdkit-vmdisk-plugin.so"

echo "== serving $disk (64 MiB, sparse) with: nbdkit vmdisk file=$disk"
nbdkit -U - "$plugin" file="$disk" --run '
  set -e
  echo "== nbdinfo:"; nbdinfo "$uri" | sed "s/^/   /"
  echo "== writing 1 MiB of a pattern at offset 8 MiB with nbdcopy"
  head -c 1M /dev/urandom > '"$work"'/chunk
  nbdsh -u "$uri" -c "h.pwrite(open(\"'"$work"'/chunk\",\"rb\").read(), 8*1024*1024)"
  echo "== reading it back and comparing"
  nbdsh -u "$uri" -c "import sys; sys.stdout.buffer.write(h.pread(1024*1024, 8*1024*1024))" > '"$work"'/back
  cmp '"$work"'/chunk '"$work"'/back && echo "   identical"
  echo "== allocation map (nbdinfo --map):"; nbdinfo --map "$uri" | sed "s/^/   /"
'
echo "== the file on disk holds the same bytes:"
cmp <(dd if="$disk" bs=1M skip=8 count=1 status=none) "$work/chunk" && echo "   identical"
