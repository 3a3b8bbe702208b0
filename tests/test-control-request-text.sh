#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test-control-request-text.sh: the control socket reads a request's
# own text (nbdkit-fleece-filter(1), PROTOCOL, Requests), issue 12
# defect 16.
# - "id" comes back exactly as written: an integer beyond 64 bits, -0,
#   a lone surrogate escape, 1.0e2, an object with spaces inside.
# - A member name given twice is a bad-request at any depth, also when
#   one spelling is escaped, and the command is not run (a
#   {"command":"status","command":"snapshot-end"} ends nothing).
# - A member name holding \u0000 is a bad-request.
# - What json-c accepts beyond RFC 8259 is a parse-error: single
#   quotes, NaN, Infinity, "1.", a raw control character in a string.

source "$srcdir/functions.sh"
requires nbdkit --version
requires /usr/bin/python3 --version

ctl="$tmpdir/ctl.sock"
cat > "$tmpdir/text.py" <<'EOF'
import json, sys
from control_client import *

c = wait_for(sys.argv[1])


def raw_call(line):
    """Send one request line (bytes); return the reply line's text."""
    c.send(line + b"\n")
    text = c.rfile.readline()
    if not text.endswith(b"\n") or b"\n" in text[:-1]:
        fail("reply is not one line: %r" % text)
    return text


# id echoed byte for byte.
for idtext in (b'123456789012345678901234567890', b'-0', b'"\\ud800"',
               b'"\\udc00\\ud800x"', b'1.0e2', b'-12.50E+3',
               b'{"b" : [1, 2], "a":"\\u00e9\\/"}', b'"caf\xc3\xa9"',
               b'[ ]', b'18446744073709551616', b'-9223372036854775809'):
    text = raw_call(b'{"command":"status","id":' + idtext + b'}')
    want = b'{"id":' + idtext + b',"ok":true,'
    if not text.startswith(want):
        fail("id %r came back as %r" % (idtext, text[:80]))
    json.loads(text)        # and the reply is still JSON
    ok("id %s echoed exactly" % idtext.decode())
# Leading white space in the value is not part of it.
text = raw_call(b'{"command":"status","id":  -0  }')
if not text.startswith(b'{"id":-0,"ok":true,'):
    fail("id with spaces around: %r" % text[:80])
ok("white space around the id is not echoed")
# A CR inside the id's white space becomes a space: a reply is one line.
text = raw_call(b'{"command":"status","id":[1,\r2]}')
if not text.startswith(b'{"id":[1, 2],"ok":true,'):
    fail("id with a CR inside: %r" % text[:80])
ok("a CR inside the id comes back as a space")

# Repeated names: refused, and the command does not run.
expect_ok(c.call("snapshot-begin", quiesce="off"), "begin")
dups = [
    b'{"command":"status","command":"snapshot-end"}',
    b'{"command":"snapshot-end","comm\\u0061nd":"status"}',
    b'{"command":"snapshot-end","id":1,"id":2}',
    b'{"command":"snapshot-end","id":{"a":1,"b":{"x":[{"y":0,"y":1}]}}}',
    b'{"command":"snapshot-end","id":{"\\ud800":1,"\\ud800":2}}',
    b'{"command":"snapshot-end","id\\u0000":7}',
    b'{"command\\u0000x":"status","command":"snapshot-end"}',
]
for line in dups:
    r = json.loads(raw_call(line))
    expect_error(r, "bad-request", repr(line[:60]))
    if r["id"] is not None:
        fail("%r: id %r, expected null" % (line, r["id"]))
expect_status(c, "status after repeated names", state="active",
              generation=1)
ok("no repeated-name request ran")
# Names that only look alike are different members.
r = json.loads(raw_call(b'{"command":"status","id":{"\\ud800":1,'
                        b'"\\ud800\\udc00":2,"\\u00e9":3,"e\\u0301":4}}'))
expect_ok(r, "distinct names", id={"\ud800": 1, "\U00010000": 2,
                                   "\u00e9": 3, "e\u0301": 4})
expect_ok(c.call("snapshot-end"), "end")

# Beyond RFC 8259.
lenient = [
    b"{'command':'status'}",
    b'{"command":"status","id":NaN}',
    b'{"command":"status","id":Infinity}',
    b'{"command":"status","id":-Infinity}',
    b'{"command":"status","id":1.}',
    b'{"command":"sta\ttus"}',
    b'{"command":"status","id":"a\x01b"}',
]
for line in lenient:
    r = json.loads(raw_call(line))
    expect_error(r, "parse-error", repr(line[:60]))
expect_ok(c.call("status", id="still"), "the connection goes on",
          id="still")
c.close()
EOF

nbdkit -U - --filter="$FLEECE" memory 1M control="$ctl" \
  --run "PYTHONPATH='$srcdir' /usr/bin/python3 '$tmpdir/text.py' '$ctl'"
