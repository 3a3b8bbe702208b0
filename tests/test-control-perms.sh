#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test-control-perms.sh: who may use the control socket, and its file.
# - Under umask 000 the socket is still created with mode 0600;
#   control-mode=0660 control-group=nogroup gives 0660 and group
#   nogroup.
# - Peer credentials, not only the file mode, decide: with
#   control-mode=0666 (the file lets anyone connect) `nobody` is
#   refused with a permission-denied reply and nbdkit logs it; with
#   control-mode=0660 control-group=nogroup `nobody` (whose group is
#   nogroup) is served; with the default 0600 `nobody` cannot even
#   connect.  fleecectl exits 5 either way (refused by the
#   credentials or by the file mode).
# - A stale socket left at PATH is replaced; a live one (another
#   process listening) and a regular file are refused at start.
# - Bad control-mode / control-group values and control-mode without
#   control= are refused with a message naming the parameter.

source "$srcdir/functions.sh"
requires nbdkit --version
requires /usr/bin/python3 --version
requires runuser --version
requires stat --version
FLEECECTL="${FLEECECTL_UNDER_TEST:-$abs_top_builddir/tools/fleecectl/fleecectl}"

# `nobody` must reach the socket directory.
chmod 0755 "$tmpdir"
ctl="$tmpdir/ctl.sock"
export PYTHONPATH="$srcdir"

cat > "$tmpdir/probe.py" <<'EOF'
# probe.py CTL EXPECT: one status request; EXPECT is ok or an error code.
import sys
from control_client import *
c = wait_for(sys.argv[1])
try:
    c.send('{"command":"status","id":1}\n')
except OSError:
    pass              # a refused client may be closed before it sends
r = c.recv()
if sys.argv[2] == "ok":
    expect_ok(r, "status as uid %s" % sys.argv[3], id=1)
    ok("status as uid %s served" % sys.argv[3])
else:
    expect_error(r, sys.argv[2], "status as uid %s" % sys.argv[3])
EOF

# serve ARGS... -- CMD: nbdkit with the control socket, running CMD.
serve ()
{
  local args=() cmd
  while [ "$1" != -- ]; do args+=("$1"); shift; done
  shift
  cmd="$*"
  nbdkit -U - --filter="$FLEECE" memory 1M control="$ctl" "${args[@]}" \
    --run "/usr/bin/python3 -c 'import control_client as c; c.wait_for(\"$ctl\")' && $cmd"
}

echo "== modes"
( umask 000
  serve -- "stat -c '%a %U %G' '$ctl' > '$tmpdir/mode'" )
[ "$(cat "$tmpdir/mode")" = "600 root root" ] ||
  { echo "$0: FAIL: mode under umask 000: $(cat "$tmpdir/mode")" >&2; exit 1; }
echo "ok: umask 000 -> $(cat "$tmpdir/mode")"
( umask 000
  serve control-mode=0660 control-group=nogroup -- \
    "stat -c '%a %G' '$ctl' > '$tmpdir/mode'" )
[ "$(cat "$tmpdir/mode")" = "660 nogroup" ] ||
  { echo "$0: FAIL: control-mode=0660: $(cat "$tmpdir/mode")" >&2; exit 1; }
echo "ok: control-mode=0660 control-group=nogroup -> $(cat "$tmpdir/mode")"

echo "== peer credentials"
serve control-mode=0666 -- \
  "runuser -u nobody -- /usr/bin/python3 '$tmpdir/probe.py' '$ctl' permission-denied nobody &&
   /usr/bin/python3 '$tmpdir/probe.py' '$ctl' ok root &&
   { runuser -u nobody -- '$FLEECECTL' --socket '$ctl' status \
       > '$tmpdir/out' 2>&1; echo \$? >> '$tmpdir/out'; }" 2> "$tmpdir/log" ||
  { cat "$tmpdir/log" >&2; exit 1; }
grep -q "refused a connection: uid 65534" "$tmpdir/log" ||
  { echo "$0: FAIL: refusal not logged" >&2; cat "$tmpdir/log" >&2; exit 1; }
grep -q "may not use this control socket.*(permission-denied)" "$tmpdir/out" &&
  [ "$(tail -n1 "$tmpdir/out")" = 5 ] ||
  { echo "$0: FAIL: fleecectl as nobody on 0666:" >&2; cat "$tmpdir/out" >&2; exit 1; }
echo "ok: $(head -n1 "$tmpdir/out")"
serve control-mode=0660 control-group=nogroup -- \
  "runuser -u nobody -- /usr/bin/python3 '$tmpdir/probe.py' '$ctl' ok nobody"
serve -- \
  "runuser -u nobody -- '$FLEECECTL' --socket '$ctl' status \
     > '$tmpdir/out' 2>&1; echo \$? >> '$tmpdir/out'"
grep -q "permission denied" "$tmpdir/out" && [ "$(tail -n1 "$tmpdir/out")" = 5 ] ||
  { echo "$0: FAIL: fleecectl as nobody on 0600:" >&2; cat "$tmpdir/out" >&2; exit 1; }
echo "ok: $(head -n1 "$tmpdir/out")"

echo "== the socket path"
/usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.close()' "$ctl"
[ -S "$ctl" ]
serve -- "/usr/bin/python3 '$tmpdir/probe.py' '$ctl' ok root"
echo "ok: stale socket replaced"
[ ! -e "$ctl" ] || { echo "$0: FAIL: socket left behind" >&2; exit 1; }

/usr/bin/python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen()
open(sys.argv[2], "w").close()
time.sleep(60)' "$ctl" "$tmpdir/listening" &
listener=$!
cleanup_pid "$listener"
for i in $(seq 600); do [ -e "$tmpdir/listening" ] && break; sleep 0.05; done
expect_fail_msg "control=.*in use by another process" \
  nbdkit -U - --filter="$FLEECE" memory 1M control="$ctl" --run true
kill "$listener"; wait "$listener" 2>/dev/null || true; rm -f "$ctl"

touch "$ctl"
expect_fail_msg "control=.*exists and is not a socket" \
  nbdkit -U - --filter="$FLEECE" memory 1M control="$ctl" --run true
[ -f "$ctl" ] || { echo "$0: FAIL: the regular file was touched" >&2; exit 1; }
rm -f "$ctl"

echo "== bad parameters"
for bad in control-mode=0999 control-mode=0400 control-mode=rw \
           control-mode=01777; do
  expect_fail_msg "control-mode=.*octal mode" \
    nbdkit -U - --filter="$FLEECE" memory 1M control="$ctl" "$bad" --run true
done
expect_fail_msg "control-group=no-such-group: no such group" \
  nbdkit -U - --filter="$FLEECE" memory 1M control="$ctl" \
  control-group=no-such-group --run true
expect_fail_msg "control-mode= needs control=PATH" \
  nbdkit -U - --filter="$FLEECE" memory 1M control-mode=0660 --run true
expect_fail_msg "control=.*at most 107 bytes" \
  nbdkit -U - --filter="$FLEECE" memory 1M \
  control="$tmpdir/$(printf 'x%.0s' $(seq 120))" --run true
