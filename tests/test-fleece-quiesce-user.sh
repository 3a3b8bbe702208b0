#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test-fleece-quiesce-user.sh: quiesce-state-dir= under nbdkit -u/-g.
# nbdkit switches user after .config_complete; the state dir is
# created and checked in .after_fork, as the serving user, who writes
# and removes the marker and runs the command:
#   - a dir owned by nobody (0700): a snapshot freezes and thaws
#     (application-consistent, the command's count), the marker is
#     nobody's while the command runs and is gone afterwards;
#   - a missing dir under a parent nobody may write: created, nobody's,
#     0700;
#   - a dir owned by root, or one nobody cannot create: nbdkit does not
#     start, with one error line naming quiesce-state-dir= and the fix.
source "$srcdir/functions.sh"
requires nbdinfo --version
requires timeout --version
[ "$(id -u)" = 0 ] || {
  echo "$0: FAIL: needs root, to run nbdkit -u nobody (run scripts/check.sh as root)" >&2
  exit 1; }
user=nobody
uid=$(id -u "$user")
group=$(id -gn "$user")

# Everything the nobody user touches is under pub/.
chmod 0711 "$tmpdir"
pub="$tmpdir/pub"
mkdir -m 0755 "$pub"
log="$pub/calls"
cmd="$pub/quiesce"
: > "$log"
chown "$user" "$log"
# The guest stand-in logs who runs it and the marker's owner and mode.
cat > "$cmd" <<EOS
#!/bin/sh
m=\$(stat -c %u:%a "\$(cat $pub/dir)"/command-*.frozen 2>/dev/null)
echo "\$1 uid=\$(id -u) marker=\${m:-none}" >> $log
[ "\$1" = freeze ] && echo 2
exit 0
EOS
chmod 0755 "$cmd"

# run DIR: nbdkit -u nobody with quiesce-state-dir=DIR; take a snapshot
# and print its export description.
run ()
{
  echo "$1" > "$pub/dir"
  : > "$log"
  rm -f "$tmpdir/run.sock"      # not -U -: nobody could not remove it
  nbdkit -U "$tmpdir/run.sock" -u "$user" -g "$group" \
    --filter="$FLEECE" memory 1M \
    quiesce-command="$cmd" quiesce-state-dir="$1" \
    --run '$SNAPDESC "nbd+unix:///snapshot?socket=$unixsocket"' \
    2> "$tmpdir/stderr"
}

# check DIR DESCRIPTION
check ()
{
  local want="freeze uid=$uid marker=$uid:600;thaw uid=$uid marker=$uid:600;"
  if ! grep -Eq 'application-consistent: 2 filesystems frozen' <<<"$2"; then
    echo "$0: FAIL: description '$2'" >&2; cat "$tmpdir/stderr" >&2; exit 1
  fi
  if [ "$(tr '\n' ';' < "$log")" != "$want" ]; then
    echo "$0: FAIL: calls '$(tr '\n' ';' < "$log")', expected '$want'" >&2
    cat "$tmpdir/stderr" >&2; exit 1
  fi
  if compgen -G "$1/command-*.frozen" > /dev/null; then
    echo "$0: FAIL: the marker stayed in $1" >&2; exit 1
  fi
  if [ "$(stat -c %u:%a "$1")" != "$uid:700" ]; then
    echo "$0: FAIL: $1 is $(stat -c %u:%a "$1"), expected $uid:700" >&2
    exit 1
  fi
  echo "ok: $1: $(tr '\n' ';' < "$log") $2"
}

mkdir -m 0700 "$pub/state"
chown "$user" "$pub/state"
check "$pub/state" "$(run "$pub/state")"

mkdir -m 0755 "$pub/home"
chown "$user" "$pub/home"
check "$pub/home/new" "$(run "$pub/home/new")"

# Refused at start: nbdkit -f exits, with one error line (timeout
# only bounds a regression, where it would serve).
refused ()
{
  local re="$1" d="$2" out rc=0
  out=$(timeout 20 nbdkit -f -U "$tmpdir/f.sock" -u "$user" -g "$group" \
          --filter="$FLEECE" memory 1M quiesce-command="$cmd" \
          quiesce-state-dir="$d" 2>&1) || rc=$?
  rm -f "$tmpdir/f.sock"
  if [ "$rc" != 1 ]; then
    echo "$0: FAIL: nbdkit -f with quiesce-state-dir=$d: exit status $rc, expected 1 (124: it served)" >&2
    echo "$out" >&2; exit 1
  fi
  if ! grep -Eq -- "$re" <<<"$out" || [ "$(grep -c error <<<"$out")" != 1 ]; then
    echo "$0: FAIL: expected one error line matching /$re/:" >&2
    echo "$out" >&2; exit 1
  fi
  echo "ok: refused: $out"
}
mkdir -m 0700 "$pub/rootdir"
refused "^nbdkit: error: quiesce-state-dir=$pub/rootdir: owned by uid 0, not by the user nbdkit runs as \(uid $uid\): chown it" \
  "$pub/rootdir"
refused "^nbdkit: error: quiesce-state-dir=$pub/rootdir/sub: Permission denied: give a directory that nbdkit.s user can reach" \
  "$pub/rootdir/sub"
[ ! -e "$pub/rootdir/sub" ] || { echo "$0: FAIL: created as root" >&2; exit 1; }
