#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test-fault-soak.sh: many snapshot generations back to back (default
# 100; FLEECE_SOAK_GENERATIONS=N for a soak).  Each generation: open
# the snapshot, check its generation number is the next one, write
# to the live export (new data and zeroes), check the snapshot
# still equals the image as it was when it was taken and the live
# export equals the model of every write, close it.  Proves no state
# leaks between generations (store, block states, counts).

source "$srcdir/functions.sh"
requires nbdkit --version
requires /usr/bin/python3 -c 'import nbd'
gens=${FLEECE_SOAK_GENERATIONS:-100}

cat > "$tmpdir/soak.py" <<'EOF2'
import random, re, sys, time
import nbd
from nbdcheck import fail, open_snapshot

sock, gens = sys.argv[1], int(sys.argv[2])
B = 4096

live = nbd.NBD()
live.connect_uri("nbd+unix:///?socket=" + sock)
size = live.get_size()
model = bytearray(size)
rng = random.Random(1)
last = 0
for g in range(gens):
    image = bytes(model)
    for _ in range(1000):                  # the last one may still end
        snap, d = open_snapshot("nbd+unix:///snapshot?socket=" + sock)
        gen = int(re.match(r"fleece snapshot generation (\d+),", d).group(1))
        if gen != last:
            break
        snap.shutdown()
        time.sleep(0.005)
    if gen != last + 1:
        fail("generation %d after %d" % (gen, last))
    last = gen
    for _ in range(8):
        off, n = rng.randrange(size - 3 * B), rng.randrange(1, 3 * B)
        kind = rng.randrange(4)
        if kind == 0:
            live.zero(n, off)
            model[off:off + n] = bytes(n)
        else:
            data = bytes([g % 255 + 1]) * n
            live.pwrite(data, off)
            model[off:off + n] = data
    if snap.pread(size, 0) != image:
        fail("generation %d is not exact" % gen)
    snap.shutdown()
if live.pread(size, 0) != model:
    fail("live image differs from the model of the writes")
print("ok: %d generations, each exact; live image exact" % gens)
EOF2

nbdkit -U - --filter="$FLEECE" memory 2M fleece-block-size=4096 \
  --run "/usr/bin/python3 '$tmpdir/soak.py' \"\$unixsocket\" $gens"
