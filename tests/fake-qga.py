#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
# nbdkit-fleece: a scripted fake qemu-guest-agent on a Unix socket.
#
# Speaks enough of the QGA protocol for vmdisk's agent-socket= mode
# (guest-sync-delimited, guest-fsfreeze-freeze[-list], -thaw, -status)
# and misbehaves on demand, for the failure cases a real guest cannot
# produce when asked.  Like QEMU's chardev it serves one client at a
# time.  Every command received is logged, one line each:
#   MONOTONIC_SECONDS COMMAND ARGUMENTS_JSON
# (time.monotonic is CLOCK_MONOTONIC, the clock the C side uses).
#
# Usage: fake-qga.py --socket PATH --log FILE [options]
#   --mounts /,/boot       guest mountpoints (default: / and /boot)
#   --start-frozen         start in the frozen state
#   --sync-stale           send stale replies and garbage before the
#                          delimited sync reply
#   --on CMD=ACTION[@N]    misbehave for CMD (the first N times, or
#                          always); ACTION is one of:
#     hang                 do what was asked, never answer this client
#                          (for guest-sync-delimited: a mute agent)
#     garbage              do it, answer with bytes that are not JSON
#     partial              do it, answer half a JSON object, hang up
#     error:CLASS:DESC     answer an error, do nothing
#     error-frozen:C:D     freeze everything, then answer an error
#     error-thawed:C:D     thaw everything, then answer an error
#     count:N              do it, but answer the count N
#     reset                (guest-sync-delimited only) answer it, then
#                          hang up without reading the next command:
#                          the client's read gets ECONNRESET, not EOF

import argparse
import json
import os
import select
import socket
import sys
import time

p = argparse.ArgumentParser()
p.add_argument("--socket", required=True)
p.add_argument("--log", required=True)
p.add_argument("--mounts", default="/,/boot")
p.add_argument("--start-frozen", action="store_true")
p.add_argument("--sync-stale", action="store_true")
p.add_argument("--on", action="append", default=[])
args = p.parse_args()

mounts = [m for m in args.mounts.split(",") if m]
frozen = list(mounts) if args.start_frozen else []
rules = {}
for r in args.on:
    cmd, action = r.split("=", 1)
    times = None
    if "@" in action:
        action, n = action.rsplit("@", 1)
        times = int(n)
    rules[cmd] = [action, times]

logf = open(args.log, "a", buffering=1)


def log(cmd, arguments):
    logf.write("%.6f %s %s\n" % (time.monotonic(), cmd,
                                 json.dumps(arguments, sort_keys=True)))


def rule_for(cmd):
    r = rules.get(cmd)
    if r is None or r[1] == 0:
        return "ok"
    if r[1] is not None:
        r[1] -= 1
    return r[0]


def effect(cmd, arguments):
    """Do what cmd asks; return the "return" value."""
    global frozen
    if cmd == "guest-fsfreeze-status":
        return "frozen" if frozen else "thawed"
    if cmd == "guest-fsfreeze-freeze":
        frozen = list(mounts)
        return len(frozen)
    if cmd == "guest-fsfreeze-freeze-list":
        want = arguments.get("mountpoints", [])
        frozen = [m for m in mounts if m in want]
        return len(frozen)
    if cmd == "guest-fsfreeze-thaw":
        n = len(frozen)
        frozen = []
        return n
    return {}


def answer(conn, cmd, arguments):
    """Answer one command; False when this client gets no more answers."""
    global frozen
    if cmd == "guest-sync-delimited":
        action = rule_for(cmd)
        if action == "hang":
            return False
        pre = b""
        if args.sync_stale:
            pre = (b'{"return": 7}\n' + b"stale garbage\n" +
                   b'\xff{"return": 123456789012}\n' + b"\xffnot json\n")
        conn.sendall(pre + b"\xff" +
                     json.dumps({"return": arguments["id"]}).encode() + b"\n")
        if action == "reset":
            # Closing with unread bytes makes a Unix socket's peer read
            # ECONNRESET.  Peek (never read) until the whole next
            # command is there: the client may send it in parts, and a
            # part sent after the close would fail with EPIPE instead.
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                select.select([conn], [], [], 1)
                peek = conn.recv(65536, socket.MSG_PEEK)
                if not peek or b"\n" in peek:
                    break
                time.sleep(0.01)
            raise ConnectionResetError("reset on request")
        return True
    action = rule_for(cmd)
    kind, _, rest = action.partition(":")
    if kind == "hang":
        effect(cmd, arguments)
        return False
    if kind == "garbage":
        effect(cmd, arguments)
        conn.sendall(b"}}this is not json{{\n")
        return True
    if kind == "partial":
        effect(cmd, arguments)
        conn.sendall(b'{"return": ')
        return False
    if kind in ("error", "error-frozen", "error-thawed"):
        if kind == "error-frozen":
            frozen = list(mounts)
        if kind == "error-thawed":
            frozen = []
        cls, _, desc = rest.partition(":")
        reply = {"error": {"class": cls, "desc": desc}}
    elif kind == "count":
        effect(cmd, arguments)
        reply = {"return": int(rest)}
    else:
        reply = {"return": effect(cmd, arguments)}
    conn.sendall(json.dumps(reply).encode() + b"\n")
    return True


def serve(conn):
    buf = b""
    answering = True
    dec = json.JSONDecoder()
    while True:
        data = conn.recv(4096)
        if not data:
            return
        buf += data.replace(b"\xff", b"")
        while True:
            text = buf.decode("utf-8", "replace").lstrip()
            if not text:
                buf = b""
                break
            try:
                req, end = dec.raw_decode(text)
            except ValueError:
                break
            buf = text[end:].encode()
            cmd = req.get("execute", "")
            arguments = req.get("arguments", {})
            log(cmd, arguments)
            if answering:
                answering = answer(conn, cmd, arguments)
                if not answering and rules.get(cmd, ["ok"])[0] == "partial":
                    return


try:
    os.unlink(args.socket)
except FileNotFoundError:
    pass
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(args.socket + ".tmp")
srv.listen(1)
os.rename(args.socket + ".tmp", args.socket)
log("ready", {})
while True:
    c, _ = srv.accept()
    try:
        serve(c)
    except (BrokenPipeError, ConnectionResetError):
        pass
    finally:
        c.close()
