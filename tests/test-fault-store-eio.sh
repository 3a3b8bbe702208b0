#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test-fault-store-eio.sh: real I/O errors in the store.  fleece-dir is
# a small ext4 file system on a loop device; mid-snapshot it is shut
# down (EXT4_IOC_SHUTDOWN, NOLOGFLUSH), after which every read, write
# and truncate of the store fails with EIO (page cache or not).
# Blocks were preserved into the store before the shutdown; after it:
# - any policy: a preserved block overwritten again (no copy needed)
#   takes the write, and its snapshot read fails with EIO (never the
#   new data, never a read of the live disk); untouched blocks still
#   read exactly.
# - break-snapshot: a write that needs a copy succeeds and lands in
#   the disk; the snapshot breaks, logged once with the store's EIO;
#   every snapshot read then fails with EIO.
# - fail-write: the write (and a zero) that needs a copy fails with
#   EIO and the disk is unchanged there; the snapshot stays exact for
#   blocks still readable, EIO for those in the dead store.
# The live image (and the disk file) equals the model of acknowledged
# writes.  Then a fresh file system is mounted on fleece-dir (the dead
# one lazily unmounted, as the filter still holds its files) and the
# snapshot ends: the filter replaces its dead store files there, and
# the next generation is exact through copy-before-write.

source "$srcdir/functions.sh"
requires nbdkit --version
requires /usr/bin/python3 -c 'import nbd, fcntl'
requires losetup --version
requires mkfs.ext4 -V
requires mount --version
requires mountpoint --version

[ "$(id -u)" = 0 ] || {
  echo "$0: FAIL: needs root for a loop device (run scripts/check.sh as root)" >&2
  exit 1; }

mnt="$tmpdir/store"
mkdir "$mnt"
: > "$tmpdir/devs"
# Unmount (lazily: nbdkit may still hold the dead store) and free
# every loop device, before _cleanup removes $tmpdir.
fs_cleanup ()
{
  local d
  while mountpoint -q "$mnt"; do umount -l "$mnt" || break; done
  while read -r d; do losetup -d "$d" 2>/dev/null || true; done \
    < "$tmpdir/devs"
}
trap 's=$?; fs_cleanup; _cleanup "$s"' EXIT

# newfs.sh: put a fresh 16M ext4 on a new loop device at $mnt, the
# old one (if any) lazily unmounted.
cat > "$tmpdir/newfs.sh" <<EOF
set -e
! mountpoint -q "$mnt" || umount -l "$mnt"
img=\$(mktemp "$tmpdir/fs.XXXXXX")
truncate -s 16M "\$img"
dev=\$(losetup -f --show "\$img")
echo "\$dev" >> "$tmpdir/devs"
mkfs.ext4 -q -F "\$dev"
mount "\$dev" "$mnt"
EOF

cat > "$tmpdir/eio.py" <<'EOF'
import errno, fcntl, os, struct, subprocess, sys
import nbd

from nbdcheck import fail, expect_err, next_generation, open_snapshot

sock, policy, mnt, newfs, model_file = sys.argv[1:6]
B = 65536
P1, P2, C, W, Z = 2, 10, 20, 30, 40      # block numbers

live = nbd.NBD()
live.connect_uri("nbd+unix:///?socket=" + sock)
size = live.get_size()
orig = live.pread(size, 0)
model = bytearray(orig)

def write(blk, tag, delta=100):
    data = tag * (1000 // len(tag) + 1)
    off = blk * B + delta
    live.pwrite(data, off)
    model[off:off + len(data)] = data

def open_snap():
    h, d = open_snapshot("nbd+unix:///snapshot?socket=" + sock)
    return h, d.split(",")[0]

def old_or_eio(what, off, n, want_eio=False):
    """A snapshot read: the old data or EIO, never anything else."""
    try:
        got = snap.pread(n, off)
    except nbd.Error as e:
        if e.errnum != errno.EIO:
            fail("%s: %s, expected EIO or the old data" % (what, e))
        print("ok: %s -> EIO" % what)
        return
    if got != orig[off:off + n]:
        fail("%s returned data that is not the snapshot's (mixed)" % what)
    if want_eio:
        fail("%s returned data, expected EIO" % what)
    print("ok: %s -> exact old data" % what)

def shutdown_store():
    # EXT4_IOC_SHUTDOWN = _IOR('X', 125, __u32), EXT4_GOING_FLAGS_NOLOGFLUSH
    req = (2 << 30) | (4 << 16) | (ord('X') << 8) | 125
    fd = os.open(mnt, os.O_RDONLY)
    fcntl.ioctl(fd, req, struct.pack("I", 2))
    os.close(fd)
    try:
        os.close(os.open(mnt, os.O_TMPFILE | os.O_RDWR, 0o600))
        fail("the store's file system still works after the shutdown")
    except OSError as e:
        if e.errno != errno.EIO:
            fail("after the shutdown: %s, expected EIO" % e)
    print("ok: store file system shut down (new files: EIO)")

snap, gen = open_snap()
write(P1, b"before shutdown 1 ")          # preserved into the store
write(P2, b"before shutdown 2 ")
if snap.pread(size, 0) != orig:
    fail("snapshot not exact before the shutdown")
print("ok: %s exact, blocks %d and %d in the store" % (gen, P1, P2))

shutdown_store()
# A preserved block is written again: no copy needed, so the write
# goes on; its old data is only in the dead store.
write(P1, b"after shutdown 1 ", 200)
print("ok: live write over a preserved block acknowledged")
old_or_eio("snapshot read of preserved block %d rewritten after the "
           "shutdown" % P1, P1 * B, B, want_eio=True)
old_or_eio("snapshot read of preserved block %d" % P2, P2 * B, B,
           want_eio=True)
old_or_eio("snapshot read of the whole disk", 0, size, want_eio=True)
if snap.pread(B, C * B) != orig[C * B:(C + 1) * B]:
    fail("untouched block %d not exact after the shutdown" % C)
print("ok: untouched block %d still exact" % C)

if policy == "break-snapshot":
    write(W, b"needs a copy ")           # its copy fails: snapshot breaks
    print("ok: live write needing a copy acknowledged")
    write(Z, b"after the break ")
    live.zero(B, (Z + 2) * B)
    model[(Z + 2) * B:(Z + 3) * B] = bytes(B)
    for blk in (P1, P2, C, W, Z, Z + 2):
        old_or_eio("broken snapshot read of block %d" % blk, blk * B, B,
                   want_eio=True)
    snap2, gen2 = open_snap()
    if gen2 != gen:
        fail("a new connection got %s, expected %s" % (gen2, gen))
    try:
        snap2.pread(B, C * B)
        fail("new connection's read of the broken snapshot succeeded")
    except nbd.Error as e:
        if e.errnum != errno.EIO:
            fail("new connection's read: %s, expected EIO" % e)
    print("ok: a new connection joins the broken snapshot, reads EIO")
    snap2.shutdown()
else:
    off = W * B + 100
    expect_err("live write needing a copy", errno.EIO,
               live.pwrite, b"refused" * 100, off)
    expect_err("live zero needing a copy", errno.EIO,
               live.zero, B, Z * B)
    for blk in (W, Z):
        if live.pread(B, blk * B) != orig[blk * B:(blk + 1) * B]:
            fail("the refused request reached the disk at block %d" % blk)
    print("ok: refused requests did not reach the disk")
    write(P2, b"after shutdown 2 ", 300)  # preserved: no copy, accepted
    for blk in (W, Z, C):
        old_or_eio("snapshot read of clean block %d" % blk, blk * B, B)
        if snap.pread(B, blk * B) != orig[blk * B:(blk + 1) * B]:
            fail("clean block %d not exact" % blk)
    for blk in (P1, P2):
        old_or_eio("snapshot read of preserved block %d" % blk, blk * B, B,
                   want_eio=True)

if live.pread(size, 0) != model:
    fail("live image differs from the model of acknowledged writes")
print("ok: live image = model of acknowledged writes")

# A fresh file system on fleece-dir, then end the snapshot.
subprocess.run(["sh", newfs], check=True)
snap.shutdown()
snap, gen3 = next_generation(open_snap, gen)
base = bytes(model)
for blk in (P1, C, W):
    write(blk, b"next generation ", 400)
if snap.pread(size, 0) != base:
    fail("%s (after a fresh fleece-dir) is not exact" % gen3)
print("ok: %s exact, its copies stored in the fresh file system" % gen3)
snap.shutdown()
if live.pread(size, 0) != model:
    fail("live image differs from the model at the end")
live.shutdown()
open(model_file, "wb").write(model)
EOF

for policy in break-snapshot fail-write; do
  echo "== on-cbw-error=$policy"
  sh "$tmpdir/newfs.sh"
  rm -f "$tmpdir/disk.img"
  nbdkit -U - random size=4M seed=7 \
    --run 'nbdcopy "$uri" '"$tmpdir/disk.img"
  nbdkit -U - --filter="$FLEECE" "$VMDISK" file="$tmpdir/disk.img" \
    fleece-dir="$mnt" fleece-block-size=65536 on-cbw-error=$policy \
    --run "/usr/bin/python3 '$tmpdir/eio.py' \"\$unixsocket\" $policy \
           '$mnt' '$tmpdir/newfs.sh' '$tmpdir/model.img'" \
    2> "$tmpdir/log" || { cat "$tmpdir/log" >&2; exit 1; }
  cat "$tmpdir/log"
  cmp "$tmpdir/disk.img" "$tmpdir/model.img"
  echo "ok: the disk file equals the model"

  # The filter saw the store's EIO, on reading and on writing.
  count ()
  {
    grep -cE -- "$1" "$tmpdir/log" || true
  }
  read_re='reading the store at offset [0-9]+: Input/output error'
  case $policy in
    break-snapshot)
      write_re="generation 1 is broken and will fail every read: I/O error writing the store in fleece-dir=$mnt: Input/output error"
      want=1 ;;
    fail-write)
      write_re="live write refused .*fail-write; refusal [12] of this snapshot, logged at powers of 2\): I/O error writing the store in fleece-dir=$mnt: Input/output error"
      want=2 ;;
  esac
  n=$(count "$write_re")
  [ "$n" = $want ] || {
    echo "$0: FAIL: /$write_re/ logged $n times, expected $want" >&2; exit 1; }
  [ "$(count "$read_re")" -ge 1 ] || {
    echo "$0: FAIL: no store read error /$read_re/ logged" >&2; exit 1; }
  n=$(count 'is broken and will fail every read')
  [ "$n" = "$([ $policy = break-snapshot ] && echo 1 || echo 0)" ] || {
    echo "$0: FAIL: the snapshot broke $n times" >&2; exit 1; }
  echo "ok: store write and read errors logged"
  n=$(count "truncating the store in $mnt: Input/output error; replaced it with new files there")
  [ "$n" = 1 ] || {
    echo "$0: FAIL: dead store files replaced $n times, expected 1" >&2
    exit 1; }
  echo "ok: the dead store files were replaced at the snapshot's end"
done
