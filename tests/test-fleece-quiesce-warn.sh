#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test-fleece-quiesce-warn.sh: crash-consistency is never quiet, and
# never a negative count.
# - quiesce=auto, quiesce-command whose freeze fails: the snapshot is
#   crash-consistent, one warning line (an error, not debug: nbdkit
#   runs without -v) names the generation and the reason, and status
#   says frozen-filesystems 0 (not -1), consistency-reason the reason,
#   and the description ends with the whole reason (one of over 200
#   bytes here).
# - The same with a freeze that freezes 0 filesystems.
# - quiesce=off and quiesce=auto with nothing configured to freeze
#   are chosen, not failures: no warning.
# - quiesce=require when nothing can freeze (no quiesce-command, a
#   plugin without a quiesce provider, or vmdisk without domain= or
#   agent-socket=) is refused at start, before nbdkit forks (no pid
#   file, exit status 1), with an error naming the fix; with
#   quiesce-command= or vmdisk domain= it starts.
source "$srcdir/functions.sh"
requires nbdkit --version
requires /usr/bin/python3 -c 'import nbd'

ctl="$tmpdir/ctl.sock"
cat > "$tmpdir/q" <<EOF
#!/bin/sh
case "\$1 \$(cat $tmpdir/mode)" in
  "freeze fail") echo "agent says no" >&2; exit 1 ;;
  "freeze zero") echo 0 ;;
esac
exit 0
EOF
chmod +x "$tmpdir/q"
# A long path makes a reason of over 200 bytes: the description keeps
# all of it.
qlong="$tmpdir/$(printf 'q%.0s' $(seq 150))"
cp "$tmpdir/q" "$qlong"

cat > "$tmpdir/t.py" <<'EOF'
import os, sys
from control_client import *
from nbdcheck import open_snapshot
sock, ctl = sys.argv[1:3]
reason = os.environ["REASON"]
c = wait_for(ctl)
h, d = open_snapshot("nbd+unix:///snapshot?socket=" + sock)
r = expect_status(c, "crash-consistent", state="active", generation=1,
                  consistency="crash-consistent", frozen_filesystems=0)
if reason not in (r["consistency-reason"] or ""):
    fail("consistency-reason %r lacks %r" % (r["consistency-reason"], reason))
ok("status: frozen-filesystems 0, consistency-reason %r" %
   r["consistency-reason"])
if not r["description"].endswith("crash-consistent: " +
                                  r["consistency-reason"]):
    fail("the description does not end with the whole reason: %r" %
         r["description"])
h.shutdown()
EOF

# run MODE REASON [PARAMS...]: a snapshot; status checked; log in $log.
run ()
{
  local mode=$1 reason=$2
  shift 2
  echo "$mode" > "$tmpdir/mode"
  log="$tmpdir/log.$mode"
  REASON=$reason nbdkit -U - --filter="$FLEECE" memory 1M control="$ctl" "$@" \
    --run "/usr/bin/python3 '$tmpdir/t.py' \"\$unixsocket\" '$ctl'" \
    2> "$log" || { cat "$log" >&2; exit 1; }
}
warned ()
{
  if ! grep -Eq "error: fleece: warning: snapshot generation 1 is crash-consistent: $1" "$log"; then
    echo "$0: FAIL: no warning line /$1/:" >&2; cat "$log" >&2; exit 1
  fi
  echo "ok: $(grep -m1 -o 'fleece: warning: snapshot generation 1 .*' "$log")"
}
not_warned ()
{
  if grep -q "warning: snapshot generation" "$log"; then
    echo "$0: FAIL: a chosen crash-consistency warned:" >&2; cat "$log" >&2; exit 1
  fi
  echo "ok: no warning for $1"
}

run fail "freeze failed: '$qlong freeze' failed (exit status 1)" \
  quiesce-command="$qlong"
warned "freeze failed: '.*/q+ freeze' failed \(exit status 1\)"
run zero "the freeze froze 0 filesystems" quiesce-command="$tmpdir/q"
warned "the freeze froze 0 filesystems"
run off "quiesce=off" quiesce-command="$tmpdir/q" quiesce=off
not_warned quiesce=off
run none "the plugin cannot freeze the guest"
not_warned "quiesce=auto with no way to freeze"

# quiesce=require with nothing that can freeze: refused at start.
refused ()                      # REASON PLUGIN [ARGS...]
{
  local why=$1
  shift
  rm -f "$tmpdir/pid" "$tmpdir/s.sock"
  if nbdkit -P "$tmpdir/pid" -U "$tmpdir/s.sock" --filter="$FLEECE" "$@" \
       quiesce=require 2> "$tmpdir/err"; then
    echo "$0: FAIL: quiesce=require started with: $*" >&2; exit 1
  fi
  [ ! -e "$tmpdir/pid" ] || {
    cleanup_pid "$(pid_of "$tmpdir/pid")"
    echo "$0: FAIL: nbdkit forked before refusing: $*" >&2; exit 1; }
  grep -Fq "quiesce=require: nothing can freeze the guest ($why)" "$tmpdir/err" &&
  grep -Fq "give quiesce-command=PATH, or use the vmdisk plugin with domain= or agent-socket=" \
    "$tmpdir/err" || { cat "$tmpdir/err" >&2; echo "$0: FAIL: message" >&2; exit 1; }
  echo "ok: refused at start: $(grep -o 'quiesce=require: .*' "$tmpdir/err")"
}
refused "the plugin has no quiesce provider" memory 1M
truncate -s 1M "$tmpdir/disk"
refused "vmdisk: no domain= or agent-socket= given" "$VMDISK" file="$tmpdir/disk"
nbdkit -U - --filter="$FLEECE" memory 1M quiesce=require \
  quiesce-command="$tmpdir/q" --run true
nbdkit -U - --filter="$FLEECE" "$VMDISK" file="$tmpdir/disk" domain=vm1 \
  uri=test:///default quiesce=require --run true
echo "ok: quiesce=require starts with quiesce-command= or vmdisk domain="
