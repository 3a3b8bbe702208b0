#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test-fleece-content.sh: the snapshot export of the fleece filter
# serves the disk exactly as it was when the snapshot was taken, while
# the live export keeps changing: aligned, unaligned and many-block
# writes, zeroes, trims, a write into a former hole, rewrites of
# already preserved blocks, and writes into the disk's last partial
# block (the size is not a multiple of the block size).  Checked by
# content: python reads of the snapshot, nbdcopy and qemu-img convert
# copies must all equal the image read before the snapshot; the live
# export must equal a model of the writes.  Run over vmdisk, file,
# memory and sparse-random (through nbdkit's cow filter, because
# sparse-random refuses writes of new data), with 64K and 4K blocks.

source "$srcdir/functions.sh"
requires nbdkit --version
requires nbdcopy --version
requires qemu-img --version
requires /usr/bin/python3 -c 'import nbd'

# 4 MiB + 5000 bytes: the last fleece block is partial for every
# block size used here.
size=$((4 * 1024 * 1024 + 5000))

cat > "$tmpdir/content.py" <<'EOF'
import hashlib, subprocess, sys
import nbd
from nbdcheck import fail, open_snapshot

sock, size, bs, prefill, outdir = sys.argv[1], int(sys.argv[2]), \
    int(sys.argv[3]), sys.argv[4] == "prefill", sys.argv[5]
live_uri = "nbd+unix:///?socket=" + sock
snap_uri = "nbd+unix:///snapshot?socket=" + sock
CHUNK = 1 << 20

def pattern(tag, off, n):
    # Deterministic bytes that differ by tag and by position.
    seed = hashlib.sha256(b"%s-%d" % (tag, off)).digest()
    return (seed * (n // len(seed) + 1))[:n]

def read_all(h):
    return b"".join(h.pread(min(CHUNK, size - o), o)
                    for o in range(0, size, CHUNK))

def first_diff(a, b):
    for i in range(min(len(a), len(b))):
        if a[i] != b[i]:
            return i
    return min(len(a), len(b))

def check_equal(what, got, expected):
    if got != expected:
        i = first_diff(got, expected)
        fail("%s differs at offset %d (expected %r, got %r)" %
             (what, i, expected[i:i+8], got[i:i+8]))
    print("ok: %s sha256 %s" % (what, hashlib.sha256(got).hexdigest()[:16]))

live = nbd.NBD()
live.connect_uri(live_uri)
if live.get_size() != size:
    fail("live size %d, expected %d" % (live.get_size(), size))

if prefill:
    # Data everywhere except two holes: [8B, 12B) and [40B, 48B).
    for off in range(0, size, 4 * bs):
        n = min(4 * bs, size - off)
        live.pwrite(pattern(b"pre", off, n), off)
    live.zero(4 * bs, 8 * bs)
    live.zero(8 * bs, 40 * bs)

before = read_all(live)
if before.count(0) == len(before):
    fail("image before the snapshot is all zero: test would prove nothing")
with open(outdir + "/before.img", "wb") as f:
    f.write(before)

snap, d = open_snapshot(snap_uri)        # takes the snapshot
print("snapshot:", d)
if snap.get_size() != size:
    fail("snapshot size %d, expected %d" % (snap.get_size(), size))

model = bytearray(before)
last_full = size - size % bs        # start of the partial last block
trims = []

def write(off, n, tag):
    data = pattern(tag, off, n)
    live.pwrite(data, off)
    model[off:off + n] = data

def zero(off, n):
    if live.can_zero():
        live.zero(n, off)
    else:                       # e.g. cow over sparse-random
        live.pwrite(bytes(n), off)
    model[off:off + n] = bytes(n)

def trim(off, n):
    if not live.can_trim():
        print("note: plugin cannot trim; trim case not run here")
        return
    live.trim(n, off)
    trims.append((off, n))

write(3 * bs, bs, b"aligned")                  # one whole block
write(3 * bs - 100, 300, b"crossing")          # unaligned, 2 blocks
snap_mid = snap.pread(6 * bs, 0)               # a read mid-way
check_equal("snapshot [0, 6B) after 2 writes", snap_mid, before[:6 * bs])
write(3 * bs + 7, 11, b"again")                # preserved block again
write(13 * bs + 123, 9 * bs + 17, b"span")     # many blocks, unaligned
write(9 * bs + 1, 1, b"hole")                  # 1 byte into a hole
write(40 * bs - 3, 2 * bs, b"hole2")           # across a hole's edge
zero(24 * bs + 5, 3 * bs)                      # unaligned zero
zero(28 * bs, 2 * bs)                          # aligned zero
trim(32 * bs, 4 * bs)                          # aligned trim
trim(37 * bs + 99, 2 * bs)                     # unaligned trim
write(last_full - 50, 50 + (size - last_full) // 2, b"tail1")
write(size - 100, 100, b"tail2")               # last partial block
write(size - 1, 1, b"tail3")                   # the very last byte
write(0, 1, b"first")                          # the very first byte

# The trimmed ranges read back as whatever the plugin says now.
for (off, n) in trims:
    model[off:off + n] = live.pread(n, off)

after = read_all(live)
check_equal("live image vs model of the writes", after, bytes(model))
if after == before:
    fail("live image did not change: test would prove nothing")

check_equal("snapshot (python)", read_all(snap), before)

# Copies by real backup clients while the snapshot is held open.
subprocess.run(["nbdcopy", snap_uri, outdir + "/nbdcopy.img"], check=True)
subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", "raw",
                snap_uri, outdir + "/qemu.img"], check=True)
for name in ("nbdcopy.img", "qemu.img"):
    with open(outdir + "/" + name, "rb") as f:
        copy = f.read()
    # qemu rounds the size up to 512 bytes, adding zeroes.
    if name == "qemu.img" and len(copy) - size in range(512) and \
       copy[size:].count(0) == len(copy) - size:
        copy = copy[:size]
    check_equal("snapshot copied by " + name.split(".")[0], copy, before)

# A second snapshot connection joins the same snapshot.
snap2 = nbd.NBD()
snap2.connect_uri(snap_uri)
check_equal("snapshot (second connection)", read_all(snap2), before)
snap2.shutdown()
snap.shutdown()
live.shutdown()
EOF

# run NAME PREFILL NBDKIT-ARGS...: one captive nbdkit, one content check.
# FLEECE_CONTENT_RUNS="NAME ..." runs only those (check-sanitizers.sh:
# valgrind looks at the filter's code, which vmdisk and file at 4K
# already cover; the other plugins are nbdkit's own).
run ()
{
  local name="$1" prefill="$2" bs
  shift 2
  case " ${FLEECE_CONTENT_RUNS:-$name} " in
    *" $name "*) ;;
    *) echo "== $name: not in FLEECE_CONTENT_RUNS"; return 0 ;;
  esac
  bs=$(sed -n 's/.*fleece-block-size=\([0-9]*\).*/\1/p' <<<"$*")
  bs=${bs:-65536}
  echo "== $name (block size $bs)"
  mkdir "$tmpdir/$name"
  nbdkit -U - --filter="$FLEECE" "$@" \
    --run "/usr/bin/python3 '$tmpdir/content.py' \"\$unixsocket\" $size $bs \
           $prefill '$tmpdir/$name'"
  rm -r "$tmpdir/$name"
}

truncate -s $size "$tmpdir/vmdisk.img"
run vmdisk prefill "$VMDISK" file="$tmpdir/vmdisk.img"

truncate -s $size "$tmpdir/file.img"
run file prefill file "$tmpdir/file.img" fleece-block-size=4096
run memory prefill memory $size
run memory4k prefill memory $size fleece-block-size=4096
run sparse-random noprefill --filter=cow sparse-random $size seed=42 \
  percent=50 runlength=300000 random-content=true
