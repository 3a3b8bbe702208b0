#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test-fleecectl-prune.sh: fleecectl prune (fleecectl(1), PRUNE) on
# hand-made backup directories (prune_dirs.py: real qcow2 chains that
# verify accepts, made in well under a second; a backup of a real
# server and its restore after a prune: test-fleecectl-prune-restore.sh).
# - the rule against an independent model, every pattern of up to 4
#   backups (and 5 without damage), keep-chains 1..3, keep-days;
# - 3 chains, --keep-chains 1, 2, 3: exactly the oldest chains removed,
#   whole, oldest first, with their lines; verify exits 0 after each;
# - --keep-days keeping an incremental of an old chain keeps its full
#   and the incrementals before it; a parent named in another chain
#   keeps that chain;
# - a damaged manifest in an old chain: removed with it without an age
#   rule, kept (undated) with one, a warning either way;
# - DIR/.lock held: exit 7, nothing removed; --dry-run: the same lines,
#   nothing removed; a crash mid-prune (.pruning leftovers and the
#   chain's older part): verify exits 0 and ignores them, the next prune
#   removes them; usage errors exit 2.

source "$srcdir/functions.sh"
source "$srcdir/fleecectl-functions.sh"
requires qemu-img --version
F="$FLEECECTL"
PD="/usr/bin/python3 $abs_top_srcdir/tests/prune_dirs.py"
cd "$tmpdir"

# Three chains, one backup a day: 0001-0003 | 0004-0005 | 0006-0007.
THREE="F7.5 I6.5 I5.5 F4.5 I3.5 F2.5 I1.5"
$PD make three "$THREE" --files

# fresh NAME: a copy of three.
fresh () { rm -rf "$1"; cp -a three "$1"; }

# backups DIR: its complete backups, one line.
backups () { (cd "$1" && ls -d [0-9]* | tr '\n' ' '); }

# verify_ok DIR: verify exits 0.
verify_ok () {
  "$F" verify --input "$1" > verify.out ||
    { echo "$0: FAIL: verify $1 after prune:" >&2; cat verify.out >&2; exit 1; }
}

# prune_is DIR WANT-LEFT ARGS...: prune exits 0 leaving WANT-LEFT.
prune_is () {
  local d="$1" want="$2"
  shift 2
  "$F" prune --input "$d" "$@" > prune.out 2> prune.err ||
    { echo "$0: FAIL: prune $* exited $?" >&2; cat prune.out prune.err >&2
      exit 1; }
  [ "$(backups "$d")" = "$want" ] ||
    { echo "$0: FAIL: prune $*: left '$(backups "$d")', want '$want'" >&2
      cat prune.out prune.err >&2; exit 1; }
  verify_ok "$d"
  echo "ok: prune $*: left $want"
}

$PD exhaustive "$F" "$tmpdir"
rm -rf ex*

fresh k3; prune_is k3 "0001-full 0002-incr 0003-incr 0004-full 0005-incr 0006-full 0007-incr " --keep-chains 3
grep -qx "prune k3: removed 0 backups (0 chains), kept 7 (3 chains)" prune.out ||
  { cat prune.out; exit 1; }
fresh k2; prune_is k2 "0004-full 0005-incr 0006-full 0007-incr " --keep-chains 2
grep -Eq "^removed 0001-full \(20[0-9-]+T[0-9:.]+Z\)$" prune.out || { cat prune.out; exit 1; }
[ "$(grep -c '^removed ' prune.out)" = 3 ] || { cat prune.out; exit 1; }
fresh k1; prune_is k1 "0006-full 0007-incr " --keep-chains 1
[ "$(sed -n 's/^removed \([^ ]*\) .*/\1/p' prune.out | tr '\n' ' ')" = \
  "0001-full 0002-incr 0003-incr 0004-full 0005-incr " ] || { cat prune.out; exit 1; }
grep -qx "prune k1: removed 5 backups (2 chains), kept 2 (1 chain)" prune.out ||
  { cat prune.out; exit 1; }
! compgen -G 'k1/.*.pruning' > /dev/null || { echo "$0: FAIL: .pruning left" >&2; exit 1; }
# The newest chain is never removed, whatever the ages.
fresh k0; prune_is k0 "0006-full 0007-incr " --keep-chains 1 --keep-days 0.01

# --keep-days 3: 0005-incr (3.5 days) is old, 0006 young: chain 3
# only; --keep-days 4: 0005-incr is young, so its chain (0004-full,
# 4.5 days old) stays.
fresh d3; prune_is d3 "0006-full 0007-incr " --keep-chains 1 --keep-days 3
fresh d4; prune_is d4 "0004-full 0005-incr 0006-full 0007-incr " --keep-chains 1 --keep-days 4
"$F" prune --input d4 --keep-chains 1 --keep-days 4 --dry-run --json > d4.json
jq -e -s '.[0:2] | map(.kept) == [true, true]' d4.json > /dev/null &&
  jq -e -s '.[0] | .why == "young" and .because == "0005-incr"' d4.json \
  > /dev/null || { cat d4.json; exit 1; }
echo "ok: --keep-days: 0004-full kept as young, because of 0005-incr"
# Three days keep 0005-incr's chain when one day is 86400 s, not more.
fresh d35; prune_is d35 "0006-full 0007-incr " --keep-chains 1 --keep-days 3.49

# A parent in another chain (not made by fleecectl, but honoured):
# 0005-incr naming 0002-incr keeps the first chain, as "needed".
$PD make cross "F4 I3 F2 I1.5 I1"
jq -c '.parent = "0002-incr"' cross/0005-incr/manifest.json > m.json
mv m.json cross/0005-incr/manifest.json
"$F" prune --input cross --keep-chains 1 --dry-run --json > cross.json
jq -e -s '.[0:2] | map([.kept, .why, .because]) ==
  [[true, "needed", "0005-incr"], [true, "needed", "0005-incr"]]' cross.json \
  > /dev/null || { cat cross.json; exit 1; }
echo "ok: a parent in an older chain keeps that chain"

# A damaged manifest in the oldest chain.
fresh x; echo '{ damaged' > x/0002-incr/manifest.json
prune_is x "0004-full 0005-incr 0006-full 0007-incr " --keep-chains 2
grep -q "0002-incr: .*its age is unknown" prune.err || { cat prune.err; exit 1; }
grep -qx "removed 0002-incr (unknown time)" prune.out || { cat prune.out; exit 1; }
fresh x; echo '{ damaged' > x/0002-incr/manifest.json
"$F" prune --input x --keep-chains 2 --keep-days 1 > prune.out 2> prune.err
[ "$(backups x)" = "$(backups three)" ] || { echo "$0: FAIL: undated chain removed" >&2; exit 1; }
grep -q "0002-incr: .*counts as young" prune.err || { cat prune.err; exit 1; }
echo "ok: a damaged manifest: its chain removed without --keep-days, kept with it"

# The lock: held by this shell (as a running backup holds it).
fresh l
exec 9> l/.lock
flock 9
echo 4242 >&9
expect_exit 7 "l is in use by pid 4242 \(another backup, restore or prune\)" \
  "$F" prune --input l --keep-chains 1
exec 9>&-
[ "$(backups l)" = "$(backups three)" ] || { echo "$0: FAIL: removed while locked" >&2; exit 1; }

# --dry-run: the same lines, nothing removed.
fresh dr
"$F" prune --input dr --keep-chains 1 --dry-run > dry.out
[ "$(backups dr)" = "$(backups three)" ] || { echo "$0: FAIL: --dry-run removed" >&2; exit 1; }
grep -qx "prune dr: would remove 5 backups (2 chains), kept 2 (1 chain); --dry-run: nothing removed" dry.out ||
  { cat dry.out; exit 1; }
prune_is dr "0006-full 0007-incr " --keep-chains 1
diff <(grep '^removed' dry.out) <(grep '^removed' prune.out)
echo "ok: --dry-run printed the same $(grep -c '^removed' dry.out) lines and removed nothing"

# A crash mid-prune: the oldest chain's newest backup renamed (the
# order prune removes a chain in), the rest still there.
fresh c
mv c/0003-incr c/.0003-incr.pruning
verify_ok c
grep -q pruning verify.out && { cat verify.out; exit 1; }
[ "$(grep -c ': ok, ' verify.out)" = 6 ] || { cat verify.out; exit 1; }
echo "ok: verify ignores .0003-incr.pruning; the chain's older part verifies"
prune_is c "0004-full 0005-incr 0006-full 0007-incr " --keep-chains 2
grep -q "backup .0003-incr.pruning was being pruned by an interrupted run: removed" prune.err ||
  { cat prune.err; exit 1; }
! compgen -G 'c/.*.pruning' > /dev/null || { ls -A c; exit 1; }

# Usage errors.
expect_exit 2 "prune needs --keep-chains N" "$F" prune --input three
expect_exit 2 "prune needs --input DIR" "$F" prune --keep-chains 1
expect_exit 2 "--keep-chains 0: expected a whole number from 1" \
  "$F" prune --input three --keep-chains 0
expect_exit 2 "--keep-chains 1.5: expected a whole number" \
  "$F" prune --input three --keep-chains 1.5
expect_exit 2 "--keep-days -1: expected a number from 0" \
  "$F" prune --input three --keep-chains 1 --keep-days -1
expect_exit 2 "--keep-chains, --keep-days and --dry-run go with prune" \
  "$F" verify --input three --dry-run
expect_exit 2 "nosuch: no such directory" "$F" prune --input nosuch --keep-chains 1
expect_exit 2 "unexpected argument" "$F" prune --input three --keep-chains 1 x
[ "$(backups three)" = "0001-full 0002-incr 0003-incr 0004-full 0005-incr 0006-full 0007-incr " ]
echo "ok: usage errors removed nothing"
