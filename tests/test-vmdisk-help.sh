#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# vmdisk: --help and --dump-plugin list every parameter, from one list,
# and the man page documents each of them (SYNOPSIS and an =item).
source "$srcdir/functions.sh"

pod="$abs_top_srcdir/man/nbdkit-vmdisk-plugin.pod"
nbdkit "$VMDISK" --dump-plugin > "$tmpdir/dump"
nbdkit "$VMDISK" --help > "$tmpdir/help"
sed -n 's/^vmdisk_param=//p' "$tmpdir/dump" > "$tmpdir/params"

# The data path parameters are always there.
for p in file disk readonly cache; do
  grep -qx "$p" "$tmpdir/params" || {
    echo "$0: FAIL: --dump-plugin does not list $p" >&2; exit 1; }
done
# Every dumped parameter is in --help and in the man page, and every
# parameter line of --help is dumped.
while read -r p; do
  grep -Eq "^\[?$p=" "$tmpdir/help" || {
    echo "$0: FAIL: --help does not list $p" >&2; exit 1; }
  grep -Eq "^=item (\[)?B<$p=" "$pod" || {
    echo "$0: FAIL: the man page has no =item for $p" >&2; exit 1; }
  sed -n '/^=head1 SYNOPSIS/,/^=head1 DESCRIPTION/p' "$pod" |
    grep -Eq "[[ |]$p=" || {
    echo "$0: FAIL: the man page's SYNOPSIS lacks $p=" >&2; exit 1; }
  echo "ok: $p is in --dump-plugin, --help and the man page"
done < "$tmpdir/params"
n_help=$(grep -Ec '^\[?[a-z][a-z0-9-]*=' "$tmpdir/help")
n_dump=$(wc -l < "$tmpdir/params")
[ "$n_help" = "$n_dump" ] || {
  echo "$0: FAIL: --help has $n_help parameters, --dump-plugin $n_dump" >&2
  exit 1; }
echo "ok: $n_dump parameters, the same in --help and --dump-plugin"
