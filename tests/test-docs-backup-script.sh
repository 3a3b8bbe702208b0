#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test-docs-backup-script.sh: the backup script of docs/deployment.md,
# section 5.1, taken from the page (paths moved into $tmpdir), run against
# the filter over nbdkit's file plugin with its control socket and a
# quiesce-command:
# - a snapshot left pinned by an earlier run (generation 1, older data)
#   is ended by begin --fresh: the backup (raw and qcow2) is the disk
#   as it is now, and the label saved with it is the label of the
#   snapshot it was read from (generation 2, application-consistent);
# - every way out ends the snapshot: success, a failed copy, SIGTERM
#   during the copy (status shows none pinned afterwards);
# - crash-consistent (no quiesce-command): the backup is taken, the
#   script warns (fleecectl exit status 3) and saves that label.

source "$srcdir/functions.sh"
requires nbdkit --version
requires nbdcopy --version
requires qemu-img --version
requires jq --version
requires /usr/bin/python3 -c 'import nbd'
FLEECECTL="$abs_top_builddir/tools/fleecectl/fleecectl"
[ -x "$FLEECECTL" ] || { echo "$0: FAIL: $FLEECECTL not built" >&2; exit 1; }
mkdir -p "$tmpdir/bin" "$tmpdir/run"
ln -s "$FLEECECTL" "$tmpdir/bin/fleecectl"
export PATH="$tmpdir/bin:$PATH"

# The script: the ```bash block of deployment.md holding backup-vm1.sh.
awk '/^```bash$/ { b = 1; s = ""; next }
     b && /^```$/ { b = 0; if (s ~ /# backup-vm1.sh:/) printf "%s", s; next }
     b { s = s $0 "\n" }' "$abs_top_srcdir/docs/deployment.md" |
  sed -e "s|/run/nbdkit-fleece/|$tmpdir/run/|g" \
      -e "s|/var/backups/vm1|$tmpdir/out|g" > "$tmpdir/backup-vm1.sh"
grep -q 'begin --fresh' "$tmpdir/backup-vm1.sh" || {
  echo "$0: FAIL: no backup-vm1.sh script with begin --fresh in" \
       "docs/deployment.md" >&2
  exit 1
}
chmod +x "$tmpdir/backup-vm1.sh"
ctl="$tmpdir/run/vm1.ctl"
sock="$tmpdir/run/vm1.sock"

cat > "$tmpdir/quiesce.sh" <<QEOF
#!/bin/sh
echo "\$1" >> "$tmpdir/quiesce.log"
[ "\$1" = freeze ] && echo 1
exit 0
QEOF
chmod +x "$tmpdir/quiesce.sh"

serve ()                        # [NBDKIT-ARGS...]: (re)start the server
{
  if [ -s "$tmpdir/nbdkit.pid" ]; then
    local pid; pid=$(pid_of "$tmpdir/nbdkit.pid")
    kill "$pid"
    while pid_running "$pid"; do sleep 0.05; done
    forget_pid "$pid"
    rm -f "$tmpdir/nbdkit.pid" "$sock"
  fi
  start_nbdkit "$tmpdir/nbdkit.pid" "$sock" --filter="$FLEECE" \
    file "$tmpdir/disk.img" control="$ctl" fleece-block-size=64K "$@"
}
fill ()                         # CHAR: the whole live disk
{
  /usr/bin/python3 -c 'import sys, nbd
h = nbd.NBD(); h.connect_uri("nbd+unix:///?socket=" + sys.argv[1])
h.pwrite(sys.argv[2].encode() * h.get_size(), 0); h.shutdown()' "$sock" "$1"
}
expect_unpinned ()              # WHEN
{
  local st
  st=$(fleecectl --socket "$ctl" --json status | jq -r .state)
  [ "$st" = none ] ||
    { echo "$0: FAIL: $1: snapshot state '$st', want none" >&2; exit 1; }
  echo "ok: $1: no snapshot left"
}
expect_backup ()                # CHAR: both copies hold CHAR everywhere
{
  head -c 1M /dev/zero | tr '\0' "$1" > "$tmpdir/want"
  cmp "$tmpdir/want" "$tmpdir/out/vm1.img"
  qemu-img convert -f qcow2 -O raw "$tmpdir/out/vm1.qcow2" "$tmpdir/qcow2.raw"
  cmp "$tmpdir/want" "$tmpdir/qcow2.raw"
}

truncate -s 1M "$tmpdir/disk.img"
serve quiesce-command="$tmpdir/quiesce.sh"

echo "== a pin left by an earlier run, then a backup"
fill A
fleecectl --socket "$ctl" begin > /dev/null        # generation 1: all A
fill B
"$tmpdir/backup-vm1.sh" > "$tmpdir/run.out"
cat "$tmpdir/run.out"
expect_backup B
label=$(cat "$tmpdir/out/vm1.label")
grep -q '^fleece snapshot generation 2, .*application-consistent: 1 filesystem' \
  <<<"$label" || { echo "$0: FAIL: label '$label'" >&2; exit 1; }
echo "ok: the backup is the disk now, labelled generation 2"
expect_unpinned "after a backup"

echo "== the copy fails"
rm -rf "$tmpdir/out"; mkdir -p "$tmpdir/out/vm1.img"    # nbdcopy cannot write
st=0; "$tmpdir/backup-vm1.sh" > /dev/null 2>&1 || st=$?
[ "$st" != 0 ] || { echo "$0: FAIL: the script succeeded" >&2; exit 1; }
[ ! -e "$tmpdir/out/vm1.label" ] || { echo "$0: FAIL: label written" >&2; exit 1; }
expect_unpinned "after a failed copy (exit $st)"

echo "== SIGTERM during the copy"
rm -rf "$tmpdir/out"
cat > "$tmpdir/bin/nbdcopy" <<NEOF
#!/bin/sh
kill -TERM \$PPID            # the script runs its trap once this returns
exec /usr/bin/nbdcopy "\$@"
NEOF
chmod +x "$tmpdir/bin/nbdcopy"
st=0; "$tmpdir/backup-vm1.sh" > /dev/null 2>&1 || st=$?
rm "$tmpdir/bin/nbdcopy"
[ "$st" = 143 ] || { echo "$0: FAIL: exit $st, want 143" >&2; exit 1; }
[ ! -e "$tmpdir/out/vm1.label" ] || { echo "$0: FAIL: label written" >&2; exit 1; }
expect_unpinned "after SIGTERM"

echo "== crash-consistent"
serve                                   # no quiesce-command: nothing freezes
rm -rf "$tmpdir/out"
fill C
"$tmpdir/backup-vm1.sh" > "$tmpdir/run.out" 2> "$tmpdir/run.err"
cat "$tmpdir/run.out" "$tmpdir/run.err"
expect_backup C
grep -q '^backup-vm1: warning: crash-consistent snapshot: ' "$tmpdir/run.err" ||
  { echo "$0: FAIL: no crash-consistent warning" >&2; exit 1; }
grep -q '^fleece snapshot generation 1, .*crash-consistent: ' \
  "$tmpdir/out/vm1.label" ||
  { echo "$0: FAIL: label '$(cat "$tmpdir/out/vm1.label")'" >&2; exit 1; }
echo "ok: crash-consistent backup, warned and labelled"
expect_unpinned "after a crash-consistent backup"
