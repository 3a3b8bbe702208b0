#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test-control-fleecectl.sh: the fleecectl command-line client.
# - Usage errors and a missing or refusing socket: clear messages,
#   exit status 2.
# - begin / status / end in human form: literal lines checked against
#   what the test did (1 MiB disk, 2 blocks written: 128 KiB in the
#   store; half the disk read: 50.0%); begin with quiesce off exits 3
#   (crash-consistent) with a warning on stderr; the totals line.
# - status after end: the totals and the last snapshot's line.
# - --json prints the server's reply line (parsed back here).
# - status --watch --count 3: three progress lines with the bar.
# - end with nothing active: the server's message, exit status 1, and
#   with --json the error reply on stdout.
# - status --watch with no snapshot prints one line and stops.

source "$srcdir/functions.sh"
source "$srcdir/fleecectl-functions.sh"
requires nbdkit --version
requires /usr/bin/python3 -c 'import nbd'
ctl="$tmpdir/ctl.sock"

echo "== errors without a server"
expect_exit 2 "no control socket at $ctl: is nbdkit running with control=$ctl\?" \
  "$FLEECECTL" --socket "$ctl" status
expect_exit 2 "--socket PATH is required" "$FLEECECTL" status
expect_exit 2 "no command" "$FLEECECTL" --socket "$ctl"
expect_exit 2 "unknown command 'reboot'" "$FLEECECTL" --socket "$ctl" reboot
expect_exit 2 "--watch goes with status" "$FLEECECTL" --socket "$ctl" begin --watch
expect_exit 2 "--quiesce goes with begin" "$FLEECECTL" -s "$ctl" status --quiesce off
expect_exit 2 "--quiesce maybe: expected auto, require or off" \
  "$FLEECECTL" -s "$ctl" begin --quiesce maybe
expect_exit 2 "--count 0: expected a number" \
  "$FLEECECTL" -s "$ctl" status --watch --count 0
expect_exit 0 "usage: fleecectl" "$FLEECECTL" --help
/usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.close()' "$ctl"
expect_exit 2 "$ctl: connection refused" "$FLEECECTL" -s "$ctl" status
rm -f "$ctl"

cat > "$tmpdir/run.sh" <<'EOF'
set -euo pipefail
ctl="$1" F="$2" t="$3" sock="$4"
uri="nbd+unix:///?socket=$sock" snap="nbd+unix:///snapshot?socket=$sock"
/usr/bin/python3 -c 'import control_client as c, sys; c.wait_for(sys.argv[1])' "$ctl"
/usr/bin/nbdsh -u "$uri" -c 'h.pwrite(b"D" * 1048576, 0)'
st=0; "$F" -s "$ctl" begin --quiesce off > "$t/begin" 2> "$t/begin.err" || st=$?
echo "exit $st" >> "$t/begin"
/usr/bin/nbdsh -u "$uri" -c 'h.pwrite(b"x", 0)' -c 'h.pwrite(b"y", 655360)'
/usr/bin/nbdsh -u "$snap" -c 'h.pread(524288, 0)'
"$F" -s "$ctl" status > "$t/status"
"$F" -s "$ctl" status --json > "$t/status.json"
"$F" -s "$ctl" status --watch --count 3 --interval 0.01 > "$t/watch"
"$F" -s "$ctl" end > "$t/end"
"$F" -s "$ctl" status > "$t/status-ended"
st=0; "$F" -s "$ctl" end > "$t/end2" 2>&1 || st=$?; echo "exit $st" >> "$t/end2"
st=0; "$F" -s "$ctl" --json end > "$t/end3" 2>/dev/null || st=$?
echo "exit $st" >> "$t/end3"
"$F" -s "$ctl" status --watch --count 5 --interval 0.01 > "$t/watch-none"
EOF
PYTHONPATH="$srcdir" nbdkit -U - --filter="$FLEECE" memory 1M fleece-block-size=64K control="$ctl" \
  --run "bash '$tmpdir/run.sh' '$ctl' '$FLEECECTL' '$tmpdir' \"\$unixsocket\""

# check FILE EXPECTED-REGEX-LINES...: each regex matches a whole line.
# (The NBD client that read the snapshot may not be counted out yet.)
check ()
{
  local name="$1" f="$tmpdir/$1" re
  shift
  for re in "$@"; do
    if ! grep -Eqx -- "$re" "$f"; then
      echo "$0: FAIL: no line /$re/ in $name:" >&2
      cat "$f" >&2
      exit 1
    fi
  done
  echo "ok: $name:"; cat "$f"
}
ts='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{3}Z'
check begin "snapshot generation 1 (active|created), pinned until 'fleecectl end'" \
  "consistency:  crash-consistent: quiesce=off" \
  "description:  fleece snapshot generation 1, taken $ts, crash-consistent: quiesce=off" \
  "exit 3"
check begin.err \
  "fleecectl: warning: snapshot generation 1 is crash-consistent: quiesce=off"
check status \
  'state:            active \(pinned\)' \
  "generation:       1, taken $ts" \
  'consistency:      crash-consistent: quiesce=off' \
  'timings:          freeze [0-9.]+ ms, barrier [0-9.]+ ms, thaw [0-9.]+ ms' \
  'disk:             1 MiB, 16 blocks of 64 KiB' \
  'blocks:           2 preserved, 0 zero, 0 released \(0 B\)' \
  'copies:           2 \(128 KiB\), mean [0-9.]+ ms, p99 [0-9.]+ ms' \
  'live writes:      2, added mean [0-9.]+ ms, p99 [0-9.]+ ms' \
  'read:             512 KiB of 1 MiB of data \(50.0%\)' \
  'store:            128 KiB in use, limit none' \
  'snapshot clients: [01]' \
  'totals:           1 created, 0 failed, 1 crash-consistent, 0 freeze failures, 0 ended, 0 broken, 0 writes refused' \
  'last snapshot:    none'
/usr/bin/python3 - "$tmpdir/status.json" <<'EOF'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
r = json.loads(lines[0])
assert len(lines) == 1 and r["ok"] and r["store-bytes"] == 131072 and \
    r["bytes-read"] == 524288 and r["progress"] == 0.5, r
print("ok: --json reply parsed:", r["state"], r["store-bytes"])
EOF
bar='\[###############\.{15}\]  50\.0%  512 KiB of 1 MiB read, rate'
lat='store 128 KiB, copy p99 [0-9.]+ ms, live added p99 [0-9.]+ ms'
check watch "generation 1 active $bar -, ETA -, $lat" \
  "generation 1 active $bar 0 B/s, ETA -, $lat"
[ "$(wc -l < "$tmpdir/watch")" = 3 ] ||
  { echo "$0: FAIL: --count 3 printed $(wc -l < "$tmpdir/watch") lines" >&2; exit 1; }
check end 'snapshot generation 1 ended'
check status-ended 'state:            none' \
  'totals:           1 created, 0 failed, 1 crash-consistent, 0 freeze failures, 1 ended, 0 broken, 0 writes refused' \
  "last snapshot:    generation 1, ended by snapshot-end at $ts, crash-consistent, read 512 KiB, copied 128 KiB"
check end2 "fleecectl: $ctl: no snapshot is active \(not-active\)" 'exit 1'
check end3 '\{"id":1,"ok":false,"error":\{"code":"not-active","message":"no snapshot is active"\}\}' \
  'exit 1'
check watch-none 'no snapshot \(state none\)'
[ "$(wc -l < "$tmpdir/watch-none")" = 1 ] ||
  { echo "$0: FAIL: --watch went on with no snapshot" >&2; exit 1; }
