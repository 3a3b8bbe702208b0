#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test-fault-client-killed.sh: clients killed with SIGKILL.
# - A snapshot reader killed in the middle of reading: its connection
#   drops, the snapshot ends with its last connection (a new snapshot
#   connection soon gets generation 2, bounded wait), and generation 2
#   is exact (it equals the live image).
# - A live writer killed in the middle of a stream of writes, while a
#   snapshot is held open by another client: every write it saw
#   acknowledged is in the live image, each block holds either its
#   last acknowledged data or the one write that was in flight, and
#   the snapshot still equals the image as it was when it was taken.

source "$srcdir/functions.sh"
requires nbdkit --version
requires /usr/bin/python3 -c 'import nbd'

cat > "$tmpdir/client.py" <<'EOF2'
import os, sys
import nbd
from nbdcheck import fail, next_generation, open_snapshot

sock, role, ready = sys.argv[1:4]
B = 4096
N = 256                                  # blocks written by the writer

def uri(exp):
    return "nbd+unix:///%s?socket=%s" % (exp, sock)

def block(seq, i):
    return (b"%08d:%04d;" % (seq, i)) * (B // 14) + bytes(B % 14)

def open_snap():
    h, d = open_snapshot(uri("snapshot"))
    return h, d.split(",")[0]

if role == "reader":                     # read until killed
    h, gen = open_snap()
    open(ready, "w").write(gen)
    while True:
        h.pread(1 << 20, 0)
elif role == "writer":                   # write until killed
    h = nbd.NBD()
    h.connect_uri(uri(""))
    log = os.open(ready, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    seq = 0
    while True:
        seq += 1
        i = (seq * 37) % N
        os.write(log, b"start %d %d\n" % (seq, i))
        h.pwrite(block(seq, i), i * B)
        os.write(log, b"acked %d %d\n" % (seq, i))
elif role == "check-next-gen":           # generation after ready's
    old = open(ready).read()
    h, gen = next_generation(open_snap, old)     # its reader was killed
    live = nbd.NBD()
    live.connect_uri(uri(""))
    size = live.get_size()
    if h.pread(size, 0) != live.pread(size, 0):
        fail("%s differs from the live image" % gen)
    print("ok: reader killed; %s ended, %s is exact" % (old, gen))
elif role == "prepare":                  # known content, snapshot kept
    live = nbd.NBD()
    live.connect_uri(uri(""))
    for i in range(N):
        live.pwrite(block(0, i), i * B)
    open(ready, "wb").write(live.pread(live.get_size(), 0))
elif role == "check-writes":             # after the writer was killed
    log = open(ready + ".log").read().split("\n")
    acked = {}
    inflight = None
    for line in log:
        if line.startswith("acked "):
            _, seq, i = line.split()
            acked[int(i)] = int(seq)
            inflight = None
        elif line.startswith("start "):
            _, seq, i = line.split()
            inflight = (int(seq), int(i))
    if len(acked) < 20:
        fail("the writer was killed before it wrote much")
    live = nbd.NBD()
    live.connect_uri(uri(""))
    for i in range(N):
        got = live.pread(B, i * B)
        ok = [block(acked.get(i, 0), i)]
        if inflight and inflight[1] == i:
            ok.append(block(inflight[0], i))
        if got not in ok:
            fail("block %d holds %r, not its last acknowledged write" %
                 (i, got[:14]))
    print("ok: writer killed after %d acknowledged writes (in flight: %s); "
          "live image holds every acknowledged write" %
          (max(acked.values()), inflight))
EOF2

# wait_for FILE: until FILE is non-empty (bounded).
wait_for ()
{
  local i
  for i in $(seq 1 400); do [ -s "$1" ] && return 0; sleep 0.05; done
  echo "$0: FAIL: $1 never appeared" >&2
  exit 1
}

client="/usr/bin/python3 $tmpdir/client.py"
start_nbdkit "$tmpdir/nbdkit.pid" "$tmpdir/sock" \
  --filter="$FLEECE" memory 4M fleece-block-size=4096

echo "== snapshot reader killed mid-read"
$client "$tmpdir/sock" prepare "$tmpdir/before.img"
$client "$tmpdir/sock" reader "$tmpdir/gen" &
reader=$!
cleanup_pid $reader
wait_for "$tmpdir/gen"
/usr/bin/python3 -c 'import nbd,sys; h=nbd.NBD(); h.connect_uri(sys.argv[1]); h.pwrite(b"x"*8192, 4096)' \
  "nbd+unix:///?socket=$tmpdir/sock"
kill -9 $reader
wait $reader 2>/dev/null || true
$client "$tmpdir/sock" check-next-gen "$tmpdir/gen"

echo "== live writer killed mid-write, snapshot held open"
/usr/bin/python3 -c '
import nbd, sys, time
h = nbd.NBD(); h.connect_uri(sys.argv[1])
before = h.pread(h.get_size(), 0)
open(sys.argv[2], "wb").write(before)
open(sys.argv[3], "w").write("1")
import os
while not os.path.exists(sys.argv[3] + ".go"):
    time.sleep(0.02)
ok = h.pread(h.get_size(), 0) == before
print("ok: snapshot still exact" if ok else "FAIL: snapshot changed")
sys.exit(0 if ok else 1)
' "nbd+unix:///snapshot?socket=$tmpdir/sock" "$tmpdir/snap.img" \
  "$tmpdir/holder.ready" &
holder=$!
cleanup_pid $holder
wait_for "$tmpdir/holder.ready"
$client "$tmpdir/sock" writer "$tmpdir/w.log" &
writer=$!
cleanup_pid $writer
for i in $(seq 1 400); do
  n=$(grep -c acked "$tmpdir/w.log" 2>/dev/null || true)
  [ "${n:-0}" -ge 200 ] && break
  sleep 0.05
done
kill -9 $writer
wait $writer 2>/dev/null || true
cp "$tmpdir/w.log" "$tmpdir/check.log"
$client "$tmpdir/sock" check-writes "$tmpdir/check"
touch "$tmpdir/holder.ready.go"
wait $holder
