#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# fleece quiesce-command=PATH: run as 'PATH freeze' / 'PATH thaw'
# around the snapshot switch, its count reported in the export
# description; a failing, hanging or zero-count freeze gives a
# crash-consistent snapshot (quiesce=auto) or no snapshot
# (quiesce=require), and the thaw is owed in every case.  A timeout
# kills the command's process group, also a child it left behind.
source "$srcdir/functions.sh"
requires nbdkit --version
requires nbdinfo --version

log="$tmpdir/calls"
cmd="$tmpdir/quiesce"
# The command's behaviour is chosen by the file $tmpdir/mode.
cat > "$cmd" <<EOS
#!/bin/sh
echo "\$1 \$(cat $tmpdir/mode)" >> $log
case "\$1 \$(cat $tmpdir/mode)" in
  "freeze ok") echo 3 ;;
  "freeze zero") echo 0 ;;
  "freeze fail") echo "agent says no" >&2; exit 1 ;;
  "freeze hang") sleep 30 & echo \$! > $tmpdir/child.pid; wait ;;
  "freeze child") sleep 30 & echo \$! > $tmpdir/child.pid; echo 3 ;;
esac
exit 0
EOS
chmod +x "$cmd"

# desc MODE QUIESCE [TIMEOUT]: print the snapshot's export description.
desc ()
{
  echo "$1" > "$tmpdir/mode"
  : > "$log"
  rm -f "$tmpdir/child.pid"
  nbdkit -U - --filter="$FLEECE" memory 1M quiesce-command="$cmd" \
         quiesce="$2" quiesce-timeout="${3:-300ms}" \
         --run '$SNAPDESC "nbd+unix:///snapshot?socket=$unixsocket"' \
         2>"$tmpdir/stderr"
}

check ()
{
  local got="$1" re="$2" calls="$3"
  if ! grep -Eq -- "$re" <<<"$got"; then
    echo "$0: FAIL: description '$got' does not match /$re/" >&2
    cat "$tmpdir/stderr" >&2
    exit 1
  fi
  if [ "$(tr '\n' ';' < "$log")" != "$calls" ]; then
    echo "$0: FAIL: calls were '$(tr '\n' ';' < "$log")', expected '$calls'" >&2
    exit 1
  fi
  echo "ok: $got"
}

check "$(desc ok auto)" \
  '^fleece snapshot generation 1, taken [0-9-]+T[0-9:.]+Z, application-consistent: 3 filesystems frozen for [0-9.]+ ms$' \
  "freeze ok;thaw ok;"
check "$(desc zero auto)" 'crash-consistent: the freeze froze 0 filesystems$' \
  "freeze zero;thaw zero;"
# A failed freeze is rolled back at once by the quiesce guard: its
# reason, then the rollback's thaw.
rolled="; thawed 1 filesystem\(s\) after the failed freeze$"
check "$(desc fail auto)" "crash-consistent: freeze failed: '.*quiesce freeze' failed \(exit status 1\)$rolled" \
  "freeze fail;thaw fail;"
# child_killed WHAT: the timeout killed the command's whole process
# group, its child (pid in child.pid) too.  (2 s: time to start it.)
child_killed ()
{
  local child i gone=
  child=$(cat "$tmpdir/child.pid")
  for i in $(seq 1 100); do
    if [ ! -e "/proc/$child" ] ||
       grep -Eq '^[0-9]+ \(.*\) [ZX] ' "/proc/$child/stat" 2>/dev/null; then
      gone=1; break
    fi
    sleep 0.05
  done
  [ -n "$gone" ] || { echo "$0: FAIL: $1: child $child still runs" >&2; exit 1; }
  echo "ok: $1: its child (pid $child) was killed with it"
}
check "$(desc hang auto 2s)" "crash-consistent: freeze failed: .* did not finish within quiesce-timeout \(killed\)$rolled" \
  "freeze hang;thaw hang;"
child_killed "a hung freeze"
# A freeze that exits 0 but leaves a child holding its stdout has not
# finished: the child could still freeze.
check "$(desc child auto 2s)" "crash-consistent: freeze failed: .* did not finish within quiesce-timeout \(killed\)$rolled" \
  "freeze child;thaw child;"
child_killed "a freeze that left a child"
check "$(desc ok off)" 'crash-consistent: quiesce=off$' ""

# quiesce=require: no snapshot when the freeze fails, thaw still sent,
# and the reason reaches the log.
echo fail > "$tmpdir/mode"; : > "$log"
if nbdkit -U - --filter="$FLEECE" memory 1M quiesce-command="$cmd" \
       quiesce=require \
       --run '$SNAPDESC "nbd+unix:///snapshot?socket=$unixsocket"' \
       >/dev/null 2>"$tmpdir/stderr"; then
  echo "$0: FAIL: quiesce=require took a snapshot without a freeze" >&2
  exit 1
fi
grep -q "snapshot not taken: quiesce=require" "$tmpdir/stderr"
grep -Eqx 'freeze fail;thaw fail;' <<<"$(tr '\n' ';' < "$log")"
echo "ok: quiesce=require refused: $(grep -m1 'snapshot not taken' "$tmpdir/stderr")"
# One attempt per connection: its later reads fail at once (no freeze
# each); a new connection tries again.
: > "$log"
nbdkit -U - --filter="$FLEECE" memory 1M quiesce-command="$cmd" \
  quiesce=require --run '/usr/bin/python3 -c "
import errno, sys, nbd
from nbdcheck import expect_err
for c in range(2):
    h = nbd.NBD()
    h.connect_uri(sys.argv[1])
    for i in range(3):
        expect_err(\"connection %d, read %d\" % (c, i), errno.EIO,
                   h.pread, 512, 0)
" "nbd+unix:///snapshot?socket=$unixsocket"' 2>"$tmpdir/stderr" ||
  { cat "$tmpdir/stderr" >&2; exit 1; }
grep -Eqx '(freeze fail;thaw fail;){2}' <<<"$(tr '\n' ';' < "$log")" ||
  { echo "$0: FAIL: calls $(tr '\n' ';' < "$log"), expected 2 attempts" >&2; exit 1; }
grep -q "this connection's snapshot could not be taken (see the earlier error): reconnect to try again" \
  "$tmpdir/stderr"
echo "ok: one freeze attempt per connection"

# Parameter errors.
expect_fail_msg 'quiesce-command=relative: give an absolute path' \
  nbdkit --filter="$FLEECE" null quiesce-command=relative --run true
expect_fail_msg "quiesce-command=$tmpdir: not an executable file" \
  nbdkit --filter="$FLEECE" null quiesce-command="$tmpdir" --run true
expect_fail_msg 'quiesce=sometimes: expected auto, require or off' \
  nbdkit --filter="$FLEECE" null quiesce=sometimes --run true
expect_fail_msg 'quiesce-timeout=0: expected a duration above 0' \
  nbdkit --filter="$FLEECE" null quiesce-timeout=0 --run true
