#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# A trim (release) on the snapshot export racing a read of the same
# preserved block on another connection: the read returns the
# snapshot's data or fails with EIO, never the zeroes of a store hole
# punched under it.  Big blocks make the store read long enough for
# the trim to land inside it.
source "$srcdir/functions.sh"
requires nbdkit --version
requires /usr/bin/python3 -c 'import nbd'

cat > "$tmpdir/race.py" <<'EOF2'
import os, sys, nbd
sock = sys.argv[1]
# FLEECE_RACE_ROUNDS: snapshots (default 3; the sanitizer stages ask
# for 1: they look for memory errors, not for the race's timing).
ROUNDS = int(os.environ.get("FLEECE_RACE_ROUNDS", "3"))
BS = 16 << 20
N = 16
def conn(name):
    h = nbd.NBD()
    h.set_export_name(name)
    h.connect_unix(sock)
    return h
live = conn("")
good = failed = 0
for gen in range(ROUNDS):               # ROUNDS snapshots, N races each
    for i in range(N):                  # the snapshot's data
        live.pwrite(bytes([gen * N + i + 1]) * BS, i * BS)
    reader, trimmer = conn("snapshot"), conn("snapshot")
    reader.pread(1, 0)                  # the first read takes it
    for i in range(N):                  # preserve every block
        live.pwrite(b"\xee" * BS, i * BS)
    for i in range(N):
        buf = nbd.Buffer(BS)
        c1 = reader.aio_pread(buf, i * BS)
        for _ in range(i % 4):          # vary where the trim lands
            reader.poll(0)
        c2 = trimmer.aio_trim(BS, i * BS)
        err = None
        for h, c in ((reader, c1), (trimmer, c2)):
            while True:
                try:
                    if h.aio_command_completed(c):
                        break
                except nbd.Error as e:
                    if h is reader:
                        err = e
                    break
                h.poll(-1)
        if err is not None:
            failed += 1
        elif buf.to_bytearray() == bytes([gen * N + i + 1]) * BS:
            good += 1
        else:
            sys.exit("FAIL: generation %d, block %d: read succeeded with "
                     "data that is not the snapshot's" % (gen + 1, i))
    reader.shutdown()
    trimmer.shutdown()                  # the snapshot ends (linger 0)
print("ok: %d reads returned the snapshot's data, %d failed with EIO, "
      "none returned other data" % (good, failed))
EOF2

nbdkit -U - --filter="$FLEECE" memory 256M fleece-block-size=16M \
       fleece-dir="$tmpdir" \
       --run "/usr/bin/python3 '$tmpdir/race.py' \"\$unixsocket\""
