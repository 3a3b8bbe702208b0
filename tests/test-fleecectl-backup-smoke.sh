#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test-fleecectl-backup-smoke.sh: the backup command end to end, small
# and fast (the chain, fault and guest tests go further): the file
# plugin under the filter with cbt-dir=, an 8 MiB disk.
# - data written, a full backup: 0001-full, sparse (its qcow2 far
#   smaller than the disk);
# - data, zeroes over old data, a trim: 0002-incr backed by
#   ../0001-full/disk.qcow2, holding exactly the changed granules;
# - no change: 0003-incr copies nothing; --full: 0004-full, "--full";
# - DIR mode 0700, every file in it 0600;
# - verify: four lines "ok", exit 0; restore --at each backup: byte for
#   byte the disk as it was then (saved with cp while nothing wrote);
# - --json: one line, the manifest with "seconds" and "rate".

source "$srcdir/functions.sh"
source "$srcdir/fleecectl-functions.sh"
requires nbdkit --version
requires qemu-img --version
requires qemu-nbd --version
requires /usr/bin/python3 -c 'import nbd'
F="$FLEECECTL"
cd "$tmpdir"
backup_server 8M

# nbd OP OFFSET LENGTH...: pwrite (pattern by offset), zero or trim.
nbd () {
  /usr/bin/python3 -c '
import nbd, sys
h = nbd.NBD(); h.connect_uri(sys.argv[1])
for i in range(2, len(sys.argv), 3):
    op, off, n = sys.argv[i], int(sys.argv[i+1]), int(sys.argv[i+2])
    if op == "w": h.pwrite(bytes((off // 512 + j) % 251 + 1 for j in range(n)), off)
    elif op == "z": h.zero(n, off)
    else: h.trim(n, off)
h.flush()' "$uri" "$@"
}
# backup ARGS...: a backup, crash-consistent (exit 3) is expected.
backup () {
  "$F" -s ctl.sock backup --uri "$uri" --output dir "$@" || [ $? = 3 ]
}

nbd w 0 65536 w 1048576 300000 w 7340032 4096
cp disk.img at1
backup > out1 2>&1
grep -q "full backup: first backup in DIR" out1 || { cat out1; exit 1; }
nbd w 4096 8192 z 1048576 131072 t 7340032 4096 w 5000000 1000
cp disk.img at2
backup > out2 2>&1
grep -q "^backup 0002-incr: incremental since 0001-full, 1 disk" out2 ||
  { cat out2; exit 1; }
[ "$(qemu-img info --output=json dir/0002-incr/disk.qcow2 |
     /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["backing-filename"])')" \
  = ../0001-full/disk.qcow2 ] || { echo "$0: FAIL: backing file" >&2; exit 1; }
backup > out3 2>&1
grep -q "^  disk: 0 B copied, 0 B zeroed of 0 B examined" out3 ||
  { cat out3; exit 1; }
backup --full --json > out4 2> err4
grep -q "full backup: --full" err4 || { cat err4; exit 1; }
/usr/bin/python3 - <<'PY'
import json, os
m = [json.loads(l) for l in open("out4")]
assert len(m) == 1 and m[0]["name"] == "0004-full" and m[0]["kind"] == "full", m
assert m[0]["full-reason"] == "--full" and m[0]["seconds"] > 0, m
for n in ("0001-full", "0002-incr", "0003-incr", "0004-full"):
    man = json.load(open("dir/%s/manifest.json" % n))
    d = man["disks"][0]
    assert man["format"] == "nbdkit-fleece-backup/1" and d["file"] == "disk.qcow2", man
    assert d["file-size"] == os.path.getsize("dir/%s/disk.qcow2" % n), man
    print("ok: %s: %s, %d copied, %d zeroed, file %d" % (
        n, man["kind"], d["bytes-copied"], d["bytes-zeroed"], d["file-size"]))
full = json.load(open("dir/0001-full/manifest.json"))["disks"][0]
incr = json.load(open("dir/0002-incr/manifest.json"))["disks"][0]
assert 65536 + 300000 + 4096 <= full["bytes-copied"] < 512 << 10, full
assert full["file-size"] < 2 << 20, full          # sparse: 8 MiB disk
# 4K granules: 8192 + 1000 bytes written (3 granules), 128K zeroed and
# one granule trimmed (it reads as zero: written as zeroes).
assert incr["bytes-copied"] == 12288 and incr["bytes-zeroed"] == 135168, incr
assert incr["file-size"] < 1 << 20, incr
PY
"$F" verify --input dir > verify.out
[ "$(grep -c ': ok, ' verify.out)" = 4 ] || { cat verify.out; exit 1; }
echo "ok: verify: 4 backups ok"
# The disks' data is the owner's only: DIR 0700, its files 0600.
[ "$(stat -c %a dir)" = 700 ] || { echo "$0: FAIL: dir mode" >&2; exit 1; }
for f in dir/.lock dir/*/*; do
  [ "$(stat -c %a "$f")" = 600 ] || { echo "$0: FAIL: $f mode $(stat -c %a "$f")" >&2; exit 1; }
done
echo "ok: DIR 0700, its $(ls dir/*/* | wc -l) files 0600"
for n in 0001-full:at1 0002-incr:at2 0003-incr:at2 0004-full:at2; do
  "$F" restore --input dir --at "${n%:*}" --output "r-${n%:*}.raw" > r.out
  grep -q "verified identical" r.out || { cat r.out; exit 1; }
  cmp "r-${n%:*}.raw" "${n#*:}"
  echo "ok: restore --at ${n%:*}: identical to the disk then"
done

# A disk of a size that is no whole number of 512-byte sectors (qcow2
# sizes are): verify accepts the rounded qcow2, restore gives back the
# disk's own size, byte for byte.
stop_nbdkit pid TERM
head -c $((4 << 20)) /dev/urandom > odd.img
truncate -s $(((4 << 20) + 5000)) odd.img
start_nbdkit pid2 odd.sock --filter="$FLEECE" file odd.img control=odd.ctl
for _ in $(seq 100); do [ -S odd.ctl ] && break; sleep 0.05; done
st=0
"$F" --socket odd.ctl backup --uri "nbd+unix:///?socket=$tmpdir/odd.sock" \
  --output odd > /dev/null || st=$?
[ "$st" = 3 ] || { echo "$0: FAIL: backup of odd.img exited $st" >&2; exit 1; }
"$F" verify --input odd
"$F" restore --input odd --output odd.raw > /dev/null
cmp odd.raw odd.img
echo "ok: a disk of 4 MiB + 5000 bytes restores to its own size"
