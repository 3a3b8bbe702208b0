# SPDX-License-Identifier: BSD-3-Clause
# nbdkit-fleece: a minimal control-socket client for the control tests.
#
# Imported by the tests' Python scripts (PYTHONPATH=$srcdir).  It
# speaks the protocol of nbdkit-fleece-filter(1), PROTOCOL: one JSON
# object per line each way.

import json
import socket
import time
from nbdcheck import fail, ok

# Every member a status reply must have (see the man page).
STATUS_KEYS = (
    "id ok state pinned snapshot-clients block-size store-bytes store-limit "
    "pin-max-age-ms pin-expires-in-ms "
    "generation taken-at description consistency consistency-reason "
    "frozen-filesystems freeze-ms barrier-ms thaw-ms frozen-ms disk-size "
    "blocks-total blocks-preserved blocks-zero blocks-released "
    "released-bytes copy-count copy-mean-ms copy-p99-ms bytes-copied "
    "live-writes live-added-mean-ms live-added-p99-ms bytes-read data-bytes "
    "progress "
    "broken-cause disks checkpoint totals last-snapshot").split()




class Control:
    """One connection to the control socket."""

    def __init__(self, path, timeout=60):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)         # blocking: waits if the backlog
        self.sock.settimeout(timeout)   # is full, never EAGAIN
        self.rfile = self.sock.makefile("rb")

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def recv(self):
        line = self.rfile.readline()
        if not line:
            raise EOFError("the server closed the connection")
        if not line.endswith(b"\n"):
            fail("reply without a newline: %r" % line)
        return json.loads(line)

    def call(self, command, **members):
        req = dict(members, command=command)
        self.send(json.dumps(req) + "\n")
        return self.recv()

    def close(self):
        self.rfile.close()
        self.sock.close()


def wait_for(path, seconds=30):
    """nbdkit creates the control socket after it forks, a little after
    its NBD socket: wait (bounded) until it accepts a connection."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return Control(path)
        except (FileNotFoundError, ConnectionRefusedError):
            if time.monotonic() > deadline:
                fail("control socket %s never appeared" % path)
            time.sleep(0.02)


def expect_ok(reply, what, id=None):
    if reply.get("ok") is not True or reply.get("id") != id:
        fail("%s: expected ok with id %r, got %r" % (what, id, reply))
    return reply


def expect_error(reply, code, what, id=None):
    err = reply.get("error") or {}
    if (reply.get("ok") is not False or err.get("code") != code or
            reply.get("id") != id or not isinstance(err.get("message"), str)
            or not err["message"]):
        fail("%s: expected error %s with id %r, got %r" %
             (what, code, id, reply))
    ok("%s -> %s: %s" % (what, code, err["message"]))
    return reply


def wait_status(c, key, value, seconds=10):
    """Poll status until member key is value, and return that reply.
    nbdkit closes an NBD connection a little after the client's
    shutdown returns, so counts of clients lag behind it."""
    deadline = time.monotonic() + seconds
    while True:
        r = c.call("status")
        if r.get(key) == value:
            return r
        if time.monotonic() > deadline:
            fail("status %s never became %r in %d s: %r" %
                 (key, value, seconds, r))
        time.sleep(0.01)


def expect_status(c, what, **want):
    """A status request whose members include want (keys with _ for -)."""
    r = expect_ok(c.call("status"), what)
    missing = [k for k in STATUS_KEYS if k not in r]
    if missing:
        fail("%s: status lacks %s" % (what, missing))
    for k, v in want.items():
        key = k.replace("_", "-")
        if r[key] != v:
            fail("%s: %s is %r, expected %r (reply %r)" %
                 (what, key, r[key], v, r))
    return r
