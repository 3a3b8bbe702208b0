#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test-fault-quiesce-command-crash.sh: quiesce-command= has crash
# recovery without any extra parameter (the quiesce guard's marker in
# the default state directory).  The command is a guest stand-in: it
# logs each call and keeps a "frozen" flag file (freeze sets it, thaw
# clears it).  nbdkit (file plugin) is SIGKILLed between 'PATH freeze'
# and 'PATH thaw':
#   A. after the freeze returned, while the snapshot waits at its
#      barrier for a live write held by nbdkit's delay filter (below
#      fleece).  A second nbdkit leaves the live one's marker alone
#      (no freeze).  The restarted nbdkit thaws at start, with no
#      client, logs one warning naming the dead pid and removes the
#      marker; the next snapshot freezes and thaws normally and is
#      exact.
#   B. inside 'PATH freeze' (its child blocks on a fifo; the freeze
#      would land after it), and the thaw then fails: the restarted
#      nbdkit kills the orphaned freeze's process group before its
#      thaw; the marker stays, the next snapshot retries the thaw and
#      is crash-consistent (quiesce=auto, with the reason) or refused
#      (quiesce=require) and nothing is frozen again; once thaw works,
#      the marker is cleared.
# Then: a marker whose pid is now a live nbdkit that started after the
# marker's time (a reused pid) is stale, and its freeze group, recorded
# in another boot, is not killed; a FIFO by the marker's name
# does not block nbdkit (reported, then replaced by the next freeze's
# marker); quiesce-state-dir='s errors.
source "$srcdir/functions.sh"
requires nbdkit --filter=delay null --dump-plugin
requires /usr/bin/python3 -c 'import nbd'
requires nbdinfo --version
requires timeout --version

disk="$tmpdir/disk.img"
sock="$tmpdir/nbd.sock"
log="$tmpdir/calls"
cmd="$tmpdir/quiesce"
# The default state directory (man nbdkit-fleece-filter: FILES).
if [ "$(id -u)" = 0 ]; then
  state=/run/nbdkit-fleece-quiesce
elif [[ ${XDG_RUNTIME_DIR:-} == /* ]]; then
  state=$XDG_RUNTIME_DIR/nbdkit-fleece-quiesce
else
  state=/tmp/nbdkit-fleece-quiesce-$(id -u)
fi
marker="$state/command-${cmd//[^A-Za-z0-9.-]/_}.frozen"
mkfifo "$tmpdir/fifo"
: > "$log"

# The guest stand-in; $tmpdir/mode: ok, hold (freeze blocks in a child
# until the fifo is written, then freezes "late") or thawfail.
cat > "$cmd" <<EOS
#!/bin/sh
mode=\$(cat $tmpdir/mode)
echo "\$1" >> $log
case "\$1 \$mode" in
  "freeze hold") : > $tmpdir/frozen
                 cat $tmpdir/fifo > /dev/null & echo \$! > $tmpdir/child.pid
                 echo \$\$ > $tmpdir/freeze.pid
                 wait \$!; : > $tmpdir/late ;;
  "freeze "*) : > $tmpdir/frozen; echo 2 ;;
  "thaw thawfail") echo "agent gone" >&2; exit 1 ;;
  "thaw "*) rm -f $tmpdir/frozen ;;
esac
exit 0
EOS
chmod +x "$cmd"

cat > "$tmpdir/c.py" <<'EOF2'
import signal, sys, nbd
from nbdcheck import open_snapshot
sock, what = sys.argv[1:3]
def h(exp=""):
    x = nbd.NBD(); x.set_full_info(True)
    x.connect_uri("nbd+unix:///%s?socket=%s" % (exp, sock))
    return x
if what == "write":                 # a live write (held by delay)
    h().pwrite(b"W" * 65536, 0)
elif what == "hold":                # a snapshot connection takes one
    h("snapshot").pread(1, 0); signal.pause()
elif what == "check":               # snapshot == disk; its description
    want = open(sys.argv[3], "rb").read()
    s, d = open_snapshot("nbd+unix:///snapshot?socket=%s" % sock)
    if s.pread(len(want), 0) != want:
        print("FAIL: the snapshot is not the disk", file=sys.stderr)
        sys.exit(1)
    print(d)
EOF2
c="/usr/bin/python3 $tmpdir/c.py $sock"

fail () { echo "$0: FAIL: $*" >&2; cat "$tmpdir/nbdkit.log" >&2; exit 1; }
calls () { tr '\n' ';' < "$log"; }
expect_calls () { [ "$(calls)" = "$1" ] || fail "calls '$(calls)', expected '$1'"; }
frozen () { [ -e "$tmpdir/frozen" ] || fail "the guest stand-in is not frozen"; }
thawed () { [ ! -e "$tmpdir/frozen" ] || fail "the guest stand-in is still frozen"; }
has_marker () { [ -f "$marker" ] || fail "no marker $marker"; }
no_marker () { [ ! -e "$marker" ] || fail "marker $marker still there"; }

# wait_grep FILE REGEX: until FILE has a line matching REGEX (bounded).
wait_grep ()
{
  local i
  for i in $(seq 1 300); do
    grep -Eq -- "$2" "$1" 2>/dev/null && return 0
    sleep 0.05
  done
  fail "/$2/ never appeared in $1"
}

# start [OPTIONS...] [-- PARAMS...]: nbdkit (background) on $sock.
start ()
{
  local opts=() params=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  params=("$@")
  rm -f "$tmpdir/nbdkit.pid"
  : > "$tmpdir/nbdkit.log"
  start_nbdkit "$tmpdir/nbdkit.pid" "$sock" -v --log=stderr \
    --filter="$FLEECE" ${opts[@]+"${opts[@]}"} file "$disk" \
    quiesce-command="$cmd" quiesce-timeout=60s \
    ${params[@]+"${params[@]}"} 2>> "$tmpdir/nbdkit.log"
  pid=$(pid_of "$tmpdir/nbdkit.pid")
}

# wait_gone PID: until PID is gone or a zombie (init may reap it late;
# the filter counts a zombie as dead), bounded.
wait_gone ()
{
  local i
  for i in $(seq 1 600); do
    [ -e "/proc/$1" ] || return 0
    grep -Eq '^[0-9]+ \(.*\) [ZX] ' "/proc/$1/stat" 2>/dev/null && return 0
    sleep 0.05
  done
  fail "pid $1 did not exit"
}

# stop [-9]: until it is gone or a zombie; then the exit trap must not
# signal its pid again (it may be reused by then).
stop ()
{
  kill ${1:-} "$pid"
  wait_gone "$pid"
  forget_pid "$pid"
  rm -f "$sock"
}

# captive LOG [PARAMS...]: another nbdkit on the same state dir takes a
# snapshot, checks it against the disk and prints its description; its
# stderr goes to LOG.
captive ()
{
  local log=$1
  shift
  nbdkit -U - --filter="$FLEECE" file "$disk" quiesce-command="$cmd" "$@" \
    --run "/usr/bin/python3 $tmpdir/c.py \$unixsocket check $disk" 2> "$log"
}

# snapshot: take one, check it against the disk, print its description.
snapshot () { $c check "$disk" || fail "snapshot check"; }

/usr/bin/python3 -c '
import sys; open(sys.argv[1], "wb").write(bytes((i * 7) % 253 for i in range(1 << 20)))
' "$disk"

echo "== A: killed at the barrier, after 'freeze' returned"
echo ok > "$tmpdir/mode"
# The held write dies with the kill; 300 s only keeps it held however
# slow the machine (ASan) is until then.
start --filter=delay -- delay-write=300
$c write > /dev/null 2>&1 &
cleanup_pid $!
wait_grep "$tmpdir/nbdkit.log" 'delay: pwrite'
$c hold > /dev/null 2>&1 &
cleanup_pid $!
wait_grep "$tmpdir/nbdkit.log" 'fleece: guest frozen: 2 filesystems'
expect_calls "freeze;"
frozen; has_marker
grep -qx "pid=$pid" "$marker" || fail "marker: no pid=$pid"
grep -qx "target=$cmd" "$marker" || fail "marker: no target="
grep -Eqx 'time=[0-9]{4}-[0-9-]+T[0-9:]+Z' "$marker" || fail "marker: no time="
[ "$(stat -c %a "$marker")" = 600 ] || fail "marker mode"
# A second nbdkit on the same state dir leaves a live nbdkit's marker
# alone: no thaw, no freeze, a crash-consistent snapshot saying why.
d=$(captive "$tmpdir/second.log") ||
  { cat "$tmpdir/second.log" >&2; fail "second nbdkit"; }
grep -q "crash-consistent: .*the crash-recovery marker .* belongs to the running nbdkit pid $pid: give each guest its own quiesce-state-dir=" <<<"$d" ||
  fail "second: description '$d'"
expect_calls "freeze;"
frozen; has_marker
echo "ok: a second nbdkit on the same dir left the live marker alone"
dead=$pid
stop -9
frozen; has_marker
echo "ok: killed pid $dead with the guest frozen; marker: $(tr '\n' ' ' < "$marker")"
start
# Recovery runs at start, before any client (none connects here).
wait_grep "$tmpdir/nbdkit.log" "fleece: recovery done for the marker of pid $dead"
grep -q "warning: guest .* was left frozen by an earlier nbdkit (pid $dead) that died; thawed 1 filesystem" \
  "$tmpdir/nbdkit.log" || fail "no warning for the recovery"
expect_calls "freeze;thaw;"
thawed; no_marker
grep -m1 -o "warning: guest .*" "$tmpdir/nbdkit.log"
d=$(snapshot)
grep -Eq 'application-consistent: 2 filesystems frozen' <<<"$d" || fail "description '$d'"
expect_calls "freeze;thaw;freeze;thaw;"
thawed; no_marker
echo "ok: after restart: thawed at start, then: $d"
stop

echo "== B: killed inside 'freeze'; the thaw then fails"
echo hold > "$tmpdir/mode"; : > "$log"; rm -f "$tmpdir/freeze.pid"
start
$c hold > /dev/null 2>&1 &
cleanup_pid $!
wait_grep "$tmpdir/freeze.pid" .
has_marker
fpid=$(cat "$tmpdir/freeze.pid") cpid=$(cat "$tmpdir/child.pid")
# nbdkit appends these after the spawn: not ordered with freeze.pid.
wait_grep "$marker" '^freeze-where=[0-9a-f-]+:[0-9]+$'
grep -qx "freeze-pid=$fpid" "$marker" || fail "marker: no freeze-pid=$fpid"
grep -Eqx 'freeze-ticks=[1-9][0-9]*' "$marker" || fail "marker: no freeze-ticks="
dead=$pid
stop -9
echo thawfail > "$tmpdir/mode"
kill -0 "$fpid" "$cpid" || fail "the orphaned freeze is not running"
frozen; has_marker
start
wait_grep "$tmpdir/nbdkit.log" "warning: the freeze \(process group $fpid\) of dead nbdkit pid $dead was still running: killed it before the thaw"
wait_grep "$tmpdir/nbdkit.log" "warning: .* may have been left frozen by an earlier nbdkit \(pid $dead\) and cannot be thawed now: '$cmd thaw' failed \(exit status 1\)"
wait_gone "$fpid"; wait_gone "$cpid"
[ ! -e "$tmpdir/late" ] || fail "the orphaned freeze landed"
expect_calls "freeze;thaw;"
frozen; has_marker
echo "ok: the orphaned freeze (pids $fpid, $cpid) was killed before the thaw"
d=$(snapshot)
grep -Eq "crash-consistent: .* may still be frozen by an earlier nbdkit \(pid $dead\) and cannot be checked; not freezing" <<<"$d" ||
  fail "description '$d'"
expect_calls "freeze;thaw;thaw;"
frozen; has_marker
echo "ok: thaw failing: marker kept, no freeze, snapshot: $d"
# quiesce=require refuses (a second nbdkit on the same state dir).
if captive "$tmpdir/req.log" quiesce=require > /dev/null; then
  fail "quiesce=require took a snapshot while the guest may be frozen"
fi
grep -q "snapshot not taken: quiesce=require .*may still be frozen by an earlier nbdkit" \
  "$tmpdir/req.log" || { cat "$tmpdir/req.log" >&2; fail "require: no reason"; }
grep -q freeze <<<"$(calls | sed 's/^freeze;//')" && fail "froze again: $(calls)"
frozen; has_marker
echo "ok: quiesce=require refused: $(grep -m1 -o 'snapshot not taken.*not freezing' "$tmpdir/req.log")"
echo ok > "$tmpdir/mode"; : > "$log"
d=$(snapshot)
grep -Eq 'application-consistent: 2 filesystems frozen' <<<"$d" || fail "description '$d'"
expect_calls "thaw;freeze;thaw;"
thawed; no_marker
echo "ok: thaw works again: marker cleared, then: $d"
stop

echo "== a reused pid: a live nbdkit that started after the marker's time"
# Not the marker's writer: the marker is stale, thawed for at start.
other_sock="$tmpdir/other.sock"
start_nbdkit "$tmpdir/other.pid" "$other_sock" null
opid=$(cat "$tmpdir/other.pid")
# Its freeze is recorded in another boot: a live group with that pid and
# start ticks here is someone else's, and is left alone.
setsid sleep 300 & spid=$!
cleanup_pid "$spid"
for i in $(seq 1 100); do
  [ "$(awk '{print $5}' "/proc/$spid/stat")" = "$spid" ] && break  # pgrp
  sleep 0.05
done
printf 'pid=%s\ntarget=%s\ntime=2000-01-01T00:00:00Z\nfreeze-pid=%s\nfreeze-ticks=%s\nfreeze-where=another-boot:1\n' \
  "$opid" "$cmd" "$spid" "$(awk '{print $22}' "/proc/$spid/stat")" > "$marker"
: > "$tmpdir/frozen"; : > "$log"
d=$(captive "$tmpdir/reuse.log") ||
  { cat "$tmpdir/reuse.log" >&2; fail "reuse: nbdkit"; }
grep -q "warning: guest .* was left frozen by an earlier nbdkit (pid $opid) that died; thawed 1 filesystem" \
  "$tmpdir/reuse.log" || { cat "$tmpdir/reuse.log" >&2; fail "reuse: no recovery"; }
grep -Eq 'application-consistent: 2 filesystems frozen' <<<"$d" || fail "reuse: description '$d'"
expect_calls "thaw;freeze;thaw;"
thawed; no_marker
pid=$opid sock=$other_sock stop
echo "ok: pid $opid (a live nbdkit, started after the marker's time) is not its writer"
kill -0 "$spid" || fail "a process group recorded in another boot was killed"
grep -q "killed it before the thaw" "$tmpdir/reuse.log" && fail "reuse: killed a group"
kill "$spid"; wait "$spid" 2>/dev/null || true; forget_pid "$spid"
echo "ok: a freeze recorded in another boot: the live group $spid was left alone"

echo "== a FIFO by the marker's name does not block nbdkit"
mkfifo -m 0600 "$marker"
: > "$log"
start
for i in $(seq 1 300); do
  grep -q "warning: the crash-recovery marker $marker is not a regular file: remove it" \
    "$tmpdir/nbdkit.log" && break
  sleep 0.05
done
if [ "$i" = 300 ]; then
  : 3<> "$marker"               # release an open() blocked on it, then fail
  fail "no warning for a FIFO marker"
fi
d=$(snapshot)
grep -Eq 'application-consistent: 2 filesystems frozen' <<<"$d" ||
  fail "FIFO: description '$d'"
expect_calls "freeze;thaw;"
no_marker
stop
echo "ok: FIFO marker: $d"

echo "== parameters"
expect_fail_msg "quiesce-state-dir=$tmpdir/s: needs quiesce-command=" \
  nbdkit --filter="$FLEECE" null quiesce-state-dir="$tmpdir/s" --run true
: > "$tmpdir/afile"
expect_fail_msg "quiesce-state-dir=$tmpdir/afile: not a directory" \
  nbdkit --filter="$FLEECE" null quiesce-command="$cmd" \
  quiesce-state-dir="$tmpdir/afile" --run true
mkdir -m 0777 "$tmpdir/open"; chmod 0777 "$tmpdir/open"
expect_fail_msg "quiesce-state-dir=$tmpdir/open: writable by its group or others \(mode 0777\), .*: chmod go-w" \
  nbdkit --filter="$FLEECE" null quiesce-command="$cmd" \
  quiesce-state-dir="$tmpdir/open" --run true
if [ "$(id -u)" = 0 ]; then
  mkdir -m 0700 "$tmpdir/other"; chown 65534 "$tmpdir/other"; other="$tmpdir/other"
else
  other=/                       # owned by root
fi
# Owner and creation are checked after nbdkit's -u switch, in
# .after_fork, which fails the start: with -f nbdkit exits (with --run
# it would not; timeout only bounds a regression).
expect_fail_msg "quiesce-state-dir=$other: owned by uid [0-9]+, not by the user nbdkit runs as .*: chown it" \
  timeout 20 nbdkit -f -U "$tmpdir/f.sock" --filter="$FLEECE" null \
  quiesce-command="$cmd" quiesce-state-dir="$other"
rm -f "$tmpdir/f.sock"            # bound before .after_fork failed
expect_fail_msg "quiesce-state-dir=$tmpdir/no/such: missing, and its parent $tmpdir/no is not an existing directory" \
  timeout 20 nbdkit -f -U "$tmpdir/f.sock" --filter="$FLEECE" null \
  quiesce-command="$cmd" quiesce-state-dir="$tmpdir/no/such"
rm -f "$tmpdir/f.sock"
# A relative DIR is made absolute (nbdkit changes to / when it forks)
# and created 0700 (before nbdkit serves: the client waits for it).
out=$(cd "$tmpdir" && nbdkit -v -U - --filter="$FLEECE" null \
        quiesce-command="$cmd" quiesce-state-dir=rel \
        --run 'nbdinfo --size "$uri"' 2>&1)
grep -q "quiesce-state-dir $tmpdir/rel\$" <<<"$out" ||
  fail "relative quiesce-state-dir not made absolute: $out"
[ "$(stat -c %a "$tmpdir/rel")" = 700 ] || fail "$tmpdir/rel not created 0700"
echo "ok: quiesce-state-dir=rel -> $tmpdir/rel (0700)"
nbdkit --filter="$FLEECE" null --help 2>&1 | grep -q '^quiesce-state-dir=DIR' ||
  fail "--help does not list quiesce-state-dir="
echo "ok: --help lists quiesce-state-dir="
