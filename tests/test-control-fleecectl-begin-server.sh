#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test-control-fleecectl-begin-server.sh: fleecectl begin against the
# filter (the snapshot-begin contract of nbdkit-fleece-filter(1),
# PROTOCOL), with quiesce-command= freezing "2 filesystems":
# - begin --quiesce off: generation 1 created, crash-consistent
#   (quiesce=off): exit 3, the warning on stderr;
# - begin again: generation 1 adopted, still exit 3;
# - begin --quiesce require: refused (not-consistent, "end it first
#   (fleecectl begin --fresh)"), exit 1;
# - begin --fresh --quiesce require: generation 2 created,
#   application-consistent, exit 0, nothing on stderr;
# - begin --json --fresh --quiesce off: the reply line (created,
#   crash-consistent), exit 3.

source "$srcdir/functions.sh"
source "$srcdir/fleecectl-functions.sh"
requires nbdkit --version
ctl="$tmpdir/ctl.sock"
printf '#!/bin/sh\n[ "$1" = freeze ] && echo 2\nexit 0\n' > "$tmpdir/q"
chmod +x "$tmpdir/q"

cat > "$tmpdir/run.sh" <<'EOF2'
set -uo pipefail
ctl="$1" F="$2" t="$3"
/usr/bin/python3 -c 'import control_client as c, sys; c.wait_for(sys.argv[1])' "$ctl"
n=0
for args in "begin --quiesce off" "begin" "begin --quiesce require" \
            "begin --fresh --quiesce require" "--json begin --fresh --quiesce off"; do
  n=$((n + 1))
  st=0; $F -s "$ctl" $args > "$t/$n.out" 2> "$t/$n.err" || st=$?
  echo "exit $st" >> "$t/$n.out"
done
EOF2
nbdkit -U - --filter="$FLEECE" memory 1M quiesce-command="$tmpdir/q" \
  control="$ctl" \
  --run "bash '$tmpdir/run.sh' '$ctl' '$FLEECECTL' '$tmpdir'"

# check FILE REGEX...: the file's lines match the regexes, in order.
check ()
{
  local name="$1" f="$tmpdir/$1" want
  shift
  want=$(printf '%s\n' "$@")
  if [ "$(wc -l < "$f")" != "$#" ] ||
     ! paste -d '\n' <(printf '%s\n' "$@") "$f" |
       { ok=0; while IFS= read -r re && IFS= read -r line; do
           grep -Eqx -- "$re" <<<"$line" || ok=1; done; exit $ok; }; then
    echo "$0: FAIL: $name:" >&2; cat "$f" >&2
    echo "-- want:" >&2; echo "$want" >&2
    exit 1
  fi
  echo "ok: $name:"; sed 's/^/    /' "$f"
}
ts='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{3}Z'
d1="fleece snapshot generation 1, taken $ts, crash-consistent: quiesce=off"
check 1.out "snapshot generation 1 created, pinned until 'fleecectl end'" \
  "consistency:  crash-consistent: quiesce=off" "description:  $d1" "exit 3"
check 1.err \
  "fleecectl: warning: snapshot generation 1 is crash-consistent: quiesce=off"
check 2.out \
  "snapshot generation 1 adopted \(it was already active\), pinned until 'fleecectl end'" \
  "consistency:  crash-consistent: quiesce=off" "description:  $d1" "exit 3"
check 2.err \
  "fleecectl: warning: snapshot generation 1 is crash-consistent: quiesce=off"
check 3.out "exit 1"
check 3.err "fleecectl: $ctl: snapshot generation 1 .*crash-consistent.*end it first \(fleecectl begin --fresh\) \(not-consistent\)"
check 4.out "snapshot generation 2 created, pinned until 'fleecectl end'" \
  "consistency:  application-consistent" \
  "description:  fleece snapshot generation 2, taken $ts, application-consistent: 2 filesystems frozen for [0-9.]+ ms" \
  "exit 0"
[ ! -s "$tmpdir/4.err" ] ||
  { echo "$0: FAIL: stderr of an application-consistent begin:" >&2
    cat "$tmpdir/4.err" >&2; exit 1; }
check 5.out '\{"id":1,"ok":true,"generation":3,.*"created":true,"consistency":"crash-consistent","consistency-reason":"quiesce=off"\}' \
  "exit 3"
check 5.err \
  "fleecectl: warning: snapshot generation 3 is crash-consistent: quiesce=off"
