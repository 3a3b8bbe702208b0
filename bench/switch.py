# SPDX-License-Identifier: BSD-3-Clause
# bench/switch.sh's client: writers on every disk, snapshots through
# the control socket, one Markdown table row.
import json
import random
import socket
import sys
import threading
import time

import nbd

sock, ctl, ndisks, nsnap, size = sys.argv[1:6]
ndisks, nsnap = int(ndisks), int(nsnap)
writes = 0
stop = False


def writer():
    global writes
    hs = []
    for i in range(ndisks):
        h = nbd.NBD()
        h.connect_uri("nbd+unix:///d%d?socket=%s" % (i, sock))
        hs.append(h)
    span = hs[0].get_size() // 4096
    buf = bytearray(random.randbytes(4096))
    while not stop:
        h = random.choice(hs)
        h.pwrite(buf, random.randrange(span) * 4096)
        writes += 1


def control(c, req):
    c.sendall((json.dumps(req) + "\n").encode())
    line = b""
    while not line.endswith(b"\n"):
        line += c.recv(65536)
    r = json.loads(line)
    if not r.get("ok"):
        raise SystemExit("control: %s" % r)
    return r


t = threading.Thread(target=writer)
t.start()
c = socket.socket(socket.AF_UNIX)
c.connect(ctl)
held, begin = [], []
time.sleep(0.5)
try:
    for _ in range(nsnap):
        t0 = time.monotonic()
        control(c, {"command": "snapshot-begin", "fresh": True})
        begin.append((time.monotonic() - t0) * 1000)
        st = control(c, {"command": "status"})
        if len(st["disks"]) != ndisks:
            raise SystemExit("status shows %d disks" % len(st["disks"]))
        held.append(st["barrier-ms"])
        time.sleep(0.05)
    control(c, {"command": "snapshot-end"})
finally:
    stop = True
    t.join()
print("| %d | %s | %d | %.3f | %.3f | %.1f | %.1f | %d |" % (
    ndisks, size, nsnap, sum(held) / len(held), max(held),
    sum(begin) / len(begin), max(begin), writes))
