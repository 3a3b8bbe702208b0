#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test-control-fleecectl-watch.sh: status --watch shows the rate, ETA
# and latencies, and --until-done always ends.  Against a fake control
# socket giving canned status replies (more than the watch should ask
# for: the request log proves where it stopped):
# - progress 0.25, 0.5, 1: three lines (rate "-" first, then bytes/s
#   and an ETA, then "ETA done"), totals from data-bytes (1 MiB, not
#   the 4 MiB disk), "all read", exit 0; with --json the three replies
#   and nothing else;
# - the generation changes: stops, says so;
# - the snapshot ends (state none): stops, says so;
# - the snapshot breaks: stops, exit 4, the cause on stderr;
# - a snapshot being created is waited for;
# - without --until-done, a complete snapshot is watched on (--count).
# And against the filter: a snapshot read completely by an NBD client
# ends `status --until-done` at the first sample.

source "$srcdir/functions.sh"
source "$srcdir/fleecectl-functions.sh"
requires nbdkit --version
requires /usr/bin/python3 -c 'import nbd'
sock="$tmpdir/fake.sock"

# reply STATE GEN PROGRESS [CAUSE]: a status reply line (1 MiB of data
# on a 4 MiB disk).
reply ()
{
  local gen="$2" read=null cause=null
  [ "$gen" = null ] || read=$(awk "BEGIN { print int($3 * 1048576) }")
  [ -z "${4:-}" ] || cause="\"$4\""
  printf '{"id":1,"ok":true,"state":"%s","pinned":true,"generation":%s,' "$1" "$gen"
  printf '"disk-size":4194304,"data-bytes":1048576,"bytes-read":%s,' "$read"
  printf '"progress":%s,"store-bytes":65536,"copy-p99-ms":0.512,' "$3"
  printf '"live-added-p99-ms":0.256,"broken-cause":%s}\n' "$cause"
}

# watch NAME ARGS...: status ARGS against the replies in $tmpdir/NAME;
# NAME.out, NAME.err, NAME.st, NAME.log (the requests received).
watch ()
{
  local name="$1" st=0
  shift
  rm -f "$tmpdir/$name.log"
  fake reply "$tmpdir/$name" "$tmpdir/$name.log" \
    "$FLEECECTL" -s "$sock" status --interval 0.01 "$@" \
    > "$tmpdir/$name.out" 2> "$tmpdir/$name.err" || st=$?
  echo "$st" > "$tmpdir/$name.st"
}

# expect NAME STATUS REQUESTS STDERR-REGEX OUT-REGEX...: exit status,
# the number of requests, stderr, and each line of stdout.
expect ()
{
  local name="$1" st="$2" reqs="$3" err="$4" f="$tmpdir/$1.out" i=0 re
  shift 4
  if [ "$(cat "$tmpdir/$name.st")" != "$st" ] ||
     [ "$(wc -l < "$tmpdir/$name.log")" != "$reqs" ] ||
     [ "$(wc -l < "$f")" != "$#" ] ||
     { [ -z "$err" ] && [ -s "$tmpdir/$name.err" ]; } ||
     { [ -n "$err" ] && ! grep -Eqx -- "$err" "$tmpdir/$name.err"; }; then
    echo "$0: FAIL: $name: exit $(cat "$tmpdir/$name.st") (want $st)," \
         "$(wc -l < "$tmpdir/$name.log") requests (want $reqs):" >&2
    cat "$f" "$tmpdir/$name.err" >&2
    exit 1
  fi
  for re in "$@"; do
    i=$((i + 1))
    sed -n "${i}p" "$f" | grep -Eqx -- "$re" ||
      { echo "$0: FAIL: $name: line $i is not /$re/:" >&2; cat "$f" >&2; exit 1; }
  done
  echo "ok: $name: exit $st after $reqs requests"
  sed 's/^/    /' "$f" "$tmpdir/$name.err"
}

lat='store 64 KiB, copy p99 0\.512 ms, live added p99 0\.256 ms'
rate='rate [0-9.]+ (B|KiB|MiB|GiB)/s'

echo "== --until-done: all read"
{ reply active 1 0.25; reply active 1 0.5; reply active 1 1; reply active 1 1; } > "$tmpdir/done"
watch done --until-done
expect done 0 3 "" \
  "generation 1 active \[#{8}\.{22}\]  25\.0%  256 KiB of 1 MiB read, rate -, ETA -, $lat" \
  "generation 1 active \[#{15}\.{15}\]  50\.0%  512 KiB of 1 MiB read, $rate, ETA [0-9]+:[0-5][0-9]:[0-5][0-9], $lat" \
  "generation 1 active \[#{30}\] 100\.0%  1 MiB of 1 MiB read, $rate, ETA done, $lat" \
  "snapshot generation 1: all read"
cp "$tmpdir/done" "$tmpdir/json"
watch json --until-done --json
expect json 0 3 "" '\{"id":1,"ok":true,"state":"active",.*"progress":0\.25,.*\}' \
  '\{.*"progress":0\.5,.*\}' '\{.*"progress":1,.*\}'

echo "== --until-done: the generation changes"
{ reply active 1 0.5; reply active 2 0.1; reply active 2 0.2; } > "$tmpdir/gen"
watch gen --until-done
expect gen 0 2 "" "generation 1 active .*" "generation 2 active .* 10\.0% .*" \
  "snapshot generation 1 ended; generation 2 is another snapshot"

echo "== the snapshot ends"
{ reply active 1 0.5; reply none null null; reply active 2 0.1; } > "$tmpdir/ended"
watch ended --until-done
expect ended 0 2 "" "generation 1 active .*" "no snapshot \(state none\)" \
  "snapshot generation 1 ended"

echo "== the snapshot breaks"
{ reply active 1 0.5; reply broken 1 0.5 "store full: fleece-max-size=64K reached";
  reply broken 1 0.5 "store full"; } > "$tmpdir/broken"
watch broken --watch
expect broken 4 2 \
  "fleecectl: snapshot generation 1 is broken: store full: fleece-max-size=64K reached" \
  "generation 1 active .*" "generation 1 broken .*"

echo "== a snapshot being created is waited for"
{ reply creating null null; reply active 1 1; reply active 1 1; } > "$tmpdir/creating"
watch creating --until-done
expect creating 0 2 "" "no snapshot \(state creating\)" \
  "generation 1 active .* 100\.0% .*" "snapshot generation 1: all read"

echo "== without --until-done, --count ends it"
{ reply active 1 1; reply active 1 1; reply active 1 1; reply active 1 1; } > "$tmpdir/count"
watch count --watch --count 3
expect count 0 3 "" "generation 1 active .*, rate -, ETA done, .*" \
  "generation 1 active .*, rate 0 B/s, ETA done, .*" \
  "generation 1 active .*, rate 0 B/s, ETA done, .*"

expect_exit 2 "--until-done goes with status" "$FLEECECTL" -s "$sock" begin --until-done

echo "== against the filter"
cat > "$tmpdir/run.sh" <<'EOF2'
set -euo pipefail
ctl="$1" F="$2" t="$3" sock="$4"
/usr/bin/python3 -c 'import control_client as c, sys; c.wait_for(sys.argv[1])' "$ctl"
/usr/bin/nbdsh -u "nbd+unix:///?socket=$sock" -c 'h.pwrite(b"D" * 1048576, 0)'
"$F" -s "$ctl" begin --quiesce off > /dev/null 2>&1 || [ $? = 3 ]
/usr/bin/nbdsh -u "nbd+unix:///snapshot?socket=$sock" -c 'h.pread(1048576, 0)'
"$F" -s "$ctl" status --until-done --interval 0.01 > "$t/real"
EOF2
nbdkit -U - --filter="$FLEECE" memory 1M fleece-block-size=64K \
  control="$tmpdir/ctl.sock" \
  --run "bash '$tmpdir/run.sh' '$tmpdir/ctl.sock' '$FLEECECTL' '$tmpdir' \"\$unixsocket\""
cat "$tmpdir/real"
grep -Eqx 'generation 1 active \[#{30}\] 100\.0%  1 MiB of 1 MiB read, rate -, ETA done, .*' "$tmpdir/real" &&
  grep -qx 'snapshot generation 1: all read' "$tmpdir/real" &&
  [ "$(wc -l < "$tmpdir/real")" = 2 ] ||
  { echo "$0: FAIL: status --until-done on a snapshot read completely" >&2; exit 1; }
echo "ok: status --until-done ended on a snapshot read completely"
