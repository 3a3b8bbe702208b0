# SPDX-License-Identifier: BSD-3-Clause
# nbdkit-fleece tests: a fake control socket for the fleecectl tests.
#
#   fake_control.py SOCKET MODE REPLIES LOG -- CMD [ARGS...]
#
# Listens on SOCKET, then runs CMD and exits with its exit status
# (CMD's standard output and error pass through).  MODE:
#   reply    each request line received is appended to LOG, and
#            answered with the next line of the file REPLIES (as is);
#            when they run out, the connection is closed.
#   silent   connections are accepted and read, never answered.
#   backlog  connections are never accepted, and the backlog is full
#            (listen(0) and one connection made here), so connect
#            waits.
# A CMD still running after 30 seconds is killed: the fake prints
# "fake_control: CMD hung" and exits with 124.

import os
import socket
import subprocess
import sys
import threading


def serve_reply(conn, replies, log):
    rfile = conn.makefile("rb")
    for reply in replies:
        line = rfile.readline()
        if not line:
            break
        with open(log, "ab") as f:
            f.write(line)
        conn.sendall(reply)
    conn.close()


def serve_silent(conn):
    while conn.recv(4096):
        pass


def main():
    path, mode, replies, log = sys.argv[1:5]
    assert sys.argv[5] == "--"
    cmd = sys.argv[6:]
    lines = open(replies, "rb").read().splitlines(True) if mode == "reply" \
        else []
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    if mode == "backlog":
        listener.listen(0)
        filler = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        filler.connect(path)
    else:
        listener.listen(8)

        def accept_loop():
            while True:
                conn, _ = listener.accept()
                target = serve_reply if mode == "reply" else serve_silent
                args = (conn, lines, log) if mode == "reply" else (conn,)
                threading.Thread(target=target, args=args,
                                 daemon=True).start()
        threading.Thread(target=accept_loop, daemon=True).start()
    try:
        st = subprocess.run(cmd, timeout=30).returncode
    except subprocess.TimeoutExpired:
        print("fake_control: %s hung" % " ".join(cmd), file=sys.stderr)
        st = 124
    os.unlink(path)
    sys.stdout.flush()
    os._exit(st)


main()
