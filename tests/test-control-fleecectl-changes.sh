#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test-control-fleecectl-changes.sh: fleecectl changes, over vmdisk on
# a 16M file with cbt-dir= (4K granules):
# - usage: changes needs --since; --since and --disk go with changes;
# - begin prints the checkpoint; changes --since it, after two writes
#   and a new snapshot, prints exactly the two dirty ranges and the
#   total in IEC units; --json prints the reply lines;
# - 2048 dirty granules, every other one (4096 extents: four pages of
#   at most 1024): all 2048 ranges listed once, total 8 MiB;
# - an unknown checkpoint: exit status 6 and the server's reason.

source "$srcdir/functions.sh"
source "$srcdir/fleecectl-functions.sh"
requires nbdkit --version
requires /usr/bin/python3 -c 'import nbd'
ctl="$tmpdir/ctl.sock"
truncate -s 16M "$tmpdir/disk.img"

expect_exit 2 "changes needs --since" "$FLEECECTL" -s "$ctl" changes
expect_exit 2 "--since and --disk go with changes" \
  "$FLEECECTL" -s "$ctl" status --since x:1

cat > "$tmpdir/run.sh" <<'EOF2'
set -e
ctl=$1 sock=$2 F=$3
for i in $(seq 300); do [ -S "$ctl" ] && break; sleep 0.1; done  # made after the fork
w () { /usr/bin/python3 -c '
import nbd, sys
h = nbd.NBD(); h.connect_uri("nbd+unix:///?socket=" + sys.argv[1])
for a in sys.argv[2:]:
    off, n = map(int, a.split("+"))
    h.pwrite(b"x" * n, off)' "$sock" "$@"; }
b () { "$F" -s "$ctl" begin --fresh 2>/dev/null || [ $? = 3 ]; } # crash-consistent
c1=$(b | sed -n 's/^checkpoint: *//p')
[ -n "$c1" ] || { echo "FAIL: begin printed no checkpoint" >&2; exit 1; }
w 196608+65536 1048581+10
b > /dev/null
"$F" -s "$ctl" changes --since "$c1" > "$ctl.out"
cat > "$ctl.want" <<EOF3
dirty  196608  65536  (64 KiB)
dirty  1048576  4096  (4 KiB)
total: 2 ranges, 68 KiB dirty of 16 MiB
EOF3
diff -u "$ctl.want" "$ctl.out"
echo "ok: changes lists the two writes and the total"
"$F" -s "$ctl" changes --since "$c1" --json | /usr/bin/python3 -c '
import json, sys
r = [json.loads(l) for l in sys.stdin]
assert len(r) == 1 and r[0]["ok"] and r[0]["next"] is None, r
d = [(e["offset"], e["length"]) for e in r[0]["extents"] if e["dirty"]]
assert d == [(196608, 65536), (1048576, 4096)], d'
echo "ok: --json prints the reply"
c2=$("$F" -s "$ctl" status | sed -n 's/^checkpoint: *//p')
w $(seq -f '%.0f+1' 0 8192 16769024)
b > /dev/null
"$F" -s "$ctl" changes --since "$c2" > "$ctl.out"
[ "$(grep -c '^dirty  .*  4096  (4 KiB)$' "$ctl.out")" = 2048 ] &&
  [ "$(tail -n1 "$ctl.out")" = "total: 2048 ranges, 8 MiB dirty of 16 MiB" ] ||
  { echo "FAIL: paged changes:"; tail -3 "$ctl.out"; exit 1; } >&2
[ "$("$F" -s "$ctl" changes --since "$c2" --json | wc -l)" = 4 ]
echo "ok: 4096 extents in four pages: 2048 ranges, 8 MiB"
EOF2
nbdkit -U - --filter="$FLEECE" "$VMDISK" file="$tmpdir/disk.img" \
  cbt-dir="$tmpdir/cbt" cbt-granularity=4K fleece-block-size=4K \
  control="$ctl" \
  --run "bash '$tmpdir/run.sh' '$ctl' \"\$unixsocket\" '$FLEECECTL'"

nbdkit -U - --filter="$FLEECE" "$VMDISK" file="$tmpdir/disk.img" \
  cbt-dir="$tmpdir/cbt" cbt-granularity=4K fleece-block-size=4K \
  control="$ctl" \
  --run "for i in \$(seq 300); do [ -S '$ctl' ] && break; sleep 0.1; done
         { '$FLEECECTL' -s '$ctl' begin > /dev/null 2>&1 || [ \$? = 3 ]; } &&
         '$FLEECECTL' -s '$ctl' changes --since 00000000-0000-4000-8000-000000000000:1" \
  > "$tmpdir/out" 2>&1 && st=0 || st=$?
if [ "$st" != 6 ] || ! grep -q "full-backup-required" "$tmpdir/out"; then
  echo "$0: FAIL: unknown checkpoint: exit $st:" >&2; cat "$tmpdir/out" >&2
  exit 1
fi
echo "ok: exit 6: $(cat "$tmpdir/out")"
