#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test-control-fleecectl-broken.sh: fleecectl status exits 4 when the
# snapshot is broken, with the cause on stderr.  A store of one 64K
# block (fleece-max-size=64K): after begin, live writes to two blocks
# break the snapshot (the second copy does not fit).  Then status (in
# human form and --json) exits 4 and says "snapshot generation 1 is
# broken: CAUSE"; status --watch stops at the first sample with 4;
# after end, status exits 0 again.

source "$srcdir/functions.sh"
source "$srcdir/fleecectl-functions.sh"
requires nbdkit --version
requires /usr/bin/python3 -c 'import nbd'
ctl="$tmpdir/ctl.sock"

cat > "$tmpdir/run.sh" <<'EOF2'
set -uo pipefail
ctl="$1" F="$2" t="$3" sock="$4"
uri="nbd+unix:///?socket=$sock"
/usr/bin/python3 -c 'import control_client as c, sys; c.wait_for(sys.argv[1])' "$ctl"
/usr/bin/nbdsh -u "$uri" -c 'h.pwrite(b"D" * 1048576, 0)'
"$F" -s "$ctl" begin --quiesce off > /dev/null 2>&1
/usr/bin/nbdsh -u "$uri" -c 'h.pwrite(b"x", 0)' -c 'h.pwrite(b"y", 65536)'
n=0
for args in "status" "--json status" "status --watch --count 5 --interval 0.01" \
            "end" "status"; do
  n=$((n + 1))
  st=0; $F -s "$ctl" $args > "$t/$n.out" 2> "$t/$n.err" || st=$?
  echo "$st" > "$t/$n.st"
done
EOF2
nbdkit -U - --filter="$FLEECE" memory 1M fleece-block-size=64K \
  fleece-max-size=64K control="$ctl" \
  --run "bash '$tmpdir/run.sh' '$ctl' '$FLEECECTL' '$tmpdir' \"\$unixsocket\"" \
  2> "$tmpdir/log" || { cat "$tmpdir/log" >&2; exit 1; }

# expect N STATUS STDERR-REGEX STDOUT-REGEX: command N's results.
expect ()
{
  local n="$1"
  if [ "$(cat "$tmpdir/$n.st")" != "$2" ] ||
     { [ -z "$3" ] && [ -s "$tmpdir/$n.err" ]; } ||
     { [ -n "$3" ] && ! grep -Eqx -- "$3" "$tmpdir/$n.err"; } ||
     ! grep -Eq -- "$4" "$tmpdir/$n.out"; then
    echo "$0: FAIL: command $n: exit $(cat "$tmpdir/$n.st") (want $2):" >&2
    cat "$tmpdir/$n.out" "$tmpdir/$n.err" >&2
    exit 1
  fi
  echo "ok: command $n: exit $2"
  sed 's/^/    /' "$tmpdir/$n.out" "$tmpdir/$n.err"
}
cause="fleecectl: snapshot generation 1 is broken: .*fleece-max-size.*"
expect 1 4 "$cause" '^state: +broken \(pinned\)$'
expect 2 4 "$cause" '^\{"id":1,"ok":true,"state":"broken",'
expect 3 4 "$cause" '^generation 1 broken \['
[ "$(wc -l < "$tmpdir/3.out")" = 1 ] ||
  { echo "$0: FAIL: status --watch went on after the break" >&2; exit 1; }
expect 4 0 "" '^snapshot generation 1 ended$'
expect 5 0 "" '^state: +none$'
