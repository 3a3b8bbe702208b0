#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The units of systemd/, as installed (their commands where they would
# be): systemd-analyze verify accepts each without a word, the timer's
# calendar is valid, and systemd-analyze security rates the services'
# exposure below 5 (docs/deployment.md, section 4, says what stays
# open and why).  The sandbox is checked by analysis only: this
# machine's init is not systemd (see docs/deployment.md).
source "$srcdir/functions.sh"
requires systemd-analyze --version
u=$tmpdir/units
mkdir "$u"
for f in nbdkit-fleece@.service nbdkit-fleece-backup@.service \
         nbdkit-fleece-backup@.timer; do
  sed "s|/usr/libexec/nbdkit-fleece/|$abs_top_srcdir/systemd/|" \
    "$abs_top_srcdir/systemd/$f" > "$u/$f"
  inst=${f/@./@vm1.}
  ln -s "$f" "$u/$inst"
  out=$(systemd-analyze verify --man=no "$u/$inst" 2>&1)
  [ -z "$out" ] || { echo "$0: FAIL: systemd-analyze verify $f: $out" >&2; exit 1; }
  echo "ok: verify $f"
done
cal=$(sed -n 's/^OnCalendar=//p' "$u/nbdkit-fleece-backup@.timer")
systemd-analyze calendar "$cal" > /dev/null
echo "ok: OnCalendar=$cal"
for s in nbdkit-fleece@vm1.service nbdkit-fleece-backup@vm1.service; do
  line=$(systemd-analyze security --offline=true --no-pager "$u/$s" 2>&1 |
    grep 'Overall exposure level')
  echo "$line"
  exp=$(sed -n 's/.*: \([0-9.]*\) .*/\1/p' <<<"$line")
  [ -n "$exp" ] && awk -v e="$exp" 'BEGIN { exit !(e < 5) }' ||
    { echo "$0: FAIL: $s: exposure '$exp', want below 5" >&2; exit 1; }
done
