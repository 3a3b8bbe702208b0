#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
# Talk to the test guest's qemu-guest-agent, through libvirt or directly.
#
#   qga.py (--domain DOM [--uri URI] | --socket PATH) COMMAND ...
#     cmd JSON              send one QGA command, print the reply object
#     wait SECONDS          poll guest-ping until it answers (or fail)
#     exec [--timeout S] PROG [ARG...]
#                           guest-exec with captured output, poll
#                           guest-exec-status until it exits; copy the
#                           decoded stdout/stderr to ours, exit with its
#                           status (or 124 on timeout)
#     frozen-status         print guest-fsfreeze-status ("frozen"/"thawed")
#
# --domain goes through `virsh qemu-agent-command` (libvirt owns the
# agent channel).  --socket connects to a QEMU chardev socket
# (server=on,wait=off) and speaks the QGA protocol itself: each call
# opens a connection, sends guest-sync-delimited with a fresh id, skips
# everything up to the 0xFF delimiter and the matching reply (a
# previous, timed-out client may have left replies in the channel),
# then sends the command and reads one reply line.  Every wait is
# bounded by a deadline on the monotonic clock.  Errors: one line on
# stderr, exit status 1 (the agent's own error description included).
import base64
import json
import os
import random
import socket
import subprocess
import sys
import time


class AgentError(Exception):
    pass


def via_virsh(uri, dom, req, timeout):
    cmd = ["virsh", "-q", "-c", uri, "qemu-agent-command", dom,
           json.dumps(req), "--timeout", str(max(1, int(timeout)))]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True,
                           timeout=timeout + 10)
    except subprocess.TimeoutExpired:
        raise AgentError("virsh qemu-agent-command timed out")
    if p.returncode != 0:
        raise AgentError(p.stderr.strip() or "virsh failed")
    return json.loads(p.stdout)


def read_reply(s, f, deadline, want=None):
    """Read JSON lines until one parses (and has return == want)."""
    while True:
        s.settimeout(max(0.01, deadline - time.monotonic()))
        line = f.readline()
        if not line:
            raise AgentError("agent socket closed")
        line = line.split(b"\xff")[-1].strip()
        if not line:
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if want is None or obj.get("return") == want:
            return obj


def via_socket(path, req, timeout):
    deadline = time.monotonic() + timeout
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.settimeout(timeout)
        s.connect(path)
        f = s.makefile("rb")
        sync_id = random.randint(1, 2**31)
        s.sendall(b"\xff" + json.dumps(
            {"execute": "guest-sync-delimited",
             "arguments": {"id": sync_id}}).encode() + b"\n")
        read_reply(s, f, deadline, sync_id)
        s.sendall(json.dumps(req).encode() + b"\n")
        return read_reply(s, f, deadline)
    except (socket.timeout, TimeoutError):
        raise AgentError("no reply from agent within %ss" % timeout)
    except OSError as e:
        raise AgentError("agent socket %s: %s" % (path, e))
    finally:
        s.close()


def call(args, execute, arguments=None, timeout=10):
    req = {"execute": execute}
    if arguments is not None:
        req["arguments"] = arguments
    if args.socket:
        reply = via_socket(args.socket, req, timeout)
    else:
        reply = via_virsh(args.uri, args.domain, req, timeout)
    if "error" in reply:
        raise AgentError("%s: %s" % (execute, reply["error"].get("desc")))
    return reply.get("return")


def cmd_wait(args, rest):
    deadline = time.monotonic() + float(rest[0])
    while True:
        try:
            call(args, "guest-ping", timeout=2)
            return 0
        except AgentError as e:
            if time.monotonic() >= deadline:
                raise AgentError("agent did not answer in %ss: %s"
                                 % (rest[0], e))
            time.sleep(0.2)


def cmd_exec(args, rest):
    timeout = 60.0
    if rest[:1] == ["--timeout"]:
        timeout, rest = float(rest[1]), rest[2:]
    pid = call(args, "guest-exec", {"path": rest[0], "arg": rest[1:],
                                    "capture-output": True})["pid"]
    deadline = time.monotonic() + timeout
    delay = 0.02
    while True:
        st = call(args, "guest-exec-status", {"pid": pid})
        if st.get("exited"):
            break
        if time.monotonic() >= deadline:
            sys.stderr.write("qga: %s still running after %ss\n"
                             % (rest[0], timeout))
            return 124
        time.sleep(delay)
        delay = min(delay * 2, 0.5)
    for key, out in (("out-data", sys.stdout), ("err-data", sys.stderr)):
        if key in st:
            out.buffer.write(base64.b64decode(st[key]))
            out.flush()
    if "signal" in st:
        return 128 + st["signal"]
    return st.get("exitcode", 1)


def main():
    argv = sys.argv[1:]
    args = type("Args", (), {"socket": None, "domain": None,
                             "uri": os.environ.get("LIBVIRT_DEFAULT_URI",
                                                   "qemu:///system")})
    while argv and argv[0] in ("--socket", "--domain", "--uri"):
        setattr(args, argv[0][2:], argv[1])
        argv = argv[2:]
    if not argv or not (args.socket or args.domain):
        sys.stderr.write("usage: qga.py (--domain DOM|--socket PATH) "
                         "cmd JSON|wait S|exec PROG...|frozen-status\n")
        return 2
    what, rest = argv[0], argv[1:]
    try:
        if what == "cmd":
            req = json.loads(rest[0])
            print(json.dumps(call(args, req["execute"],
                                  req.get("arguments"))))
        elif what == "wait":
            return cmd_wait(args, rest)
        elif what == "exec":
            return cmd_exec(args, rest)
        elif what == "frozen-status":
            print(call(args, "guest-fsfreeze-status"))
        else:
            sys.stderr.write("qga: unknown command %s\n" % what)
            return 2
    except AgentError as e:
        sys.stderr.write("qga: %s\n" % e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
