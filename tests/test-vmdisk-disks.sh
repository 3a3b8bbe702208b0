#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# vmdisk disk=NAME:PATH: two and three disks from one nbdkit, each the
# export NAME.  Every data operation (read, write, zero, trim, flush,
# extents) reaches its own file only, checked by the files' contents
# and by each export's allocation map; nbdinfo --list shows every
# export with its description; readonly= covers every disk; the
# export "" and unknown names are refused with the list of names; and
# every parameter error gives its message.
source "$srcdir/functions.sh"
requires /usr/bin/python3 -c 'import nbd'
requires nbdinfo --version

# The checks, run against the server's socket: disk i (0-based) is a
# file of (i + 1) MiB of the byte 'a' + i, exported as $names[i].
# Each export gets the same operations at offsets of its own, so a
# request that reached another disk's file shows in that file.
cat > "$tmpdir/checks.py" <<'EOF'
import os, sys
import nbd
M = 1024 * 1024
sock, tmp, names = sys.argv[1], sys.argv[2], sys.argv[3:]

def connect(name):
    h = nbd.NBD()
    h.set_export_name(name)
    h.add_meta_context(nbd.CONTEXT_BASE_ALLOCATION)
    h.connect_unix(sock)
    return h

expect = []
for i, name in enumerate(names):
    h = connect(name)
    size = (i + 1) * M
    assert h.get_size() == size, (name, h.get_size())
    e = bytearray(bytes([ord("a") + i]) * size)
    assert h.pread(size, 0) == bytes(e), name
    marker = ("written to %s" % name).encode()
    h.pwrite(marker, 4096 * (i + 1))
    e[4096 * (i + 1):4096 * (i + 1) + len(marker)] = marker
    h.zero(1000 + i, 8192 * (i + 1), nbd.CMD_FLAG_NO_HOLE)
    e[8192 * (i + 1):8192 * (i + 1) + 1000 + i] = bytes(1000 + i)
    # Trim the 64 KiB block number 2 + i: a hole in this file only.
    h.trim(65536, 65536 * (2 + i))
    e[65536 * (2 + i):65536 * (3 + i)] = bytes(65536)
    h.flush()
    expect.append(e)
    h.shutdown()

for i, name in enumerate(names):
    h = connect(name)
    assert h.pread(len(expect[i]), 0) == bytes(expect[i]), name
    holes, pos = set(), [0]
    def f(ctx, off, ents, err):
        for j in range(0, len(ents), 2):
            if ents[j + 1] & nbd.STATE_HOLE:
                holes.update(range(off // 65536, (off + ents[j]) // 65536))
            off += ents[j]
        pos[0] = off
        return 0
    while pos[0] < h.get_size():
        h.block_status(h.get_size() - pos[0], pos[0], f)
    assert holes == {2 + i}, (name, sorted(holes))
    h.shutdown()
    with open(os.path.join(tmp, name + ".img"), "rb") as fp:
        assert fp.read() == bytes(expect[i]), "file of " + name
print("ok: %d exports, each read, written, zeroed, trimmed and mapped on "
      "its own file" % len(names))
EOF

# serve NAME...: a fresh file per NAME, the checks, then nbdinfo --list.
serve ()
{
  local i=0 args=() name
  for name in "$@"; do
    head -c $(( (i + 1) * 1024 * 1024 )) /dev/zero |
      tr '\0' "\\$(printf %03o $(( 97 + i )))" > "$tmpdir/$name.img"
    args+=("disk=$name:$tmpdir/$name.img")
    i=$(( i + 1 ))
  done
  nbdkit -U - "$VMDISK" "${args[@]}" --run "
    /usr/bin/python3 '$tmpdir/checks.py' \"\$unixsocket\" '$tmpdir' $* &&
    nbdinfo --list --json \"\$uri\" > '$tmpdir/list.json'" ||
    exit 1
  /usr/bin/python3 - "$tmpdir/list.json" "$tmpdir" "$@" <<'EOF'
import json, sys
exports = json.load(open(sys.argv[1]))["exports"]
tmp, names = sys.argv[2], sys.argv[3:]
got = [(e["export-name"], e["description"]) for e in exports]
want = [(n, "disk %s: %s/%s.img (raw image, %d MiB)" % (n, tmp, n, i + 1))
        for i, n in enumerate(names)]
assert got == want, (got, want)
print("ok: nbdinfo --list:", "; ".join(d for n, d in got))
EOF
}

echo "== two and three disks"
serve vda vdb
serve data_1 log-2 Z
rm -f "$tmpdir"/*.img

echo "== readonly= applies to every disk, wherever it is given"
truncate -s 1M "$tmpdir/a.img" "$tmpdir/b.img" "$tmpdir/c.img"
nbdkit -U - "$VMDISK" readonly=true disk=vda:"$tmpdir/a.img" \
  disk=vdb:"$tmpdir/b.img" disk=vdc:"$tmpdir/c.img" \
  --run "nbdinfo --list --json \"\$uri\" > '$tmpdir/ro.json'"
/usr/bin/python3 - "$tmpdir/ro.json" <<'EOF'
import json, sys
ro = [(e["export-name"], e["is_read_only"])
      for e in json.load(open(sys.argv[1]))["exports"]]
assert ro == [("vda", True), ("vdb", True), ("vdc", True)], ro
print("ok: readonly=true before the disks: every export read-only")
EOF
rm -f "$tmpdir"/*.img

echo "== the default export and unknown names"
img="$tmpdir/a.img"
truncate -s 1M "$img"
truncate -s 1M "$tmpdir/b.img"
# Each name in a URI, and the log's quoting of it: a newline and a
# backslash as \xHH, no more than 80 bytes.
for name in "" x "x%0Ay%5Cz" "$(printf 'w%.0s' $(seq 90))"; do
  shown=$(sed 's/%0A/\\x0a/; s/%5C/\\x5c/; s/^\(w\{80\}\)w*$/\1.../' <<<"$name")
  nbdkit -U - "$VMDISK" disk=vda:"$img" disk=vdb:"$tmpdir/b.img" \
    --run "nbdinfo \"nbd+unix:///$name?socket=\$unixsocket\"" \
    > "$tmpdir/out" 2>&1 && {
    echo "$0: FAIL: export '$name' was served" >&2; exit 1; }
  grep -F "error: vmdisk: no disk is exported as '$shown': the exports are 'vda', 'vdb' (disk=NAME:PATH)" "$tmpdir/out" || {
    cat "$tmpdir/out" >&2
    echo "$0: FAIL: no list of exports for '$name'" >&2; exit 1; }
done

echo "== parameter errors"
run ()
{
  nbdkit -U - "$VMDISK" "$@" --run true
}
mixed='file= and disk= cannot be used together: give file=PATH for one disk \(the export ""\), or disk=NAME:PATH for each disk of the VM$'
expect_fail_msg "^nbdkit: error: $mixed" run file="$img" disk=vdb:"$tmpdir/b.img"
expect_fail_msg "^nbdkit: error: $mixed" run disk=vdb:"$tmpdir/b.img" "$img"
expect_fail_msg "^nbdkit: error: disk=$img: expected NAME:PATH, the export name, a colon and the raw disk image or block device, e.g. disk=vda:" \
  run disk="$img"
long=$(printf 'v%.0s' $(seq 64))
for bad in v.a "v a" "$long" ""; do
  expect_fail_msg "^nbdkit: error: disk=$bad:$img: the export name '$bad' must be 1 to 63 letters, digits, '_' or '-' \(e.g. disk=vda:PATH\)$" \
    run disk="$bad:$img"
done
run disk="${long:1}:$img"
echo "ok: a name of 63 characters is accepted"
expect_fail_msg "^nbdkit: error: disk=vdb:: the path after ':' is empty: give the raw disk image or block device to export as 'vdb'$" \
  run disk=vda:"$img" disk=vdb:
expect_fail_msg "^nbdkit: error: disk=vda:$tmpdir/b.img: the export name 'vda' is already used by disk=vda:$img: give each disk its own NAME$" \
  run disk=vda:"$img" disk=vda:"$tmpdir/b.img"
same="is the same file as disk=vda:$img: give each disk its own image or device \(one file under two exports would get two snapshots that disagree\)$"
ln -s "$img" "$tmpdir/sym.img"
ln "$img" "$tmpdir/hard.img"
expect_fail_msg "^nbdkit: error: disk=vdb:$img $same" \
  run disk=vda:"$img" disk=vdb:"$img"
expect_fail_msg "^nbdkit: error: disk=vdc:$tmpdir/sym.img $same" \
  run disk=vda:"$img" disk=vdb:"$tmpdir/b.img" disk=vdc:"$tmpdir/sym.img"
expect_fail_msg "^nbdkit: error: disk=vdb:$tmpdir/hard.img $same" \
  run disk=vda:"$img" disk=vdb:"$tmpdir/hard.img"
expect_fail_msg "^nbdkit: error: disk=vdb:$tmpdir/nope.img: no such file: give the path of an existing raw disk image or block device$" \
  run disk=vda:"$img" disk=vdb:"$tmpdir/nope.img"
truncate -s 0 "$tmpdir/empty.img"
expect_fail_msg "^nbdkit: error: disk=vdb:$tmpdir/empty.img has size 0, which cannot be a disk" \
  run disk=vda:"$img" disk=vdb:"$tmpdir/empty.img"

# 64 disks are served; a 65th is refused.
mkdir "$tmpdir/many"
args=()
for i in $(seq 0 64); do
  truncate -s 4096 "$tmpdir/many/d$i.img"
  args+=("disk=d$i:$tmpdir/many/d$i.img")
done
nbdkit -U - "$VMDISK" "${args[@]:0:64}" \
  --run "nbdinfo --list \"\$uri\" | grep -c '^export=' > '$tmpdir/n'"
[ "$(cat "$tmpdir/n")" = 64 ] || {
  echo "$0: FAIL: 64 disks, $(cat "$tmpdir/n") exports listed" >&2; exit 1; }
echo "ok: 64 disks served and listed"
expect_fail_msg "^nbdkit: error: disk=d64:$tmpdir/many/d64.img: too many disks: vmdisk serves at most 64; run one nbdkit per VM$" \
  run "${args[@]}"
