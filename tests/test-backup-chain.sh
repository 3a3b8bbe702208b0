#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test-backup-chain.sh: fleecectl backup, a full and five incrementals,
# each exactly the snapshot it backed up, with cbt-dir= (64K granules):
# - over the file plugin (one unnamed disk, 32M, sparse) and over
#   vmdisk (vda 32M and vdb 16M, application-consistent through
#   quiesce-command=): between points random writes, zeroes and trims;
#   during each backup a writer on the live disks, never refused;
# - each point pinned (begin --fresh) and read with nbdcopy as its
#   reference; the backup adopts it (manifest generation = the pinned
#   one) and leaves it active; manifests: kind, parent, reason, disks,
#   files, backing; the summary line (text, --json);
# - sizes: a full backup holds at most the snapshot's data clusters (a
#   sparse disk stays sparse), an incremental at most the granules
#   written since the point before, plus a fixed overhead;
# - verify exits 0; every point restores equal to its references;
# - a byte flipped in 0003-incr: verify fails it and every backup above
#   it (exit 7), restore --at 0005-incr refuses (exit 7, no output),
#   0002-incr still restores.
# The reasons for a full backup are test-backup-full-reasons.sh's.

source "$srcdir/functions.sh"
source "$srcdir/fleecectl-functions.sh"
source "$srcdir/backup-functions.sh"
requires nbdkit --version

G=65536                 # cbt-granularity= and qcow2's cluster size
OVERHEAD=$((1 << 20))   # qcow2 header, L1, L2 and refcount clusters
sock="$tmpdir/nbd.sock"
ctl="$tmpdir/ctl.sock"
pid="$tmpdir/nbdkit.pid"

start ()                                # nbdkit ARGS...
{
  rm -f "$pid" "$sock" "$ctl"
  start_nbdkit "$pid" "$sock" --filter="$FLEECE" "$@" control="$ctl" \
    cbt-dir="$tmpdir/cbt" cbt-granularity=64K
  for _ in $(seq 300); do [ -S "$ctl" ] && break; sleep 0.05; done
  live=$(live_uris)
}

# check_size DIR NAME DISK SIZE BOUND: the qcow2 file within BOUND.
check_size ()
{
  local got
  got=$(qcow2_size "$1" "$2" "$3")
  if [ "$got" -gt "$5" ] || [ "$5" -ge $(($4 / 2)) ]; then
    echo "$0: FAIL: $2/$3.qcow2: $got bytes, bound $5, disk $4" >&2
    exit 1
  fi
  echo "ok: $2/$3.qcow2: $got bytes <= $5 (disk $4)"
}

# point LABEL N WANT ARGS...: the guest writes, then point N into
# $tmpdir/LABEL (backup ARGS... must exit WANT), its sizes checked.
point ()
{
  local label="$1" n="$2" want="$3" d e s parent=- reason=- bound i=0
  local gr=()
  shift 3
  # shellcheck disable=SC2086
  $WL mutate "$seed.$label.$n" "$tmpdir/log" $((n == 1 ? 24 : 8)) $live
  mv "$tmpdir/log" "$tmpdir/log.$n"     # the guest's writes since N-1
  name=$(printf "%04d-%s" "$n" "$([ "$n" = 1 ] && echo full || echo incr)")
  [ "$n" = 1 ] && reason="first backup in "
  [ "$n" = 1 ] || parent=$(printf "%04d-%s" $((n - 1)) \
                                  "$([ "$n" = 2 ] && echo full || echo incr)")
  backup_point "$tmpdir/$label" "$name" "$parent" "$reason" "$want" "$@"
  # shellcheck disable=SC2046
  [ "$n" = 1 ] || mapfile -t gr < <($WL granules "$tmpdir/log.$n" $G \
    $(while read -r d e s; do uri "${d#-}"; done < "$tmpdir/disks"))
  while read -r d e s; do
    if [ "$n" = 1 ]; then
      bound=$(( $(cat "$tmpdir/dc.$d") * G + OVERHEAD ))
    else
      bound=$(( gr[i++] * G + OVERHEAD ))
    fi
    [ "$d" = - ] && d=disk
    check_size "$tmpdir/$label" "$name" "$d" "$s" "$bound"
  done < "$tmpdir/disks"
}

# chain LABEL WANT ARGS...: six points, verify, restore each.
chain ()
{
  local label="$1" want="$2" n
  shift 2
  : > "$tmpdir/log"
  for n in 1 2 3 4 5 6; do
    point "$label" "$n" "$want" "$@"
    if [[ " $* " = *" --json "* ]]; then
      /usr/bin/python3 -c '
import json, sys
r = json.loads(open(sys.argv[1]).readline())
assert r["name"] == sys.argv[2] and r["seconds"] > 0 and "rate" in r, r
' "$tmpdir/bk.out" "$name"
    else
      grep -Eq "^backup $name: (full|incremental since [0-9]{4}-(full|incr)), .* generation $gen\$" \
        "$tmpdir/bk.out" ||
        { echo "$0: FAIL: summary:" >&2; cat "$tmpdir/bk.out" >&2; exit 1; }
    fi
  done
  expect_exit 0 "0006-incr: ok, incremental since 0005-incr" \
    "$FLEECECTL" verify --input "$tmpdir/$label"
  [ "$("$FLEECECTL" verify --input "$tmpdir/$label" | grep -c ": ok, ")" = 6 ]
  for n in 1 2 3 4 5 6; do
    name=$(printf "%04d-%s" "$n" "$([ "$n" = 1 ] && echo full || echo incr)")
    restore_cmp "$tmpdir/$label" "$name" "$tmpdir/ref.$label.$name"
  done
}

truncate -s 32M "$tmpdir/file.img"
start file "$tmpdir/file.img"
chain file 3                            # crash-consistent: no freeze
stop_nbdkit "$pid" TERM

# One flipped byte in the middle of the chain: verify fails it and the
# backups that depend on it; restore refuses them; earlier points stay.
f="$tmpdir/file/0003-incr/disk.qcow2"
b=$(od -An -tu1 -j $(( $(stat -c %s "$f") - 1 )) -N1 "$f")
printf "\\$(printf %o $(( (b + 1) % 256 )))" |
  dd of="$f" bs=1 seek=$(( $(stat -c %s "$f") - 1 )) conv=notrunc status=none
expect_exit 7 "^0003-incr: FAILED: disk.qcow2: sha256 differs" \
  "$FLEECECTL" verify --input "$tmpdir/file"
"$FLEECECTL" verify --input "$tmpdir/file" > "$tmpdir/verify.out" || true
for b in 0004-incr 0005-incr 0006-incr; do
  grep -q "^$b: FAILED" "$tmpdir/verify.out" ||
    { echo "$0: FAIL: verify passed $b over a broken parent:" >&2
      cat "$tmpdir/verify.out" >&2; exit 1; }
done
echo "ok: verify fails 0003-incr and every backup above it"
expect_exit 7 "0003-incr" "$FLEECECTL" restore --input "$tmpdir/file" \
  --at 0005-incr --output "$tmpdir/bad.raw"
[ ! -e "$tmpdir/bad.raw" ] && [ ! -e "$tmpdir/bad.raw.tmp" ]
restore_cmp "$tmpdir/file" 0002-incr "$tmpdir/ref.file.0002-incr"

cat > "$tmpdir/q" <<'EOF'
#!/bin/sh
[ "$1" = freeze ] && echo 1
exit 0
EOF
chmod +x "$tmpdir/q"
truncate -s 32M "$tmpdir/vda.img"
truncate -s 16M "$tmpdir/vdb.img"
start "$VMDISK" disk=vda:"$tmpdir/vda.img" disk=vdb:"$tmpdir/vdb.img" \
  quiesce-command="$tmpdir/q"
chain vm 0 --json --connections 3
