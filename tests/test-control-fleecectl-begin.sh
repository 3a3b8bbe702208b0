#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test-control-fleecectl-begin.sh: fleecectl begin, against a fake
# control socket that records the request and gives canned replies
# (the snapshot-begin reply of nbdkit-fleece-filter(1), PROTOCOL):
# - begin --fresh sends "fresh": true (and quiesce); plain begin sends
#   no "fresh"; --fresh goes with begin only;
# - the output says created or adopted, and the consistency;
# - a crash-consistent snapshot exits 3 with one warning line on
#   stderr giving the reason: from "consistency" and
#   "consistency-reason", or from the description when the reply has
#   no "consistency" (an older server); neither: unknown, exit 0;
# - --json prints the reply line as is (and still exits 3);
# - an error reply (not-consistent) exits 1 with its message.

source "$srcdir/functions.sh"
source "$srcdir/fleecectl-functions.sh"
sock="$tmpdir/fake.sock"
ts=2026-11-26T16:42:07.755Z

# run NAME REPLY ARGS...: fleecectl ARGS against the fake answering
# REPLY; $tmpdir/NAME.out, .err, .req (the request line), and the
# exit status in .st.
run ()
{
  local name="$1" st=0
  printf '%s\n' "$2" > "$tmpdir/$name.reply"
  shift 2
  rm -f "$tmpdir/$name.req"
  fake reply "$tmpdir/$name.reply" "$tmpdir/$name.req" \
    "$FLEECECTL" -s "$sock" "$@" > "$tmpdir/$name.out" \
    2> "$tmpdir/$name.err" || st=$?
  echo "$st" > "$tmpdir/$name.st"
}

# check NAME STATUS STDOUT STDERR: exact outputs.
check ()
{
  local name="$1"
  if [ "$(cat "$tmpdir/$name.st")" != "$2" ] ||
     [ "$(cat "$tmpdir/$name.out")" != "$3" ] ||
     [ "$(cat "$tmpdir/$name.err")" != "$4" ]; then
    echo "$0: FAIL: $name: exit $(cat "$tmpdir/$name.st") (want $2)" >&2
    echo "-- stdout:"; cat "$tmpdir/$name.out"
    echo "-- want:"; echo "$3"
    echo "-- stderr:"; cat "$tmpdir/$name.err"
    echo "-- want:"; echo "$4"
    exit 1
  fi >&2
  echo "ok: $name: exit $2"
  sed 's/^/    /' "$tmpdir/$name.out" "$tmpdir/$name.err"
}

# request NAME PYTHON-DICT: the request line, parsed, equals the dict.
request ()
{
  /usr/bin/python3 - "$tmpdir/$1.req" "$2" <<'PY'
import ast, json, sys
lines = open(sys.argv[1]).read().splitlines()
want = ast.literal_eval(sys.argv[2])
if len(lines) != 1 or json.loads(lines[0]) != want:
    sys.exit("FAIL: request %r, want %r" % (lines, want))
print("ok: request", lines[0])
PY
}

app_desc="fleece snapshot generation 5, taken $ts, application-consistent: 2 filesystems frozen for 41.7 ms"
crash_desc="fleece snapshot generation 4, taken $ts, crash-consistent: domain vm1: guest agent not connected"

echo "== created, application-consistent, --fresh"
run fresh "{\"id\":1,\"ok\":true,\"generation\":5,\"description\":\"$app_desc\",\"created\":true,\"consistency\":\"application-consistent\",\"consistency-reason\":null}" \
  begin --fresh --quiesce require
request fresh "{'id': 1, 'command': 'snapshot-begin', 'quiesce': 'require', 'fresh': True}"
check fresh 0 "snapshot generation 5 created, pinned until 'fleecectl end'
consistency:  application-consistent
description:  $app_desc" ""

echo "== adopted, crash-consistent: exit 3"
crash_reply="{\"id\":1,\"ok\":true,\"generation\":4,\"description\":\"$crash_desc\",\"created\":false,\"consistency\":\"crash-consistent\",\"consistency-reason\":\"domain vm1: guest agent not connected\"}"
run adopted "$crash_reply" begin
request adopted "{'id': 1, 'command': 'snapshot-begin'}"
check adopted 3 "snapshot generation 4 adopted (it was already active), pinned until 'fleecectl end'
consistency:  crash-consistent: domain vm1: guest agent not connected
description:  $crash_desc" \
  "fleecectl: warning: snapshot generation 4 is crash-consistent: domain vm1: guest agent not connected"

echo "== --json prints the reply"
run json "$crash_reply" --json begin --fresh
request json "{'id': 1, 'command': 'snapshot-begin', 'fresh': True}"
check json 3 "$crash_reply" \
  "fleecectl: warning: snapshot generation 4 is crash-consistent: domain vm1: guest agent not connected"

echo "== no \"consistency\" member: the description decides"
run olddesc "{\"id\":1,\"ok\":true,\"generation\":4,\"description\":\"$crash_desc\"}" begin
check olddesc 3 "snapshot generation 4 active, pinned until 'fleecectl end'
consistency:  crash-consistent: domain vm1: guest agent not connected
description:  $crash_desc" \
  "fleecectl: warning: snapshot generation 4 is crash-consistent: domain vm1: guest agent not connected"
run oldapp "{\"id\":1,\"ok\":true,\"generation\":5,\"description\":\"$app_desc\"}" begin
check oldapp 0 "snapshot generation 5 active, pinned until 'fleecectl end'
consistency:  application-consistent
description:  $app_desc" ""

run unknown '{"id":1,"ok":true,"generation":6,"description":null}' begin
check unknown 0 "snapshot generation 6 active, pinned until 'fleecectl end'
consistency:  unknown (the server does not say)" ""

echo "== refused"
run refused '{"id":1,"ok":false,"error":{"code":"not-consistent","message":"snapshot generation 4 is active and crash-consistent (quiesce=off), and quiesce=require: end it first (fleecectl begin --fresh)"}}' \
  begin --quiesce require
check refused 1 "" \
  "fleecectl: $sock: snapshot generation 4 is active and crash-consistent (quiesce=off), and quiesce=require: end it first (fleecectl begin --fresh) (not-consistent)"

echo "== usage"
expect_exit 2 "--fresh goes with begin" "$FLEECECTL" -s "$sock" status --fresh
expect_exit 2 "--fresh goes with begin" "$FLEECECTL" -s "$sock" --fresh end
