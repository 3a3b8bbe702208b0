#!/usr/bin/env bash
# fleece quiesce-command=PATH: run as 'PATH freeze' / 'PATH thaw'
# around the snapshot switch, its count reported in the export
# description; a failing, hanging or zero-count freeze gives a
# crash-consistent snapshot (quiesce=auto) or no snapshot
# (quiesce=require), and the thaw is owed in every case.
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
  "freeze hang") sleep 30 & echo \$! > $tmpdir/hang.pid; wait ;;
esac
exit 0
EOS
chmod +x "$cmd"

# desc MODE QUIESCE: print the snapshot's export description.
desc ()
{
  echo "$1" > "$tmpdir/mode"
  : > "$log"
  nbdkit -U - --filter="$FLEECE" memory 1M quiesce-command="$cmd" \
         quiesce="$2" quiesce-timeout=300ms \
         --run 'nbdinfo --no-content --json "nbd+unix:///snapshot?socket=$unixsocket"' \
         2>"$tmpdir/stderr" |
    sed -n 's/^\t*"description": "\(.*\)",*$/\1/p'
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
check "$(desc fail auto)" "crash-consistent: freeze failed: '.*quiesce freeze' failed \(exit status 1\)$" \
  "freeze fail;thaw fail;"
check "$(desc hang auto)" "crash-consistent: freeze failed: .* did not finish within quiesce-timeout \(killed\)$" \
  "freeze hang;thaw hang;"
# The timeout killed the command's whole process group: its child too.
hang=$(cat "$tmpdir/hang.pid")
for i in $(seq 1 100); do
  grep -Eq '^[0-9]+ \(.*\) [ZX] ' "/proc/$hang/stat" 2>/dev/null || [ ! -e "/proc/$hang" ] && break
  sleep 0.05
done
[ "$i" -lt 100 ] || { echo "$0: FAIL: the hung freeze's child $hang still runs" >&2; exit 1; }
echo "ok: the hung freeze's child (pid $hang) was killed with it"
check "$(desc ok off)" 'crash-consistent: quiesce=off$' ""

# quiesce=require: no snapshot when the freeze fails, thaw still sent,
# and the reason reaches the log.
echo fail > "$tmpdir/mode"; : > "$log"
if nbdkit -U - --filter="$FLEECE" memory 1M quiesce-command="$cmd" \
       quiesce=require \
       --run 'nbdinfo "nbd+unix:///snapshot?socket=$unixsocket"' \
       >/dev/null 2>"$tmpdir/stderr"; then
  echo "$0: FAIL: quiesce=require took a snapshot without a freeze" >&2
  exit 1
fi
grep -q "snapshot not taken: quiesce=require" "$tmpdir/stderr"
# (nbdinfo may try twice: NBD_OPT_INFO then NBD_OPT_GO.)
grep -Eqx '(freeze fail;thaw fail;)+' <<<"$(tr '\n' ';' < "$log")"
echo "ok: quiesce=require refused: $(grep -m1 'snapshot not taken' "$tmpdir/stderr")"

# Parameter errors.
expect_fail_msg 'quiesce-command=relative: give an absolute path' \
  nbdkit --filter="$FLEECE" null quiesce-command=relative --run true
expect_fail_msg "quiesce-command=$tmpdir: not an executable file" \
  nbdkit --filter="$FLEECE" null quiesce-command="$tmpdir" --run true
expect_fail_msg 'quiesce=sometimes: expected auto, require or off' \
  nbdkit --filter="$FLEECE" null quiesce=sometimes --run true
expect_fail_msg 'quiesce-timeout=0: expected a duration above 0' \
  nbdkit --filter="$FLEECE" null quiesce-timeout=0 --run true
