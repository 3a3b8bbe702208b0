#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test-fleece-quiesce-marker-log.sh: the crash-recovery log of
# quiesce-command= tells the truth about the marker.  A marker left by
# a dead nbdkit makes the next one run 'PATH thaw' (the quiesce
# guard's recovery); here the thaw succeeds but turns the marker into
# a directory, so removing it fails: the log must say so, and nothing
# is frozen while the marker stays.  With a thaw that leaves the
# marker alone, the warning names the dead pid and the marker is gone.
source "$srcdir/functions.sh"
requires nbdkit --version
requires /usr/bin/python3 -c 'import nbd'

state="$tmpdir/state"
cmd="$tmpdir/q"
marker="$state/command-${cmd//[^A-Za-z0-9.-]/_}.frozen"
mkdir -m 0700 "$state"
cat > "$cmd" <<EOF
#!/bin/sh
echo "\$1" >> $tmpdir/calls
if [ "\$1" = thaw ] && [ -e $tmpdir/stuck ]; then
  rm -f $marker; mkdir $marker; : > $marker/x    # cannot be unlinked
fi
[ "\$1" = freeze ] && echo 1
exit 0
EOF
chmod +x "$cmd"

# A pid that is not running any more.
dead=$(sh -c 'echo $$')
while kill -0 "$dead" 2>/dev/null; do dead=$(sh -c 'echo $$'); done
leave_marker ()
{
  rm -rf "$marker"
  printf 'pid=%s\ntarget=%s\ntime=2000-01-01T00:00:00Z\n' "$dead" "$cmd" > "$marker"
  chmod 0600 "$marker"
  : > "$tmpdir/calls"
}
serve ()
{
  nbdkit -U - --filter="$FLEECE" memory 1M quiesce-command="$cmd" \
    quiesce-state-dir="$state" --run '$SNAPDESC "nbd+unix:///snapshot?socket=$unixsocket"' \
    > "$tmpdir/desc" 2> "$tmpdir/log" || { cat "$tmpdir/log" >&2; exit 1; }
}
fail () { echo "$0: FAIL: $*" >&2; cat "$tmpdir/log" >&2; exit 1; }

echo "== the marker cannot be removed after the thaw"
leave_marker
: > "$tmpdir/stuck"
serve
grep -q "fleece: warning: guest .* was left frozen by an earlier nbdkit (pid $dead) that died; thawed 1 filesystem(s)" \
  "$tmpdir/log" || fail "no warning for the thaw"
grep -q "recovery done" "$tmpdir/log" && fail "said 'recovery done'"
grep -q "cannot remove the crash-recovery marker $marker" "$tmpdir/log" ||
  fail "the removal's error is not logged"
grep -q "crash-consistent: .*the crash-recovery marker of an earlier nbdkit (pid $dead) .* cannot be removed" \
  "$tmpdir/desc" || fail "description: $(cat "$tmpdir/desc")"
[ -d "$marker" ] || fail "the marker directory went away"
grep -qx freeze "$tmpdir/calls" && fail "froze with the marker still there"
echo "ok: $(grep -o "cannot remove the crash-recovery marker.*" "$tmpdir/log" | head -n 1)"
echo "ok: no freeze while it stays: $(cat "$tmpdir/desc")"

echo "== the marker is removed"
rm -f "$tmpdir/stuck"
leave_marker
serve
grep -q "fleece: warning: guest .* was left frozen by an earlier nbdkit (pid $dead) that died; thawed 1 filesystem(s)" \
  "$tmpdir/log" || fail "no warning for the thaw"
[ ! -e "$marker" ] || fail "the marker is still there"
grep -q "application-consistent: 1 filesystem frozen" "$tmpdir/desc" ||
  fail "description: $(cat "$tmpdir/desc")"
echo "ok: $(grep -o "warning: guest .*" "$tmpdir/log" | head -n 1)"
