#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test-fault-sigkill.sh: nbdkit killed with SIGKILL at each step of a
# snapshot's life, over vmdisk on a file with the guest agent faked
# (fake-qga.py, agent-socket=, state-dir= for the crash marker):
#   freeze   - the agent froze the guest and never answers;
#   barrier  - frozen, the snapshot waits for a live write in flight
#              (held 30 s by nbdkit's delay filter below fleece);
#   cbw      - snapshot active, a live write in the middle of its
#              copy-before-write (-D fleece.cbw_delay_ms=30000);
#   active   - snapshot active, blocks preserved, nothing in flight.
# After each kill nbdkit is started again on the same disk and
# state-dir: the guest must be thawed (the agent sees a thaw after the
# kill), the live image must hold every
# acknowledged write (the write in flight may or may not be there: it
# was never acknowledged), and a new snapshot must be exact.

source "$srcdir/functions.sh"
source "$srcdir/quiesce-functions.sh"
requires nbdkit --version
requires /usr/bin/python3 -c 'import nbd'

disk="$tmpdir/disk.img"
sockn="$tmpdir/nbd.sock"
qlog="$tmpdir/qga.log"
B=65536

cat > "$tmpdir/c.py" <<'EOF2'
import sys, nbd
sock, what = sys.argv[1:3]
def h(exp=""):
    x = nbd.NBD(); x.connect_uri("nbd+unix:///%s?socket=%s" % (exp, sock))
    return x
if what == "write":                 # one write, say when acknowledged
    off, byte = int(sys.argv[3]), sys.argv[4].encode()
    h().pwrite(byte * 65536, off)
    print("acked", flush=True)
elif what == "snapshot-hold":       # take the snapshot, hold it
    s = h("snapshot")
    s.pread(1, 0)                   # the first read takes the snapshot
    print("open", flush=True)
    import signal
    signal.pause()                  # until the test's cleanup kills it
elif what == "check":               # live == model file (or alt); snapshot exact
    model, alt = open(sys.argv[3], "rb").read(), open(sys.argv[4], "rb").read()
    live = h().pread(len(model), 0)
    if live not in (model, alt):
        print("FAIL: live image is not the acknowledged writes", file=sys.stderr)
        sys.exit(1)
    s = h("snapshot")
    if s.pread(len(model), 0) != live:
        print("FAIL: new snapshot is not exact", file=sys.stderr); sys.exit(1)
    print("ok: live image holds the acknowledged writes (%s); new snapshot exact"
          % ("without the write in flight" if live == model
             else "with the write in flight"))
    open(sys.argv[3], "wb").write(live)     # the model from now on
EOF2
c="/usr/bin/python3 $tmpdir/c.py $sockn"

# wait_grep FILE REGEX: until FILE has a line matching REGEX (bounded).
wait_grep ()
{
  local i
  for i in $(seq 1 600); do
    grep -Eq -- "$2" "$1" 2>/dev/null && return 0
    sleep 0.05
  done
  echo "$0: FAIL: /$2/ never appeared in $1" >&2
  cat "$1" >&2
  exit 1
}

# start [OPTIONS...] [-- PARAMS...]: nbdkit on $sockn over the disk,
# quiesced through the fake agent; OPTIONS go before the plugin.
start ()
{
  local opts=() params=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  params=("$@")
  rm -f "$tmpdir/nbdkit.pid"
  : > "$tmpdir/nbdkit.log"
  start_nbdkit "$tmpdir/nbdkit.pid" "$sockn" -v --filter="$FLEECE" \
    ${opts[@]+"${opts[@]}"} \
    "$VMDISK" file="$disk" agent-socket="$tmpdir/qga.sock" \
    state-dir="$tmpdir/state" freeze-timeout=60s frozen-max=120s \
    quiesce-timeout=60s ${params[@]+"${params[@]}"} \
    2>> "$tmpdir/nbdkit.log" ||
    { echo "$0: FAIL: nbdkit did not start:" >&2; cat "$tmpdir/nbdkit.log" >&2
      exit 1; }
}

kill_nbdkit ()
{
  local pid
  pid=$(pid_of "$tmpdir/nbdkit.pid")
  kill -9 "$pid"
  while pid_running "$pid"; do sleep 0.05; done
  rm -f "$sockn"
}

# check_after STEP: restart, guest thawed, data checked.
check_after ()
{
  local n0
  n0=$(grep -c guest-fsfreeze-thaw "$qlog" || true)
  start
  # Recovery thaws at start, or at the latest before the next freeze.
  $c check "$tmpdir/model.img" "$tmpdir/alt.img"
  n1=$(grep -c guest-fsfreeze-thaw "$qlog" || true)
  if [ "$n1" -le "$n0" ]; then
    echo "$0: FAIL: $1: no thaw sent after the kill" >&2; exit 1
  fi
  echo "ok: $1: guest thawed after the kill ($((n1 - n0)) thaw(s))"
  kill_nbdkit
}

# Disk: 2 MiB of known data; model.img is what every acked write makes.
/usr/bin/python3 -c '
import sys; open(sys.argv[1], "wb").write(bytes((i * 7) % 253 for i in range(2 << 20)))
' "$disk"
cp "$disk" "$tmpdir/model.img"
start_fake "$qlog" --on guest-fsfreeze-freeze=hang@1

# alt FILE OFF BYTE: FILE = model with the write in flight applied.
alt ()
{
  cp "$tmpdir/model.img" "$tmpdir/alt.img"
  /usr/bin/python3 -c '
import sys
f = open(sys.argv[1], "r+b"); f.seek(int(sys.argv[2])); f.write(sys.argv[3].encode() * 65536)
' "$tmpdir/alt.img" "$1" "$2"
}

echo "== freeze"
start
cp "$tmpdir/model.img" "$tmpdir/alt.img"
$c snapshot-hold > /dev/null 2>&1 &
cleanup_pid $!
wait_grep "$qlog" guest-fsfreeze-freeze
kill_nbdkit
check_after freeze

echo "== barrier"
start --filter=delay -- delay-write=30
alt $((3 * B)) A
$c write $((3 * B)) A > /dev/null 2>&1 &
wait_grep "$tmpdir/nbdkit.log" 'delay: pwrite'     # held below fleece
n=$(grep -c guest-fsfreeze-freeze "$qlog")
$c snapshot-hold > /dev/null 2>&1 &
cleanup_pid $!
for i in $(seq 1 600); do
  [ "$(grep -c guest-fsfreeze-freeze "$qlog")" -gt "$n" ] && break
  sleep 0.05
done
if grep -q 'generation [0-9]* created' "$tmpdir/nbdkit.log"; then
  echo "$0: FAIL: barrier: the snapshot did not wait for the write" >&2
  exit 1
fi
kill_nbdkit
check_after barrier

echo "== cbw"
start -D fleece.cbw_delay_ms=30000
$c snapshot-hold > "$tmpdir/hold.out" 2>&1 &
cleanup_pid $!
wait_grep "$tmpdir/hold.out" open
alt $((5 * B)) C
$c write $((5 * B)) C > /dev/null 2>&1 &
wait_grep "$tmpdir/nbdkit.log" 'fleece: pwrite'      # entered fleece
kill_nbdkit
check_after cbw

echo "== active"
start
$c snapshot-hold > "$tmpdir/hold2.out" 2>&1 &
cleanup_pid $!
wait_grep "$tmpdir/hold2.out" open
$c write $((7 * B)) D | grep -q acked
alt $((7 * B)) D
cp "$tmpdir/alt.img" "$tmpdir/model.img"
kill_nbdkit
check_after active
