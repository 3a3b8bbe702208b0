#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# vmdisk's state-dir= is checked when nbdkit starts, not at the first
# freeze (where a refused directory made every snapshot
# crash-consistent): a directory writable by group or others (sticky
# or not), a symlink, a file, or a missing directory whose parent is
# missing too stop nbdkit before it forks, with one line naming
# state-dir= and the fix; a missing directory whose parent exists is
# created 0700.  As root (nbdkit -u may still switch user) the owner
# is checked, and the directory created, in .after_fork; as any other
# user, before the fork.
source "$srcdir/functions.sh"

img="$tmpdir/disk.img"
truncate -s 1M "$img"
quiesce=(domain=vm1 uri=test:///default)

# refused_before_fork REGEX DIR [NBDKIT...]: a background nbdkit (no
# -f) with state-dir=DIR exits non-zero with REGEX before it forks:
# it leaves no pidfile and no socket (in $run).
run="$tmpdir"
refused_before_fork ()
{
  local re="$1" dir="$2"
  shift 2
  local out status=0
  rm -f "$run/pid" "$run/sock"
  out=$("${@:-nbdkit}" -P "$run/pid" -U "$run/sock" "$VMDISK" file="$img" \
          "${quiesce[@]}" state-dir="$dir" 2>&1) || status=$?
  if [ "$status" = 0 ]; then
    # A regression: the daemon may write its pidfile after the parent
    # exited.  Wait for it (bounded) so that nothing outlives the test.
    for _ in $(seq 1 200); do [ -s "$run/pid" ] && break; sleep 0.05; done
  fi
  if [ -s "$run/pid" ]; then
    kill "$(cat "$run/pid")" || true
  fi
  if [ "$status" = 0 ] || [ -e "$run/pid" ] || [ -e "$run/sock" ]; then
    echo "$0: FAIL: state-dir=$dir: nbdkit forked (exit $status): $out" >&2
    exit 1
  fi
  if ! grep -Eq -- "^nbdkit: error: $re" <<<"$out"; then
    echo "$0: FAIL: state-dir=$dir: message does not match /$re/: $out" >&2
    exit 1
  fi
  echo "ok: state-dir=$dir -> $out"
}

mkdir -m 0777 "$tmpdir/open"; chmod 0777 "$tmpdir/open"
refused_before_fork "state-dir=$tmpdir/open: writable by its group or others \(mode 0777\), .*: chmod go-w it or give another state-dir=\$" \
  "$tmpdir/open"
mkdir "$tmpdir/sticky"; chmod 1777 "$tmpdir/sticky"
refused_before_fork "state-dir=$tmpdir/sticky: writable by its group or others \(mode 1777\)" \
  "$tmpdir/sticky"
mkdir "$tmpdir/group"; chmod 0770 "$tmpdir/group"
refused_before_fork "state-dir=$tmpdir/group: writable by its group or others \(mode 0770\)" \
  "$tmpdir/group"
: > "$tmpdir/afile"
refused_before_fork "state-dir=$tmpdir/afile: not a directory" "$tmpdir/afile"
mkdir -m 0700 "$tmpdir/real"; ln -s real "$tmpdir/link"
refused_before_fork "state-dir=$tmpdir/link: not a directory \(symlinks are refused\)" \
  "$tmpdir/link"
refused_before_fork "state-dir=$tmpdir/no/such: missing, and its parent $tmpdir/no is not an existing directory: create it \(mkdir -m 0700 $tmpdir/no/such\) or give another state-dir=\$" \
  "$tmpdir/no/such"

# A missing directory whose parent exists is created 0700, and the
# plugin starts (as root: in .after_fork, before nbdkit serves).
nbdkit -U - "$VMDISK" file="$img" "${quiesce[@]}" \
  state-dir="$tmpdir/new" --run true
[ "$(stat -c '%a %u' "$tmpdir/new")" = "700 $(id -u)" ] ||
  { echo "$0: FAIL: state-dir=$tmpdir/new not created 0700" >&2; exit 1; }
echo "ok: state-dir=$tmpdir/new created 0700"
nbdkit -U - "$VMDISK" file="$img" "${quiesce[@]}" \
  state-dir="$tmpdir/real" --run true
echo "ok: state-dir=$tmpdir/real (0700, ours) accepted"

# Not owned by us.  As root that is only known after -u: nbdkit fails
# in .after_fork (with -f it exits; timeout only bounds a regression).
# As another user (nobody, through runuser when we are root) it is
# refused before the fork.
mkdir -m 0700 "$tmpdir/theirs"
if [ "$(id -u)" = 0 ]; then
  chown 65534 "$tmpdir/theirs"
  rm -f "$tmpdir/sock"
  expect_fail_msg "^nbdkit: error: state-dir=$tmpdir/theirs: owned by uid 65534, not by the user nbdkit runs as \(uid 0\): chown it or give another state-dir=\$" \
    timeout 20 nbdkit -f -U "$tmpdir/sock" "$VMDISK" file="$img" \
    "${quiesce[@]}" state-dir="$tmpdir/theirs"
  requires runuser --help
  # nobody needs to reach the plugin, the image and the directories.
  pub="$tmpdir/pub"
  mkdir -m 0755 "$pub"
  chmod 0755 "$tmpdir"
  cp "$VMDISK" "$pub/vmdisk.so"; chmod 0644 "$pub/vmdisk.so"
  VMDISK="$pub/vmdisk.so"
  cp "$img" "$pub/disk.img"; chmod 0666 "$pub/disk.img"; img="$pub/disk.img"
  chown 0 "$tmpdir/theirs"; chmod 0755 "$tmpdir/theirs"
  theirs="$tmpdir/theirs"
  mkdir -m 0755 "$pub/work"; chown 65534 "$pub/work"
  run="$pub/work"
  as_user=(runuser -u nobody -- env XDG_RUNTIME_DIR="$pub/work" nbdkit)
else
  as_user=(env XDG_RUNTIME_DIR="$tmpdir/xdg" nbdkit)
  mkdir -m 0700 "$tmpdir/xdg"
  theirs=/                      # owned by root, not writable by others
fi
refused_before_fork "state-dir=$theirs: owned by uid 0, not by the user nbdkit runs as \(uid [0-9]+\): chown it or give another state-dir=\$" \
  "$theirs" "${as_user[@]}"
# The default directory ($XDG_RUNTIME_DIR/nbdkit-vmdisk for a user) is
# checked and created the same way.
xdg=$(cut -d= -f2 <<<"${as_user[-2]}")
mkdir "$xdg/nbdkit-vmdisk"; chmod 0777 "$xdg/nbdkit-vmdisk"
rm -f "$run/pid" "$run/sock"
expect_fail_msg "^nbdkit: error: state-dir=$xdg/nbdkit-vmdisk: writable by its group or others" \
  "${as_user[@]}" -U - "$VMDISK" file="$img" "${quiesce[@]}" --run true
rmdir "$xdg/nbdkit-vmdisk"
"${as_user[@]}" -U - "$VMDISK" file="$img" "${quiesce[@]}" --run true
[ "$(stat -c %a "$xdg/nbdkit-vmdisk")" = 700 ] ||
  { echo "$0: FAIL: default state-dir $xdg/nbdkit-vmdisk not created 0700" >&2; exit 1; }
echo "ok: the default state-dir $xdg/nbdkit-vmdisk was created 0700"
